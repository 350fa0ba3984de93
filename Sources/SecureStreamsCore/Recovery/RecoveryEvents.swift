/// What one ACK or one loss-detection timeout changed: the reusable output
/// buffer of ``LossDetection``.
///
/// The connection owns one value and passes it `inout` to every
/// ``LossDetection/onAckReceived(ranges:ackDelay:now:into:)`` and
/// ``LossDetection/onTimeout(now:into:)`` call; each call clears it first
/// with `removeAll(keepingCapacity: true)`, so once the arrays have grown to
/// the largest batch seen, handling an ACK allocates nothing.
/// Read it before the next call.
///
/// Apply it in RFC 9002 §A.7 order: losses first (remove their bytes from
/// flight, one congestion event keyed by ``largestLostTimeSent``, then
/// persistent congestion), acknowledgements second. For a
/// ``CongestionController`` that is
/// ``CongestionController/apply(_:now:rtt:)``; the frames are the
/// connection's business: retransmit what ``lost`` carried, forget what
/// ``acknowledged`` carried.
struct RecoveryEvents: Sendable {
    /// Packets newly acknowledged by this ACK, largest packet number first.
    private(set) var acknowledged: [SentPacket] = []
    /// Packets newly declared lost, smallest packet number first.
    private(set) var lost: [SentPacket] = []
    /// The RTT sample this ACK produced (`latest_rtt`), if any (RFC 9002 §5.1).
    var rttSample: Duration?
    /// The send time of the newest packet declared lost: the key of the
    /// congestion event (RFC 9002 §B.8, `OnPacketsLost`:
    /// "OnCongestionEvent(sent_time_of_last_loss)"). Set only when an
    /// in-flight packet was lost.
    private(set) var largestLostTimeSent: Timestamp?
    /// Whether the losses amount to persistent congestion (RFC 9002 §7.6).
    var isPersistentCongestion = false
    /// Bytes that left flight because they were acknowledged.
    private(set) var acknowledgedBytesInFlight = 0
    /// Bytes that left flight because they were declared lost.
    private(set) var lostBytesInFlight = 0

    /// An empty buffer with room for `capacity` packets of each kind.
    init(capacity: Int = 64) {
        acknowledged.reserveCapacity(capacity)
        lost.reserveCapacity(capacity)
    }

    /// Whether nothing happened.
    var isEmpty: Bool { acknowledged.isEmpty && lost.isEmpty && rttSample == nil }

    /// Clears everything, keeping the arrays' storage.
    mutating func removeAll() {
        acknowledged.removeAll(keepingCapacity: true)
        lost.removeAll(keepingCapacity: true)
        rttSample = nil
        largestLostTimeSent = nil
        isPersistentCongestion = false
        acknowledgedBytesInFlight = 0
        lostBytesInFlight = 0
    }

    mutating func appendAcknowledged(_ packet: SentPacket) {
        acknowledged.append(packet)
        if packet.isInFlight { acknowledgedBytesInFlight += packet.size }
    }

    mutating func appendLost(_ packet: SentPacket) {
        lost.append(packet)
        guard packet.isInFlight else { return }
        lostBytesInFlight += packet.size
        largestLostTimeSent = max(largestLostTimeSent ?? packet.timeSent, packet.timeSent)
    }
}
