import Testing
@testable import SecureStreamsCore

extension RecoveryTests {
    /// RFC 9002 §5 by hand: every expected value below is computed in the comment beside it.
    @Suite struct RTTEstimatorTests {
        @Test func initialStateUsesTheInitialRTT() {
            let rtt = RTTEstimator()
            #expect(!rtt.hasSample)
            #expect(rtt.smoothedRTT == .milliseconds(333))
            #expect(rtt.rttVariance == .microseconds(166_500))  // 333 / 2
            #expect(rtt.minRTT == .zero)
            #expect(rtt.latestRTT == .zero)
            // 333 + max(4 × 166.5, 1) + 25 = 1,024 ms
            #expect(rtt.pto(maxAckDelay: .milliseconds(25)) == .milliseconds(1_024))
        }

        @Test func firstSampleIgnoresAckDelay() {
            var rtt = RTTEstimator()
            rtt.addSample(latestRTT: .milliseconds(100), ackDelay: .milliseconds(10), maxAckDelay: .milliseconds(25))
            #expect(rtt.hasSample)
            #expect(rtt.latestRTT == .milliseconds(100))
            #expect(rtt.minRTT == .milliseconds(100))
            #expect(rtt.smoothedRTT == .milliseconds(100))
            #expect(rtt.rttVariance == .milliseconds(50))
            // 100 + 4 × 50 + 25
            #expect(rtt.pto(maxAckDelay: .milliseconds(25)) == .milliseconds(325))
            // 9/8 × 100
            #expect(rtt.lossDelay == .microseconds(112_500))
        }

        @Test func subsequentSampleSubtractsAckDelay() {
            var rtt = RTTEstimator()
            rtt.addSample(latestRTT: .milliseconds(100), ackDelay: .zero, maxAckDelay: .milliseconds(25))
            rtt.addSample(latestRTT: .milliseconds(120), ackDelay: .milliseconds(10), maxAckDelay: .milliseconds(25))
            // adjusted = 120 − 10 = 110 (120 ≥ min 100 + 10)
            // rttvar = 3/4 × 50 + 1/4 × |100 − 110| = 37.5 + 2.5 = 40
            // smoothed = 7/8 × 100 + 1/8 × 110 = 87.5 + 13.75 = 101.25
            #expect(rtt.latestRTT == .milliseconds(120))
            #expect(rtt.minRTT == .milliseconds(100))
            #expect(rtt.rttVariance == .milliseconds(40))
            #expect(rtt.smoothedRTT == .microseconds(101_250))
            // 9/8 × max(101.25, 120) = 135
            #expect(rtt.lossDelay == .milliseconds(135))
        }

        @Test func ackDelayIsCappedAtMaxAckDelay() {
            var rtt = RTTEstimator()
            rtt.addSample(latestRTT: .milliseconds(100), ackDelay: .zero, maxAckDelay: .milliseconds(25))
            rtt.addSample(latestRTT: .milliseconds(200), ackDelay: .milliseconds(500), maxAckDelay: .milliseconds(25))
            // adjusted = 200 − min(500, 25) = 175
            // rttvar = (3 × 50 + 75) / 4 = 56.25; smoothed = (700 + 175) / 8 = 109.375
            #expect(rtt.rttVariance == .microseconds(56_250))
            #expect(rtt.smoothedRTT == .microseconds(109_375))
        }

        @Test func ackDelayNotSubtractedBelowMinRTT() {
            var rtt = RTTEstimator()
            rtt.addSample(latestRTT: .milliseconds(100), ackDelay: .zero, maxAckDelay: .milliseconds(25))
            rtt.addSample(latestRTT: .milliseconds(105), ackDelay: .milliseconds(10), maxAckDelay: .milliseconds(25))
            // 105 < 100 + 10, so adjusted = 105
            // rttvar = (150 + 5) / 4 = 38.75; smoothed = (700 + 105) / 8 = 100.625
            #expect(rtt.rttVariance == .microseconds(38_750))
            #expect(rtt.smoothedRTT == .microseconds(100_625))
        }

        @Test func minRTTTracksRawSamples() {
            var rtt = RTTEstimator()
            rtt.addSample(latestRTT: .milliseconds(100), ackDelay: .zero, maxAckDelay: .milliseconds(25))
            rtt.addSample(latestRTT: .milliseconds(80), ackDelay: .milliseconds(5), maxAckDelay: .milliseconds(25))
            // min_rtt takes the raw 80 first; then 80 < 80 + 5, so the delay is not subtracted.
            #expect(rtt.minRTT == .milliseconds(80))
            // adjusted = 80: rttvar = (150 + 20) / 4 = 42.5; smoothed = (700 + 80) / 8 = 97.5
            #expect(rtt.rttVariance == .microseconds(42_500))
            #expect(rtt.smoothedRTT == .microseconds(97_500))
        }

        @Test func granularityFloorsPTOVarianceAndLossDelay() {
            var rtt = RTTEstimator()
            rtt.addSample(latestRTT: .microseconds(200), ackDelay: .zero, maxAckDelay: .zero)
            for _ in 0..<40 {
                rtt.addSample(latestRTT: .microseconds(200), ackDelay: .zero, maxAckDelay: .zero)
            }
            // 4 × rttvar is far below 1 ms now; the PTO uses the 1 ms floor.
            #expect(rtt.rttVariance < .microseconds(1))
            #expect(rtt.pto(maxAckDelay: .milliseconds(25)) == .microseconds(200 + 1_000 + 25_000))
            // 9/8 × 0.2 ms = 0.225 ms < 1 ms
            #expect(rtt.lossDelay == .milliseconds(1))
        }
    }
}
