/// Loss detection for one packet number space (RFC 9002 §6 and appendix A):
/// acknowledgement processing, RTT sampling, packet- and time-threshold loss,
/// the probe timeout and persistent congestion.
///
/// SecureStreams has one packet number space per direction once the Noise
/// handshake is done (handshake messages are retried by the handshake layer),
/// so this is RFC 9002's pseudocode with the space dimension removed and the
/// peer's address taken as validated (`PeerCompletedAddressValidation()` is
/// true: the handshake authenticated it).
///
/// ## Driving it
/// 1. Before sending an ack-eliciting packet check ``canTrackMore``; after
///    sending any packet call ``onPacketSent(_:)``.
/// 2. For each ACK frame call ``onAckReceived(ranges:ackDelay:now:into:)``;
///    a `.violation` closes the connection with that error.
/// 3. Report ``lossDetectionDeadline`` as the loss-detection timer; when it
///    passes call ``onTimeout(now:into:)``, which either declares packets
///    lost or asks for probes. Calls before the deadline do nothing.
/// 4. Feed the ``RecoveryEvents`` to the congestion controller and to the
///    connection's retransmission logic.
///
/// The deadline is computed from state on each read, never cached, so it can
/// never be stale (RFC 9002 §A.8 `SetLossDetectionTimer`).
///
/// Invariants: packet numbers passed to ``onPacketSent(_:)`` increase;
/// `now` never decreases across calls.
struct LossDetection: Sendable {
    /// What a loss-detection timeout asks of the connection (RFC 9002 §A.9).
    enum TimeoutAction: Sendable, Hashable {
        /// The deadline has not passed (or no timer was armed): nothing to do.
        case notDue
        /// The time threshold declared packets lost; they are in the events.
        case packetsLost
        /// The PTO fired: send `count` ack-eliciting packets, new data or
        /// retransmissions, even beyond the congestion window (§6.2.4).
        case sendProbes(count: Int)
    }

    /// The outcome of processing one ACK frame.
    enum AckVerdict: Sendable, Hashable {
        /// Applied (possibly with nothing new in it).
        case accepted
        /// The frame is impossible; close the connection with this error.
        case violation(PeerError)
    }

    /// RFC 9002 §6.1.1 `kPacketThreshold`: "The RECOMMENDED initial value for
    /// the packet threshold (kPacketThreshold) is 3", as in TCP (RFC 5681).
    static let packetThreshold: UInt64 = 3
    /// RFC 9002 §7.6.1 `kPersistentCongestionThreshold`: 3 PTOs.
    static let persistentCongestionThreshold: Int64 = 3
    /// Probes per PTO: RFC 9002 §6.2.4 "An endpoint MAY send up to two
    /// full-sized datagrams containing ack-eliciting packets"; two make a
    /// single lost probe less costly.
    static let probesPerTimeout = 2
    /// Backoff exponent cap: 2^20 PTOs is days; beyond that the doubling
    /// would only overflow.
    static let maxBackoffExponent = 20
    /// The longest a backed-off probe timeout grows (never below the
    /// un-backed-off PTO). RFC 9002 doubles without bound; on a lossy path
    /// that leaves a connection one or two probes per idle period, and five
    /// lost round trips in a row (3 % at 30 % loss each way) end it at the
    /// idle timeout. Capped, a 30 s idle period holds at least 15 probes, at
    /// the cost of one or two datagrams every 2 s towards a peer that is
    /// gone (PROTOCOL.md §8). The handshake's resends use the same cap.
    static let maxProbeInterval: Duration = .seconds(2)

    /// The RTT estimate this space samples.
    var rtt: RTTEstimator
    /// The peer's `max_ack_delay` (RFC 9002 §5.3, added to the PTO).
    var maxAckDelay: Duration
    /// The sent-packet ring.
    private(set) var sent: SentPacketTracker
    /// Consecutive PTO expiries without an acknowledgement (`pto_count`).
    private(set) var ptoCount = 0
    /// The largest packet number the peer has acknowledged (`largest_acked_packet`).
    private(set) var largestAcknowledged: PacketNumber?
    /// When the earliest still-outstanding packet below the largest
    /// acknowledged one crosses the time threshold (`loss_time`).
    private(set) var lossTime: Timestamp?
    /// The first packet number sent after the first RTT sample: persistent
    /// congestion only counts packets from here on (§7.6.2, "a prior RTT
    /// sample existed when these two packets were sent").
    private var firstPacketAfterRTTSample: UInt64?

