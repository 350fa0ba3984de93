import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Identity files on disk: loading any key form SecureStreams understands,
/// saving identities safely, and the default identity of this user.
///
/// ``load(path:)`` recognises, by content:
///
/// | form | gives |
/// | --- | --- |
/// | a SecureStreams key file (``KeyFile``) | a private identity |
/// | an OpenSSH private key (`id_ed25519`, unencrypted) | a private identity |
/// | an OpenSSH public key line (`id_ed25519.pub`) | an endpoint id only |
/// | a bare endpoint id on one line | an endpoint id only |
///
/// A private key is refused when its file grants any permission to the group
/// or to others (`mode & 0o077 != 0`), as ssh refuses it, before it is
/// parsed. ``save(_:path:overwrite:)`` writes a key file atomically with mode
/// 0600 (see its documentation); ``defaultIdentityPath(environment:)`` says
/// where this user's identity lives. `docs/IDENTITY.md` describes the rules.
public enum IdentityFile {
    /// What a file held.
    public enum Format: Sendable, Equatable, CustomStringConvertible {
        /// A SecureStreams key file.
        case secureStreams
        /// An OpenSSH private key.
        case openSSHPrivateKey
        /// An OpenSSH public key line.
        case openSSHPublicKey
        /// A bare endpoint id.
        case endpointID

        public var description: String {
            switch self {
            case .secureStreams: "SecureStreams identity"
            case .openSSHPrivateKey: "OpenSSH private key"
            case .openSSHPublicKey: "OpenSSH public key"
            case .endpointID: "endpoint id"
            }
        }
    }

    /// A loaded key: a full identity, or only the public half.
    public enum LoadedKey: Sendable {
        /// A private key: this host can be this identity.
        case identity(HostIdentity, format: Format)
        /// A public key only: a peer's name.
        case publicOnly(EndpointID, format: Format)

        /// The endpoint id, for either kind.
        public var endpointID: EndpointID {
            switch self {
            case .identity(let identity, _): identity.endpointID
            case .publicOnly(let endpointID, _): endpointID
            }
        }

        /// The identity, or `nil` when only the public key was loaded.
        public var identity: HostIdentity? {
            switch self {
            case .identity(let identity, _): identity
            case .publicOnly: nil
            }
        }

        /// The form the key was stored in.
        public var format: Format {
            switch self {
            case .identity(_, let format), .publicOnly(_, let format): format
            }
        }
    }

    /// The result of ``loadOrCreateDefault(using:environment:)``.
    public struct DefaultIdentity: Sendable {
        public let identity: HostIdentity
        /// Where the identity is stored.
        public let path: String
        /// True when this call created the identity (first use).
        public let wasCreated: Bool
    }

    /// Files larger than this are not key files: an RSA-16384 OpenSSH key, the
    /// largest common key, is about 12 KiB, and ours are under 300 bytes.
    public static let maximumFileSize = 64 * 1024

    /// Loads the key at `path`, recognising its form by content.
    /// - Throws: ``IdentityFileError`` naming the path: the file is missing,
    ///   unreadable, too open for a private key, or not a valid key.
    public static func load(path: String) throws(IdentityFileError) -> LoadedKey {
        var file = try readFile(path: path)
        defer { file.bytes.withUnsafeMutableBytes { secureZero($0) } }
        guard !file.bytes.contains(0), let text = String(validating: file.bytes, as: UTF8.self) else {
            throw .unrecognizedFormat(path: path)
        }
        if KeyFile.looksLikeKeyFile(text) {
            try requireOwnerOnly(mode: file.mode, path: path)
            do {
                return .identity(try KeyFile.decode(text), format: .secureStreams)
            } catch {
                throw .invalidKeyFile(path: path, error)
            }
        }
        if OpenSSHKey.looksLikePrivateKey(text) {
            try requireOwnerOnly(mode: file.mode, path: path)
            do {
                return .identity(try OpenSSHKey.decodePrivateKey(text), format: .openSSHPrivateKey)
            } catch {
                throw .invalidOpenSSHKey(path: path, error)
            }
        }
        if text.contains("-----BEGIN ") && text.contains("PRIVATE KEY-----") {
            throw .unsupportedPrivateKeyFormat(path: path)
        }
        return try loadPublic(text, path: path)
    }

