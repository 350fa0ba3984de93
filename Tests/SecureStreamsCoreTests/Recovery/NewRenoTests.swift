import Testing
@testable import SecureStreamsCore

private func at(ms: UInt64) -> Timestamp { Timestamp(nanoseconds: ms * 1_000_000) }

extension RecoveryTests {
    /// RFC 9002 §7 and appendix B with 1,000-byte datagrams: initial window
    /// 10,000 bytes, minimum 2,000.
    @Suite struct NewRenoTests {
        private let mss = 1_000
        private let rtt = RTTEstimator()

        /// Sends `count` full datagrams at `time` and acknowledges them at `ackTime`.
        private func roundTrip(_ reno: inout NewReno, count: Int, sentAt time: Timestamp, ackedAt ackTime: Timestamp) {
            for _ in 0..<count { reno.onPacketSent(bytes: mss, now: time) }
            for _ in 0..<count { reno.onPacketsAcked(bytes: mss, timeSent: time, now: ackTime, rtt: rtt) }
        }

        @Test func startsAtTenDatagramsWithAMinimumOfTwo() {
            let reno = NewReno(maxDatagramSize: mss)
            #expect(reno.congestionWindow == 10_000)
            #expect(reno.minimumWindow == 2_000)
            #expect(reno.isInSlowStart)
            #expect(reno.availableWindow == 10_000)
        }

        @Test func slowStartGrowsByTheBytesAcknowledged() {
            var reno = NewReno(maxDatagramSize: mss)
            roundTrip(&reno, count: 10, sentAt: at(ms: 0), ackedAt: at(ms: 100))
            #expect(reno.congestionWindow == 20_000)
            roundTrip(&reno, count: 20, sentAt: at(ms: 100), ackedAt: at(ms: 200))
            #expect(reno.congestionWindow == 40_000)
            #expect(reno.bytesInFlight == 0)
        }

        @Test func applicationLimitedSenderDoesNotGrowTheWindow() {
            var reno = NewReno(maxDatagramSize: mss)
            // Four datagrams never use half of a 10,000-byte window.
            for round: UInt64 in 0..<5 {
                roundTrip(&reno, count: 4, sentAt: at(ms: round * 100), ackedAt: at(ms: round * 100 + 50))
            }
            #expect(reno.congestionWindow == 10_000)
            // Half the window in flight counts as used in slow start.
            roundTrip(&reno, count: 5, sentAt: at(ms: 1_000), ackedAt: at(ms: 1_100))
            #expect(reno.congestionWindow == 15_000)
        }

        @Test func growthNeedsTheWindowUsedWhileThePacketWasInFlight() {
            var reno = NewReno(maxDatagramSize: mss)
            roundTrip(&reno, count: 10, sentAt: at(ms: 0), ackedAt: at(ms: 100))  // used at 0 ms
            #expect(reno.congestionWindow == 20_000)
            // One datagram sent after the last time the window was used: no growth.
            reno.onPacketSent(bytes: mss, now: at(ms: 150))
            reno.onPacketsAcked(bytes: mss, timeSent: at(ms: 150), now: at(ms: 250), rtt: rtt)
            #expect(reno.congestionWindow == 20_000)
        }

        @Test func oneReductionPerRecoveryPeriod() {
            var reno = NewReno(maxDatagramSize: mss)
            reno.onCongestionEvent(timeSentOfLostPacket: at(ms: 0), now: at(ms: 100))
            #expect(reno.congestionWindow == 5_000)
            #expect(reno.slowStartThreshold == 5_000)
            #expect(reno.recoveryStartTime == at(ms: 100))
            // A second loss of a packet sent before the recovery began: same period.
            reno.onCongestionEvent(timeSentOfLostPacket: at(ms: 50), now: at(ms: 120))
            reno.onCongestionEvent(timeSentOfLostPacket: at(ms: 100), now: at(ms: 130))
            #expect(reno.congestionWindow == 5_000)
            #expect(reno.recoveryStartTime == at(ms: 100))
            // A loss of a packet sent after it starts a new period.
            reno.onCongestionEvent(timeSentOfLostPacket: at(ms: 101), now: at(ms: 200))
            #expect(reno.congestionWindow == 2_500)
            #expect(reno.recoveryStartTime == at(ms: 200))
        }

