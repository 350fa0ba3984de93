/// Byte offsets of the packets that packet protection and the DoS checks
/// read and write, in one place (PROTOCOL.md §3).
///
/// The header and frame codecs own the full encodings; these constants are
/// the few fixed positions that protection needs, so that this layer does not
/// depend on the codecs. The integrator may point both at one set of
/// constants later; the numbers must not change without PROTOCOL.md changing
/// first.

/// A Data packet (PROTOCOL.md §3.4):
///
/// ```
///  0        1        2                     10                 14
/// +--------+--------+---------------------+------------------+---------------------------+
/// | ver=2  | 0x10|k | destination CID (8) | packet number (4)| AEAD(frames) ‖ tag (16)   |
/// +--------+--------+---------------------+------------------+---------------------------+
/// ```
///
/// "Associated data: bytes 0..<14 (the whole header). Nonce: the full packet
/// number as a Noise nonce for the cipher."
enum DataPacketLayout {
    /// The protocol version this layout belongs to (byte 0).
    static let version: UInt8 = ProtocolVersion.current.rawValue
    static let versionOffset = 0
    /// Byte 1: `0x10 | k`, where `k` is the key phase (§5.3).
    static let typeOffset = 1
    /// The Data type with the key phase bit clear.
    static let typeBase: UInt8 = 0x10
    /// The key phase bit inside the type byte.
    static let keyPhaseMask: UInt8 = 0x01
    /// The receiver's 8-byte connection id (§2).
    static let destinationCIDOffset = 2
    /// The low 32 bits of the packet number, big-endian.
    static let packetNumberOffset = 10
    static let packetNumberCount = 4
    /// The whole header, which is also the AEAD's associated data.
    static let headerCount = 14
    /// The AEAD tag after the ciphertext.
    static let tagCount = 16
    /// "Overhead per packet: 14 header + 16 tag = 30 bytes." Also the shortest
    /// datagram that can hold a Data packet at all (an empty plaintext).
    static let overhead = headerCount + tagCount
}

/// An Initiation (PROTOCOL.md §3.1):
///
/// ```
///  0        1        2        3                11               27               43
/// +--------+--------+--------+----------------+----------------+----------------+-------------------+
/// | ver=2  | 0x01   | suite  | sender CID (8) | mac1 (16)      | mac2 (16)      | Noise message 1   |
/// +--------+--------+--------+----------------+----------------+----------------+-------------------+
/// ```
enum InitiationLayout {
    static let type: UInt8 = 0x01
    static let suiteOffset = 2
    static let senderCIDOffset = 3
    /// `mac1` covers bytes `0..<mac1Offset`, then the Noise message.
    static let mac1Offset = 11
    /// `mac2` covers bytes `0..<mac2Offset` (so `mac1` too), then the Noise message.
    static let mac2Offset = 27
    static let macCount = 16
    /// Where Noise message 1 starts.
    static let messageOffset = 43
    /// The fixed part before the Noise message: the least an Initiation can be
    /// for its MACs to be computed at all.
    static let headerCount = messageOffset
}

/// A Cookie packet (PROTOCOL.md §4.2):
/// `ver | 0x04 | initiator's sender CID (8) | nonce (24) | XChaCha20-Poly1305(cookie)`,
/// 66 bytes in all.
enum CookiePacketLayout {
    static let type: UInt8 = 0x04
    static let destinationCIDOffset = 2
    static let nonceOffset = 10
    static let nonceCount = 24
    static let sealedCookieOffset = 34
    /// The 16-byte cookie and its 16-byte tag.
    static let sealedCookieCount = 32
    /// "66 bytes, always smaller than the Initiation it answers."
    static let count = 66
}
