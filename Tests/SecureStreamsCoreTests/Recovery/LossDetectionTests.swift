import Testing
@testable import SecureStreamsCore

private func at(ms: UInt64) -> Timestamp { Timestamp(nanoseconds: ms * 1_000_000) }
private func at(us: UInt64) -> Timestamp { Timestamp(nanoseconds: us * 1_000) }
private func pn(_ value: UInt64) -> PacketNumber { PacketNumber(value) }
private func range(_ bounds: ClosedRange<UInt64>) -> ClosedRange<PacketNumber> {
    pn(bounds.lowerBound)...pn(bounds.upperBound)
}

/// A loss detector with the peer's max_ack_delay at 25 ms, and helpers that
/// keep the tests to one line per event.
private struct Harness {
    var detection: LossDetection
    var events = RecoveryEvents()

    init(maxTracked: Int = SentPacketTracker.defaultMaxTracked) {
        detection = LossDetection(maxAckDelay: .milliseconds(25), maxTrackedPackets: maxTracked)
    }

    mutating func send(_ number: UInt64, at time: Timestamp, size: Int = 1_200,
                       ackEliciting: Bool = true, inFlight: Bool? = nil) {
        detection.onPacketSent(SentPacket(
            packetNumber: pn(number), timeSent: time, size: size, isAckEliciting: ackEliciting,
            isInFlight: inFlight ?? ackEliciting, token: UInt32(number) + 1_000))
    }

    @discardableResult
    mutating func ack(_ ranges: [ClosedRange<UInt64>], delay: Duration = .zero, at time: Timestamp)
        -> LossDetection.AckVerdict {
        detection.onAckReceived(ranges: ranges.map(range), ackDelay: delay, now: time, into: &events)
    }

    mutating func timeout(at time: Timestamp) -> LossDetection.TimeoutAction {
        detection.onTimeout(now: time, into: &events)
    }

    var acked: [UInt64] { events.acknowledged.map(\.packetNumber.rawValue) }
    var lost: [UInt64] { events.lost.map(\.packetNumber.rawValue) }
}

extension RecoveryTests {
    @Suite struct LossDetectionTests {
        @Test func packetThresholdDeclaresOnlyPacketsThreeBelow() {
            var h = Harness()
            for n in 0...4 { h.send(UInt64(n), at: at(ms: UInt64(n))) }
            h.ack([0...0], at: at(ms: 100))  // sample: 100 ms
            #expect(h.acked == [0] && h.lost.isEmpty)
            h.ack([4...4], at: at(ms: 110))
            // sample 106 ms: rttvar (150 + 6) / 4 = 39, smoothed (700 + 106) / 8 = 100.75
            #expect(h.events.rttSample == .milliseconds(106))
            #expect(h.detection.rtt.smoothedRTT == .microseconds(100_750))
            // 1 + 3 ≤ 4: lost. 2 and 3 are within the threshold and too young.
            #expect(h.acked == [4])
            #expect(h.lost == [1])
            #expect(h.events.largestLostTimeSent == at(ms: 1))
            // loss delay 9/8 × max(100.75, 106) = 119.25 ms; packet 2 went at 2 ms.
            #expect(h.detection.lossTime == at(us: 121_250))
            #expect(h.detection.lossDetectionDeadline == at(us: 121_250))
        }

        @Test func timeThresholdTimerFiresAtTheExactDeadline() {
            var h = Harness()
            h.send(0, at: at(ms: 0))
            h.send(1, at: at(ms: 10))
            h.ack([1...1], at: at(ms: 110))
            #expect(h.events.rttSample == .milliseconds(100))
            #expect(h.lost.isEmpty)
            // loss delay 9/8 × 100 = 112.5 ms after packet 0's send time.
            #expect(h.detection.lossDetectionDeadline == at(us: 112_500))
            #expect(h.timeout(at: Timestamp(nanoseconds: 112_499_999)) == .notDue)
            #expect(h.events.isEmpty)
            #expect(h.timeout(at: at(us: 112_500)) == .packetsLost)
            #expect(h.lost == [0])
            #expect(h.detection.ptoCount == 0)
            #expect(h.detection.lossDetectionDeadline == nil)  // nothing outstanding
            #expect(h.detection.bytesInFlight == 0)
        }

