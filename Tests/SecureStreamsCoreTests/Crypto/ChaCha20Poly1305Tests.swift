import Testing
@testable import SecureStreamsCore

/// All 27 vectors of `chacha20_poly1305_rfc8439.json`: the AEAD through
/// `AEADKey(.chaChaPoly)` in place, the block function and encryption
/// through `ChaCha20.xor`, Poly1305 through `Poly1305.authenticate`, and the
/// Poly1305 key generation as the ChaCha20 keystream at counter 0.
@Suite struct ChaCha20Poly1305RFC8439Tests {
    struct File: Decodable, Sendable {
        struct Block: Decodable, Sendable {
            let id: String
            let key: HexBytes
            let nonce: HexBytes
            let counter: UInt32
            let keystream: HexBytes
        }

        struct Encrypt: Decodable, Sendable {
            let id: String
            let key: HexBytes
            let nonce: HexBytes
            let counter: UInt32
            let plaintext: HexBytes
            let ciphertext: HexBytes
        }

        struct Poly: Decodable, Sendable {
            let id: String
            let key: HexBytes
            let message: HexBytes
            let tag: HexBytes
        }

        struct KeyGen: Decodable, Sendable {
            let id: String
            let key: HexBytes
            let nonce: HexBytes
            let otk: HexBytes
        }

        struct AEAD: Decodable, Sendable {
            let id: String
            let key: HexBytes
            let nonce: HexBytes
            let aad: HexBytes
            let plaintext: HexBytes
            let ciphertext: HexBytes
            let tag: HexBytes
        }

        let counts: [String: Int]
        let chacha20_block: [Block]
        let chacha20_encrypt: [Encrypt]
        let poly1305: [Poly]
        let poly1305_keygen: [KeyGen]
        let aead_chacha20_poly1305: [AEAD]
    }

    static func vectors() throws -> File {
        try PrimitiveVectors.load(File.self, "chacha20_poly1305_rfc8439.json")
    }

    /// ChaCha20 applied in place to a copy of `input`.
    static func chacha20(key: [UInt8], nonce: [UInt8], counter: UInt32, _ input: [UInt8]) throws -> [UInt8] {
        let nonce = try #require(AEADNonce(nonce))
        var buffer = input
        try buffer.withUnsafeMutableBytes { try ChaCha20.xor(key: key, nonce: nonce, counter: counter, buffer: $0) }
        return buffer
    }

    @Test func fileHasTwentySevenVectors() throws {
        let file = try Self.vectors()
        #expect(file.counts == ["chacha20_block": 5, "chacha20_encrypt": 4, "poly1305": 12,
                                "poly1305_keygen": 4, "aead_chacha20_poly1305": 2])
        let total = file.chacha20_block.count + file.chacha20_encrypt.count + file.poly1305.count
            + file.poly1305_keygen.count + file.aead_chacha20_poly1305.count
        #expect(total == 27)
        #expect(file.chacha20_block.count == 5 && file.chacha20_encrypt.count == 4 && file.poly1305.count == 12)
        #expect(file.poly1305_keygen.count == 4 && file.aead_chacha20_poly1305.count == 2)
    }

    /// Block-function vectors (A.1): the serialised block is the keystream,
    /// that is ChaCha20 applied to 64 zero bytes.
    @Test func blockFunctionIsKeystreamOnZeros() throws {
        for vector in try Self.vectors().chacha20_block {
            let zeros = [UInt8](repeating: 0, count: vector.keystream.count)
            #expect(try Self.chacha20(key: vector.key.bytes, nonce: vector.nonce.bytes, counter: vector.counter, zeros)
                == vector.keystream.bytes, "\(vector.id)")
        }
    }

    /// Encryption vectors (2.4.2, A.2): in both directions.
    @Test func encryptionWithInitialCounter() throws {
        for vector in try Self.vectors().chacha20_encrypt {
            let key = vector.key.bytes, nonce = vector.nonce.bytes
            #expect(try Self.chacha20(key: key, nonce: nonce, counter: vector.counter, vector.plaintext.bytes)
                == vector.ciphertext.bytes, "\(vector.id)")
            #expect(try Self.chacha20(key: key, nonce: nonce, counter: vector.counter, vector.ciphertext.bytes)
                == vector.plaintext.bytes, "\(vector.id)")
        }
    }

    /// The keystream does not depend on how a message is cut: XORing the
    /// 2.4.2 plaintext block by block with increasing counters gives the same
    /// ciphertext as one call.
    @Test func encryptionBlockByBlockMatchesOneCall() throws {
        let vector = try #require(try Self.vectors().chacha20_encrypt.first { $0.id == "RFC8439-2.4.2" })
        var output: [UInt8] = []
        var counter = vector.counter
        for start in stride(from: 0, to: vector.plaintext.count, by: 64) {
            let block = Array(vector.plaintext.bytes[start..<min(start + 64, vector.plaintext.count)])
            output += try Self.chacha20(key: vector.key.bytes, nonce: vector.nonce.bytes, counter: counter, block)
            counter += 1
        }
        #expect(output == vector.ciphertext.bytes)
    }

    @Test func poly1305Tags() throws {
        for vector in try Self.vectors().poly1305 {
            #expect(try Poly1305.authenticate(vector.message.bytes, oneTimeKey: vector.key.bytes) == vector.tag.bytes,
                    "\(vector.id)")
        }
    }

    /// Poly1305 key generation (2.6.2, A.4): the first 32 bytes of the
    /// ChaCha20 block at counter 0.
    @Test func poly1305KeyGenerationIsKeystreamAtCounterZero() throws {
        for vector in try Self.vectors().poly1305_keygen {
            let zeros = [UInt8](repeating: 0, count: 32)
            #expect(try Self.chacha20(key: vector.key.bytes, nonce: vector.nonce.bytes, counter: 0, zeros)
                == vector.otk.bytes, "\(vector.id)")
        }
    }

    /// AEAD vectors (2.8.2, A.5) sealed and opened in place, then every kind
    /// of tampering refused.
    @Test func aeadSealsAndOpensInPlace() throws {
        for vector in try Self.vectors().aead_chacha20_poly1305 {
            let key = try AEADKey(algorithm: .chaChaPoly, key: vector.key.bytes)
            let nonce = try #require(AEADNonce(vector.nonce.bytes))
            let sealed = vector.ciphertext.bytes + vector.tag.bytes
            try AEADCheck.sealAndOpenInPlace(key: key, nonce: nonce, associatedData: vector.aad.bytes,
                                             plaintext: vector.plaintext.bytes, sealed: sealed, label: vector.id)
            try AEADCheck.tamperingIsRefused(key: key, nonce: nonce, associatedData: vector.aad.bytes,
                                             sealed: sealed, label: vector.id)
        }
    }

    /// The A.5 vector opened with the key it was sealed under but a wrong key
    /// or nonce.
    @Test func aeadWrongKeyOrNonceFails() throws {
        let vector = try #require(try Self.vectors().aead_chacha20_poly1305.last)
        let sealed = vector.ciphertext.bytes + vector.tag.bytes
        let wrongKey = try AEADKey(algorithm: .chaChaPoly, key: vector.key.bytes.flippingBit(at: 31))
        let nonce = try #require(AEADNonce(vector.nonce.bytes))
        #expect(throws: CryptoError.authenticationFailed) {
            try wrongKey.open(nonce: nonce, associatedData: vector.aad.bytes, ciphertext: sealed)
        }
        let key = try AEADKey(algorithm: .chaChaPoly, key: vector.key.bytes)
        let wrongNonce = try #require(AEADNonce(vector.nonce.bytes.flippingBit(7, at: 11)))
        #expect(throws: CryptoError.authenticationFailed) {
            try key.open(nonce: wrongNonce, associatedData: vector.aad.bytes, ciphertext: sealed)
        }
    }
}