        @Test func windowNeverFallsBelowTheMinimum() {
            var reno = NewReno(maxDatagramSize: mss)
            for step: UInt64 in 1...6 {
                reno.onCongestionEvent(timeSentOfLostPacket: at(ms: step * 100 - 1), now: at(ms: step * 100))
            }
            // 10,000 → 5,000 → 2,500 → max(1,250, 2,000) → 2,000 …
            #expect(reno.congestionWindow == 2_000)
            #expect(reno.slowStartThreshold == 1_000)
        }

        @Test func noGrowthForPacketsSentBeforeRecoveryStarted() {
            var reno = NewReno(maxDatagramSize: mss)
            for _ in 0..<10 { reno.onPacketSent(bytes: mss, now: at(ms: 0)) }
            reno.removeFromFlight(bytes: mss)  // one lost
            reno.onCongestionEvent(timeSentOfLostPacket: at(ms: 0), now: at(ms: 100))
            for _ in 0..<9 { reno.onPacketsAcked(bytes: mss, timeSent: at(ms: 0), now: at(ms: 100), rtt: rtt) }
            #expect(reno.congestionWindow == 5_000)
            #expect(reno.bytesInFlight == 0)
        }

        @Test func congestionAvoidanceAddsOneDatagramPerWindowAcknowledged() {
            var reno = NewReno(maxDatagramSize: mss)
            reno.onCongestionEvent(timeSentOfLostPacket: at(ms: 0), now: at(ms: 100))
            #expect(!reno.isInSlowStart)  // window 5,000 = ssthresh
            for _ in 0..<5 { reno.onPacketSent(bytes: mss, now: at(ms: 200)) }
            for count in 1...5 {
                reno.onPacketsAcked(bytes: mss, timeSent: at(ms: 200), now: at(ms: 300), rtt: rtt)
                #expect(reno.congestionWindow == (count < 5 ? 5_000 : 6_000))
            }
            #expect(reno.bytesAckedInAvoidance == 0)
            // The next increase takes a full 6,000 bytes.
            for _ in 0..<6 { reno.onPacketSent(bytes: mss, now: at(ms: 300)) }
            for _ in 0..<5 { reno.onPacketsAcked(bytes: mss, timeSent: at(ms: 300), now: at(ms: 400), rtt: rtt) }
            #expect(reno.congestionWindow == 6_000)
            reno.onPacketsAcked(bytes: mss, timeSent: at(ms: 300), now: at(ms: 400), rtt: rtt)
            #expect(reno.congestionWindow == 7_000)
        }

        @Test func persistentCongestionCollapsesToTheMinimumWindow() {
            var reno = NewReno(maxDatagramSize: mss)
            roundTrip(&reno, count: 10, sentAt: at(ms: 0), ackedAt: at(ms: 100))
            reno.onCongestionEvent(timeSentOfLostPacket: at(ms: 150), now: at(ms: 1_000))
            reno.onPersistentCongestion()
            #expect(reno.congestionWindow == 2_000)
            #expect(reno.recoveryStartTime == nil)
            #expect(reno.slowStartThreshold == 10_000)
            // Slow start again up to ssthresh.
            roundTrip(&reno, count: 2, sentAt: at(ms: 1_100), ackedAt: at(ms: 1_200))
            #expect(reno.congestionWindow == 4_000)
        }

        @Test func applyFeedsLossesBeforeAcknowledgements() {
            var detection = LossDetection(maxAckDelay: .milliseconds(25))
            var control = CongestionControl.newReno(NewReno(maxDatagramSize: mss))
            var events = RecoveryEvents()
            for n in 0..<12 as Range<UInt64> {
                let packet = SentPacket(packetNumber: PacketNumber(n), timeSent: at(ms: n), size: mss,
                                        isAckEliciting: true, isInFlight: true, token: 0)
                detection.onPacketSent(packet)
                control.onPacketSent(bytes: mss, now: at(ms: n))
            }
            let verdict = detection.onAckReceived(
                ranges: [PacketNumber(3)...PacketNumber(9)], ackDelay: .zero, now: at(ms: 109), into: &events)
            #expect(verdict == .accepted)
            control.apply(events, now: at(ms: 109), rtt: detection.rtt)
            // 0, 1 and 2 lost (≤ 9 − 3) → one halving at 109 ms; 3…9 were sent before it: no growth.
            #expect(events.lost.map(\.packetNumber.rawValue) == [0, 1, 2])
            #expect(control.congestionWindow == 5_000)
            #expect(control.bytesInFlight == 2_000)
            #expect(control.bytesInFlight == detection.bytesInFlight)
        }
    }
}
