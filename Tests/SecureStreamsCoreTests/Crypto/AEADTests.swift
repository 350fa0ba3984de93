import Testing
@testable import SecureStreamsCore

/// `AEADKey` and `AEADNonce` beyond the vectors: in-place round trips at the
/// sizes that matter (empty, around one block, one MTU-sized packet, the
/// largest datagram), the Noise nonce layouts and the RFC 8446 nonce XOR.
@Suite struct AEADTests {
    static let sizes = [0, 1, 15, 16, 17, 1350, 65535]
    static let algorithms = AEADAlgorithm.allCases.filter(\.isHardwareAccelerated)

    @Test(arguments: algorithms, sizes)
    func sealAndOpenInPlaceRoundTrip(algorithm: AEADAlgorithm, size: Int) throws {
        var random = SeededRandom(seed: UInt64(size)).fork(label: algorithm.rawValue)
        let key = try AEADKey(algorithm: algorithm, key: random.bytes(count: 32))
        let nonce = AEADNonce(noiseCounter: UInt64(size) &* 0x9E37_79B9, algorithm: algorithm)
        let associatedData = random.bytes(count: size % 40)
        let plaintext = random.bytes(count: size)
        // Three spare bytes past the tag must come through untouched.
        let spare: [UInt8] = [0xA5, 0x5A, 0xC3]
        var buffer = plaintext + [UInt8](repeating: 0, count: AEADKey.tagCount) + spare

        let sealedCount = associatedData.withUnsafeBytes { ad in
            buffer.withUnsafeMutableBytes { key.seal(nonce: nonce, associatedData: ad, buffer: $0, plaintextCount: size) }
        }
        #expect(sealedCount == size + AEADKey.tagCount)
        #expect(Array(buffer[sealedCount...]) == spare)
        let sealed = Array(buffer[..<sealedCount])
        #expect(sealed == key.seal(nonce: nonce, associatedData: associatedData, plaintext: plaintext))
        if size >= 16 { #expect(sealed.prefix(size) != plaintext[...]) }

        let openedCount = try associatedData.withUnsafeBytes { ad in
            try buffer.withUnsafeMutableBytes {
                try key.open(nonce: nonce, associatedData: ad, buffer: $0, ciphertextCount: sealedCount)
            }
        }
        #expect(openedCount == size)
        #expect(Array(buffer[..<size]) == plaintext)
        #expect(Array(buffer[sealedCount...]) == spare)

        try AEADCheck.tamperingIsRefused(key: key, nonce: nonce, associatedData: associatedData, sealed: sealed,
                                         label: "\(algorithm) \(size)")
        let otherNonce = AEADNonce(noiseCounter: UInt64(size) &* 0x9E37_79B9 &+ 1, algorithm: algorithm)
        #expect(throws: CryptoError.authenticationFailed) {
            try key.open(nonce: otherNonce, associatedData: associatedData, ciphertext: sealed)
        }
    }

