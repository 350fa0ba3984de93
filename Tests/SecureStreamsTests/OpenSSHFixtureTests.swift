import Foundation
import SecureStreamsCore
import SecureStreams
import Testing

/// OpenSSH keys written by the real `ssh-keygen`: the committed fixtures
/// (`Fixtures/`, test-only keys made with OpenSSH 9.2) and, when
/// `/usr/bin/ssh-keygen` exists, keys generated during the test.
@Suite struct OpenSSHFixtureTests {
    static let sshKeygen = "/usr/bin/ssh-keygen"

    @Test func aPrivateKeyAndItsPublicKeyGiveTheSameEID() throws {
        let identity = try OpenSSHKey.decodePrivateKey(Fixtures.text("id_ed25519"))
        let publicOnly = try OpenSSHKey.decodePublicKey(Fixtures.text("id_ed25519.pub"))
        #expect(identity.endpointID == publicOnly)
        // The .pub line is what we would write for this key, comment included.
        #expect(try OpenSSHKey.encodePublicKey(identity.endpointID, comment: "test") + "\n"
            == Fixtures.text("id_ed25519.pub"))
    }

    @Test func theFixturesLoadThroughIdentityFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let privateKey = try IdentityFile.load(path: Fixtures.copy("id_ed25519", to: directory))
        let publicKey = try IdentityFile.load(path: Fixtures.copy("id_ed25519.pub", to: directory, mode: 0o644))
        #expect(privateKey.format == .openSSHPrivateKey)
        #expect(privateKey.identity != nil)
        #expect(publicKey.format == .openSSHPublicKey)
        #expect(privateKey.endpointID == publicKey.endpointID)
    }

    @Test func anEncryptedKeyIsRefusedButItsPublicKeyWorks() throws {
        let error = try #require(throws: OpenSSHKeyError.self) {
            try OpenSSHKey.decodePrivateKey(Fixtures.text("id_ed25519_encrypted"))
        }
        #expect(error == .encryptedKeysNotSupported)
        _ = try OpenSSHKey.decodePublicKey(Fixtures.text("id_ed25519_encrypted.pub"))
    }

    @Test func anRSAKeyIsRefusedByName() throws {
        #expect(throws: OpenSSHKeyError.unsupportedKeyType("ssh-rsa")) {
            try OpenSSHKey.decodePrivateKey(Fixtures.text("id_rsa"))
        }
        #expect(throws: OpenSSHKeyError.unsupportedKeyType("ssh-rsa")) {
            try OpenSSHKey.decodePublicKey(Fixtures.text("id_rsa.pub"))
        }
    }

    /// Every truncation of the real key's binary form is refused.
    @Test func everyTruncationOfTheFixtureIsRefused() throws {
        let binary = try Self.binary(of: "id_ed25519")
        #expect(try OpenSSHKey.decodePrivateKey(binary: binary).endpointID
            == OpenSSHKey.decodePublicKey(Fixtures.text("id_ed25519.pub")))
        for count in 0..<binary.count {
            #expect(throws: OpenSSHKeyError.self, "prefix of \(count) bytes") {
                try OpenSSHKey.decodePrivateKey(binary: Array(binary[0..<count]))
            }
        }
    }

    @Test func corruptedCheckNumbersInTheFixtureAreRefused() throws {
        var binary = try Self.binary(of: "id_ed25519")
        // magic (15), "none", "none", "" (8 + 8 + 4), key count (4),
        // public blob (4 + 51), private section length (4): then the check numbers.
        let offset = 15 + 8 + 8 + 4 + 4 + 4 + 51 + 4
        binary[offset + 5] ^= 0x01
        #expect(throws: OpenSSHKeyError.checkMismatch) { try OpenSSHKey.decodePrivateKey(binary: binary) }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: sshKeygen), "needs \(sshKeygen)"))
    func freshKeysFromSSHKeygenWork() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for index in 0..<3 {
            let path = directory.file("id_ed25519_\(index)")
            try Self.run(Self.sshKeygen, ["-q", "-t", "ed25519", "-N", "", "-C", "fresh \(index)", "-f", path])
            let privateKey = try IdentityFile.load(path: path)
            let publicKey = try IdentityFile.load(path: path + ".pub")
            #expect(privateKey.identity != nil)
            #expect(privateKey.endpointID == publicKey.endpointID)
            // ssh-keygen derives the same public key line from the private key as we do.
            let derived = try Self.run(Self.sshKeygen, ["-y", "-f", path])
            #expect(derived.split(separator: " ").prefix(2).joined(separator: " ")
                == OpenSSHKey.encodePublicKey(privateKey.endpointID))
        }
    }

    // MARK: - Helpers

    /// The binary content of a fixture's armour.
    static func binary(of name: String) throws -> [UInt8] {
        let body = try Fixtures.text(name).split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        return try #require(Base64.decode(body))
    }

    /// Runs a program and returns its standard output; fails on a non-zero exit.
    @discardableResult
    static func run(_ program: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(program) \(arguments) failed")
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