    /// - Parameters:
    ///   - maxAckDelay: the peer's `max_ack_delay`.
    ///   - maxTrackedPackets: the sent-packet window cap (see ``SentPacketTracker``).
    ///   - initialRTT: RFC 9002 `kInitialRtt`.
    init(maxAckDelay: Duration,
         maxTrackedPackets: Int = SentPacketTracker.defaultMaxTracked,
         initialRTT: Duration = RTTEstimator.defaultInitialRTT) {
        self.maxAckDelay = maxAckDelay
        rtt = RTTEstimator(initialRTT: initialRTT)
        sent = SentPacketTracker(maxTracked: maxTrackedPackets)
    }

    /// Whether a new ack-eliciting packet may be sent; see ``SentPacketTracker``.
    var canTrackMore: Bool { sent.canTrackMore }
    /// The packet number the next packet should carry.
    var nextPacketNumber: PacketNumber { sent.nextPacketNumber }
    /// Bytes in outstanding in-flight packets, by loss detection's count.
    var bytesInFlight: Int { sent.bytesInFlight }

    /// Records a sent packet (RFC 9002 §A.5 `OnPacketSent`).
    mutating func onPacketSent(_ packet: SentPacket) {
        sent.record(packet)
    }

    /// When ``onTimeout(now:into:)`` should run (RFC 9002 §A.8): the loss
    /// time if one is set, else — while ack-eliciting packets are outstanding
    /// — the last ack-eliciting send time plus `PTO * 2^pto_count`, else
    /// `nil` (no timer).
    var lossDetectionDeadline: Timestamp? {
        if let lossTime { return lossTime }
        guard sent.ackElicitingOutstanding > 0, let last = sent.timeOfLastAckEliciting else { return nil }
        return last + probeTimeout
    }

    /// The current probe timeout including backoff: `pto(maxAckDelay) *
    /// 2^pto_count` (RFC 9002 §6.2.1, "the PTO period ... doubles on each
    /// consecutive expiry"), saturating, and backed off no further than
    /// ``maxProbeInterval`` (or the PTO itself, when that is longer).
    var probeTimeout: Duration {
        let base = rtt.pto(maxAckDelay: maxAckDelay).nanosecondsClamped
        let shift = min(ptoCount, Self.maxBackoffExponent)
        let (scaled, overflow) = base.multipliedReportingOverflow(by: Int64(1) << shift)
        let cap = max(base, Self.maxProbeInterval.nanosecondsClamped)
        return .nanoseconds(overflow ? cap : min(scaled, cap))
    }

    /// The persistent congestion duration (RFC 9002 §7.6.1):
    /// `(smoothed_rtt + max(4*rttvar, kGranularity) + max_ack_delay) *
    /// kPersistentCongestionThreshold`, without backoff.
    var persistentCongestionDuration: Duration {
        rtt.pto(maxAckDelay: maxAckDelay) * Int(Self.persistentCongestionThreshold)
    }

    /// Processes one ACK frame (RFC 9002 §A.7 `OnAckReceived`).
    ///
    /// - Parameters:
    ///   - ranges: the acknowledged packet numbers as closed ranges, largest
    ///     first, disjoint and strictly descending (as an ACK frame encodes
    ///     them, PROTOCOL.md §6.1). Walked once; may be a lazy view over the
    ///     frame's bytes.
    ///   - ackDelay: the frame's ack delay (capped at ``maxAckDelay`` for RTT).
    ///   - events: cleared, then filled with what changed.
    /// - Returns: `.violation` for an acknowledgement of a packet number never
    ///   sent (or skipped), or ranges out of order; the events are then
    ///   partial and the connection must close.
    mutating func onAckReceived(
        ranges: some Sequence<ClosedRange<PacketNumber>>,
        ackDelay: Duration,
        now: Timestamp,
        into events: inout RecoveryEvents
    ) -> AckVerdict {
        events.removeAll()
        defer { sent.advanceBase() }
        var largestInFrame: PacketNumber?
        var previousLower: PacketNumber?
        for range in ranges {
            if let previousLower {
                guard range.upperBound < previousLower else {
                    return .violation(PeerError(.frameEncodingError, frameType: 0x02, "ACK ranges not descending"))
                }
            } else {
                guard range.upperBound.rawValue < sent.next else {
                    return .violation(PeerError(.protocolViolation, frameType: 0x02, "ACK of an unsent packet"))
                }
                largestInFrame = range.upperBound
            }
            previousLower = range.lowerBound
            guard acknowledge(range, into: &events) else {
                return .violation(PeerError(.protocolViolation, frameType: 0x02, "ACK of a skipped packet number"))
            }
        }
        guard let largestInFrame else { return .accepted }
        largestAcknowledged = max(largestAcknowledged ?? largestInFrame, largestInFrame)
        // §A.7: "if (newly_acked_packets.empty()) return"
        guard let newest = events.acknowledged.first else { return .accepted }
        // §5.1: a sample needs the largest acknowledged packet newly
        // acknowledged and at least one newly acknowledged ack-eliciting packet.
        if newest.packetNumber == largestInFrame, events.acknowledged.contains(where: \.isAckEliciting) {
            let latest = now - newest.timeSent
            if !rtt.hasSample { firstPacketAfterRTTSample = sent.next }
            rtt.addSample(latestRTT: latest, ackDelay: ackDelay, maxAckDelay: maxAckDelay)
            events.rttSample = rtt.latestRTT
        }
        detectLostPackets(now: now, dueToAck: true, into: &events)
        // §A.7: "if (PeerCompletedAddressValidation()) pto_count = 0"
        ptoCount = 0
        return .accepted
    }

