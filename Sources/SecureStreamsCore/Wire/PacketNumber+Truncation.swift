/// The 32-bit packet number on the wire (PROTOCOL.md §3.4): "the low 32 bits of
/// the 62-bit packet number; the receiver reconstructs the full number as the
/// candidate closest to one more than the largest it has authenticated
/// (RFC 9000 appendix A.3)".
///
/// Reconstruction is unambiguous while the sender keeps fewer than 2^31
/// packets between the largest the receiver has seen and the one it sends,
/// which at any realistic rate is never in question (2^31 packets of 1,350
/// bytes are 2.9 TB in flight).
extension PacketNumber {
    /// Bits of the packet number a Data packet carries.
    package static let truncatedBitCount = 32

    /// The low 32 bits, as written in a Data packet header.
    @inline(__always)
    package var truncated: UInt32 { UInt32(truncatingIfNeeded: rawValue) }

    /// Reconstructs a full packet number from its low 32 bits (RFC 9000
    /// appendix A.3 with a 32-bit window).
    ///
    /// - Parameters:
    ///   - truncated: the 32 bits from the packet header.
    ///   - largestReceived: the largest packet number authenticated so far in
    ///     this direction, or `nil` before the first one (then the expected
    ///     number is 0).
    /// - Returns: the packet number congruent to `truncated` modulo 2^32 that
    ///   is closest to `largestReceived + 1`, never above ``PacketNumber/max``.
    ///   Only an AEAD check tells whether it is the right one; a forged or
    ///   corrupted header yields a number that then fails to authenticate.
    package static func decode(truncated: UInt32, largestReceived: PacketNumber?) -> PacketNumber {
        let expected = largestReceived.map { $0.rawValue + 1 } ?? 0
        let window: UInt64 = 1 << 32
        let halfWindow = window / 2
        let mask = window - 1
        var candidate = (expected & ~mask) | UInt64(truncated)
        if candidate + halfWindow <= expected && candidate < (1 << 62) - window {
            candidate += window
        } else if candidate > expected + halfWindow && candidate >= window {
            candidate -= window
        }
        // Only when `largestReceived` is already the last number the varint
        // range allows can the candidate land above it: take the one below.
        if candidate > VarInt.maxValue { candidate -= window }
        return PacketNumber(candidate)
    }
}
