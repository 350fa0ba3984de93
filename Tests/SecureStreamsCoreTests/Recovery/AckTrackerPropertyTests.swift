import Testing
@testable import SecureStreamsCore

extension RecoveryTests {
    /// Random arrival orders, losses and ack-of-acks against a `Set` of
    /// received packet numbers; `SIM_SEED=<n>` replays one seed.
    @Suite struct AckTrackerPropertyTests {
        @Test(arguments: RecoveryTestSupport.seeds)
        func ackTrackerMatchesReferenceSet(seed: UInt64) {
            let replay = RecoveryTestSupport.replay(seed, filter: "ackTrackerMatchesReferenceSet")
            var random = SeededRandom(seed: seed).fork(label: "ack-tracker-model")
            var tracker = AckTracker(maxAckDelay: .milliseconds(25))
            var model = AckModel()
            var inTransit: [UInt64] = []  // sent, not yet delivered: delivered in random order
            var nextToSend: UInt64 = 0
            var sentAcks: [PacketNumber] = []  // largest of each ACK frame we "sent"
            var now = Timestamp.zero
            var lossPercent = 4
            for step in 0..<4_000 {
                // Phases of 500 steps alternating light and heavy loss; the
                // heavy ones overflow the 32-range cap between ack-of-acks.
                if step % 500 == 0 {
                    let rates = step % 1_000 == 0 ? [1, 2, 4] : [30, 45, 60]
                    lossPercent = rates[Int.random(in: 0..<rates.count, using: &random)]
                }
                let roll = Int.random(in: 0..<100, using: &random)
                switch roll {
                case 0..<50:
                    // The sender emits the next number; some are lost on the way.
                    if Int.random(in: 0..<100, using: &random) >= lossPercent { inTransit.append(nextToSend) }
                    nextToSend += 1
                case 50..<85 where !inTransit.isEmpty:
                    // Deliver: usually the oldest in transit, sometimes any (reordering).
                    let reorder = Int.random(in: 0..<100, using: &random) < 20
                    let index = reorder ? Int.random(in: 0..<inTransit.count, using: &random) : 0
                    let number = inTransit.remove(at: index)
                    let ackEliciting = Int.random(in: 0..<100, using: &random) < 70
                    now += .microseconds(Int64.random(in: 0...3_000, using: &random))
                    tracker.onPacketReceived(PacketNumber(number), isAckEliciting: ackEliciting, now: now)
                    model.receive(number, ackEliciting: ackEliciting, now: now)
                case 85..<93:
                    if let ack = tracker.pendingAck(now: now) {
                        sentAcks.append(ack.largestAcknowledged)
                        tracker.onAckSent()
                        model.ackSent()
                    }
                case 93..<96 where !sentAcks.isEmpty:
                    let largest = sentAcks.remove(at: Int.random(in: 0..<sentAcks.count, using: &random))
                    tracker.onAckOfAck(largestAcked: largest)
                    model.ackOfAck(largest.rawValue)
                default:
                    now += .milliseconds(Int64.random(in: 0...10, using: &random))
                }
                let ranges = tracker.ranges.map { $0.lowerBound.rawValue...$0.upperBound.rawValue }
                guard ranges == model.ranges else {
                    Issue.record("\(replay) step \(step): ranges \(ranges), model \(model.ranges)")
                    return
                }
                guard tracker.ackDeadline == model.deadline else {
                    let actual = tracker.ackDeadline.map { "\($0)" } ?? "nil"
                    let expected = model.deadline.map { "\($0)" } ?? "nil"
                    Issue.record("\(replay) step \(step): deadline \(actual), model \(expected)")
                    return
                }
            }
            #expect(model.droppedRanges > 0 && model.immediateAcks > 0, "\(replay): model \(model)")
        }
    }
}

/// The receive side as a set plus RFC 9000 §13.2's rules, stated plainly.
private struct AckModel {
    var received: Set<UInt64> = []
    var largest: UInt64?
    var elicitingSinceAck: [Timestamp] = []
    var immediate: Timestamp?
    var droppedRanges = 0
    var immediateAcks = 0

    /// Maximal runs of consecutive numbers, largest first.
    var ranges: [ClosedRange<UInt64>] {
        var result: [ClosedRange<UInt64>] = []
        for number in received.sorted(by: >) {
            if let last = result.last, last.lowerBound == number + 1 {
                result[result.count - 1] = number...last.upperBound
            } else {
                result.append(number...number)
            }
        }
        return result
    }

    var deadline: Timestamp? { immediate ?? elicitingSinceAck.first.map { $0 + .milliseconds(25) } }

    mutating func receive(_ number: UInt64, ackEliciting: Bool, now: Timestamp) {
        let previous = largest
        largest = max(largest ?? number, number)
        received.insert(number)
        let all = ranges
        if all.count > 32 {
            for dropped in all[32...] { received.subtract(dropped) }
            droppedRanges += 1
        }
        guard ackEliciting else { return }
        elicitingSinceAck.append(now)
        let gap = previous.map { number < $0 || number > $0 + 1 } ?? false
        if immediate == nil && (gap || elicitingSinceAck.count >= 2) {
            immediate = now
            immediateAcks += 1
        }
    }

    mutating func ackSent() {
        elicitingSinceAck.removeAll()
        immediate = nil
    }

    mutating func ackOfAck(_ largestAcked: UInt64) {
        received = received.filter { $0 > largestAcked }
    }
}
