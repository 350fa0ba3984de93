import CSodium

/// Header protection of the Data packet number (PROTOCOL.md §3.4, §5.5), in
/// the manner of RFC 9001 §5.4: the 4 packet-number bytes are XORed with a
/// mask computed from a sample of the ciphertext, so packet numbers do not
/// link two paths of one connection and cannot be read off the wire.
///
/// The mask is ChaCha20 (RFC 8439) under the header-protection key, with the
/// sample's first 4 bytes (little-endian) as the block counter and its other
/// 12 as the nonce: RFC 9001 §5.4.4's construction. Both cipher suites use it
/// (libsodium has no AES-ECB), so the AES-GCM suite's header protection is
/// ChaCha20 too. The key is derived once per direction from the first
/// traffic key, `BLAKE2b-256(key: k, "sss-header-protection-v1")`, and,
/// as in QUIC, does not change at key updates.
struct HeaderProtection: Sendable {
    static let label: StaticString = "sss-header-protection-v1"
    /// Bytes of ciphertext the mask is computed from: always present, since
    /// every Data packet carries at least a 16-byte tag after the header.
    static let sampleCount = 16

    private let key: SecretBytes

    /// The header-protection key of the direction whose first traffic key is `trafficKey`.
    init(trafficKey: SecretBytes) {
        key = trafficKey.withUnsafeBytes { raw in
            SecretBytes(count: 32) { out in
                var hasher = BLAKE2b(outputCount: 32, key: raw)
                Self.label.withUTF8Buffer { hasher.update(UnsafeRawBufferPointer($0)) }
                hasher.finalize(into: out)
            }
        }
    }

    /// XORs the mask into the packet-number bytes of the sealed or received
    /// Data packet `buffer` (applying it twice restores them).
    /// - Precondition: `buffer` holds at least the header and a tag.
    func apply(to buffer: UnsafeMutableRawBufferPointer) {
        typealias Layout = DataPacketLayout
        precondition(buffer.count >= Layout.headerCount + Self.sampleCount, "HeaderProtection: no sample")
        Sodium.ensureInitialized()
        let sample = buffer.baseAddress! + Layout.headerCount
        var counter: UInt32 = 0
        for index in 0..<4 { counter |= UInt32(sample.load(fromByteOffset: index, as: UInt8.self)) << UInt32(8 * index) }
        var mask: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &mask) { maskBytes in
            key.withUnsafeBytes { k in
                _ = crypto_stream_chacha20_ietf_xor_ic(
                    maskBytes.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    maskBytes.baseAddress!.assumingMemoryBound(to: UInt8.self), 4,
                    (sample + 4).assumingMemoryBound(to: UInt8.self), counter,
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            for index in 0..<Layout.packetNumberCount {
                buffer[Layout.packetNumberOffset + index] ^= maskBytes[index]
            }
        }
    }
}