        @Test func ptoBeforeAnyRTTSampleUsesInitialRTT() {
            var h = Harness()
            h.send(0, at: at(ms: 0))
            // 333 + 4 × 166.5 + 25 = 1,024 ms
            #expect(h.detection.lossDetectionDeadline == at(ms: 1_024))
        }

        @Test func ptoDeadlineIsExactAndDoublesOnEachExpiry() {
            var h = Harness()
            h.send(0, at: at(ms: 0))
            h.ack([0...0], at: at(ms: 100))  // smoothed 100, rttvar 50: PTO 100 + 200 + 25 = 325 ms
            #expect(h.detection.lossDetectionDeadline == nil)
            h.send(1, at: at(ms: 200))
            #expect(h.detection.lossDetectionDeadline == at(ms: 525))
            #expect(h.timeout(at: at(ms: 524)) == .notDue)
            #expect(h.timeout(at: at(ms: 525)) == .sendProbes(count: 2))
            #expect(h.detection.ptoCount == 1)
            #expect(h.detection.lossDetectionDeadline == at(ms: 850))  // 200 + 2 × 325
            #expect(h.timeout(at: at(ms: 849)) == .notDue)
            #expect(h.detection.ptoCount == 1)
            #expect(h.timeout(at: at(ms: 850)) == .sendProbes(count: 2))
            #expect(h.detection.ptoCount == 2)
            #expect(h.detection.lossDetectionDeadline == at(ms: 1_500))  // 200 + 4 × 325
            // Probes move the base of the timer to the last ack-eliciting send.
            h.send(2, at: at(ms: 1_500))
            h.send(3, at: at(ms: 1_500))
            #expect(h.detection.lossDetectionDeadline == at(ms: 2_800))  // 1,500 + 4 × 325
            // An acknowledgement resets the backoff.
            h.ack([3...3], at: at(ms: 1_600))
            #expect(h.detection.ptoCount == 0)
        }

        @Test func persistentCongestionNeedsMoreThanThreePTOs() {
            // After the sample below: smoothed 100, rttvar 37.5, PTO 100 + 150 + 25 = 275, ×3 = 825 ms.
            let period = Duration.milliseconds(825)
            #expect(persistentCongestion(spanning: period + .nanoseconds(1)))
            #expect(!persistentCongestion(spanning: period))
            #expect(!persistentCongestion(spanning: period - .nanoseconds(1)))
        }

        /// Packet 1 at 1 s and packet 2 `span` later are both lost to an ACK of 5.
        private func persistentCongestion(spanning span: Duration) -> Bool {
            var h = Harness()
            h.send(0, at: at(ms: 0))
            h.ack([0...0], at: at(ms: 100))
            let first = at(ms: 1_000)
            let second = first + span
            h.send(1, at: first)
            h.send(2, at: second)
            for n in 3...5 { h.send(UInt64(n), at: second + .milliseconds(Int64(n) - 2)) }
            h.ack([5...5], at: second + .milliseconds(103))  // sample 100 ms again
            #expect(h.lost == [1, 2])
            #expect(h.detection.persistentCongestionDuration == .milliseconds(825))
            #expect(h.events.largestLostTimeSent == second)
            return h.events.isPersistentCongestion
        }

        @Test func persistentCongestionBrokenByAnAcknowledgedPacketBetween() {
            for ackMiddle in [false, true] {
                var h = Harness()
                h.send(0, at: at(ms: 0))
                h.ack([0...0], at: at(ms: 100))
                h.send(1, at: at(ms: 1_000))
                h.send(2, at: at(ms: 1_500))
                h.send(3, at: at(ms: 2_500))
                for n in 4...6 { h.send(UInt64(n), at: at(ms: 2_500 + UInt64(n) - 3)) }
                h.ack(ackMiddle ? [6...6, 2...2] : [6...6], at: at(ms: 2_603))
                #expect(h.lost == (ackMiddle ? [1, 3] : [1, 2, 3]))
                #expect(h.events.isPersistentCongestion == !ackMiddle)
            }
        }

