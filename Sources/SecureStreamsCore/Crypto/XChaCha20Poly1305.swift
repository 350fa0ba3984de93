import CSodium

/// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03): 192-bit nonces, safe to
/// draw at random. For values sealed under a long-lived key with no counter,
/// such as stateless cookies.
public enum XChaCha20Poly1305 {
    public static let keyCount = 32
    public static let nonceCount = 24
    public static let tagCount = 16

    /// Seals `plaintext` and returns ciphertext ‖ tag.
    public static func seal(
        key: some ContiguousBytes, nonce: some ContiguousBytes,
        associatedData: some ContiguousBytes = [UInt8](), plaintext: some ContiguousBytes
    ) throws(CryptoError) -> [UInt8] {
        try checkSizes(key: key, nonce: nonce)
        var out = [UInt8](repeating: 0, count: plaintext.withUnsafeBytes { $0.count } + tagCount)
        var written: UInt64 = 0
        key.withUnsafeBytes { k in nonce.withUnsafeBytes { n in associatedData.withUnsafeBytes { ad in plaintext.withUnsafeBytes { m in
            out.withUnsafeMutableBytes { c in
                _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                    c.baseAddress!.assumingMemoryBound(to: UInt8.self), &written,
                    m.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(m.count),
                    ad.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(ad.count), nil,
                    n.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        } } } }
        return out
    }

    /// Opens ciphertext ‖ tag. - Throws: ``CryptoError/authenticationFailed``.
    public static func open(
        key: some ContiguousBytes, nonce: some ContiguousBytes,
        associatedData: some ContiguousBytes = [UInt8](), ciphertext: some ContiguousBytes
    ) throws(CryptoError) -> [UInt8] {
        try checkSizes(key: key, nonce: nonce)
        let count = ciphertext.withUnsafeBytes { $0.count }
        guard count >= tagCount else { throw .authenticationFailed }
        var out = [UInt8](repeating: 0, count: count - tagCount)
        var written: UInt64 = 0
        let status: Int32 = key.withUnsafeBytes { k in nonce.withUnsafeBytes { n in associatedData.withUnsafeBytes { ad in ciphertext.withUnsafeBytes { c in
            out.withUnsafeMutableBytes { m in
                crypto_aead_xchacha20poly1305_ietf_decrypt(
                    m.baseAddress?.assumingMemoryBound(to: UInt8.self), &written, nil,
                    c.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(c.count),
                    ad.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(ad.count),
                    n.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        } } } }
        guard status == 0 else { throw .authenticationFailed }
        return out
    }

    private static func checkSizes(key: some ContiguousBytes, nonce: some ContiguousBytes) throws(CryptoError) {
        Sodium.ensureInitialized()
        let keyCount = key.withUnsafeBytes { $0.count }
        guard keyCount == Self.keyCount else { throw .invalidLength(what: "XChaCha20-Poly1305 key", expected: Self.keyCount, actual: keyCount) }
        let nonceCount = nonce.withUnsafeBytes { $0.count }
        guard nonceCount == Self.nonceCount else { throw .invalidLength(what: "XChaCha20-Poly1305 nonce", expected: Self.nonceCount, actual: nonceCount) }
    }
}

/// The raw ChaCha20 stream cipher (RFC 8439 section 2.4), IETF variant with
/// a 32-bit block counter: the mask generator for header protection.
public enum ChaCha20 {
    /// XORs `buffer` in place with the keystream starting at block `counter`.
    public static func xor(
        key: some ContiguousBytes, nonce: AEADNonce, counter: UInt32, buffer: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) {
        Sodium.ensureInitialized()
        let keyCount = key.withUnsafeBytes { $0.count }
        guard keyCount == 32 else { throw .invalidLength(what: "ChaCha20 key", expected: 32, actual: keyCount) }
        guard buffer.count > 0 else { return }
        let bytes = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var n = nonce
        key.withUnsafeBytes { k in
            withUnsafeBytes(of: &n) { nb in
                _ = crypto_stream_chacha20_ietf_xor_ic(
                    bytes, bytes, UInt64(buffer.count),
                    nb.baseAddress!.assumingMemoryBound(to: UInt8.self), counter,
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
    }
}

/// HChaCha20 (draft-irtf-cfrg-xchacha-03 section 2.2): derives a subkey from
/// a key and a 128-bit input.
public enum HChaCha20 {
    public static func derive(key: some ContiguousBytes, input: some ContiguousBytes) throws(CryptoError) -> SecretBytes {
        Sodium.ensureInitialized()
        let keyCount = key.withUnsafeBytes { $0.count }
        guard keyCount == 32 else { throw .invalidLength(what: "HChaCha20 key", expected: 32, actual: keyCount) }
        let inputCount = input.withUnsafeBytes { $0.count }
        guard inputCount == 16 else { throw .invalidLength(what: "HChaCha20 input", expected: 16, actual: inputCount) }
        return SecretBytes(count: 32) { out in
            key.withUnsafeBytes { k in input.withUnsafeBytes { i in
                _ = crypto_core_hchacha20(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    i.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self), nil)
            } }
        }
    }
}

/// Poly1305 one-time authenticator (RFC 8439 section 2.5).
public enum Poly1305 {
    public static func authenticate(_ message: some ContiguousBytes, oneTimeKey key: some ContiguousBytes) throws(CryptoError) -> [UInt8] {
        Sodium.ensureInitialized()
        let keyCount = key.withUnsafeBytes { $0.count }
        guard keyCount == 32 else { throw .invalidLength(what: "Poly1305 key", expected: 32, actual: keyCount) }
        var tag = [UInt8](repeating: 0, count: 16)
        key.withUnsafeBytes { k in message.withUnsafeBytes { m in tag.withUnsafeMutableBytes { t in
            _ = crypto_onetimeauth_poly1305(
                t.baseAddress!.assumingMemoryBound(to: UInt8.self),
                m.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(m.count),
                k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        } } }
        return tag
    }
}
