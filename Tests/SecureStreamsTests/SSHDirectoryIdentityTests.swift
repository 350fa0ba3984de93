import Foundation
import SecureStreams
import SecureStreamsCore
import Testing

/// `HostIdentity(sshDirectory:)`: the identity kept as OpenSSH keeps it.
@Suite struct SSHDirectoryIdentityTests {
    @Test func createsTheKeyPrivatelyThenReadsItBack() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let ssh = directory.file(".ssh")
        let created = try HostIdentity(sshDirectory: ssh)
        #expect(try directory.contents() == [".ssh"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: ssh).sorted() == ["id_ed25519", "id_ed25519.pub"])
        #expect(try permissions(of: ssh + "/id_ed25519") == 0o600)
        #expect(try permissions(of: ssh + "/id_ed25519.pub") == 0o644)
        // The file is an OpenSSH private key, and the .pub line names the same key.
        let loaded = try IdentityFile.load(path: ssh + "/id_ed25519")
        #expect(loaded.format == .openSSHPrivateKey)
        #expect(loaded.endpointID == created.endpointID)
        #expect(try IdentityFile.load(path: ssh + "/id_ed25519.pub").endpointID == created.endpointID)
        // A second call reads the same identity instead of making another.
        #expect(try HostIdentity(sshDirectory: ssh + "/").endpointID == created.endpointID)
    }

    @Test func encodedPrivateKeyDecodesToTheSameIdentity() throws {
        var random = SystemRandom()
        let identity = HostIdentity(using: &random)
        let text = OpenSSHKey.encodePrivateKey(identity, comment: "me@host", using: &random)
        #expect(text.hasPrefix(OpenSSHKey.privateKeyBeginLine + "\n"))
        #expect(text.split(separator: "\n").allSatisfy { $0.count <= 70 || $0.hasPrefix("-----") })
        #expect(try OpenSSHKey.decodePrivateKey(text).endpointID == identity.endpointID)
    }

    /// OpenSSH itself reads the key we create (skipped where `ssh-keygen` is missing).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh-keygen")))
    func sshKeygenReadsTheCreatedKey() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let identity = try HostIdentity(sshDirectory: directory.path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
        process.arguments = ["-y", "-f", directory.file("id_ed25519")]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let line = String(decoding: data, as: UTF8.self)
        #expect(try OpenSSHKey.decodePublicKey(line) == identity.endpointID)
    }

    @Test func anExistingKeyTooOpenIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let ssh = directory.file(".ssh")
        _ = try HostIdentity(sshDirectory: ssh)
        chmod(ssh + "/id_ed25519", 0o644)
        #expect(throws: IdentityFileError.self) { try HostIdentity(sshDirectory: ssh) }
    }
}