        @Test func persistentCongestionIgnoresPacketsSentBeforeTheFirstSample() {
            var h = Harness()
            h.send(0, at: at(ms: 0))
            h.send(1, at: at(ms: 2_000))
            for n in 2...4 { h.send(UInt64(n), at: at(ms: 2_000 + UInt64(n) - 1)) }
            h.ack([4...4], at: at(ms: 2_103))  // the first sample: 100 ms
            #expect(h.lost == [0, 1])
            #expect(!h.events.isPersistentCongestion)
        }

        @Test func rttSampleOnlyWhenLargestIsNewlyAcknowledged() {
            var h = Harness()
            for n in 0...3 { h.send(UInt64(n), at: at(ms: UInt64(n))) }
            h.ack([3...3], at: at(ms: 50))
            #expect(h.events.rttSample == .milliseconds(47))
            h.ack([3...3], at: at(ms: 60))  // duplicate ACK
            #expect(h.events.isEmpty)
            h.ack([3...3, 1...1], at: at(ms: 70))  // 1 is new, but the largest is not
            #expect(h.acked == [1])
            #expect(h.events.rttSample == nil)
        }

        @Test func rttSampleNeedsAnAckElicitingPacket() {
            var h = Harness()
            h.send(0, at: at(ms: 0), ackEliciting: false)
            h.send(1, at: at(ms: 1), ackEliciting: false)
            h.ack([0...1], at: at(ms: 50))
            #expect(h.acked == [1, 0])
            #expect(h.events.rttSample == nil)
            #expect(!h.detection.rtt.hasSample)
            // One ack-eliciting packet among the newly acknowledged suffices (RFC 9002 §5.1).
            h.send(2, at: at(ms: 60))
            h.send(3, at: at(ms: 61), ackEliciting: false)
            h.ack([2...3], at: at(ms: 100))
            #expect(h.events.rttSample == .milliseconds(39))  // from packet 3, the largest
        }

