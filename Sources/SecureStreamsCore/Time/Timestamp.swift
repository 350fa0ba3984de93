/// A point in time: nanoseconds since an origin the driver chooses.
///
/// The core never reads a clock (the sans-IO rule): every input carries
/// `now` as a `Timestamp`, and every deadline the core reports is one. The
/// origin is arbitrary but fixed for one endpoint (a driver typically uses
/// `CLOCK_MONOTONIC`; the simulator starts at zero). Not the standard
/// library's clock instants, whose origin belongs to the OS and whose `now`
/// is one keystroke away.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public static let zero = Timestamp(nanoseconds: 0)
    /// Later than any real time: "no deadline".
    public static let distantFuture = Timestamp(nanoseconds: .max)

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.nanoseconds < b.nanoseconds }

    /// `self + duration`, saturating at the ends of the range.
    public static func + (t: Timestamp, d: Duration) -> Timestamp {
        let delta = d.nanosecondsClamped
        if delta >= 0 {
            let (sum, overflow) = t.nanoseconds.addingReportingOverflow(UInt64(delta))
            return Timestamp(nanoseconds: overflow ? .max : sum)
        }
        let magnitude = UInt64(-(delta + 1)) + 1
        return Timestamp(nanoseconds: t.nanoseconds > magnitude ? t.nanoseconds - magnitude : 0)
    }

    public static func += (t: inout Timestamp, d: Duration) { t = t + d }

    /// The duration from `b` to `a`; negative when `a` is earlier.
    public static func - (a: Timestamp, b: Timestamp) -> Duration {
        if a >= b { return .nanoseconds(Int64(clamping: a.nanoseconds - b.nanoseconds)) }
        return .nanoseconds(-Int64(clamping: b.nanoseconds - a.nanoseconds))
    }

    public var description: String {
        let ms = Double(nanoseconds) / 1e6
        return "t=\(ms)ms"
    }
}

extension Duration {
    /// Whole nanoseconds, clamped to `Int64`.
    public var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (fromSeconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, overflow2) = fromSeconds.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflow2 { return seconds < 0 ? .min : .max }
        return total
    }

    /// Whole microseconds, clamped to `Int64` (ACK delays travel in µs).
    public var microsecondsClamped: Int64 { nanosecondsClamped / 1_000 }

    /// `self * factor` for a rational factor, without floating point (9/8 RTT and the like).
    public func scaled(by numerator: Int64, over denominator: Int64) -> Duration {
        .nanoseconds(nanosecondsClamped / denominator * numerator + (nanosecondsClamped % denominator) * numerator / denominator)
    }
}
