/// Round-trip time estimation (RFC 9002 §5), one per path.
///
/// Holds the four RFC quantities: `latest_rtt`, `min_rtt`, `smoothed_rtt`
/// and `rttvar`. Before the first sample the smoothed RTT is the initial RTT
/// (333 ms, PROTOCOL.md §8) and the variance half of it (RFC 9002 §5.3,
/// "Before any RTT samples are available for a new path ... smoothed_rtt =
/// kInitialRtt, rttvar = kInitialRtt / 2").
///
/// All arithmetic is on whole nanoseconds (`Int64`), so every value is
/// reproducible and hand-checkable: the EWMA weights 7/8 and 3/4 truncate
/// toward zero at nanosecond resolution. No floating point.
///
/// Path migration (PROTOCOL.md §7) restarts the estimate: replace the value
/// with a fresh `RTTEstimator()`.
struct RTTEstimator: Sendable, Hashable {
    /// RFC 9002 §6.2.2 `kInitialRtt`; PROTOCOL.md §8 "Initial RTT 333 ms".
    static let defaultInitialRTT: Duration = .milliseconds(333)
    /// RFC 9002 §6.1.2 `kGranularity`: "the system timer granularity ... 1
    /// millisecond". Floors the loss delay and the variance term of the PTO.
    static let granularity: Duration = .milliseconds(1)

    /// The most recent sample, before ack-delay adjustment (`latest_rtt`).
    /// Zero until the first sample.
    var latestRTT: Duration { .nanoseconds(latestNanos) }
    /// The smallest sample seen, never adjusted for ack delay (`min_rtt`,
    /// RFC 9002 §5.2). Zero until the first sample.
    var minRTT: Duration { .nanoseconds(minNanos) }
    /// The exponentially weighted moving average (`smoothed_rtt`, §5.3).
    var smoothedRTT: Duration { .nanoseconds(smoothedNanos) }
    /// The mean deviation (`rttvar`, §5.3).
    var rttVariance: Duration { .nanoseconds(varianceNanos) }
    /// Whether at least one sample has been taken (§5.3's `first RTT sample`).
    private(set) var hasSample = false

    private var latestNanos: Int64 = 0
    private var minNanos: Int64 = 0
    private var smoothedNanos: Int64
    private var varianceNanos: Int64

    /// A fresh estimate with no samples.
    init(initialRTT: Duration = RTTEstimator.defaultInitialRTT) {
        let initial = max(initialRTT.nanosecondsClamped, 0)
        smoothedNanos = initial
        varianceNanos = initial / 2
    }

    /// Feeds one RTT sample (RFC 9002 §5.3).
    ///
    /// On the first sample, `min_rtt = smoothed_rtt = latest_rtt` and
    /// `rttvar = latest_rtt / 2`; the ack delay is ignored. Afterwards:
    /// - `min_rtt = min(min_rtt, latest_rtt)`, never adjusted for ack delay (§5.2);
    /// - the ack delay is capped at `maxAckDelay` ("MUST use the lesser of the
    ///   acknowledgment delay and the peer's max_ack_delay after the handshake
    ///   is confirmed");
    /// - it is subtracted only when `latest_rtt >= min_rtt + ack_delay` ("MUST
    ///   NOT subtract the acknowledgment delay from the RTT sample if the
    ///   resulting value is smaller than the min_rtt");
    /// - `rttvar = 3/4 rttvar + 1/4 |smoothed_rtt - adjusted_rtt|`, then
    ///   `smoothed_rtt = 7/8 smoothed_rtt + 1/8 adjusted_rtt`.
    ///
    /// - Parameters:
    ///   - latestRTT: `now` minus the send time of the largest newly
    ///     acknowledged packet. Negative values are treated as zero.
    ///   - ackDelay: the ACK frame's ack delay, as the peer reported it.
    ///   - maxAckDelay: the peer's `max_ack_delay`.
    mutating func addSample(latestRTT: Duration, ackDelay: Duration, maxAckDelay: Duration) {
        let latest = max(latestRTT.nanosecondsClamped, 0)
        latestNanos = latest
        guard hasSample else {
            hasSample = true
            minNanos = latest
            smoothedNanos = latest
            varianceNanos = latest / 2
            return
        }
        minNanos = min(minNanos, latest)
        let delay = min(max(ackDelay.nanosecondsClamped, 0), max(maxAckDelay.nanosecondsClamped, 0))
        var adjusted = latest
        if latest >= minNanos + delay {
            adjusted = latest - delay
        }
        let deviation = smoothedNanos > adjusted ? smoothedNanos - adjusted : adjusted - smoothedNanos
        varianceNanos = (3 * varianceNanos + deviation) / 4
        smoothedNanos = (7 * smoothedNanos + adjusted) / 8
    }

    /// The base probe timeout, without backoff (RFC 9002 §6.2.1):
    /// `smoothed_rtt + max(4 * rttvar, kGranularity) + max_ack_delay`.
    ///
    /// Also one third of the persistent congestion duration (§7.6.1).
    func pto(maxAckDelay: Duration) -> Duration {
        let variance = max(4 * varianceNanos, Self.granularity.nanosecondsClamped)
        return .nanoseconds(smoothedNanos + variance + max(maxAckDelay.nanosecondsClamped, 0))
    }

    /// How long after its send time an unacknowledged packet counts as lost
    /// once a later packet is acknowledged (RFC 9002 §6.1.2):
    /// `max(kTimeThreshold * max(smoothed_rtt, latest_rtt), kGranularity)`
    /// with `kTimeThreshold = 9/8`.
    var lossDelay: Duration {
        let base = Duration.nanoseconds(max(smoothedNanos, latestNanos))
        return max(base.scaled(by: 9, over: 8), Self.granularity)
    }
}
