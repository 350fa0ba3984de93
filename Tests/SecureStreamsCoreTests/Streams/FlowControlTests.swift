import Testing
@testable import SecureStreamsCore

extension StreamsTests {
    @Suite struct FlowControlTests {
        static let rtt = Duration.milliseconds(100)

        private func at(ms: UInt64) -> Timestamp { Timestamp(nanoseconds: ms * 1_000_000) }

        @Test func receiverRejectsDataBeyondTheLimit() throws {
            var credit = ReceiveCredit(window: 1000, maxWindow: 4000)
            try credit.onReceived(600)
            try credit.onReceived(400)
            #expect(credit.remaining == 0)
            #expect(!credit.allows(1))
            #expect(throws: PeerError(.flowControlError, "data beyond the advertised credit")) {
                try credit.onReceived(1)
            }
            #expect(credit.received == 1000)
        }

        @Test func updateIsDueAfterHalfTheWindowIsConsumed() throws {
            var credit = ReceiveCredit(window: 1000, maxWindow: 1000)
            try credit.onReceived(1000)
            credit.onConsumed(499)
            #expect(!credit.isUpdateDue)
            #expect(credit.nextUpdate(now: at(ms: 0), rtt: Self.rtt) == nil)
            credit.onConsumed(1)
            #expect(credit.isUpdateDue)
            #expect(credit.nextUpdate(now: at(ms: 0), rtt: Self.rtt) == 1500)
            #expect(credit.limit == 1500)
            #expect(!credit.isUpdateDue)
            #expect(credit.nextUpdate(now: at(ms: 0), rtt: Self.rtt) == nil)
        }

        @Test func windowDoublesWhenConsumedWithinTwoRTTs() throws {
            var credit = ReceiveCredit(window: 1000, maxWindow: 3000)
            var now: UInt64 = 0
            // Each update comes 150 ms after the previous one (< 2 × 100 ms).
            var windows: [UInt64] = []
            for _ in 0..<5 {
                let due = credit.limit - credit.window / 2 - credit.consumed
                try credit.onReceived(credit.limit - credit.received)
                credit.onConsumed(due)
                #expect(credit.nextUpdate(now: at(ms: now), rtt: Self.rtt) != nil)
                windows.append(credit.window)
                now += 150
            }
            // The first update only starts the clock; then doubling, capped at maxWindow.
            #expect(windows == [1000, 2000, 3000, 3000, 3000])
            #expect(credit.limit == credit.consumed + 3000)
        }

        @Test func windowStaysWhenConsumptionIsSlow() throws {
            var credit = ReceiveCredit(window: 1000, maxWindow: 8000)
            for step: UInt64 in 0..<4 {
                try credit.onReceived(credit.limit - credit.received)
                credit.onConsumed(credit.received - credit.consumed)
                _ = credit.nextUpdate(now: at(ms: step * 200), rtt: Self.rtt)  // exactly 2 RTT apart: not < 2 RTT
            }
            #expect(credit.window == 1000)
        }

        @Test func ensureWindowRaisesButRespectsTheCap() {
            var credit = ReceiveCredit(window: 1000, maxWindow: 5000)
            credit.ensureWindow(atLeast: 3000)
            #expect(credit.window == 3000)
            credit.ensureWindow(atLeast: 2000)
            #expect(credit.window == 3000)
            credit.ensureWindow(atLeast: 9000)
            #expect(credit.window == 5000)
        }

        @Test func heldBytesPastHalfTheWindowDoubleItAndRaiseTheLimitAtOnce() throws {
            var credit = ReceiveCredit(window: 1000, maxWindow: 3000)
            try credit.onReceived(500)
            #expect(credit.growForHeldBytes(500) == nil)  // half: not more than half
            try credit.onReceived(1)
            #expect(credit.growForHeldBytes(501) == 2000)
            #expect(credit.window == 2000 && credit.limit == 2000)
            #expect(credit.growForHeldBytes(1000) == nil)  // half of the new window
            try credit.onReceived(1000)
            #expect(credit.growForHeldBytes(1501) == 3000)  // capped
            try credit.onReceived(1000)
            #expect(credit.growForHeldBytes(2501) == nil)  // at the cap
            #expect(credit.window == 3000 && credit.limit == 3000)
        }

        @Test func senderTracksAvailableCredit() {
            var credit = SendCredit(limit: 100)
            credit.consume(60)
            #expect(credit.available == 40)
            #expect(!credit.isExhausted)
            #expect(credit.blockedSignal() == nil)
            credit.consume(40)
            #expect(credit.isExhausted)
        }

        @Test func blockedIsSignalledOncePerLimit() {
            var credit = SendCredit(limit: 100)
            credit.consume(100)
            #expect(credit.blockedSignal() == 100)
            #expect(credit.blockedSignal() == nil)
            let woke = credit.raiseLimit(to: 150)
            #expect(woke)  // woke from exhausted
            #expect(credit.blockedSignal() == nil)
            credit.consume(50)
            #expect(credit.blockedSignal() == 150)
            #expect(credit.blockedSignal() == nil)
        }

        @Test func smallerLimitsAreIgnored() {
            var credit = SendCredit(limit: 100)
            let smaller = credit.raiseLimit(to: 50)
            let same = credit.raiseLimit(to: 100)
            #expect(!smaller && !same)
            #expect(credit.limit == 100)
            let grew = credit.raiseLimit(to: 120)
            #expect(!grew)  // grew, but was not exhausted
            #expect(credit.limit == 120)
        }
    }
}
