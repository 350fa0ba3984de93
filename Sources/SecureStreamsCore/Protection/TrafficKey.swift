/// One packet-protection key of one direction: the AEAD key ready for use and
/// the 32 raw bytes it came from, from which the next key is derived
/// (PROTOCOL.md §5.2, §5.3).
///
/// Building a `TrafficKey` allocates (the secret storage and, for AES-GCM,
/// the expanded key schedule); that happens only when a connection starts and
/// at key updates, never per packet. The raw bytes are zeroed when the last
/// copy goes away (``SecretBytes``).
struct TrafficKey: Sendable {
    /// "Next key: `k' = BLAKE2b-256(key: k, "sss-key-update-v1")`" (§5.3).
    static let updateLabel: StaticString = "sss-key-update-v1"

    let aead: AEADKey
    private let raw: SecretBytes

    /// - Throws: ``CryptoError/invalidLength(what:expected:actual:)`` for a
    ///   key that is not 32 bytes, ``CryptoError/algorithmUnavailable`` for
    ///   AES-GCM on a CPU without hardware AES.
    init(algorithm: AEADAlgorithm, key: SecretBytes) throws(CryptoError) {
        aead = try AEADKey(algorithm: algorithm, key: key)
        raw = key
    }

    var algorithm: AEADAlgorithm { aead.algorithm }

    /// The key of the next phase: `BLAKE2b-256(key: k, "sss-key-update-v1")`.
    func next() -> TrafficKey {
        let derived = raw.withUnsafeBytes { key in
            SecretBytes(count: AEADKey.keyCount) { out in
                var hasher = BLAKE2b(outputCount: AEADKey.keyCount, key: key)
                Self.updateLabel.withUTF8Buffer { hasher.update(UnsafeRawBufferPointer($0)) }
                hasher.finalize(into: out)
            }
        }
        do {
            return try TrafficKey(algorithm: algorithm, key: derived)
        } catch {
            // The same algorithm built the current key, and the derived key
            // is 32 bytes by construction: neither failure can happen here.
            preconditionFailure("TrafficKey.next: \(error)")
        }
    }

    /// The raw bytes, for tests that check the derivation.
    var unprotectedBytes: [UInt8] { raw.unprotectedBytes }
}
