/// A reading of a real-time (calendar) clock, as the driver reports it: the
/// seconds and nanoseconds since 1970-01-01T00:00:00Z, in the manner of
/// TAI64N (PROTOCOL.md §4.4).
///
/// The core never reads a clock. Its ``Timestamp``s are monotonic and their
/// origin is the driver's (they restart at a reboot), so they cannot order
/// Initiations across restarts of the initiator; a wall clock can. The driver
/// passes a reading with ``Endpoint/handleWallClock(_:now:)``; until it does,
/// the endpoint takes ``EndpointConfiguration/wallClockOrigin`` as the reading
/// at ``Timestamp/zero``, which keeps tests and the simulator deterministic.
///
/// On the wire (§6.15, parameter `0x0b`) it is 12 bytes: seconds (8,
/// big-endian) then nanoseconds (4, big-endian, below 10⁹).
public struct WallClockTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Whole seconds since the Unix epoch.
    public var seconds: UInt64
    /// Nanoseconds within the second, below 1,000,000,000.
    public var nanoseconds: UInt32

    /// - Precondition: `nanoseconds` < 1,000,000,000.
    public init(seconds: UInt64, nanoseconds: UInt32 = 0) {
        precondition(nanoseconds < Self.nanosecondsPerSecond, "nanoseconds must be below one second")
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// The encoded size: 8 + 4 bytes.
    package static let encodedCount = 12
    static let nanosecondsPerSecond: UInt32 = 1_000_000_000

    public static func < (lhs: WallClockTime, rhs: WallClockTime) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    public var description: String { "\(seconds).\(nanoseconds)s" }

    /// This time moved by `duration` (either sign), saturating at the ends of the range.
    func advanced(by duration: Duration) -> WallClockTime {
        let (wholeSeconds, attoseconds) = duration.components  // both carry the duration's sign
        let billion: Int64 = 1_000_000_000
        var nanos = Int64(nanoseconds) + attoseconds / 1_000_000_000
        var carry: Int64 = 0
        if nanos >= billion {
            nanos -= billion
            carry = 1
        } else if nanos < 0 {
            nanos += billion
            carry = -1
        }
        let (partial, overflowed) = Int64(clamping: seconds).addingReportingOverflow(wholeSeconds)
        let (total, carriedOver) = partial.addingReportingOverflow(carry)
        if overflowed || carriedOver { return wholeSeconds > 0 ? .latest : .earliest }
        guard total >= 0 else { return .earliest }
        return WallClockTime(seconds: UInt64(total), nanoseconds: UInt32(nanos))
    }

    /// The signed distance from `other` to `self`, saturating.
    func distance(from other: WallClockTime) -> Duration {
        let seconds = Int64(clamping: self.seconds) &- Int64(clamping: other.seconds)
        let nanos = Int64(nanoseconds) - Int64(other.nanoseconds)
        return .seconds(seconds) + .nanoseconds(nanos)
    }

    /// The next representable time, one nanosecond later.
    var successor: WallClockTime {
        nanoseconds + 1 < Self.nanosecondsPerSecond
            ? WallClockTime(seconds: seconds, nanoseconds: nanoseconds + 1)
            : WallClockTime(seconds: seconds &+ 1, nanoseconds: 0)
    }

    static let earliest = WallClockTime(seconds: 0)
    static let latest = WallClockTime(seconds: UInt64(Int64.max), nanoseconds: nanosecondsPerSecond - 1)

    /// Writes the 12-byte form.
    /// - Returns: false, writing nothing, when fewer than 12 bytes are left.
    package func encode(into writer: inout WireWriter) -> Bool {
        guard writer.remaining >= Self.encodedCount else { return false }
        _ = writer.writeUInt64(seconds)
        _ = writer.writeUInt32(nanoseconds)
        return true
    }

    /// Reads the 12-byte form; `nil` for another length or nanoseconds ≥ 10⁹.
    package static func decode(_ bytes: UnsafeRawBufferPointer) -> WallClockTime? {
        guard bytes.count == encodedCount else { return nil }
        var reader = WireReader(bytes)
        guard let seconds = reader.readUInt64(), let nanoseconds = reader.readUInt32(),
              nanoseconds < nanosecondsPerSecond else { return nil }
        return WallClockTime(seconds: seconds, nanoseconds: nanoseconds)
    }
}
