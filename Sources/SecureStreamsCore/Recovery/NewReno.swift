/// NewReno congestion control as specified by RFC 9002 §7 and appendix B.
///
/// ```
///                 New path or      +------------+
///            persistent congestion |   Slow     |
///        (O)---------------------->|   Start    |
///                                  +------------+
///                                        |
///                                Loss or |
///                        ECN-CE increase |
///                                        v
/// +------------+     Loss or       +------------+
/// | Congestion |  ECN-CE increase  |  Recovery  |
/// | Avoidance  |------------------>|   Period   |
/// +------------+                   +------------+
///           ^                            |
///           |                            |
///           +----------------------------+
///              Acknowledgment of packet
///                sent during recovery
/// ```
/// (RFC 9002 §7.3, Figure 1.)
///
/// - Slow start: the window grows by the bytes acknowledged.
/// - Recovery: entered on a loss of a packet sent after the current recovery
///   period began; the window halves (`kLossReductionFactor = 1/2`, never
///   below the minimum) once, and does not grow until a packet sent after
///   the recovery start is acknowledged (§7.3.2).
/// - Congestion avoidance (window ≥ `ssthresh`): one maximum datagram per
///   window of bytes acknowledged (§7.3.3), counted exactly in
///   `bytesAckedInAvoidance` instead of the pseudocode's truncating
///   `max_datagram_size * sent_bytes / congestion_window`.
///
/// ## Application-limited senders (§7.8)
/// "When bytes in flight is smaller than the congestion window and sending is
/// not pacing limited, the congestion window is underutilized ... the
/// congestion window SHOULD NOT be increased." The controller notes the last
/// time a send left the window *used*: full to within one datagram, or, in
/// slow start, at least half full (a sender whose pacer spreads a doubling
/// window would otherwise never look full: "A sender SHOULD NOT consider
/// itself application limited if it would have fully utilized the congestion
/// window without pacing delay"). An acknowledgement grows the window only if
/// the window was used at or after the acknowledged packet was sent, that is,
/// while it was in flight.
struct NewReno: CongestionController, Sendable, Hashable {
    /// The default datagram size (PROTOCOL.md §9).
    static let defaultMaxDatagramSize = 1_350
    /// RFC 9002 §7.2: initial window of 10 datagrams (PROTOCOL.md §8 takes
    /// `10 × max datagram size` without the 14,720-byte clamp).
    static let initialWindowPackets = 10
    /// RFC 9002 §7.2 `kMinimumWindow`: "The RECOMMENDED value is 2 *
    /// max_datagram_size."
    static let minimumWindowPackets = 2

    let maxDatagramSize: Int
    private(set) var congestionWindow: Int
    private(set) var bytesInFlight = 0
    /// Slow start threshold (`ssthresh`); `Int.max` until the first loss.
    private(set) var slowStartThreshold = Int.max
    /// Start of the current recovery period (`congestion_recovery_start_time`).
    private(set) var recoveryStartTime: Timestamp?
    /// Bytes acknowledged in congestion avoidance since the last increase.
    private(set) var bytesAckedInAvoidance = 0
    /// The last time a send left the window used (see the type's discussion).
    private(set) var lastWindowUsedTime: Timestamp?

    init(maxDatagramSize: Int = NewReno.defaultMaxDatagramSize) {
        precondition(maxDatagramSize > 0, "datagram size must be positive")
        self.maxDatagramSize = maxDatagramSize
        congestionWindow = Self.initialWindowPackets * maxDatagramSize
    }

    /// `kMinimumWindow`.
    var minimumWindow: Int { Self.minimumWindowPackets * maxDatagramSize }
    /// Whether the window is below `ssthresh` (§7.3.1).
    var isInSlowStart: Bool { congestionWindow < slowStartThreshold }

    mutating func onPacketSent(bytes: Int, now: Timestamp) {
        bytesInFlight += bytes
        let used = isInSlowStart
            ? 2 * bytesInFlight >= congestionWindow
            : bytesInFlight + maxDatagramSize > congestionWindow
        if used { lastWindowUsedTime = now }
    }

    mutating func onPacketsAcked(bytes: Int, timeSent: Timestamp, now: Timestamp, rtt: RTTEstimator) {
        removeFromFlight(bytes: bytes)
        // §7.3.2: "The recovery period ends and the sender enters congestion
        // avoidance when a packet sent during the recovery period is
        // acknowledged"; packets sent before or at its start do not grow it.
        if let recoveryStartTime, timeSent <= recoveryStartTime { return }
        // §7.8: no growth for an application-limited sender.
        guard let lastWindowUsedTime, lastWindowUsedTime >= timeSent else { return }
        if isInSlowStart {
            congestionWindow += bytes
            return
        }
        bytesAckedInAvoidance += bytes
        if bytesAckedInAvoidance >= congestionWindow {
            bytesAckedInAvoidance -= congestionWindow
            congestionWindow += maxDatagramSize
        }
    }

    mutating func removeFromFlight(bytes: Int) {
        precondition(bytes <= bytesInFlight, "more bytes left flight than entered it")
        bytesInFlight -= bytes
    }

    mutating func onCongestionEvent(timeSentOfLostPacket: Timestamp, now: Timestamp) {
        // §B.6: "No reaction if already in a recovery period."
        if let recoveryStartTime, timeSentOfLostPacket <= recoveryStartTime { return }
        recoveryStartTime = now
        slowStartThreshold = congestionWindow / 2
        congestionWindow = max(slowStartThreshold, minimumWindow)
        bytesAckedInAvoidance = 0
    }

    mutating func onPersistentCongestion() {
        // §B.8: "congestion_window = kMinimumWindow;
        // congestion_recovery_start_time = 0"
        congestionWindow = minimumWindow
        recoveryStartTime = nil
        bytesAckedInAvoidance = 0
    }
}
