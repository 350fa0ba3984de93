import Testing
@testable import SecureStreamsCore

extension ProtectionTests {
    /// "Under load" (PROTOCOL.md §4.1 step 3).
    @Suite struct LoadGaugeTests {
        static let configuration = LoadGauge.Configuration(handshakeRateLimit: 10, maxPendingHandshakes: 5)

        @Test func burstOfTheRateThenLoad() {
            var gauge = LoadGauge(configuration: Self.configuration, now: .zero)
            for index in 0..<10 {
                #expect(gauge.assessInitiation(now: .zero, pendingHandshakes: 0) == .normal, "\(index)")
            }
            #expect(gauge.assessInitiation(now: .zero, pendingHandshakes: 0) == .underLoad)
            #expect(gauge.isUnderLoad(now: .zero, pendingHandshakes: 0))
        }

        @Test func refillsAtTheRate() {
            var gauge = LoadGauge(configuration: Self.configuration, now: .zero)
            for _ in 0..<10 { _ = gauge.assessInitiation(now: .zero, pendingHandshakes: 0) }
            // 10 per second: one token per 100 ms, boundary pair at 99/100 ms.
            // The refused Initiation at 99 ms takes nothing from what gathered.
            #expect(gauge.assessInitiation(now: ProtectionTests.milliseconds(99), pendingHandshakes: 0) == .underLoad)
            #expect(gauge.assessInitiation(now: ProtectionTests.milliseconds(100), pendingHandshakes: 0) == .normal)
            #expect(gauge.assessInitiation(now: ProtectionTests.milliseconds(100), pendingHandshakes: 0) == .underLoad)
            // A full second or more refills the whole burst, and no more.
            #expect(!gauge.isUnderLoad(now: ProtectionTests.seconds(5), pendingHandshakes: 0))
            for index in 0..<10 {
                #expect(gauge.assessInitiation(now: ProtectionTests.seconds(5), pendingHandshakes: 0) == .normal, "\(index)")
            }
            #expect(gauge.assessInitiation(now: ProtectionTests.seconds(5), pendingHandshakes: 0) == .underLoad)
        }

        @Test func steadyRateBelowTheLimitIsNeverUnderLoad() {
            var gauge = LoadGauge(configuration: Self.configuration, now: .zero)
            for index in 0..<1_000 {
                let now = ProtectionTests.milliseconds(Int64(index) * 101)
                #expect(gauge.assessInitiation(now: now, pendingHandshakes: 0) == .normal, "\(index)")
            }
        }

        @Test func steadyRateAboveTheLimitIsUnderLoadAfterTheBurst() {
            var gauge = LoadGauge(configuration: Self.configuration, now: .zero)
            var normal = 0
            for index in 0..<200 {  // 20 per second for 10 s
                if gauge.assessInitiation(now: ProtectionTests.milliseconds(Int64(index) * 50), pendingHandshakes: 0) == .normal {
                    normal += 1
                }
            }
            // The burst of 10, then 10 per second over the 9.95 s that follow.
            #expect((105...111).contains(normal), "\(normal)")
        }

        @Test func pendingHandshakesBoundaryPair() {
            var gauge = LoadGauge(configuration: Self.configuration, now: .zero)
            #expect(gauge.assessInitiation(now: .zero, pendingHandshakes: 5) == .normal)
            #expect(gauge.assessInitiation(now: .zero, pendingHandshakes: 6) == .underLoad)
            #expect(gauge.isUnderLoad(now: .zero, pendingHandshakes: 6))
            #expect(!gauge.isUnderLoad(now: .zero, pendingHandshakes: 5))
        }

        @Test func defaultsAreTheDocumentedOnes() {
            let configuration = LoadGauge.Configuration()
            #expect(configuration.handshakeRateLimit == 1_000)
            #expect(configuration.maxPendingHandshakes == 1_024)
        }
    }
}
