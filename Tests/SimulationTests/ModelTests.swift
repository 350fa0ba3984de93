import SecureStreamsCore
import SecureStreamsSimulator
import Testing

/// Checks of the core's congestion control against known models, in the
/// simulator (docs/SIMULATOR.md, "Model checks"). Fixed seeds, virtual time
/// only; each prints its measured-versus-model row (`swift test --filter ModelTests`).
enum ModelScenarios {
    static let server = PeerAddress(ipv4: 203, 0, 113, 10, port: 7_000)

    static func client(_ index: Int) -> PeerAddress { PeerAddress(ipv4: 192, 168, 1, UInt8(2 + index), port: 40_000) }

    /// One client and one server; the client's uplink has `bandwidth`, a
    /// drop-tail queue of `queuePackets`, `oneWay` delay and random `loss`;
    /// the way back has the same delay and nothing else.
    static func singleFlow(name: String, bytes: Int, bandwidth: UInt64, oneWay: Duration, queuePackets: Int,
                           loss: Double = 0) -> Scenario {
        var up = LinkSpec(from: "client", to: internetNodeName)
        up.delay = oneWay
        up.bandwidth = bandwidth
        up.queuePackets = queuePackets
        up.loss = loss
        var down = LinkSpec(from: internetNodeName, to: "client")
        down.delay = oneWay
        let hosts = [
            HostSpec(name: "server", address: server, role: .server),
            HostSpec(name: "client", address: client(0), role: .client(server: "server", workload: [.bulk(bytes: bytes, streams: 1)])),
        ]
        return Scenario(name: name, budget: .seconds(600), hosts: hosts, links: [up, down])
    }

    /// Two clients sending to one server through a shared bottleneck: the
    /// link `internet->server`, `bandwidth` with a drop-tail queue of
    /// `queuePackets` and 10 ms of delay. Every other hop is 10 ms and
    /// unlimited, so both flows have a 40 ms base RTT. Each client runs its own
    /// `workload`.
    static func sharedBottleneck(name: String, bandwidth: UInt64, queuePackets: Int,
                                 workloads: [[WorkloadPhase]]) -> Scenario {
        var hosts = [HostSpec(name: "server", address: server, role: .server)]
        var links: [LinkSpec] = []
        for (index, workload) in workloads.enumerated() {
            let name = "client\(index + 1)"
            hosts.append(HostSpec(name: name, address: client(index), role: .client(server: "server", workload: workload)))
            var up = LinkSpec(from: name, to: internetNodeName)
            up.delay = .milliseconds(10)
            links += [up, up.reversed]
        }
        var bottleneck = LinkSpec(from: internetNodeName, to: "server")
        bottleneck.delay = .milliseconds(10)
        bottleneck.bandwidth = bandwidth
        bottleneck.queuePackets = queuePackets
        var back = LinkSpec(from: "server", to: internetNodeName)
        back.delay = .milliseconds(10)
        links += [bottleneck, back]
        return Scenario(name: name, budget: .seconds(600), hosts: hosts, links: links)
    }

    /// Jain's fairness index of `rates`: (Σx)² / (n · Σx²), 1 when all are equal, 1/n when one takes all.
    static func jainIndex(_ rates: [Double]) -> Double {
        let sum = rates.reduce(0, +)
        let squares = rates.reduce(0) { $0 + $1 * $1 }
        return squares > 0 ? sum * sum / (Double(rates.count) * squares) : 0
    }

    /// The Mathis et al. (1997) bound for a Reno-style sender under random
    /// loss `p`: MSS / RTT × C / √p with C = √(3/2) ≈ 1.22, in bits per second.
    static func mathis(mss: Int, rtt: Duration, loss: Double) -> Double {
        Double(mss * 8) / rtt.secondsValue * (1.5).squareRoot() / loss.squareRoot()
    }

    static func mbps(_ bitsPerSecond: Double) -> String { fixed(bitsPerSecond / 1e6) }

    static func milliseconds(_ duration: Duration) -> String { fixed(duration.secondsValue * 1e3) }

