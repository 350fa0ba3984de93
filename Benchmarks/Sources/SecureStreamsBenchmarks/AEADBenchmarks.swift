import CSodiumBaseline
import SecureStreamsCore

/// AEAD seal+open of one packet, in place, with 16 bytes of associated data:
/// `AEADKey` against the same libsodium calls made directly.
///
/// Both sides do the same work per iteration: build the nonce for counter
/// `i`, seal `size` bytes in place (tag appended), fold one tag byte into the
/// checksum, open in place, check the result and fold the plaintext length.
enum AEADBenchmark {
    static let associatedDataCount = 16
    static let tagCount = 16

    struct Case {
        let algorithm: AEADAlgorithm
        let size: Int
    }

    /// The wrapper: `AEADKey.seal/open(nonce:associatedData:buffer:…)` with
    /// `AEADNonce(noiseCounter:algorithm:)`.
    static func wrapper(_ c: Case) -> Kernel {
        let key: AEADKey
        do {
            key = try AEADKey(algorithm: c.algorithm, key: keyBytes)
        } catch {
            fatalError("AEADKey(\(c.algorithm)) failed: \(error)")
        }
        let algorithm = c.algorithm
        let size = c.size
        let buffer = packetBuffer(size: size)
        let associatedData = UnsafeRawBufferPointer(associatedDataBuffer())
        return Kernel(name: "wrapper \(algorithm) \(size) B") { iterations in
            var checksum: UInt64 = 0
            for i in 0..<iterations {
                let nonce = AEADNonce(noiseCounter: UInt64(truncatingIfNeeded: i), algorithm: algorithm)
                let sealed = key.seal(nonce: nonce, associatedData: associatedData, buffer: buffer, plaintextCount: size)
                checksum &+= UInt64(buffer[sealed - 1])
                do {
                    let opened = try key.open(nonce: nonce, associatedData: associatedData, buffer: buffer,
                                              ciphertextCount: sealed)
                    checksum &+= UInt64(truncatingIfNeeded: opened)
                } catch {
                    fatalError("wrapper: open failed: \(error)")
                }
            }
            return checksum
        }
    }

    /// The baseline: `crypto_aead_chacha20poly1305_ietf_encrypt/decrypt`, or
    /// `crypto_aead_aes256gcm_encrypt_afternm/decrypt_afternm` on a state
    /// expanded once with `crypto_aead_aes256gcm_beforenm`.
    static func baseline(_ c: Case) -> Kernel {
        let size = c.size
        let bytes = packetBuffer(size: size).baseAddress!.assumingMemoryBound(to: UInt8.self)
        let ad = associatedDataBuffer().baseAddress!.assumingMemoryBound(to: UInt8.self)
        let adCount = UInt64(associatedDataCount)
        let nonce = UnsafeMutableRawPointer.allocate(byteCount: 12, alignment: 16)
        nonce.initializeMemory(as: UInt8.self, repeating: 0, count: 12)
        let noncePointer = nonce.assumingMemoryBound(to: UInt8.self)
        let key = UnsafeMutablePointer<UInt8>.allocate(capacity: 32)
        key.initialize(from: keyBytes, count: 32)

        switch c.algorithm {
        case .chaChaPoly:
            return Kernel(name: "libsodium ChaChaPoly \(size) B") { iterations in
                var checksum: UInt64 = 0
                var written: UInt64 = 0
                for i in 0..<iterations {
                    nonce.storeBytes(of: UInt64(truncatingIfNeeded: i).littleEndian, toByteOffset: 4, as: UInt64.self)
                    guard crypto_aead_chacha20poly1305_ietf_encrypt(
                        bytes, &written, bytes, UInt64(size), ad, adCount, nil, noncePointer, key) == 0
                    else { fatalError("baseline: encrypt failed") }
                    checksum &+= UInt64(bytes[Int(written) - 1])
                    guard crypto_aead_chacha20poly1305_ietf_decrypt(
                        bytes, &written, nil, bytes, UInt64(size + tagCount), ad, adCount, noncePointer, key) == 0
                    else { fatalError("baseline: decrypt failed") }
                    checksum &+= written
                }
                return checksum
            }
        case .aesGCM:
            let state = UnsafeMutableRawPointer.allocate(byteCount: crypto_aead_aes256gcm_statebytes(), alignment: 64)
            let statePointer = state.assumingMemoryBound(to: crypto_aead_aes256gcm_state.self)
            _ = crypto_aead_aes256gcm_beforenm(statePointer, key)
            return Kernel(name: "libsodium AESGCM \(size) B") { iterations in
                var checksum: UInt64 = 0
                var written: UInt64 = 0
                for i in 0..<iterations {
                    nonce.storeBytes(of: UInt64(truncatingIfNeeded: i).bigEndian, toByteOffset: 4, as: UInt64.self)
                    guard crypto_aead_aes256gcm_encrypt_afternm(
                        bytes, &written, bytes, UInt64(size), ad, adCount, nil, noncePointer, statePointer) == 0
                    else { fatalError("baseline: encrypt failed") }
                    checksum &+= UInt64(bytes[Int(written) - 1])
                    guard crypto_aead_aes256gcm_decrypt_afternm(
                        bytes, &written, nil, bytes, UInt64(size + tagCount), ad, adCount, noncePointer,
                        statePointer) == 0
                    else { fatalError("baseline: decrypt failed") }
                    checksum &+= written
                }
                return checksum
            }
        }
    }