        @Test func ackReportsSizesTokensAndBytesInFlight() {
            var h = Harness()
            h.send(0, at: at(ms: 0), size: 1_000)
            h.send(1, at: at(ms: 1), size: 40, ackEliciting: false)  // a pure ACK: not in flight
            h.send(2, at: at(ms: 2), size: 1_300)
            #expect(h.detection.bytesInFlight == 2_300)
            h.ack([2...2, 0...0], at: at(ms: 30))
            #expect(h.events.acknowledged == [
                SentPacket(packetNumber: pn(2), timeSent: at(ms: 2), size: 1_300, isAckEliciting: true,
                           isInFlight: true, token: 1_002),
                SentPacket(packetNumber: pn(0), timeSent: at(ms: 0), size: 1_000, isAckEliciting: true,
                           isInFlight: true, token: 1_000),
            ])
            #expect(h.events.acknowledgedBytesInFlight == 2_300)
            #expect(h.detection.bytesInFlight == 0)
            #expect(h.detection.sent.base == 1)  // the pure ACK still waits
        }

        @Test func impossibleAcksAreViolations() {
            /// Packets 0, 2 and 3 sent; 1 skipped.
            func sentWithASkip() -> Harness {
                var h = Harness()
                h.send(0, at: at(ms: 0))
                h.send(2, at: at(ms: 1))
                h.send(3, at: at(ms: 2))
                return h
            }
            var h = sentWithASkip()
            #expect(h.ack([4...4], at: at(ms: 10))
                == .violation(PeerError(.protocolViolation, frameType: 0x02, "ACK of an unsent packet")))
            h = sentWithASkip()
            #expect(h.ack([0...0, 2...3], at: at(ms: 10))
                == .violation(PeerError(.frameEncodingError, frameType: 0x02, "ACK ranges not descending")))
            h = sentWithASkip()
            #expect(h.ack([3...3, 3...3], at: at(ms: 10))
                == .violation(PeerError(.frameEncodingError, frameType: 0x02, "ACK ranges not descending")))
            h = sentWithASkip()
            #expect(h.ack([0...3], at: at(ms: 10))
                == .violation(PeerError(.protocolViolation, frameType: 0x02, "ACK of a skipped packet number")))
            h = sentWithASkip()
            #expect(h.detection.sent.state(of: pn(1)) == .skipped)
            #expect(h.ack([2...3, 0...0], at: at(ms: 10)) == .accepted)
            #expect(h.acked == [3, 2, 0])
        }

        @Test func canTrackMoreKeepsTheReserve() {
            var h = Harness(maxTracked: 64)
            #expect(h.detection.sent.maxTracked == 64)
            var n: UInt64 = 0
            while h.detection.canTrackMore {
                h.send(n, at: at(ms: n))
                n += 1
            }
            #expect(n == UInt64(64 - SentPacketTracker.reservedSlots))
            // The reserve still takes probes and pure ACKs.
            for _ in 0..<SentPacketTracker.reservedSlots {
                h.send(n, at: at(ms: n))
                n += 1
            }
            #expect(h.detection.sent.count == 64)
            h.ack([0...9], at: at(ms: 100))
            #expect(h.detection.sent.count == 54)
            var canTrackMore = h.detection.canTrackMore
            #expect(!canTrackMore)  // 54 + 16 reserved ≥ 64
            h.ack([0...19], at: at(ms: 101))
            #expect(h.detection.sent.count == 44)
            canTrackMore = h.detection.canTrackMore
            #expect(canTrackMore)
        }

        @Test(.timeLimit(.minutes(2))) func sendingIntoAWindowFullOfAckElicitingPacketsTraps() async {
            await #expect(processExitsWith: .failure) {
                var tracker = SentPacketTracker(maxTracked: 64)
                for n in 0...64 as ClosedRange<UInt64> {
                    tracker.record(SentPacket(packetNumber: PacketNumber(n), timeSent: .zero, size: 1_000,
                                              isAckEliciting: true, isInFlight: true, token: 0))
                }
            }
        }

        @Test func pureAcksAreEvictedFromAFullWindow() {
            var h = Harness(maxTracked: 64)
            for n in 0..<64 { h.send(UInt64(n), at: at(ms: UInt64(n)), size: 30, ackEliciting: false) }
            #expect(h.detection.sent.count == 64)
            h.send(64, at: at(ms: 64))
            #expect(h.detection.sent.base == 1)
            #expect(h.ack([0...0], at: at(ms: 100)) == .accepted)  // forgotten: nothing to report
            #expect(h.acked.isEmpty)
        }

        @Test func ringGrowsAndKeepsEveryRecord() {
            var h = Harness(maxTracked: 4_096)
            for n in 0..<1_000 { h.send(UInt64(n), at: at(us: UInt64(n) * 10), size: 100 + n % 1_000) }
            #expect(h.detection.bytesInFlight == (0..<1_000).reduce(0) { $0 + 100 + $1 })
            h.ack([999...999, 500...997, 2...10], at: at(ms: 50))
            #expect(h.acked.count == 1 + 498 + 9)
            #expect(h.events.acknowledged.allSatisfy { $0.token == UInt32($0.packetNumber.rawValue) + 1_000 })
            #expect(h.events.acknowledged.allSatisfy { $0.size == 100 + Int($0.packetNumber.rawValue) })
            // Everything older than 999 − 3 without an ACK is lost: 0, 1, 11…499.
            #expect(h.lost == [0, 1] + Array(11...499))
            #expect(h.detection.sent.state(of: pn(998)) == .outstanding)
        }
    }
}
