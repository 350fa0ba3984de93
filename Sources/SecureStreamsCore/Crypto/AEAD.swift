import CSodium

/// The AEAD ciphers of the project, named as in Noise.
public enum AEADAlgorithm: String, Sendable, CaseIterable, CustomStringConvertible {
    /// ChaCha20-Poly1305, IETF variant (RFC 8439): 96-bit nonce. Always available.
    case chaChaPoly = "ChaChaPoly"
    /// AES-256-GCM with libsodium's precomputed-key API. Needs hardware AES
    /// (AES-NI and PCLMUL); see ``isHardwareAccelerated``.
    case aesGCM = "AESGCM"

    public var description: String { rawValue }

    /// True when this CPU runs the cipher in hardware. ChaCha20-Poly1305 is
    /// fast in software everywhere; AES-256-GCM is offered only with AES-NI,
    /// because a table-based software AES is slow and leaks through timing.
    public var isHardwareAccelerated: Bool {
        switch self {
        case .chaChaPoly: return true
        case .aesGCM:
            Sodium.ensureInitialized()
            return crypto_aead_aes256gcm_is_available() == 1
        }
    }
}

/// A 96-bit AEAD nonce, held inline.
public struct AEADNonce: Sendable, Equatable {
    public static let count = 12
    fileprivate var storage: (UInt32, UInt32, UInt32) = (0, 0, 0)

    public init() {}

