/// Packet number truncation on the wire (PROTOCOL.md §3.4): a Data packet
/// carries "the low 32 bits of the 62-bit packet number; the receiver
/// reconstructs the full number as the candidate closest to one more than the
/// largest it has authenticated (RFC 9000 appendix A.3)".
///
/// The reconstruction is exact as long as the sender keeps every packet it
/// sends less than 2^31 ahead of the largest number the receiver has
/// authenticated, which the bounded sent-packet tracking guarantees by a wide
/// margin (at most thousands of packets are ever in flight).
enum PacketNumberTruncation {
    /// Bits of the packet number on the wire.
    static let truncatedBits: UInt64 = 32
    /// 2^32: the distance between two full numbers with the same truncation.
    static let window: UInt64 = 1 << truncatedBits
    /// 2^31: a reconstruction picks the candidate within this of the expected number.
    static let halfWindow: UInt64 = window / 2
    static let mask: UInt64 = window - 1

    /// The 32 bits a sender writes for `pn`.
    @inline(__always)
    static func truncate(_ pn: PacketNumber) -> UInt32 {
        UInt32(truncatingIfNeeded: pn.rawValue)
    }
}

/// The full packet number whose low 32 bits are `truncated`, choosing the
/// candidate closest to `largestAuthenticated + 1` (RFC 9000 appendix A.3,
/// written here for a 32-bit field).
///
/// Before anything was authenticated the expected number is 0. Near the top of
/// the space the result can exceed ``PacketNumber/max`` (when `truncated`
/// names no number a sender may use); callers must refuse such a number before
/// spending an AEAD operation on it, since no sender ever seals one.
///
/// - Parameters:
///   - truncated: the packet number field of the header.
///   - largestAuthenticated: the largest packet number that passed
///     authentication in this direction, or `nil` for none yet.
@inline(__always)
func reconstructPacketNumber(truncated: UInt32, largestAuthenticated: PacketNumber?) -> PacketNumber {
    typealias T = PacketNumberTruncation
    let expected = largestAuthenticated.map { $0.rawValue &+ 1 } ?? 0
    let candidate = (expected & ~T.mask) | UInt64(truncated)
    // Too far below the expected number: the sender has wrapped into the next
    // 2^32 block (unless that would leave the 62-bit space).
    if expected >= T.halfWindow, candidate <= expected - T.halfWindow,
       candidate < (1 << 62) - T.window {
        return PacketNumber(candidate + T.window)
    }
    // Too far above: the packet is from the previous block (reordered across a wrap).
    if candidate > expected + T.halfWindow, candidate >= T.window {
        return PacketNumber(candidate - T.window)
    }
    return PacketNumber(candidate)
}
