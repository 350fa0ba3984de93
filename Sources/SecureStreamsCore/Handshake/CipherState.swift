/// The Noise `CipherState` (specification section 5.1): a key `k` (maybe
/// empty) and a 64-bit nonce counter `n`.
///
/// Used for the encrypted parts of handshake messages and, after `Split()`,
/// for Noise transport messages (the vector runner and tests). The
/// connection's packet protection takes its keys from ``HandshakeState/split()``
/// but numbers packets itself.
public struct CipherState: Sendable {
    public let algorithm: AEADAlgorithm
    public private(set) var key: AEADKey?
    /// The raw key bytes, kept for `Rekey` and for deriving packet keys.
    private var keyBytes: SecretBytes?
    /// The next nonce. 2^64 − 1 is reserved (section 5.1).
    public private(set) var nonce: UInt64 = 0

    public init(algorithm: AEADAlgorithm) {
        self.algorithm = algorithm
    }

    /// `InitializeKey(key)`: sets `k` (32 bytes) and resets `n` to 0.
    public mutating func initializeKey(_ bytes: SecretBytes) {
        precondition(bytes.count == AEADKey.keyCount, "CipherState key must be 32 bytes")
        // A 32-byte key is the only failure AEADKey knows besides AES
        // availability, which the handshake checked when it started.
        key = try! AEADKey(algorithm: algorithm, key: bytes)
        keyBytes = bytes
        nonce = 0
    }

    public var hasKey: Bool { key != nil }

    /// The 32-byte key, for deriving transport keys; `nil` before `InitializeKey`.
    public var rawKey: SecretBytes? { keyBytes }

    /// `EncryptWithAd(ad, plaintext)`: with no key, the plaintext is returned.
    public mutating func encrypt(associatedData: some ContiguousBytes, plaintext: some ContiguousBytes) throws(NoiseError) -> [UInt8] {
        guard let key else { return plaintext.withUnsafeBytes { Array($0) } }
        guard nonce < UInt64.max else { throw .nonceExhausted }
        let out = key.seal(nonce: AEADNonce(noiseCounter: nonce, algorithm: algorithm),
                           associatedData: associatedData, plaintext: plaintext)
        nonce += 1
        return out
    }

    /// `DecryptWithAd(ad, ciphertext)`: with no key, the ciphertext is returned.
    /// The nonce advances only when the tag verifies (section 5.1).
    public mutating func decrypt(associatedData: some ContiguousBytes, ciphertext: some ContiguousBytes) throws(NoiseError) -> [UInt8] {
        guard let key else { return ciphertext.withUnsafeBytes { Array($0) } }
        guard nonce < UInt64.max else { throw .nonceExhausted }
        do {
            let out = try key.open(nonce: AEADNonce(noiseCounter: nonce, algorithm: algorithm),
                                   associatedData: associatedData, ciphertext: ciphertext)
            nonce += 1
            return out
        } catch {
            throw .decryptionFailed
        }
    }

    /// `Rekey()` (section 4.2): `k = ENCRYPT(k, 2^64 − 1, "", 32 zeros)[0..<32]`;
    /// the nonce is unchanged.
    public mutating func rekey() {
        guard let key else { return }
        var block = [UInt8](repeating: 0, count: 32 + AEADKey.tagCount)
        _ = block.withUnsafeMutableBytes { buffer in
            key.seal(nonce: AEADNonce(noiseCounter: UInt64.max, algorithm: algorithm),
                     associatedData: UnsafeRawBufferPointer(start: nil, count: 0), buffer: buffer, plaintextCount: 32)
        }
        let next = SecretBytes(copying: block[0..<32])
        block.withUnsafeMutableBytes { secureZero($0) }
        let saved = nonce
        initializeKey(next)
        nonce = saved
    }
}
