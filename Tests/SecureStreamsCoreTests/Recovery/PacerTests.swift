import Testing
@testable import SecureStreamsCore

private func at(us: UInt64) -> Timestamp { Timestamp(nanoseconds: us * 1_000) }

extension RecoveryTests {
    /// RFC 9002 §7.7: a window spread over smoothed_rtt / 1.25, bursts of 10 datagrams.
    @Suite struct PacerTests {
        /// Sends `bytes`-sized packets as fast as the pacer allows for one
        /// simulated second; returns the bytes sent.
        private func bytesSentInOneSecond(window: Int, rtt: Duration, bytes: Int) -> Int {
            var pacer = Pacer(maxDatagramSize: bytes, congestionWindow: window, smoothedRTT: rtt)
            let end = Timestamp(nanoseconds: 1_000_000_000)
            var now = Timestamp.zero
            var sent = 0
            var badDeadlines = 0
            while true {
                if let next = pacer.nextSendTime(now: now, bytes: bytes) {
                    if next <= now { badDeadlines += 1 }
                    now = next
                }
                if now > end { break }
                // A reported deadline must be enough: at it, the packet may leave.
                if pacer.nextSendTime(now: now, bytes: bytes) != nil { badDeadlines += 1 }
                pacer.onPacketSent(bytes: bytes, now: now)
                sent += bytes
            }
            #expect(badDeadlines == 0)
            return sent
        }

        @Test func rateIsFiveQuartersOfTheWindowPerRTT() {
            // 1.25 × 100,000 B / 100 ms = 1,250,000 B/s, plus the 10-datagram burst at t = 0.
            let sent = bytesSentInOneSecond(window: 100_000, rtt: .milliseconds(100), bytes: 1_000)
            #expect(sent == 1_260_000)
        }

        @Test(arguments: [
            (123_457, Duration.milliseconds(77), 1_350),
            (2_700, Duration.milliseconds(20), 1_350),
            (500_000, Duration.microseconds(2_500), 1_452),
        ])
        func rateMatchesWithinRounding(window: Int, rtt: Duration, bytes: Int) {
            let sent = bytesSentInOneSecond(window: window, rtt: rtt, bytes: bytes)
            let rttNanos = Int(rtt.nanosecondsClamped)
            let ideal = window * 5 * 1_000_000_000 / (4 * rttNanos)  // bytes per second
            let burst = max(min(10 * bytes, window), bytes)
            // Never faster than the rate plus one burst and one packet; at most
            // 1% slower (whole-byte and whole-nanosecond rounding).
            #expect(sent <= ideal + burst + bytes, "sent \(sent), ideal \(ideal)")
            #expect(sent >= ideal - ideal / 100, "sent \(sent), ideal \(ideal)")
        }

        @Test func burstLeavesAtOnceThenExactSpacing() {
            var pacer = Pacer(maxDatagramSize: 1_000, congestionWindow: 100_000, smoothedRTT: .milliseconds(100))
            #expect(pacer.capacity == 10_000)
            for _ in 0..<10 {
                #expect(pacer.nextSendTime(now: .zero, bytes: 1_000) == nil)
                pacer.onPacketSent(bytes: 1_000, now: .zero)
            }
            // 1,000 B at 1.25 B/µs: 800 µs.
            #expect(pacer.nextSendTime(now: .zero, bytes: 1_000) == at(us: 800))
            #expect(pacer.nextSendTime(now: at(us: 400), bytes: 1_000) == at(us: 800))
            #expect(pacer.nextSendTime(now: at(us: 800), bytes: 1_000) == nil)
        }

        @Test func burstIsCappedByTheWindow() {
            let pacer = Pacer(maxDatagramSize: 1_000, congestionWindow: 3_000, smoothedRTT: .milliseconds(100))
            #expect(pacer.capacity == 3_000)
            #expect(pacer.tokens == 3_000)
        }

        @Test func zeroRTTDisablesPacing() {
            var pacer = Pacer(maxDatagramSize: 1_000, congestionWindow: 10_000, smoothedRTT: .zero)
            for _ in 0..<100 { pacer.onPacketSent(bytes: 1_000, now: .zero) }
            #expect(pacer.nextSendTime(now: .zero, bytes: 1_000) == nil)
        }

        @Test func updateCreditsElapsedTimeAtTheOldRate() {
            var pacer = Pacer(maxDatagramSize: 1_000, congestionWindow: 100_000, smoothedRTT: .milliseconds(100))
            pacer.onPacketSent(bytes: 10_000, now: .zero)
            #expect(pacer.tokens == 0)
            // 400 µs at 1.25 B/µs = 500 B, then the rate doubles.
            pacer.update(congestionWindow: 200_000, smoothedRTT: .milliseconds(100), now: at(us: 400))
            #expect(pacer.tokens == 500)
            // 500 B more at 2.5 B/µs: 200 µs.
            #expect(pacer.nextSendTime(now: at(us: 400), bytes: 1_000) == at(us: 600))
        }
    }
}
