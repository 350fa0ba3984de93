import SecureStreamsCore
import Testing

/// Base32 and Base64: RFC 4648 section 10 vectors, round trips, and the
/// inputs a strict decoder must refuse.
@Suite struct BaseEncodingTests {
    static let vectors = ["", "f", "fo", "foo", "foob", "fooba", "foobar"]

    @Test func base32MatchesRFC4648() {
        // RFC 4648 section 10, lowercased and without padding.
        let expected = ["", "my", "mzxq", "mzxw6", "mzxw6yq", "mzxw6ytb", "mzxw6ytboi"]
        for (input, output) in zip(Self.vectors, expected) {
            #expect(Base32.encode(Array(input.utf8)) == output)
            #expect(Base32.decode(output) == Array(input.utf8))
            #expect(Base32.decode(output.uppercased()) == Array(input.utf8))
        }
    }

    @Test func base64MatchesRFC4648() {
        let expected = ["", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"]
        for (input, output) in zip(Self.vectors, expected) {
            #expect(Base64.encode(Array(input.utf8)) == output)
            #expect(Base64.decode(output) == Array(input.utf8))
        }
    }

    @Test func seededByteStringsRoundTrip() {
        var random = SeededRandom(seed: 0xba5e)
        for count in 0..<100 {
            let bytes = random.bytes(count: count)
            let base32 = Base32.encode(bytes)
            #expect(base32.utf8.count == Base32.encodedCount(forByteCount: count))
            #expect(Base32.decode(base32) == bytes)
            let base64 = Base64.encode(bytes)
            #expect(base64.utf8.count == (count + 2) / 3 * 4)
            #expect(Base64.decode(base64) == bytes)
        }
    }

    @Test func base64SkipsWhitespaceAsPEMBodiesNeed() {
        #expect(Base64.decode("Zm9v\nYmFy\r\n") == Array("foobar".utf8))
        #expect(Base64.decode(" Zm 9v\tYg =\n=") == Array("foob".utf8))
    }

    @Test(arguments: [
        "0", "1", "8", "9", "=", "my=", "m", "mzx", "mzxw6y",  // alphabet, padding, impossible lengths
        "mz", "mzxr", "mzxw6yr", "mzxw6ytboj",  // non-zero trailing bits
        "my ", "m y",  // whitespace
    ])
    func base32RefusesNonCanonicalInput(text: String) {
        #expect(Base32.decode(text) == nil)
    }

    @Test(arguments: [
        "Zg", "Zg=", "Zm9vY", "Z===", "====",  // lengths and too much padding
        "Zh==", "Zm9=",  // non-zero bits before the padding
        "Zg==Zg==", "Z=g=", "Zg==\nZm9v",  // data after padding
        "Zm9v!", "Zm9-", "Zm9_",  // outside the standard alphabet (URL-safe is not accepted)
    ])
    func base64RefusesNonCanonicalInput(text: String) {
        #expect(Base64.decode(text) == nil)
    }
}