    /// Runs when ``lossDetectionDeadline`` has passed (RFC 9002 §A.9
    /// `OnLossDetectionTimeout`). Extra calls before the deadline return
    /// `.notDue` and change nothing.
    mutating func onTimeout(now: Timestamp, into events: inout RecoveryEvents) -> TimeoutAction {
        events.removeAll()
        defer { sent.advanceBase() }
        guard let deadline = lossDetectionDeadline, now >= deadline else { return .notDue }
        if lossTime != nil {
            // Time threshold loss: no PTO backoff.
            detectLostPackets(now: now, dueToAck: false, into: &events)
            return .packetsLost
        }
        // §6.2.4: "When a PTO timer expires, a sender MUST send at least one
        // ack-eliciting packet ... and the PTO period MUST be set to twice
        // its current value" (through pto_count).
        ptoCount += 1
        return .sendProbes(count: Self.probesPerTimeout)
    }
}

extension LossDetection {
    /// Marks the outstanding packets of one range acknowledged. Returns false
    /// if the range covers a skipped packet number.
    private mutating func acknowledge(_ range: ClosedRange<PacketNumber>, into events: inout RecoveryEvents) -> Bool {
        // Only the window can hold anything new; below it all is finished.
        guard range.upperBound.rawValue >= sent.base else { return true }
        let low = max(range.lowerBound.rawValue, sent.base)
        var number = min(range.upperBound.rawValue, sent.next - 1)
        while number >= low {
            let packetNumber = PacketNumber(number)
            switch sent.state(of: packetNumber) {
            case .outstanding:
                events.appendAcknowledged(sent.markAcknowledged(packetNumber))
            case .skipped:
                return false
            case .acknowledged, .lost, .evicted, nil:
                // Already finished (a late ACK of a lost packet is spurious
                // loss; it is not undone).
                break
            }
            if number == 0 { break }
            number -= 1
        }
        return true
    }

    /// Declares lost every outstanding packet at or below the largest
    /// acknowledged that is `kPacketThreshold` numbers or the loss delay
    /// older, and sets ``lossTime`` for the rest (RFC 9002 §A.10
    /// `DetectAndRemoveLostPackets`). With `dueToAck`, also looks for
    /// persistent congestion (§7.6.2) among the packets lost in this call.
    private mutating func detectLostPackets(now: Timestamp, dueToAck: Bool, into events: inout RecoveryEvents) {
        lossTime = nil
        guard let largest = largestAcknowledged?.rawValue else { return }
        let lossDelay = rtt.lossDelay
        let congestionPeriod = persistentCongestionDuration
        let eligibleFrom = firstPacketAfterRTTSample ?? .max
        // Send time of the first ack-eliciting packet of the current run of
        // losses with nothing acknowledged or outstanding in between.
        var runStart: Timestamp?
        var number = sent.base
        while number <= largest, number < sent.next {
            let packetNumber = PacketNumber(number)
            number += 1
            switch sent.state(of: packetNumber) {
            case .acknowledged:
                runStart = nil
            case .lost, .skipped, .evicted, nil:
                // Finished earlier: neither breaks a run nor starts one.
                continue
            case .outstanding:
                let packet = sent.packet(packetNumber)
                let deadline = packet.timeSent + lossDelay
                // §6.1.1 packet threshold; §6.1.2 time threshold, written as
                // `time_sent + loss_delay <= now` so it cannot underflow.
                guard packet.packetNumber.rawValue + Self.packetThreshold <= largest || deadline <= now else {
                    lossTime = min(lossTime ?? deadline, deadline)
                    runStart = nil
                    continue
                }
                events.appendLost(sent.markLost(packetNumber))
                guard dueToAck, packet.isAckEliciting, packet.packetNumber.rawValue >= eligibleFrom else { continue }
                if let start = runStart {
                    // "the duration between the send times of these two
                    // packets exceeds the persistent congestion duration"
                    if packet.timeSent - start > congestionPeriod { events.isPersistentCongestion = true }
                } else {
                    runStart = packet.timeSent
                }
            }
        }
    }
}
