import Testing
@testable import SecureStreamsCore

/// `xchacha20_poly1305_draft03.json`: HChaCha20 through `HChaCha20.derive`,
/// the AEAD through `XChaCha20Poly1305`, and the raw XChaCha20 stream built
/// from the two wrappers that define it (HChaCha20 subkey, then IETF
/// ChaCha20 with nonce `00000000 ‖ nonce[16..<24]`), so no stream wrapper is
/// needed.
@Suite struct XChaCha20Poly1305DraftTests {
    struct File: Decodable, Sendable {
        struct HChaCha: Decodable, Sendable {
            let id: String
            let key: HexBytes
            let nonce: HexBytes
            let subkey: HexBytes
        }

        struct AEAD: Decodable, Sendable {
            let id: String
            let key: HexBytes
            let nonce: HexBytes
            let aad: HexBytes
            let plaintext: HexBytes
            let poly1305_key: HexBytes
            let ciphertext: HexBytes
            let tag: HexBytes
        }

        struct Stream: Decodable, Sendable {
            let id: String
            let key: HexBytes
            let nonce: HexBytes
            let counter: UInt32
            let plaintext: HexBytes
            let keystream: HexBytes
            let ciphertext: HexBytes
        }

        let hchacha20: [HChaCha]
        let aead_xchacha20_poly1305: [AEAD]
        let xchacha20_stream: [Stream]
    }

    static func vectors() throws -> File {
        try PrimitiveVectors.load(File.self, "xchacha20_poly1305_draft03.json")
    }

    /// XChaCha20 (draft section 2.3) composed from the project's wrappers.
    static func xchacha20(key: [UInt8], nonce: [UInt8], counter: UInt32, _ input: [UInt8]) throws -> [UInt8] {
        #expect(nonce.count == 24)
        let subkey = try HChaCha20.derive(key: key, input: nonce[0..<16])
        let chachaNonce = try #require(AEADNonce([0, 0, 0, 0] + nonce[16..<24]))
        var buffer = input
        try buffer.withUnsafeMutableBytes { try ChaCha20.xor(key: subkey, nonce: chachaNonce, counter: counter, buffer: $0) }
        return buffer
    }

    @Test func hchacha20Subkey() throws {
        let vectors = try Self.vectors().hchacha20
        #expect(vectors.count == 1)
        for vector in vectors {
            #expect(try HChaCha20.derive(key: vector.key.bytes, input: vector.nonce.bytes).unprotectedBytes
                == vector.subkey.bytes, "\(vector.id)")
        }
    }

    @Test func aeadSealsOpensAndRefusesTampering() throws {
        let vectors = try Self.vectors().aead_xchacha20_poly1305
        #expect(vectors.count == 1)
        for vector in vectors {
            let key = vector.key.bytes, nonce = vector.nonce.bytes, aad = vector.aad.bytes
            let sealed = vector.ciphertext.bytes + vector.tag.bytes
            #expect(try XChaCha20Poly1305.seal(key: key, nonce: nonce, associatedData: aad, plaintext: vector.plaintext.bytes)
                == sealed, "\(vector.id)")
            #expect(try XChaCha20Poly1305.open(key: key, nonce: nonce, associatedData: aad, ciphertext: sealed)
                == vector.plaintext.bytes, "\(vector.id)")
            // The one-time Poly1305 key is the first 32 keystream bytes at counter 0.
            #expect(try Self.xchacha20(key: key, nonce: nonce, counter: 0, [UInt8](repeating: 0, count: 32))
                == vector.poly1305_key.bytes, "\(vector.id)")

            let tampered: [(String, [UInt8], [UInt8], [UInt8])] = [
                ("tag", nonce, aad, sealed.flippingBit(at: sealed.count - 1)),
                ("ciphertext", nonce, aad, sealed.flippingBit(at: 0)),
                ("AD", nonce, aad.flippingBit(at: 0), sealed),
                ("nonce", nonce.flippingBit(at: 23), aad, sealed),
                ("truncated", nonce, aad, Array(sealed.prefix(XChaCha20Poly1305.tagCount - 1))),
            ]
            for (what, n, ad, ciphertext) in tampered {
                #expect(throws: CryptoError.authenticationFailed, "\(vector.id): \(what)") {
                    try XChaCha20Poly1305.open(key: key, nonce: n, associatedData: ad, ciphertext: ciphertext)
                }
            }
        }
    }

    @Test func xchacha20StreamFromHChaCha20AndChaCha20() throws {
        let vectors = try Self.vectors().xchacha20_stream
        #expect(vectors.map(\.counter) == [0, 1])
        for vector in vectors {
            let key = vector.key.bytes, nonce = vector.nonce.bytes
            let zeros = [UInt8](repeating: 0, count: vector.keystream.count)
            #expect(try Self.xchacha20(key: key, nonce: nonce, counter: vector.counter, zeros) == vector.keystream.bytes,
                    "\(vector.id) keystream")
            #expect(try Self.xchacha20(key: key, nonce: nonce, counter: vector.counter, vector.plaintext.bytes)
                == vector.ciphertext.bytes, "\(vector.id) ciphertext")
        }
    }

    @Test func wrongSizesAreRejected() {
        let key = [UInt8](repeating: 1, count: 32), nonce = [UInt8](repeating: 2, count: 24)
        #expect(throws: CryptoError.invalidLength(what: "XChaCha20-Poly1305 key", expected: 32, actual: 31)) {
            try XChaCha20Poly1305.seal(key: Array(key.dropLast()), nonce: nonce, plaintext: [UInt8]())
        }
        #expect(throws: CryptoError.invalidLength(what: "XChaCha20-Poly1305 nonce", expected: 24, actual: 12)) {
            try XChaCha20Poly1305.open(key: key, nonce: Array(nonce.prefix(12)), ciphertext: [UInt8](repeating: 0, count: 16))
        }
        #expect(throws: CryptoError.invalidLength(what: "HChaCha20 key", expected: 32, actual: 16)) {
            try HChaCha20.derive(key: Array(key.prefix(16)), input: Array(nonce.prefix(16)))
        }
        #expect(throws: CryptoError.invalidLength(what: "HChaCha20 input", expected: 16, actual: 24)) {
            try HChaCha20.derive(key: key, input: nonce)
        }
    }
}
