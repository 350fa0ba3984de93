/// The receive side of acknowledgement: which packet numbers arrived, and
/// when an ACK frame is owed (RFC 9000 §13.2, PROTOCOL.md §6.1 and §8).
///
/// ## What it keeps
/// Received packet numbers as at most ``maxRanges`` closed ranges (32,
/// PROTOCOL.md §9: "≤ 32 sent"), largest first, disjoint and never adjacent.
/// When a new number would make one range too many, the smallest range is
/// dropped: those packets are the oldest, and the peer has almost certainly
/// seen them acknowledged already (RFC 9000 §13.2.3 lets a receiver limit
/// the ranges it sends). The storage is reserved up front and never grows.
///
/// Once the peer acknowledges a packet that carried one of our ACK frames,
/// ``onAckOfAck(largestAcked:)`` forgets everything up to that frame's
/// largest acknowledged packet (RFC 9000 §13.2.4: "the receiver can stop
/// acknowledging packets less than or equal to the Largest Acknowledged field
/// in the sent ACK frame").
///
/// Duplicates are not detected here: the replay window rejects a packet
/// number seen before, so every number given to
/// ``onPacketReceived(_:isAckEliciting:now:)`` is new.
///
/// ## When an ACK is due
/// Only ack-eliciting packets make an ACK due (RFC 9000 §13.2.1: "MUST NOT
/// send an ACK frame solely in response to non-ack-eliciting packets"):
/// - immediately once two ack-eliciting packets are unacknowledged
///   (§13.2.2: "SHOULD send an ACK frame after receiving at least two
///   ack-eliciting packets");
/// - immediately when an ack-eliciting packet arrives out of order: below
///   the largest received, or above it with a gap (§13.2.1);
/// - otherwise `maxAckDelay` after the first unacknowledged ack-eliciting
///   packet arrived.
///
/// ## Driving it
/// Report ``ackDeadline`` in the connection's timer table. When it has
/// passed (or whenever a packet goes out anyway), take ``pendingAck(now:)``,
/// write the frame, then call ``onAckSent()``. Write the frame before
/// feeding more packets: the returned ranges share this value's storage.
struct AckTracker: Sendable {
    /// A frame's worth of acknowledgement.
    struct PendingAck: Sendable, Hashable {
        /// Ranges, largest first (the frame's "largest" is `ranges[0].upperBound`).
        var ranges: [ClosedRange<PacketNumber>]
        /// Time since the largest received packet arrived (the frame's ack
        /// delay; the wire carries it in microseconds).
        var ackDelay: Duration
        /// The frame's largest acknowledged packet: remember it with the
        /// packet carrying the frame, for ``onAckOfAck(largestAcked:)``.
        var largestAcknowledged: PacketNumber { ranges[0].upperBound }
    }

    /// PROTOCOL.md §9: "ACK ranges in a frame: ≤ 64 accepted, ≤ 32 sent".
    static let defaultMaxRanges = 32
    /// RFC 9000 §13.2.2: "after receiving at least two ack-eliciting packets".
    static let ackElicitingThreshold = 2

    /// Our own `max_ack_delay`: the longest an ACK may wait.
    let maxAckDelay: Duration
    /// The range cap.
    let maxRanges: Int
    /// Received packet numbers, largest first.
    private(set) var ranges: [ClosedRange<PacketNumber>] = []
    /// The largest packet number ever received (kept across pruning).
    private(set) var largestReceived: PacketNumber?
    private var largestReceivedTime = Timestamp.zero
    /// Ack-eliciting packets received since the last ACK was sent.
    private(set) var unacknowledgedAckEliciting = 0
    /// When the first of those arrived.
    private var firstUnacknowledgedTime: Timestamp?
    /// When an immediate ACK became due, if one has.
    private var immediateSince: Timestamp?

