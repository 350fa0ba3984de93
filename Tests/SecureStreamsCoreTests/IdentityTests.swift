@testable import SecureStreamsCore
import Testing

/// Host identities and endpoint ids: derivation, the text form, and every
/// way a mistyped id is caught.
@Suite struct IdentityTests {
    /// The worked example of `docs/IDENTITY.md`: seed = bytes 0x00…0x1f.
    /// The expected values were checked against an independent
    /// implementation (Python `cryptography` and `hashlib.blake2b`).
    @Test func workedExampleMatchesTheDocumentation() throws {
        let identity = try HostIdentity(seed: (0..<32).map { UInt8($0) })
        #expect(Hex.encode(identity.endpointID.publicKey) ==
            "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8")
        #expect(EndpointID.checksum(of: identity.endpointID.publicKey) == [0xcc, 0x52, 0xac])
        #expect(identity.endpointID.description == "aoqqpp7tzyil4hlq3umoos6atft6jvrqtosq2xy53sdgiesvgg4myuvm")
        #expect(Hex.encode(identity.endpointID.noiseStaticKey) ==
            "4701d08488451f545a409fb58ae3e58581ca40ac3f7f114698cd71deac73ca01")
        #expect(identity.endpointID.abbreviated == "aoqqpp7t…")
    }

    @Test(arguments: TestSeeds.seeds([1, 2, 0x5eed, 0xdead_beef], filter: "endpointIDsRoundTripForSeededKeys"))
    func endpointIDsRoundTripForSeededKeys(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        for _ in 0..<100 {
            let identity = HostIdentity(using: &random)
            let text = identity.endpointID.description
            #expect(text.utf8.count == 56)
            #expect(text.utf8.allSatisfy { Base32.alphabet.contains($0) }, "not lowercase base32: \(text)")
            #expect(try EndpointID(parsing: text) == identity.endpointID)
            #expect(try EndpointID(parsing: text.uppercased()) == identity.endpointID)
            #expect(try EndpointID(parsing: " \t\(text)\r\n") == identity.endpointID)
            #expect(EndpointID(text) == identity.endpointID)
            #expect(try EndpointID(publicKey: identity.endpointID.publicKey) == identity.endpointID)
        }
    }

    @Test func staticKeyIsTheConversionOfTheSigningKey() throws {
        var random = SeededRandom(seed: 7)
        for _ in 0..<50 {
            let identity = HostIdentity(using: &random)
            let converted = try identity.signingKey.publicKey.x25519PublicKey()
            #expect(identity.staticKey.publicKey == converted)
            #expect(identity.endpointID.noiseStaticKey == converted)
        }
    }

    @Test func theSameSeedGivesTheSameIdentity() throws {
        let seed = (0..<32).map { UInt8(255 - $0) }
        let a = try HostIdentity(seed: seed)
        let b = try HostIdentity(seed: SecretBytes(copying: seed))
        #expect(a.endpointID == b.endpointID)
        #expect(a.staticKey.secret == b.staticKey.secret)
        #expect(Set([a.endpointID, b.endpointID]).count == 1)
    }

    @Test func seedsOfTheWrongLengthAreRefused() {
        #expect(throws: CryptoError.invalidLength(what: "Ed25519 seed", expected: 32, actual: 31)) {
            try HostIdentity(seed: [UInt8](repeating: 1, count: 31))
        }
    }

    @Test func theDescriptionHidesTheSecret() throws {
        let seed = (0..<32).map { UInt8($0) }
        let identity = try HostIdentity(seed: seed)
        let printed = "\(identity) \(String(reflecting: identity))"
        #expect(!printed.contains(Hex.encode(seed)))
        #expect(!printed.contains(Hex.encode(seed.prefix(8))))
        #expect(printed.contains(identity.endpointID.description))
    }

    // MARK: - Parse errors

    /// Every substitution of one character by another alphabet character, at
    /// every position, is caught: by the checksum, or (when the checksum
    /// happens to match) by the point check. None parses.
    @Test(arguments: TestSeeds.seeds([11, 12, 13], filter: "everySingleCharacterSubstitutionIsCaught"))
    func everySingleCharacterSubstitutionIsCaught(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let text = Array(HostIdentity(using: &random).endpointID.description)
        var checksumMismatches = 0
        var invalidKeys = 0
        for position in text.indices {
            let alphabet = Base32.alphabet.map { Character(Unicode.Scalar($0)) }
            for replacement in alphabet where replacement != text[position] {
                var typo = text
                typo[position] = replacement
                do {
                    let parsed = try EndpointID(parsing: String(typo))
                    Issue.record("typo at position \(position + 1) parsed as \(parsed)")
                } catch .checksumMismatch {
                    checksumMismatches += 1
                } catch .invalidKey {
                    invalidKeys += 1
                } catch {
                    Issue.record("typo at position \(position + 1): unexpected \(error)")
                }
            }
        }
        #expect(checksumMismatches + invalidKeys == 56 * 31)
    }

    @Test func swappedNeighboursAreCaught() {
        var random = SeededRandom(seed: 21)
        let text = Array(HostIdentity(using: &random).endpointID.description)
        for position in 0..<(text.count - 1) where text[position] != text[position + 1] {
            var typo = text
            typo.swapAt(position, position + 1)
            #expect(throws: EIDParseError.self) { try EndpointID(parsing: String(typo)) }
        }
    }

    @Test(arguments: [0, 1, 55, 57, 112])
    func wrongLengthsAreReported(count: Int) throws {
        let text = String(repeating: "a", count: count)
        let error = try #require(throws: EIDParseError.self) { try EndpointID(parsing: text) }
        #expect(error == .wrongLength(expected: 56, actual: count))
        #expect(error.description == "an endpoint id has 56 characters, got \(count)")
    }

    @Test(arguments: [("0", 1), ("1", 10), ("8", 56), ("9", 2), ("!", 30), ("=", 56), ("é", 7), (" ", 20)])
    func charactersOutsideTheAlphabetAreReportedWithTheirPosition(character: Character, position: Int) throws {
        var text = Array(Self.exampleID.description)
        text[position - 1] = character
        let error = try #require(throws: EIDParseError.self) { try EndpointID(parsing: String(text)) }
        #expect(error == .invalidCharacter(character, position: position))
        #expect(error.description.contains("at position \(position)"))
    }

    @Test func digitsThatLookLikeLettersGetAHint() {
        #expect(EIDParseError.invalidCharacter("0", position: 3).description ==
            "invalid character '0' at position 3 of the endpoint id: "
            + "endpoint ids use the letters a–z and the digits 2–7 (did you mean the letter 'o'?)")
        #expect(EIDParseError.invalidCharacter("\u{200B}", position: 4).description.contains("U+200B"))
    }

    @Test func mixedCaseIsAccepted() throws {
        let text = Self.exampleID.description
        let mixed = String(text.enumerated().map { index, character in
            index.isMultiple(of: 2) ? Character(character.uppercased()) : character
        })
        #expect(try EndpointID(parsing: mixed) == Self.exampleID)
    }

    @Test func aChecksummedKeyThatIsNotAPointIsAnInvalidKey() throws {
        // y = 1 encodes the neutral element, a point of small order.
        let neutral = Ed25519.PublicKey(try #require(Bytes32([1] + [UInt8](repeating: 0, count: 31))))
        #expect(throws: CryptoError.invalidPublicKey) { try EndpointID(publicKey: neutral) }
        let text = Base32.encode(neutral.bytes.bytes + EndpointID.checksum(of: neutral))
        #expect(throws: EIDParseError.invalidKey) { try EndpointID(parsing: text) }
    }

    @Test func aTypoInTheChecksumIsAMismatch() {
        var text = Array(Self.exampleID.description)
        text[55] = text[55] == "a" ? "b" : "a"
        #expect(throws: EIDParseError.checksumMismatch) { try EndpointID(parsing: String(text)) }
        #expect(EIDParseError.checksumMismatch.description.contains("typo"))
    }

    @Test func losslessConversionFailsQuietly() {
        #expect(EndpointID("not an id") == nil)
        #expect(EndpointID(Self.exampleID.description) == Self.exampleID)
    }

    static let exampleID = try! HostIdentity(seed: (0..<32).map { UInt8($0) }).endpointID
}