    /// Where this user's identity lives: `$SSS_KEY` when set, else
    /// `$XDG_CONFIG_HOME/securestreams/identity` (when that is an absolute
    /// path), else `~/.config/securestreams/identity`.
    /// - Parameter environment: the variables to consult; `nil` for this
    ///   process's environment.
    public static func defaultIdentityPath(environment: [String: String]? = nil) -> String {
        let environment = environment ?? ProcessInfo.processInfo.environment
        if let path = environment["SSS_KEY"], !path.isEmpty { return path }
        let configHome: String
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
            configHome = xdg
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
                ?? FileManager.default.homeDirectoryForCurrentUser.path
            configHome = joined(home, ".config")
        }
        return joined(joined(configHome, "securestreams"), "identity")
    }

    /// Loads the default identity, creating and saving a fresh one on first
    /// use (``DefaultIdentity/wasCreated`` then tells the caller to say where).
    /// - Parameters:
    ///   - random: the entropy for a new key (``SystemRandom`` in production).
    ///   - environment: as for ``defaultIdentityPath(environment:)``.
    /// - Throws: ``IdentityFileError``, also when the default path holds only
    ///   a public key.
    public static func loadOrCreateDefault(
        using random: inout some RandomSource, environment: [String: String]? = nil
    ) throws(IdentityFileError) -> DefaultIdentity {
        let path = defaultIdentityPath(environment: environment)
        do {
            return DefaultIdentity(identity: try loadPrivate(path: path), path: path, wasCreated: false)
        } catch where error == .notFound(path: path) {
            let identity = HostIdentity(using: &random)
            do {
                try save(identity, path: path)
            } catch where error == .alreadyExists(path: path) {
                // Another process created it between our load and save: use theirs.
                return DefaultIdentity(identity: try loadPrivate(path: path), path: path, wasCreated: false)
            }
            return DefaultIdentity(identity: identity, path: path, wasCreated: true)
        }
    }

    // MARK: - Private

    /// Loads a key that must be private.
    private static func loadPrivate(path: String) throws(IdentityFileError) -> HostIdentity {
        guard let identity = try load(path: path).identity else { throw .publicKeyOnly(path: path) }
        return identity
    }

    /// A `.pub` line or a bare endpoint id: the one content line decides.
    private static func loadPublic(_ text: String, path: String) throws(IdentityFileError) -> LoadedKey {
        let lines = text.split(whereSeparator: \.isNewline).filter { line in
            let content = line.drop(while: \.isWhitespace)
            return !content.isEmpty && content.first != "#"
        }
        guard let line = lines.first else { throw .unrecognizedFormat(path: path) }
        let tokens = line.split(whereSeparator: \.isWhitespace)
        if lines.count == 1 && tokens.count == 1 {
            do {
                return .publicOnly(try EndpointID(parsing: tokens[0]), format: .endpointID)
            } catch {
                throw .invalidEndpointID(path: path, error)
            }
        }
        guard tokens.count >= 2, tokens[0].hasPrefix("ssh-") || tokens[0].hasPrefix("ecdsa-")
                || tokens[0].hasPrefix("sk-")
        else { throw .unrecognizedFormat(path: path) }
        do {
            return .publicOnly(try OpenSSHKey.decodePublicKey(text), format: .openSSHPublicKey)
        } catch {
            throw .invalidOpenSSHKey(path: path, error)
        }
    }

    /// Refuses a private key file that the group or others may access.
    private static func requireOwnerOnly(mode: mode_t, path: String) throws(IdentityFileError) {
        if mode & 0o077 != 0 { throw .permissionsTooOpen(path: path, mode: UInt32(mode & 0o7777)) }
    }

    /// `directory/name`, without doubling a slash.
    static func joined(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
