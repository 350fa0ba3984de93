import SecureStreamsCore
import Testing

/// The SecureStreams key file format: round trips, the exact text, and one
/// test per error, each naming its line.
@Suite struct KeyFileTests {
    static let seed = (0..<32).map { UInt8($0) }
    static let identity = try! HostIdentity(seed: seed)
    static let seedHex = Hex.encode(seed)

    /// The example of `docs/IDENTITY.md`, byte for byte.
    static let exampleText = """
        -----BEGIN SECURESTREAMS IDENTITY-----
        version: 1
        type: ed25519
        eid: aoqqpp7tzyil4hlq3umoos6atft6jvrqtosq2xy53sdgiesvgg4myuvm
        seed: 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
        -----END SECURESTREAMS IDENTITY-----

        """

    @Test func encodingGivesTheDocumentedText() {
        #expect(KeyFile.encode(Self.identity) == Self.exampleText)
    }

    @Test func seededIdentitiesRoundTrip() throws {
        var random = SeededRandom(seed: 0x6b65_79)
        for _ in 0..<100 {
            let identity = HostIdentity(using: &random)
            let decoded = try KeyFile.decode(KeyFile.encode(identity))
            #expect(decoded.endpointID == identity.endpointID)
            #expect(decoded.signingKey.seed == identity.signingKey.seed)
        }
    }

    @Test func commentsBlankLinesCRLFAndUppercaseHexAreAccepted() throws {
        let text = "# my laptop\n\n   # indented comment\n"
            + Self.exampleText.replacingSeedHex(with: Self.seedHex.uppercased())
                .split(separator: "\n").map { $0 + "  \r\n" }.joined()
            + "\n# trailing comment\n"
        #expect(try KeyFile.decode(text).endpointID == Self.identity.endpointID)
    }

    @Test func theFinalNewlineIsOptional() throws {
        #expect(try KeyFile.decode(Self.exampleText.dropLast()).endpointID == Self.identity.endpointID)
    }

    @Test func anEIDOfAnotherKeyIsAMismatch() throws {
        var random = SeededRandom(seed: 99)
        let other = HostIdentity(using: &random).endpointID.description
        let text = Self.exampleText.replacingOccurrences(of: Self.identity.endpointID.description, with: other)
        let error = try #require(throws: KeyFileError.self) { try KeyFile.decode(text) }
        #expect(error == .eidMismatch(line: 4))
        #expect(error.description.hasPrefix("line 4: eid does not match key"))
    }

