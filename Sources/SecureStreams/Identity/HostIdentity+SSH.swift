#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
public import SecureStreamsCore

extension HostIdentity {
    /// The name of the private key file in an SSH directory.
    public static let sshPrivateKeyName = "id_ed25519"

    /// The identity kept as OpenSSH keeps its Ed25519 key: `id_ed25519` in
    /// `sshDirectory` (`~/.ssh`, say), read when it exists, else created
    /// there, as `ssh-keygen -t ed25519 -N ""` would: the private key with
    /// mode 0600 (the directory with 0700 when missing), and `id_ed25519.pub`
    /// beside it with mode 0644.
    ///
    /// An existing key must be an unencrypted OpenSSH Ed25519 key readable
    /// only by its owner. When another process creates the key between our
    /// look and our write, its key is used and ours dropped.
    /// - Parameters:
    ///   - random: the entropy for a new key (``SystemRandom`` by default).
    ///   - comment: the comment of a new key (`ssh-keygen` puts `user@host`).
    /// - Throws: ``IdentityFileError`` naming the file.
    public init(sshDirectory: String, comment: String = "securestreams", using random: inout some RandomSource)
        throws(IdentityFileError)
    {
        let directory = sshDirectory.hasSuffix("/") ? String(sshDirectory.dropLast()) : sshDirectory
        let path = directory + "/" + Self.sshPrivateKeyName
        if let existing = try Self.loadSSHKey(path: path) {
            self = existing
            return
        }
        let identity = HostIdentity(using: &random)
        var contents = Array(OpenSSHKey.encodePrivateKey(identity, comment: comment, using: &random).utf8)
        defer { contents.withUnsafeMutableBytes { secureZero($0) } }
        do throws(IdentityFileError) {
            try IdentityFile.place(contents, path: path, overwrite: false)
        } catch where error == .alreadyExists(path: path) {
            // Another process created it between our look and our write: use theirs.
            guard let theirs = try Self.loadSSHKey(path: path) else { throw error }
            self = theirs
            return
        }
        let publicPath = path + ".pub"
        let line = Array((OpenSSHKey.encodePublicKey(identity.endpointID, comment: comment) + "\n").utf8)
        try IdentityFile.place(line, path: publicPath, overwrite: true)
        guard chmod(publicPath, 0o644) == 0 else { throw .systemCallFailed(path: publicPath, "chmod", errno) }
        self = identity
    }

    /// The private key at `path`, or `nil` when there is no file.
    private static func loadSSHKey(path: String) throws(IdentityFileError) -> HostIdentity? {
        let loaded: IdentityFile.LoadedKey
        do throws(IdentityFileError) {
            loaded = try IdentityFile.load(path: path)
        } catch where error == .notFound(path: path) {
            return nil
        }
        guard let identity = loaded.identity else { throw .publicKeyOnly(path: path) }
        return identity
    }

    /// ``init(sshDirectory:comment:using:)`` with the system's random source.
    public init(sshDirectory: String, comment: String = "securestreams") throws(IdentityFileError) {
        var random = SystemRandom()
        try self.init(sshDirectory: sshDirectory, comment: comment, using: &random)
    }
}