    /// Exactly 12 bytes; `nil` otherwise.
    public init?(_ bytes: some ContiguousBytes) {
        let ok: Bool = bytes.withUnsafeBytes { source in
            guard source.count == Self.count else { return false }
            withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: source) }
            return true
        }
        if !ok { return nil }
    }

    /// The Noise nonce for counter `n` (specification section 12.3 and 12.4):
    /// four zero bytes, then `n` as 64 bits, little-endian for ChaChaPoly and
    /// big-endian for AESGCM.
    public init(noiseCounter n: UInt64, algorithm: AEADAlgorithm) {
        let encoded = algorithm == .chaChaPoly ? n.littleEndian : n.bigEndian
        withUnsafeMutableBytes(of: &storage) { out in
            withUnsafeBytes(of: encoded) { UnsafeMutableRawBufferPointer(rebasing: out[4..<12]).copyMemory(from: $0) }
        }
    }

    /// `iv` with its last eight bytes XORed with `counter` big-endian, the
    /// per-packet nonce construction of RFC 8446 section 5.3.
    public init(iv: AEADNonce, xoring counter: UInt64) {
        self = iv
        withUnsafeMutableBytes(of: &storage) { out in
            withUnsafeBytes(of: counter.bigEndian) { c in
                for i in 0..<8 { out[4 + i] ^= c[i] }
            }
        }
    }

    public static func == (a: AEADNonce, b: AEADNonce) -> Bool {
        a.storage.0 == b.storage.0 && a.storage.1 == b.storage.1 && a.storage.2 == b.storage.2
    }

    @inline(__always)
    fileprivate func withPointer<R>(_ body: (UnsafePointer<UInt8>) -> R) -> R {
        var copy = storage
        return withUnsafeBytes(of: &copy) { body($0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
    }
}

/// An AEAD key bound to its algorithm, ready for sealing and opening in place.
///
/// For AES-256-GCM the key schedule is expanded once, at construction
/// (`crypto_aead_aes256gcm_beforenm`), which halves the per-packet cost at
/// small sizes. Sealing and opening never allocate: the caller owns the buffer.
public struct AEADKey: Sendable {
    public static let keyCount = 32
    public static let tagCount = 16

    public let algorithm: AEADAlgorithm
    /// ChaChaPoly: the 32-byte key. AESGCM: libsodium's precomputed state.
    private let material: SecretBytes

    /// - Throws: ``CryptoError/invalidLength(what:expected:actual:)`` for a key
    ///   that is not 32 bytes; ``CryptoError/algorithmUnavailable`` for AES-GCM
    ///   without hardware AES.
    public init(algorithm: AEADAlgorithm, key: some ContiguousBytes) throws(CryptoError) {
        Sodium.ensureInitialized()
        let count = key.withUnsafeBytes { $0.count }
        guard count == Self.keyCount else {
            throw .invalidLength(what: "AEAD key", expected: Self.keyCount, actual: count)
        }
        self.algorithm = algorithm
        switch algorithm {
        case .chaChaPoly:
            material = SecretBytes(copying: key)
        case .aesGCM:
            guard algorithm.isHardwareAccelerated else { throw .algorithmUnavailable }
            material = SecretBytes(count: crypto_aead_aes256gcm_statebytes()) { state in
                key.withUnsafeBytes { k in
                    _ = crypto_aead_aes256gcm_beforenm(
                        state.baseAddress!.assumingMemoryBound(to: crypto_aead_aes256gcm_state.self),
                        k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
    }

    /// Encrypts `buffer[0..<plaintextCount]` in place and appends the 16-byte
    /// tag, returning the ciphertext length (`plaintextCount + 16`).
    /// - Precondition: `buffer.count >= plaintextCount + 16` (a caller contract).
    @inline(__always)
    public func seal(
        nonce: AEADNonce,
        associatedData: UnsafeRawBufferPointer,
        buffer: UnsafeMutableRawBufferPointer,
        plaintextCount: Int
    ) -> Int {
        precondition(plaintextCount >= 0 && buffer.count >= plaintextCount + Self.tagCount,
                     "AEAD seal: buffer has no room for the tag")
        let bytes = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let ad = associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var written: UInt64 = 0
        nonce.withPointer { n in
            switch algorithm {
            case .chaChaPoly:
                _ = crypto_aead_chacha20poly1305_ietf_encrypt(
                    bytes, &written, bytes, UInt64(plaintextCount),
                    ad, UInt64(associatedData.count), nil, n,
                    material.pointer.assumingMemoryBound(to: UInt8.self))
            case .aesGCM:
                _ = crypto_aead_aes256gcm_encrypt_afternm(
                    bytes, &written, bytes, UInt64(plaintextCount),
                    ad, UInt64(associatedData.count), nil, n,
                    material.pointer.assumingMemoryBound(to: crypto_aead_aes256gcm_state.self))
            }
        }
        return Int(written)
    }

    /// Decrypts `buffer[0..<ciphertextCount]` (ciphertext then tag) in place,
    /// returning the plaintext length (`ciphertextCount - 16`).
    /// - Throws: ``CryptoError/authenticationFailed`` when the tag does not
    ///   verify (the buffer's contents are then unspecified), or when the
    ///   ciphertext is shorter than a tag.
    @inline(__always)
    public func open(
        nonce: AEADNonce,
        associatedData: UnsafeRawBufferPointer,
        buffer: UnsafeMutableRawBufferPointer,
        ciphertextCount: Int
    ) throws(CryptoError) -> Int {
        precondition(ciphertextCount >= 0 && ciphertextCount <= buffer.count, "AEAD open: count exceeds buffer")
        guard ciphertextCount >= Self.tagCount else { throw .authenticationFailed }
        let bytes = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let ad = associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var written: UInt64 = 0
        let status: Int32 = nonce.withPointer { n in
            switch algorithm {
            case .chaChaPoly:
                return crypto_aead_chacha20poly1305_ietf_decrypt(
                    bytes, &written, nil, bytes, UInt64(ciphertextCount),
                    ad, UInt64(associatedData.count), n,
                    material.pointer.assumingMemoryBound(to: UInt8.self))
            case .aesGCM:
                return crypto_aead_aes256gcm_decrypt_afternm(
                    bytes, &written, nil, bytes, UInt64(ciphertextCount),
                    ad, UInt64(associatedData.count), n,
                    material.pointer.assumingMemoryBound(to: crypto_aead_aes256gcm_state.self))
            }
        }
        guard status == 0 else { throw .authenticationFailed }
        return Int(written)
    }

    /// Convenience: seals `plaintext` into a new array. Allocates; for
    /// handshakes and tests, not the packet path.
    public func seal(nonce: AEADNonce, associatedData: some ContiguousBytes = [UInt8](), plaintext: some ContiguousBytes) -> [UInt8] {
        var out = plaintext.withUnsafeBytes { Array($0) }
        let count = out.count
        out.append(contentsOf: repeatElement(0, count: Self.tagCount))
        _ = associatedData.withUnsafeBytes { ad in
            out.withUnsafeMutableBytes { seal(nonce: nonce, associatedData: ad, buffer: $0, plaintextCount: count) }
        }
        return out
    }

    /// Convenience: opens `ciphertext` into a new array.
    public func open(nonce: AEADNonce, associatedData: some ContiguousBytes = [UInt8](), ciphertext: some ContiguousBytes) throws(CryptoError) -> [UInt8] {
        var out = ciphertext.withUnsafeBytes { Array($0) }
        let count = out.count
        let plain: Result<Int, CryptoError> = associatedData.withUnsafeBytes { ad in
            out.withUnsafeMutableBytes { buffer in
                Result { () throws(CryptoError) in
                    try open(nonce: nonce, associatedData: ad, buffer: buffer, ciphertextCount: count)
                }
            }
        }
        let plainCount = try plain.get()
        out.removeLast(out.count - plainCount)
        return out
    }
}