    /// Two decimals, no locale.
    static func fixed(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

@Suite struct ModelTests {
    /// One flow, a 20 Mbit/s bottleneck, 40 ms base RTT, a drop-tail buffer
    /// of one bandwidth-delay product (100 kB = 74 datagrams of 1350 bytes).
    /// "Once steady": over the second half of the transfer (by time, from the
    /// handshake's end to the last byte read), after slow start's overshoot
    /// and its recovery. The whole-transfer figure is printed too. Nothing in
    /// the scenario is random, so the seed only changes keys and bytes, not
    /// timing: one seed is all there is to run.
    @Test func aSingleFlowFillsABottleneckWithOneBandwidthDelayProductOfBuffer() throws {
        let seed: UInt64 = 1
        let bandwidth: UInt64 = 20_000_000
        let bdpPackets = Int(bandwidth / 8 * 40 / 1_000) / NewRenoFacts.maxDatagramSize
        let scenario = ModelScenarios.singleFlow(name: "bdp-buffer", bytes: 6_000_000, bandwidth: bandwidth,
                                                 oneWay: .milliseconds(20), queuePackets: bdpPackets)
        let verdict = Simulation.run(scenario, seed: seed, sampling: Sampling())
        expectSuccess(verdict)
        let flow = try #require(verdict.flows.first)
        let connected = try #require(flow.connectedAt)
        let done = try #require(flow.completedAt)
        let middle = connected + (done - connected) / 2
        let steady = try #require(flow.goodput(from: middle, to: done))
        let whole = try #require(flow.goodputAfterHandshake)
        print("BDP seed=\(seed) bottleneck=\(ModelScenarios.mbps(Double(bandwidth))) Mbit/s buffer=\(bdpPackets) packets "
              + "steady=\(ModelScenarios.mbps(steady)) Mbit/s (\(Int(steady / Double(bandwidth) * 100)) %) "
              + "whole-after-handshake=\(ModelScenarios.mbps(whole)) Mbit/s (\(Int(whole / Double(bandwidth) * 100)) %) "
              + "lost=\(verdict.statistics.packetsLost)")
        #expect(steady >= 0.9 * Double(bandwidth), "steady goodput \(steady) bit/s of \(bandwidth)\n\(verdict)")
    }

    /// NewReno under independent random loss `p` on the data direction only
    /// (acknowledgements are not lost), on a 100 Mbit/s link with a 40 ms
    /// base RTT and a deep queue, so loss and not the link limits: goodput
    /// after the handshake, averaged over three seeds, within ±40 % of
    /// Mathis's MSS / RTT × 1.22 / √p with MSS = 1350 (the datagram size
    /// the congestion window counts in) and RTT = the base RTT. The
    /// transfer carries about 25 / p datagrams, so about 25 losses a seed.
    @Test(arguments: [0.005, 0.01, 0.02])
    func newRenoUnderRandomLossFollowsTheMathisModel(loss: Double) throws {
        let rtt = Duration.milliseconds(40)
        let seeds: [UInt64] = [1, 2, 3]
        let bytes = Int(25 / loss) * 1_300
        var rates: [Double] = []
        var smoothed: [Duration] = []
        for seed in seeds {
            let scenario = ModelScenarios.singleFlow(name: "mathis", bytes: bytes, bandwidth: 100_000_000,
                                                     oneWay: rtt / 2, queuePackets: 10_000, loss: loss)
            let verdict = Simulation.run(scenario, seed: seed)
            expectSuccess(verdict)
            rates.append(try #require(verdict.flows.first?.goodputAfterHandshake))
            smoothed.append(verdict.statistics.smoothedRTT)
        }
        let measured = rates.reduce(0, +) / Double(rates.count)
        let model = ModelScenarios.mathis(mss: NewRenoFacts.maxDatagramSize, rtt: rtt, loss: loss)
        let ratio = measured / model
        print("MATHIS | \(loss * 100) % | \(ModelScenarios.milliseconds(rtt)) (srtt \(smoothed.map(ModelScenarios.milliseconds).joined(separator: ", "))) | "
              + "\(NewRenoFacts.maxDatagramSize) | \(ModelScenarios.mbps(model)) | \(ModelScenarios.mbps(measured)) "
              + "(\(rates.map(ModelScenarios.mbps).joined(separator: ", "))) | \(Int((ratio * 100).rounded())) % | "
              + "\(seeds.map(String.init).joined(separator: ", ")) | \(bytes) B")
        #expect(ratio >= 0.6 && ratio <= 1.4, "measured \(measured) bit/s, model \(model) bit/s, ratio \(ratio)")
    }

    /// Two flows through one 10 Mbit/s bottleneck (40 ms base RTT, a buffer
    /// of one bandwidth-delay product, 37 datagrams); the second starts 1 s
    /// after the first. "Converged": the second half of the time both flows
    /// are sending, from the second flow's start (its handshake plus its 1 s
    /// idle phase) to the moment the first of the two finishes. Jain's index
    /// over the two flows' goodputs in that window must be at least 0.9.
    /// As above, nothing here is random: one seed.
    @Test func twoFlowsShareABottleneckFairly() throws {
        let seed: UInt64 = 1
        let bandwidth: UInt64 = 10_000_000
        let scenario = ModelScenarios.sharedBottleneck(
            name: "fairness", bandwidth: bandwidth, queuePackets: 37,
            workloads: [[.bulk(bytes: 5_000_000, streams: 1)], [.idle(.seconds(1)), .bulk(bytes: 4_000_000, streams: 1)]])
        let verdict = Simulation.run(scenario, seed: seed, sampling: Sampling())
        expectSuccess(verdict)
        #expect(verdict.flows.count == 2)
        let start = try #require(verdict.flows[1].connectedAt) + .seconds(1)
        let end = try #require(verdict.flows.compactMap(\.completedAt).min())
        try #require(end > start, "the flows never overlapped\n\(verdict)")
        let from = start + (end - start) / 2
        let rates = try verdict.flows.map { try #require($0.goodput(from: from, to: end)) }
        let index = ModelScenarios.jainIndex(rates)
        print("FAIRNESS seed=\(seed) window=\(ModelScenarios.milliseconds(from))...\(ModelScenarios.milliseconds(end)) ms rates=\(rates.map(ModelScenarios.mbps).joined(separator: ", ")) Mbit/s "
              + "jain=\(Int((index * 1000).rounded())) ‰")
        #expect(index >= 0.9, "Jain's index \(index) over \(rates) bit/s\n\(verdict)")
    }

    @Test func jainsIndexOfKnownRates() {
        #expect(ModelScenarios.jainIndex([5, 5]) == 1)
        #expect(ModelScenarios.jainIndex([1, 0]) == 0.5)
        #expect(abs(ModelScenarios.jainIndex([2, 1]) - 0.9) < 1e-12)
    }
}

/// Facts about the core the models need.
enum NewRenoFacts {
    /// The datagram size the congestion window counts in (default configuration).
    static let maxDatagramSize = 1_350
}