    @Test(arguments: sizes)
    func xchacha20Poly1305RoundTrip(size: Int) throws {
        var random = SeededRandom(seed: UInt64(size)).fork(label: "XChaCha20-Poly1305")
        let key = random.bytes(count: 32), nonce = random.bytes(count: 24)
        let associatedData = random.bytes(count: size % 40), plaintext = random.bytes(count: size)
        let sealed = try XChaCha20Poly1305.seal(key: key, nonce: nonce, associatedData: associatedData, plaintext: plaintext)
        #expect(sealed.count == size + XChaCha20Poly1305.tagCount)
        #expect(try XChaCha20Poly1305.open(key: key, nonce: nonce, associatedData: associatedData, ciphertext: sealed)
            == plaintext)
        #expect(throws: CryptoError.authenticationFailed) {
            try XChaCha20Poly1305.open(key: key, nonce: nonce, associatedData: associatedData,
                                       ciphertext: sealed.flippingBit(at: sealed.count - 1))
        }
    }

    /// The same key and nonce under the two algorithms give different bytes.
    @Test(.enabled(if: AEADAlgorithm.aesGCM.isHardwareAccelerated))
    func algorithmsAreNotInterchangeable() throws {
        let keyBytes = [UInt8](repeating: 0x42, count: 32), plaintext = Array("hello".utf8)
        let chacha = try AEADKey(algorithm: .chaChaPoly, key: keyBytes)
        let gcm = try AEADKey(algorithm: .aesGCM, key: keyBytes)
        let sealed = chacha.seal(nonce: AEADNonce(), plaintext: plaintext)
        #expect(sealed != gcm.seal(nonce: AEADNonce(), plaintext: plaintext))
        #expect(throws: CryptoError.authenticationFailed) { try gcm.open(nonce: AEADNonce(), ciphertext: sealed) }
    }

    /// Inputs shorter than a tag are refused before reaching libsodium.
    @Test(arguments: algorithms)
    func ciphertextShorterThanTagIsRefused(algorithm: AEADAlgorithm) throws {
        let key = try AEADKey(algorithm: algorithm, key: [UInt8](repeating: 1, count: 32))
        for count in [0, 1, 15] {
            #expect(throws: CryptoError.authenticationFailed) {
                try key.open(nonce: AEADNonce(), ciphertext: [UInt8](repeating: 0, count: count))
            }
        }
    }

    // MARK: Nonces

    /// Noise section 12.3: ChaChaPoly puts 32 zero bits then the counter
    /// little-endian; section 12.4: AESGCM puts 32 zero bits then the counter
    /// big-endian.
    @Test func noiseCounterNonceLayouts() throws {
        let n: UInt64 = 0x0102_0304_0506_0708
        #expect(AEADNonce(noiseCounter: n, algorithm: .chaChaPoly)
            == AEADNonce([0, 0, 0, 0, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01]))
        #expect(AEADNonce(noiseCounter: n, algorithm: .aesGCM)
            == AEADNonce([0, 0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]))
        #expect(AEADNonce(noiseCounter: 0, algorithm: .chaChaPoly) == AEADNonce())
        #expect(AEADNonce(noiseCounter: 0, algorithm: .aesGCM) == AEADNonce())
        #expect(AEADNonce(noiseCounter: 1, algorithm: .chaChaPoly) == AEADNonce([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]))
        #expect(AEADNonce(noiseCounter: 1, algorithm: .aesGCM) == AEADNonce([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))
        #expect(AEADNonce(noiseCounter: .max, algorithm: .aesGCM)
            == AEADNonce([0, 0, 0, 0] + [UInt8](repeating: 0xFF, count: 8)))
    }

    /// The layout is the one the cipher sees, not only the one `==` sees: a
    /// ChaChaPoly seal with counter nonce 1 equals the seal with the bytes
    /// the RFC 8439 way of writing it.
    @Test func noiseCounterNonceReachesTheCipher() throws {
        let key = try AEADKey(algorithm: .chaChaPoly, key: (0..<32).map { UInt8($0) })
        let fromCounter = key.seal(nonce: AEADNonce(noiseCounter: 0x0102, algorithm: .chaChaPoly), plaintext: [UInt8]())
        let fromBytes = key.seal(nonce: try #require(AEADNonce([0, 0, 0, 0, 0x02, 0x01, 0, 0, 0, 0, 0, 0])),
                                 plaintext: [UInt8]())
        #expect(fromCounter == fromBytes)
    }

    /// RFC 8446 section 5.3: the counter, big-endian and left-padded to the
    /// nonce length, XORed into the IV.
    @Test func ivXoringCounter() throws {
        let iv = try #require(AEADNonce((0..<12).map { UInt8($0) }))
        #expect(AEADNonce(iv: iv, xoring: 0) == iv)
        // 04 05 06 07 08 09 0a 0b XOR 01 02 03 04 05 06 07 08 = 05 07 05 03 0d 0f 0d 03.
        let xored: [UInt8] = [0x00, 0x01, 0x02, 0x03, 0x05, 0x07, 0x05, 0x03, 0x0d, 0x0f, 0x0d, 0x03]
        #expect(AEADNonce(iv: iv, xoring: 0x0102_0304_0506_0708) == AEADNonce(xored))
        let plusOne: [UInt8] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10]
        #expect(AEADNonce(iv: iv, xoring: 1) == AEADNonce(plusOne))
        let inverted: [UInt8] = [0, 1, 2, 3] + (4..<12).map { ~UInt8($0) }
        #expect(AEADNonce(iv: iv, xoring: .max) == AEADNonce(inverted))
        // XOR is its own inverse.
        #expect(AEADNonce(iv: AEADNonce(iv: iv, xoring: 0xDEAD_BEEF), xoring: 0xDEAD_BEEF) == iv)
        // With an all-zero IV it is the AESGCM Noise nonce.
        #expect(AEADNonce(iv: AEADNonce(), xoring: 0x1234) == AEADNonce(noiseCounter: 0x1234, algorithm: .aesGCM))
    }

    @Test(arguments: [0, 11, 13, 24])
    func nonceOfWrongLengthIsNil(count: Int) {
        #expect(AEADNonce([UInt8](repeating: 0, count: count)) == nil)
    }

    // MARK: Key lengths

    @Test(arguments: AEADAlgorithm.allCases, [0, 16, 31, 33, 64])
    func aeadKeyOfWrongLengthThrows(algorithm: AEADAlgorithm, count: Int) {
        #expect(throws: CryptoError.invalidLength(what: "AEAD key", expected: 32, actual: count)) {
            try AEADKey(algorithm: algorithm, key: [UInt8](repeating: 9, count: count))
        }
    }

    @Test func streamAndMACKeysOfWrongLengthThrow() {
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(throws: CryptoError.invalidLength(what: "ChaCha20 key", expected: 32, actual: 16)) {
            try buffer.withUnsafeMutableBytes {
                try ChaCha20.xor(key: [UInt8](repeating: 0, count: 16), nonce: AEADNonce(), counter: 0, buffer: $0)
            }
        }
        #expect(buffer == [UInt8](repeating: 0, count: 8))
        #expect(throws: CryptoError.invalidLength(what: "Poly1305 key", expected: 32, actual: 16)) {
            try Poly1305.authenticate([UInt8](), oneTimeKey: [UInt8](repeating: 0, count: 16))
        }
    }
}