    @Test func aMistypedEIDIsReportedWithItsParseError() {
        let eid = Self.identity.endpointID.description
        let typo = String(eid.prefix(10)) + (eid.dropFirst(10).first == "a" ? "b" : "a") + eid.dropFirst(11)
        #expect(throws: KeyFileError.invalidEID(line: 4, .checksumMismatch)) {
            try KeyFile.decode(Self.exampleText.replacingOccurrences(of: eid, with: typo))
        }
    }

    @Test func aCorruptedSeedIsAMismatch() {
        let corrupted = "f" + Self.seedHex.dropFirst()
        #expect(throws: KeyFileError.eidMismatch(line: 4)) {
            try KeyFile.decode(Self.exampleText.replacingSeedHex(with: corrupted))
        }
    }

    @Test(arguments: ["zz" + String(repeating: "0", count: 62), String(repeating: "0", count: 62),
                      String(repeating: "0", count: 66), "", "0x" + String(repeating: "0", count: 62)])
    func badSeedsAreRefused(seedHex: String) throws {
        let error = try #require(throws: KeyFileError.self) {
            try KeyFile.decode(Self.exampleText.replacingSeedHex(with: seedHex))
        }
        #expect(error == .invalidSeed(line: 5))
        #expect(error.description == "line 5: the seed must be 64 hexadecimal digits (32 bytes)")
    }

    @Test func anotherVersionIsRefused() throws {
        let text = Self.exampleText.replacingOccurrences(of: "version: 1", with: "version: 2")
        let error = try #require(throws: KeyFileError.self) { try KeyFile.decode(text) }
        #expect(error == .unsupportedVersion(line: 2, version: "2"))
        #expect(error.description == "line 2: unsupported key file version '2': this build reads version 1")
    }

    @Test func anotherKeyTypeIsRefused() {
        #expect(throws: KeyFileError.unsupportedType(line: 3, type: "rsa")) {
            try KeyFile.decode(Self.exampleText.replacingOccurrences(of: "type: ed25519", with: "type: rsa"))
        }
    }

    @Test(arguments: [
        ("version: 1\n", 2, "`version: 1`"),
        ("type: ed25519\n", 3, "`type: ed25519`"),
        ("eid: ", 4, "`eid: <endpoint id>`"),
        ("seed: ", 5, "`seed: <64 hex digits>`"),
    ])
    func aMissingLineIsNamed(removing prefix: String, line: Int, expected: String) throws {
        let text = Self.exampleText.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix(prefix.trimmingNewline) }.joined(separator: "\n")
        let error = try #require(throws: KeyFileError.self) { try KeyFile.decode(text) }
        #expect(error == .expected(line: line, what: expected))
        #expect(error.description == "line \(line): expected \(expected)")
    }

    @Test func aMissingEndLineIsNamed() {
        let text = Self.exampleText.replacingOccurrences(of: KeyFile.endLine + "\n", with: "")
        #expect(throws: KeyFileError.unexpectedEnd(line: 6, expected: "the line `\(KeyFile.endLine)`")) {
            try KeyFile.decode(text)
        }
    }

    @Test func textWithoutTheArmourIsRefused() {
        #expect(throws: KeyFileError.unexpectedEnd(line: 1, expected: "the line `\(KeyFile.beginLine)`")) {
            try KeyFile.decode("")
        }
        #expect(throws: KeyFileError.expected(line: 2, what: "the line `\(KeyFile.beginLine)`")) {
            try KeyFile.decode("# comment\nhello\n")
        }
    }

    @Test func contentAfterTheArmourIsRefused() {
        #expect(throws: KeyFileError.trailingContent(line: 8)) {
            try KeyFile.decode(Self.exampleText + "\nstray\n")
        }
    }

    /// Every prefix of a key file that stops before the END line is refused.
    @Test func everyTruncationIsRefused() {
        let text = Array(Self.exampleText)
        let endLineStart = Self.exampleText.count - KeyFile.endLine.count - 1
        for count in 0..<endLineStart + KeyFile.endLine.count {
            #expect(throws: KeyFileError.self, "prefix of \(count) characters") {
                try KeyFile.decode(String(text[0..<count]))
            }
        }
    }

    /// Errors describe lines; they never quote the seed, even when the seed
    /// sits on a line that the error is about.
    @Test func errorsNeverQuoteTheSeed() {
        let lines = ["version: ", "type: ", "eid: "]
        for field in lines {
            let text = Self.exampleText.split(separator: "\n")
                .map { $0.hasPrefix(field) ? Substring(field + Self.seedHex) : $0 }.joined(separator: "\n")
            do {
                _ = try KeyFile.decode(text)
                Issue.record("decoded a file with the seed in its \(field)line")
            } catch {
                #expect(!error.description.contains(Self.seedHex.prefix(16)), "\(error)")
            }
        }
    }
}

extension String {
    fileprivate func replacingSeedHex(with replacement: String) -> String {
        replacingOccurrences(of: "seed: " + KeyFileTests.seedHex, with: "seed: " + replacement)
    }

    /// A tiny stand-in for Foundation's method (the core tests do not import Foundation).
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }

    fileprivate var trimmingNewline: Substring {
        hasSuffix("\n") ? dropLast() : Substring(self)
    }
}
