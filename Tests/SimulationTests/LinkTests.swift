import SecureStreamsCore
@testable import SecureStreamsSimulator
import Testing

/// The link model on its own: serialization, drop-tail queue, MTU, burst loss.
@Suite struct LinkTests {
    let t0 = Timestamp(nanoseconds: 1_000_000_000)

    func arrivals(_ outcome: Link.Outcome) -> [Timestamp] {
        if case .deliver(let copies) = outcome { return copies.map(\.arrival) }
        return []
    }

    @Test func serializationDelayQueuesBackToBackDatagrams() {
        var spec = LinkSpec(from: "a", to: "b")
        spec.delay = .milliseconds(10)
        spec.bandwidth = 8_000_000  // 1 byte per µs
        var link = Link(spec: spec, random: SeededRandom(seed: 1))
        let bytes = [UInt8](repeating: 0, count: 1_000)
        #expect(arrivals(link.send(bytes, now: t0)) == [t0 + .microseconds(10_000 + 1_000)])
        #expect(arrivals(link.send(bytes, now: t0)) == [t0 + .microseconds(10_000 + 2_000)])
    }

    @Test func aFullQueueDropsTheTail() {
        var spec = LinkSpec(from: "a", to: "b")
        spec.bandwidth = 8_000_000
        spec.queuePackets = 3
        var link = Link(spec: spec, random: SeededRandom(seed: 1))
        let bytes = [UInt8](repeating: 0, count: 1_000)
        for _ in 0..<3 { #expect(!arrivals(link.send(bytes, now: t0)).isEmpty) }
        guard case .dropped(.queueFull) = link.send(bytes, now: t0) else { Issue.record("not dropped"); return }
        // Once the first has left the transmitter, there is room again.
        #expect(!arrivals(link.send(bytes, now: t0 + .microseconds(1_000))).isEmpty)
    }

    @Test func datagramsAboveTheMTUAreDropped() {
        var spec = LinkSpec(from: "a", to: "b")
        spec.mtu = 1_200
        var link = Link(spec: spec, random: SeededRandom(seed: 1))
        guard case .dropped(.mtu) = link.send([UInt8](repeating: 0, count: 1_201), now: t0) else { Issue.record("not dropped"); return }
        #expect(!arrivals(link.send([UInt8](repeating: 0, count: 1_200), now: t0)).isEmpty)
    }

    @Test func gilbertElliottLossComesInBursts() {
        var spec = LinkSpec(from: "a", to: "b")
        spec.burstLoss = BurstLoss(goodToBad: 0.01, badToGood: 0.25)
        var link = Link(spec: spec, random: SeededRandom(seed: 3))
        var lost = 0
        var runs = 0
        var previousLost = false
        for _ in 0..<100_000 {
            let isLost = if case .dropped(.burstLoss) = link.send([0], now: t0) { true } else { false }
            if isLost { lost += 1 }
            if isLost && !previousLost { runs += 1 }
            previousLost = isLost
        }
        // Stationary loss 0.01 / (0.01 + 0.25) ≈ 3.8 %, mean burst 1 / 0.25 = 4.
        #expect((3_000...4_700).contains(lost), "lost \(lost)")
        let meanBurst = Double(lost) / Double(runs)
        #expect((3.2...4.8).contains(meanBurst), "mean burst \(meanBurst)")
    }

    @Test func theEventQueueBreaksTiesByInsertionOrder() {
        var queue = EventQueue<Int>()
        for (i, ms) in [5, 1, 5, 3, 1, 5].enumerated() { queue.schedule(i, at: t0 + .milliseconds(ms)) }
        var order: [Int] = []
        while let (_, payload) = queue.popDue(at: .distantFuture) { order.append(payload) }
        #expect(order == [1, 4, 3, 0, 2, 5])
    }
}
