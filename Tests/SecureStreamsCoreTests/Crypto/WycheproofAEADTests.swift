import Testing
@testable import SecureStreamsCore

/// Wycheproof's ChaCha20-Poly1305, XChaCha20-Poly1305 and AES-256-GCM files.
///
/// A valid case must seal to exactly ct ‖ tag and open back to the message;
/// an invalid case must fail to open with `.authenticationFailed`. A case
/// whose key, nonce or tag size the cipher does not have is not applicable:
/// it is counted as skipped (and the count asserted, so it cannot silently
/// grow), and the test checks that the API cannot even express it.
@Suite struct WycheproofAEADTests {
    struct Tally: Equatable, CustomStringConvertible {
        var sealedAndOpened = 0
        var refused = 0
        var skipped = 0
        var description: String { "\(sealedAndOpened) valid, \(refused) invalid refused, \(skipped) skipped" }
    }

    static func groups(_ name: String) throws -> [AEADTestGroup] {
        let file = try PrimitiveVectors.load(WycheproofFile<AEADTestGroup>.self, "wycheproof/\(name)")
        #expect(file.testGroups.flatMap(\.tests).count == file.numberOfTests, "\(name)")
        return file.testGroups
    }

    /// Runs a file through `AEADKey(algorithm)`, in place.
    static func runAEADKey(_ algorithm: AEADAlgorithm, file name: String) throws -> Tally {
        var tally = Tally()
        for group in try groups(name) {
            for test in group.tests {
                let label = "\(name) tcId \(test.tcId) (\(test.comment), \(test.flags))"
                guard group.keySize == 256, group.ivSize == AEADNonce.count * 8, group.tagSize == 128 else {
                    #expect(group.ivSize == AEADNonce.count * 8 || AEADNonce(test.iv.bytes) == nil, "\(label)")
                    #expect(test.result == .invalid, "\(label): a skipped case is expected to be invalid")
                    tally.skipped += 1
                    continue
                }
                let key = try AEADKey(algorithm: algorithm, key: test.key.bytes)
                let nonce = try #require(AEADNonce(test.iv.bytes))
                let sealed = test.ct.bytes + test.tag.bytes
                switch test.result {
                case .valid, .acceptable:
                    try AEADCheck.sealAndOpenInPlace(key: key, nonce: nonce, associatedData: test.aad.bytes,
                                                     plaintext: test.msg.bytes, sealed: sealed, label: label)
                    tally.sealedAndOpened += 1
                case .invalid:
                    var buffer = sealed
                    #expect(throws: CryptoError.authenticationFailed, "\(label)") {
                        try test.aad.bytes.withUnsafeBytes { ad in
                            try buffer.withUnsafeMutableBytes {
                                try key.open(nonce: nonce, associatedData: ad, buffer: $0, ciphertextCount: sealed.count)
                            }
                        }
                    }
                    tally.refused += 1
                }
            }
        }
        return tally
    }

    @Test func chacha20Poly1305() throws {
        let tally = try Self.runAEADKey(.chaChaPoly, file: "chacha20_poly1305_test.json")
        // 325 cases: 256 valid, 60 invalid (modified tags, edge cases), and
        // 9 with nonces of 0, 64, 88, 104, 112, 128, 160, 192 and 256 bits.
        #expect(tally == Tally(sealedAndOpened: 256, refused: 60, skipped: 9), "\(tally)")
    }

    @Test(.enabled(if: AEADAlgorithm.aesGCM.isHardwareAccelerated, "AES-256-GCM needs AES-NI and PCLMUL"))
    func aes256GCM() throws {
        let tally = try Self.runAEADKey(.aesGCM, file: "aes256_gcm_test.json")
        // The file was filtered to 256-bit keys, 96-bit IVs and 128-bit tags:
        // nothing is skipped.
        #expect(tally == Tally(sealedAndOpened: 39, refused: 27, skipped: 0), "\(tally)")
    }

    /// Without hardware AES the key cannot be made at all.
    @Test(.enabled(if: !AEADAlgorithm.aesGCM.isHardwareAccelerated, "only on CPUs without AES-NI"))
    func aes256GCMUnavailableWithoutHardware() {
        #expect(throws: CryptoError.algorithmUnavailable) {
            try AEADKey(algorithm: .aesGCM, key: [UInt8](repeating: 0, count: 32))
        }
    }

    @Test func xchacha20Poly1305() throws {
        var tally = Tally()
        let name = "xchacha20_poly1305_test.json"
        for group in try Self.groups(name) {
            for test in group.tests {
                let label = "\(name) tcId \(test.tcId) (\(test.comment), \(test.flags))"
                let key = test.key.bytes, nonce = test.iv.bytes, aad = test.aad.bytes
                let sealed = test.ct.bytes + test.tag.bytes
                guard group.keySize == 256, group.ivSize == XChaCha20Poly1305.nonceCount * 8, group.tagSize == 128 else {
                    if group.ivSize != XChaCha20Poly1305.nonceCount * 8 {
                        #expect(throws: CryptoError.invalidLength(what: "XChaCha20-Poly1305 nonce", expected: 24,
                                                                  actual: nonce.count), "\(label)") {
                            try XChaCha20Poly1305.open(key: key, nonce: nonce, associatedData: aad, ciphertext: sealed)
                        }
                    }
                    #expect(test.result == .invalid, "\(label): a skipped case is expected to be invalid")
                    tally.skipped += 1
                    continue
                }
                switch test.result {
                case .valid, .acceptable:
                    #expect(try XChaCha20Poly1305.seal(key: key, nonce: nonce, associatedData: aad, plaintext: test.msg.bytes)
                        == sealed, "\(label)")
                    #expect(try XChaCha20Poly1305.open(key: key, nonce: nonce, associatedData: aad, ciphertext: sealed)
                        == test.msg.bytes, "\(label)")
                    tally.sealedAndOpened += 1
                case .invalid:
                    #expect(throws: CryptoError.authenticationFailed, "\(label)") {
                        try XChaCha20Poly1305.open(key: key, nonce: nonce, associatedData: aad, ciphertext: sealed)
                    }
                    tally.refused += 1
                }
            }
        }
        // 315 cases: 246 valid, 60 invalid, and 9 with nonces of 0, 64, 88,
        // 96, 104, 112, 128, 160 and 256 bits.
        #expect(tally == Tally(sealedAndOpened: 246, refused: 60, skipped: 9), "\(tally)")
    }
}