    /// True when libsodium runs AES-256-GCM here (AES-NI and PCLMUL).
    static var aesGCMAvailable: Bool {
        _ = sodium_init()
        return crypto_aead_aes256gcm_is_available() == 1
    }

    /// Checks that wrapper and baseline produce the same ciphertext for the
    /// same key, nonce, associated data and plaintext, so the two sides are
    /// known to compute the same thing.
    static func agree(_ c: Case) -> Bool {
        guard let key = try? AEADKey(algorithm: c.algorithm, key: keyBytes) else { return false }
        let nonce = AEADNonce(noiseCounter: 7, algorithm: c.algorithm)
        let plaintext = (0..<c.size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let ad = [UInt8](repeating: 0xA5, count: associatedDataCount)
        let viaWrapper = key.seal(nonce: nonce, associatedData: ad, plaintext: plaintext)

        var viaLibsodium = plaintext + [UInt8](repeating: 0, count: tagCount)
        var nonceBytes = [UInt8](repeating: 0, count: 12)
        withUnsafeBytes(of: c.algorithm == .chaChaPoly ? UInt64(7).littleEndian : UInt64(7).bigEndian) {
            nonceBytes.replaceSubrange(4..<12, with: $0)
        }
        var written: UInt64 = 0
        var keyCopy = keyBytes
        switch c.algorithm {
        case .chaChaPoly:
            _ = crypto_aead_chacha20poly1305_ietf_encrypt(
                &viaLibsodium, &written, plaintext, UInt64(c.size), ad, UInt64(ad.count), nil, nonceBytes, &keyCopy)
        case .aesGCM:
            _ = crypto_aead_aes256gcm_encrypt(
                &viaLibsodium, &written, plaintext, UInt64(c.size), ad, UInt64(ad.count), nil, nonceBytes, &keyCopy)
        }
        return Int(written) == viaWrapper.count && viaWrapper == viaLibsodium
    }

    private static let keyBytes: [UInt8] = (0..<32).map { UInt8($0) &* 7 &+ 1 }

    /// Room for `size` bytes plus the tag, 64-byte aligned, filled with a
    /// pattern. Lives for the whole process.
    private static func packetBuffer(size: Int) -> UnsafeMutableRawBufferPointer {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size + tagCount, alignment: 64)
        for index in buffer.indices { buffer[index] = UInt8(truncatingIfNeeded: index &* 31) }
        return buffer
    }

    private static func associatedDataBuffer() -> UnsafeMutableRawBufferPointer {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: associatedDataCount, alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0xA5)
        return buffer
    }
}
