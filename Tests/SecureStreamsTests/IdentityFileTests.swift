import Foundation
import SecureStreams
import Testing

/// Key files on disk: atomic private saves, permission checks, format
/// detection and the default identity.
@Suite struct IdentityFileTests {
    static let identity = try! HostIdentity(seed: (0..<32).map { UInt8($0) })

    @Test func savedKeysLoadBack() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var random = SeededRandom(seed: 0xf11e)
        for index in 0..<10 {
            let identity = HostIdentity(using: &random)
            let path = directory.file("id\(index)")
            try IdentityFile.save(identity, path: path)
            let loaded = try IdentityFile.load(path: path)
            #expect(loaded.format == .secureStreams)
            #expect(loaded.endpointID == identity.endpointID)
            #expect(loaded.identity?.signingKey.seed == identity.signingKey.seed)
        }
    }

    @Test func savedKeysAreOwnerOnlyAndNewDirectoriesToo() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("a/b/identity")
        try IdentityFile.save(Self.identity, path: path)
        #expect(try permissions(of: path) == 0o600)
        #expect(try permissions(of: directory.file("a/b")) == 0o700)
        #expect(try permissions(of: directory.file("a")) == 0o700)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == KeyFile.encode(Self.identity))
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o660, 0o601, 0o610])
    func privateKeysOthersCanAccessAreRefused(mode: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("identity")
        try IdentityFile.save(Self.identity, path: path)
        try setPermissions(mode, of: path)
        let error = try #require(throws: IdentityFileError.self) { try IdentityFile.load(path: path) }
        #expect(error == .permissionsTooOpen(path: path, mode: UInt32(mode)))
        if mode == 0o644 {
            #expect(error.description == "permissions 0644 for '\(path)' are too open: "
                + "a private key must be readable by its owner only (chmod 600 \(path))")
        }
    }

    @Test func openSSHPrivateKeysAreCheckedToo() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try Fixtures.copy("id_ed25519", to: directory, mode: 0o644)
        #expect(throws: IdentityFileError.permissionsTooOpen(path: path, mode: 0o644)) {
            try IdentityFile.load(path: path)
        }
        try setPermissions(0o400, of: path)
        #expect(try IdentityFile.load(path: path).format == .openSSHPrivateKey)
    }

    @Test func existingFilesAreReplacedOnlyWhenAsked() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("identity")
        var random = SeededRandom(seed: 5)
        let first = HostIdentity(using: &random)
        let second = HostIdentity(using: &random)
        try IdentityFile.save(first, path: path)
        #expect(throws: IdentityFileError.alreadyExists(path: path)) { try IdentityFile.save(second, path: path) }
        #expect(try IdentityFile.load(path: path).endpointID == first.endpointID)
        #expect(try directory.contents() == ["identity"])

        try setPermissions(0o644, of: path)  // replacing also restores the mode
        try IdentityFile.save(second, path: path, overwrite: true)
        #expect(try IdentityFile.load(path: path).endpointID == second.endpointID)
        #expect(try permissions(of: path) == 0o600)
        #expect(try directory.contents() == ["identity"])
    }

    @Test func aDanglingSymlinkIsNotOverwritten() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("identity")
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: directory.file("elsewhere"))
        #expect(throws: IdentityFileError.alreadyExists(path: path)) {
            try IdentityFile.save(Self.identity, path: path)
        }
        #expect(!FileManager.default.fileExists(atPath: directory.file("elsewhere")))
    }

    @Test func savingLeavesNoTemporaryFiles() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var random = SeededRandom(seed: 6)
        for index in 0..<20 {
            try IdentityFile.save(HostIdentity(using: &random), path: directory.file("id"), overwrite: index > 0)
        }
        #expect(try directory.contents() == ["id"])
    }

    @Test func savingIntoAFileAsDirectoryFailsCleanly() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try Data("x".utf8).write(to: URL(fileURLWithPath: directory.file("file")))
        #expect(throws: IdentityFileError.notADirectory(path: directory.file("file"))) {
            try IdentityFile.save(Self.identity, path: directory.file("file/identity"))
        }
        #expect(try directory.contents() == ["file"])
    }

    @Test func publicKeysLoadAsPublicOnlyWhateverTheirMode() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let pub = try Fixtures.copy("id_ed25519.pub", to: directory, mode: 0o644)
        let loaded = try IdentityFile.load(path: pub)
        #expect(loaded.identity == nil)
        #expect(loaded.format == .openSSHPublicKey)

        let eidFile = directory.file("peer.eid")
        try Data("# alice's laptop\n\(Self.identity.endpointID)\n".utf8).write(to: URL(fileURLWithPath: eidFile))
        try setPermissions(0o644, of: eidFile)
        let peer = try IdentityFile.load(path: eidFile)
        #expect(peer.format == .endpointID)
        #expect(peer.endpointID == Self.identity.endpointID)
        #expect(peer.identity == nil)
    }

    @Test func unusableFilesAreReportedWithTheirPath() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let missing = directory.file("missing")
        #expect(throws: IdentityFileError.notFound(path: missing)) { try IdentityFile.load(path: missing) }
        #expect(throws: IdentityFileError.notARegularFile(path: directory.path)) {
            try IdentityFile.load(path: directory.path)
        }
        let cases: [(String, [UInt8], IdentityFileError)] = [
            ("empty", [], .unrecognizedFormat(path: directory.file("empty"))),
            ("binary", [0x00, 0x01, 0xff], .unrecognizedFormat(path: directory.file("binary"))),
            ("words", Array("hello there world\n".utf8), .unrecognizedFormat(path: directory.file("words"))),
            ("big", [UInt8](repeating: 0x41, count: IdentityFile.maximumFileSize + 1),
             .tooLarge(path: directory.file("big"), limit: IdentityFile.maximumFileSize)),
            ("pem", Array("-----BEGIN RSA PRIVATE KEY-----\nMII=\n-----END RSA PRIVATE KEY-----\n".utf8),
             .unsupportedPrivateKeyFormat(path: directory.file("pem"))),
            ("typo", Array("aoqqpp7tzyil4hlq3umoos6atft6jvrqtosq2xy53sdgiesvgg4myuva\n".utf8),
             .invalidEndpointID(path: directory.file("typo"), .checksumMismatch)),
        ]
        for (name, bytes, expected) in cases {
            let path = directory.file(name)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            try setPermissions(0o600, of: path)
            let error = try #require(throws: IdentityFileError.self) { try IdentityFile.load(path: path) }
            #expect(error == expected)
            #expect(error.description.contains(path))
        }
    }

    @Test func aCorruptKeyFileNamesTheLine() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("identity")
        try IdentityFile.save(Self.identity, path: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: "version: 1", with: "version: 9")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try setPermissions(0o600, of: path)
        let error = try #require(throws: IdentityFileError.self) { try IdentityFile.load(path: path) }
        #expect(error == .invalidKeyFile(path: path, .unsupportedVersion(line: 2, version: "9")))
        #expect(error.description == "invalid key file '\(path)', line 2: unsupported key file version '9': "
            + "this build reads version 1")
    }

    // MARK: - The default identity

    @Test func theDefaultPathFollowsTheEnvironment() {
        #expect(IdentityFile.defaultIdentityPath(environment: ["SSS_KEY": "/k", "HOME": "/h"]) == "/k")
        #expect(IdentityFile.defaultIdentityPath(environment: ["SSS_KEY": "", "HOME": "/h"])
            == "/h/.config/securestreams/identity")
        #expect(IdentityFile.defaultIdentityPath(environment: ["XDG_CONFIG_HOME": "/x/", "HOME": "/h"])
            == "/x/securestreams/identity")
        #expect(IdentityFile.defaultIdentityPath(environment: ["XDG_CONFIG_HOME": "relative", "HOME": "/h/"])
            == "/h/.config/securestreams/identity")
    }

    @Test func theDefaultIdentityIsCreatedOnFirstUseOnly() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let environment = ["XDG_CONFIG_HOME": directory.path, "HOME": "/nonexistent"]
        var random = SeededRandom(seed: 77)
        let first = try IdentityFile.loadOrCreateDefault(using: &random, environment: environment)
        #expect(first.wasCreated)
        #expect(first.path == directory.file("securestreams/identity"))
        #expect(try permissions(of: first.path) == 0o600)
        #expect(try permissions(of: directory.file("securestreams")) == 0o700)
        var expectedRandom = SeededRandom(seed: 77)
        #expect(first.identity.endpointID == HostIdentity(using: &expectedRandom).endpointID)

        let second = try IdentityFile.loadOrCreateDefault(using: &random, environment: environment)
        #expect(!second.wasCreated)
        #expect(second.identity.endpointID == first.identity.endpointID)
    }

    @Test func aPublicKeyAtTheDefaultPathIsNotAnIdentity() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try Fixtures.copy("id_ed25519.pub", to: directory)
        var random = SeededRandom(seed: 1)
        #expect(throws: IdentityFileError.publicKeyOnly(path: path)) {
            try IdentityFile.loadOrCreateDefault(using: &random, environment: ["SSS_KEY": path])
        }
    }
}