/// Shared checks for `AEADKey` vectors.
enum AEADCheck {
    /// Seals `plaintext` in place in a buffer with exactly room for the tag
    /// and expects `sealed` (ciphertext ‖ tag); then opens it in place back to
    /// `plaintext`. Also checks the allocating convenience forms agree.
    static func sealAndOpenInPlace(
        key: AEADKey, nonce: AEADNonce, associatedData: [UInt8], plaintext: [UInt8], sealed: [UInt8],
        label: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        var buffer = plaintext + [UInt8](repeating: 0, count: AEADKey.tagCount)
        let sealedCount = associatedData.withUnsafeBytes { ad in
            buffer.withUnsafeMutableBytes {
                key.seal(nonce: nonce, associatedData: ad, buffer: $0, plaintextCount: plaintext.count)
            }
        }
        #expect(sealedCount == plaintext.count + AEADKey.tagCount, "\(label)", sourceLocation: sourceLocation)
        #expect(buffer == sealed, "\(label): sealed bytes", sourceLocation: sourceLocation)

        let openedCount = try associatedData.withUnsafeBytes { ad in
            try buffer.withUnsafeMutableBytes {
                try key.open(nonce: nonce, associatedData: ad, buffer: $0, ciphertextCount: sealed.count)
            }
        }
        #expect(openedCount == plaintext.count, "\(label)", sourceLocation: sourceLocation)
        #expect(Array(buffer[..<openedCount]) == plaintext, "\(label): opened bytes", sourceLocation: sourceLocation)

        #expect(key.seal(nonce: nonce, associatedData: associatedData, plaintext: plaintext) == sealed,
                "\(label): allocating seal", sourceLocation: sourceLocation)
        #expect(try key.open(nonce: nonce, associatedData: associatedData, ciphertext: sealed) == plaintext,
                "\(label): allocating open", sourceLocation: sourceLocation)
    }

    /// Flipping a bit of the tag, of each end of the ciphertext, or of the
    /// associated data (or appending to it) makes `open` fail with
    /// `.authenticationFailed`, as does a truncated input.
    static func tamperingIsRefused(
        key: AEADKey, nonce: AEADNonce, associatedData: [UInt8], sealed: [UInt8],
        label: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        var attempts: [(String, [UInt8], [UInt8])] = [
            ("tag first byte", sealed.flippingBit(at: sealed.count - AEADKey.tagCount), associatedData),
            ("tag last byte", sealed.flippingBit(7, at: sealed.count - 1), associatedData),
            ("tag dropped byte", Array(sealed.dropLast()), associatedData),
            ("extra AD byte", sealed, associatedData + [0]),
        ]
        if sealed.count > AEADKey.tagCount {
            attempts.append(("ciphertext first byte", sealed.flippingBit(at: 0), associatedData))
            attempts.append(("ciphertext last byte",
                             sealed.flippingBit(3, at: sealed.count - AEADKey.tagCount - 1), associatedData))
        }
        if !associatedData.isEmpty {
            attempts.append(("AD first byte", sealed, associatedData.flippingBit(at: 0)))
            attempts.append(("AD last byte", sealed, associatedData.flippingBit(5, at: associatedData.count - 1)))
        }
        for (what, ciphertext, ad) in attempts {
            var buffer = ciphertext
            #expect(throws: CryptoError.authenticationFailed, "\(label): \(what)", sourceLocation: sourceLocation) {
                try ad.withUnsafeBytes { adBytes in
                    try buffer.withUnsafeMutableBytes {
                        try key.open(nonce: nonce, associatedData: adBytes, buffer: $0, ciphertextCount: ciphertext.count)
                    }
                }
            }
        }
    }
}
