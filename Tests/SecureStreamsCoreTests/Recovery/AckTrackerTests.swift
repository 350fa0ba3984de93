import Testing
@testable import SecureStreamsCore

private func at(ms: UInt64) -> Timestamp { Timestamp(nanoseconds: ms * 1_000_000) }
private func pn(_ value: UInt64) -> PacketNumber { PacketNumber(value) }
private func raw(_ ranges: [ClosedRange<PacketNumber>]) -> [ClosedRange<UInt64>] {
    ranges.map { $0.lowerBound.rawValue...$0.upperBound.rawValue }
}

extension RecoveryTests {
    /// RFC 9000 §13.2 receive side with max_ack_delay = 25 ms.
    @Suite struct AckTrackerTests {
        private func tracker() -> AckTracker { AckTracker(maxAckDelay: .milliseconds(25)) }

        @Test func inOrderPacketsMakeOneRange() {
            var acks = tracker()
            #expect(!acks.hasRanges)
            #expect(acks.ackDeadline == nil)
            #expect(acks.pendingAck(now: .zero) == nil)
            acks.onPacketReceived(pn(0), isAckEliciting: true, now: at(ms: 10))
            // The first ack-eliciting packet: due max_ack_delay later.
            #expect(acks.ackDeadline == at(ms: 35))
            #expect(!acks.isAckDue(now: at(ms: 34)))
            #expect(acks.isAckDue(now: at(ms: 35)))
            acks.onPacketReceived(pn(1), isAckEliciting: true, now: at(ms: 12))
            // The second: due at once.
            #expect(acks.ackDeadline == at(ms: 12))
            acks.onPacketReceived(pn(2), isAckEliciting: true, now: at(ms: 13))
            #expect(acks.ackDeadline == at(ms: 12))
            #expect(raw(acks.ranges) == [0...2])
            let ack = acks.pendingAck(now: at(ms: 20))
            #expect(ack?.ackDelay == .milliseconds(7))
            #expect(ack?.largestAcknowledged == pn(2))
            acks.onAckSent()
            #expect(acks.ackDeadline == nil)
            #expect(raw(acks.ranges) == [0...2])  // ranges stay until acknowledged
        }

        @Test func gapMakesTheAckImmediate() {
            var acks = tracker()
            acks.onPacketReceived(pn(0), isAckEliciting: true, now: at(ms: 10))
            acks.onAckSent()
            acks.onPacketReceived(pn(2), isAckEliciting: true, now: at(ms: 11))
            #expect(acks.ackDeadline == at(ms: 11))
            #expect(raw(acks.ranges) == [2...2, 0...0])
        }

        @Test func reorderedPacketIsMergedAndAckedAtOnce() {
            var acks = tracker()
            acks.onPacketReceived(pn(0), isAckEliciting: true, now: at(ms: 10))
            acks.onPacketReceived(pn(1), isAckEliciting: false, now: at(ms: 10))
            acks.onPacketReceived(pn(3), isAckEliciting: false, now: at(ms: 11))
            acks.onAckSent()
            #expect(raw(acks.ranges) == [3...3, 0...1])
            acks.onPacketReceived(pn(2), isAckEliciting: true, now: at(ms: 20))
            #expect(raw(acks.ranges) == [0...3])
            #expect(acks.ackDeadline == at(ms: 20))  // below the largest received
            // The ack delay counts from the largest packet's arrival, not the late one's.
            #expect(acks.pendingAck(now: at(ms: 21))?.ackDelay == .milliseconds(10))
        }

        @Test func nonAckElicitingPacketsNeverMakeAnAckDue() {
            var acks = tracker()
            acks.onPacketReceived(pn(0), isAckEliciting: false, now: at(ms: 1))
            acks.onPacketReceived(pn(5), isAckEliciting: false, now: at(ms: 2))  // gap, but only ACKs
            acks.onPacketReceived(pn(3), isAckEliciting: false, now: at(ms: 3))
            #expect(acks.ackDeadline == nil)
            #expect(raw(acks.ranges) == [5...5, 3...3, 0...0])
            // The next in-order ack-eliciting packet starts the delay timer only.
            acks.onPacketReceived(pn(6), isAckEliciting: true, now: at(ms: 4))
            #expect(acks.ackDeadline == at(ms: 29))
        }

        @Test func extendingDownwardAndJoiningRanges() {
            var acks = tracker()
            for n: UInt64 in [10, 8, 6, 7, 9] { acks.onPacketReceived(pn(n), isAckEliciting: false, now: .zero) }
            #expect(raw(acks.ranges) == [6...10])
            for n: UInt64 in [4, 0, 5, 2, 1] { acks.onPacketReceived(pn(n), isAckEliciting: false, now: .zero) }
            #expect(raw(acks.ranges) == [4...10, 0...2])
        }

        @Test func rangeCountIsCappedByDroppingTheSmallest() {
            var acks = tracker()
            for n in stride(from: UInt64(0), through: 80, by: 2) {
                acks.onPacketReceived(pn(n), isAckEliciting: false, now: .zero)
            }
            #expect(acks.ranges.count == 32)
            #expect(acks.ranges.first == pn(80)...pn(80))
            #expect(acks.ranges.last == pn(18)...pn(18))  // 80 − 2 × 31
            // A late packet below everything kept is dropped straight away.
            acks.onPacketReceived(pn(1), isAckEliciting: false, now: .zero)
            #expect(acks.ranges.last == pn(18)...pn(18))
            // One that joins two ranges frees a place.
            acks.onPacketReceived(pn(79), isAckEliciting: false, now: .zero)
            #expect(acks.ranges.count == 31)
            #expect(acks.ranges.first == pn(78)...pn(80))
        }

        @Test func ackOfAckForgetsWhatThePeerKnows() {
            var acks = tracker()
            for n: UInt64 in [0, 1, 2, 5, 6, 7, 10, 11, 12] {
                acks.onPacketReceived(pn(n), isAckEliciting: false, now: .zero)
            }
            #expect(raw(acks.ranges) == [10...12, 5...7, 0...2])
            acks.onAckOfAck(largestAcked: pn(6))
            #expect(raw(acks.ranges) == [10...12, 7...7])
            acks.onAckOfAck(largestAcked: pn(3))  // an older frame: nothing more to forget
            #expect(raw(acks.ranges) == [10...12, 7...7])
            acks.onAckOfAck(largestAcked: pn(12))
            #expect(acks.ranges.isEmpty)
            #expect(acks.largestReceived == pn(12))
            // The next packet continues in order: no gap, no immediate ACK.
            acks.onPacketReceived(pn(13), isAckEliciting: true, now: at(ms: 50))
            #expect(raw(acks.ranges) == [13...13])
            #expect(acks.ackDeadline == at(ms: 75))
        }
    }
}