    init(maxAckDelay: Duration, maxRanges: Int = AckTracker.defaultMaxRanges) {
        precondition(maxRanges > 0, "need at least one range")
        self.maxAckDelay = maxAckDelay
        self.maxRanges = maxRanges
        // No room reserved: an idle connection holds one or two ranges, and
        // the array grows (at most to `maxRanges + 1`) and keeps its storage.
    }

    /// Whether there is anything to acknowledge.
    var hasRanges: Bool { !ranges.isEmpty }

    /// Records a newly received packet (authenticated, not a replay).
    mutating func onPacketReceived(_ number: PacketNumber, isAckEliciting: Bool, now: Timestamp) {
        let previousLargest = largestReceived
        if previousLargest.map({ number > $0 }) ?? true {
            largestReceived = number
            largestReceivedTime = now
        }
        insert(number)
        guard isAckEliciting else { return }
        unacknowledgedAckEliciting += 1
        if firstUnacknowledgedTime == nil { firstUnacknowledgedTime = now }
        let outOfOrder = previousLargest.map { number < $0 || number.rawValue > $0.rawValue + 1 } ?? false
        if immediateSince == nil, outOfOrder || unacknowledgedAckEliciting >= Self.ackElicitingThreshold {
            immediateSince = now
        }
    }

    /// When an ACK must go out, or `nil` if none is owed.
    var ackDeadline: Timestamp? {
        if let immediateSince { return immediateSince }
        return firstUnacknowledgedTime.map { $0 + maxAckDelay }
    }

    /// Whether an ACK is owed by `now`.
    func isAckDue(now: Timestamp) -> Bool {
        ackDeadline.map { $0 <= now } ?? false
    }

    /// The ACK frame to send at `now`, or `nil` with nothing to acknowledge.
    func pendingAck(now: Timestamp) -> PendingAck? {
        guard !ranges.isEmpty else { return nil }
        let delay = now - largestReceivedTime
        return PendingAck(ranges: ranges, ackDelay: max(delay, .zero))
    }

    /// An ACK frame went out: nothing is owed until the next ack-eliciting packet.
    mutating func onAckSent() {
        unacknowledgedAckEliciting = 0
        firstUnacknowledgedTime = nil
        immediateSince = nil
    }

    /// The peer acknowledged a packet that carried an ACK frame whose largest
    /// acknowledged was `largestAcked`: stop acknowledging packets up to it.
    mutating func onAckOfAck(largestAcked: PacketNumber) {
        while let last = ranges.last, last.upperBound <= largestAcked {
            ranges.removeLast()
        }
        if let last = ranges.last, last.lowerBound <= largestAcked {
            ranges[ranges.count - 1] = PacketNumber(largestAcked.rawValue + 1)...last.upperBound
        }
    }
}

extension AckTracker {
    /// Adds `number` to the ranges, merging neighbours and dropping the
    /// smallest range past the cap. At most `maxRanges` comparisons.
    private mutating func insert(_ number: PacketNumber) {
        let value = number.rawValue
        // Find the first range (largest first) whose lower bound is <= value.
        var index = 0
        while index < ranges.count, ranges[index].lowerBound.rawValue > value { index += 1 }
        if index < ranges.count, ranges[index].upperBound.rawValue >= value { return }  // already held
        let joinsAbove = index > 0 && ranges[index - 1].lowerBound.rawValue == value + 1
        let joinsBelow = index < ranges.count && ranges[index].upperBound.rawValue + 1 == value
        switch (joinsAbove, joinsBelow) {
        case (true, true):
            ranges[index - 1] = ranges[index].lowerBound...ranges[index - 1].upperBound
            ranges.remove(at: index)
        case (true, false):
            ranges[index - 1] = number...ranges[index - 1].upperBound
        case (false, true):
            ranges[index] = ranges[index].lowerBound...number
        case (false, false):
            ranges.insert(number...number, at: index)
            if ranges.count > maxRanges { ranges.removeLast() }
        }
    }
}
