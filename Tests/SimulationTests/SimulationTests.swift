import SecureStreamsCore
import SecureStreamsSimulator
import Testing

/// Scenarios built in code: a client and a server on the internet, or a
/// client behind a NAT, over a 20 Mbit/s, 20 ms path.
enum Scenarios {
    static let serverAddress = PeerAddress(ipv4: 203, 0, 113, 10, port: 7_000)
    static let clientAddress = PeerAddress(ipv4: 192, 168, 1, 2, port: 40_000)

    static func path(_ configure: (inout LinkSpec) -> Void = { _ in }) -> LinkSpec {
        var link = LinkSpec(from: "client", to: internetNodeName)
        link.delay = .milliseconds(10)
        link.bandwidth = 20_000_000
        link.queuePackets = 200
        configure(&link)
        return link
    }

    static func bulk(name: String, bytes: Int = 1_000_000, streams: Int = 2, behind nat: NATSpec? = nil,
                     link configure: (inout LinkSpec) -> Void = { _ in }, events: [TimedEvent] = [],
                     criteria: Criteria = Criteria()) -> Scenario {
        let client = HostSpec(name: "client", address: clientAddress,
                              role: .client(server: "server", workload: [.bulk(bytes: bytes, streams: streams)]),
                              behind: nat?.name)
        let server = HostSpec(name: "server", address: serverAddress, role: .server)
        let first = nat?.name ?? "client"
        let up = path { $0.from = first; configure(&$0) }
        var links = [up, up.reversed]
        if nat != nil {
            var lan = LinkSpec(from: "client", to: first)
            lan.delay = .milliseconds(1)
            links += [lan, lan.reversed]
        }
        return Scenario(name: name, seed: 7, budget: .seconds(120), hosts: [client, server],
                        nats: nat.map { [$0] } ?? [], links: links, events: events, criteria: criteria)
    }

    static func nat(mapping: NATBehavior, filtering: NATBehavior, ports: PortAssignment = .preserving) -> NATSpec {
        NATSpec(name: "nat", publicAddress: PeerAddress(ipv4: 198, 51, 100, 1, port: 0), mapping: mapping,
                filtering: filtering, portAssignment: ports, bindingTimeout: .seconds(120), hairpinning: true)
    }
}

func expectSuccess(_ verdict: Verdict, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(verdict.outcome == .success, "\(verdict)", sourceLocation: sourceLocation)
}

@Suite struct SimulationTests {
    @Test func bulkTransferOverACleanLinkSucceeds() {
        let verdict = Simulation.run(Scenarios.bulk(name: "clean", bytes: 2_000_000, streams: 4))
        expectSuccess(verdict)
        #expect(verdict.statistics.completion != nil)
        #expect(verdict.statistics.goodput > 1_000_000, "\(verdict)")
        #expect(verdict.statistics.drops.allSatisfy { $0.cause == "link:queueFull" }, "\(verdict)")
    }

    @Test(arguments: [0.01, 0.10])
    func bulkTransferSurvivesRandomLoss(loss: Double) {
        let verdict = Simulation.run(Scenarios.bulk(name: "loss-\(loss)") { $0.loss = loss })
        expectSuccess(verdict)
        #expect(verdict.statistics.bytesRetransmitted > 0, "\(verdict)")
    }

    @Test func bulkTransferSurvivesATwoSecondBlackhole() {
        let blackhole = TimedEvent(at: .milliseconds(300), .blackhole(link: "client<->internet", duration: .seconds(2)))
        let verdict = Simulation.run(Scenarios.bulk(name: "blackhole", events: [blackhole]))
        expectSuccess(verdict)
        let completion = verdict.statistics.completion ?? .zero
        #expect(completion > .milliseconds(2_300), "\(verdict)")
        #expect(verdict.statistics.drops.contains { $0.cause == "link:down" }, "\(verdict)")
    }

    @Test(arguments: NATBehavior.allCases)
    func bulkTransferThroughAClientNAT(kind: NATBehavior) {
        let nat = Scenarios.nat(mapping: kind, filtering: kind, ports: kind == .addressDependent ? .random : .sequential)
        let verdict = Simulation.run(Scenarios.bulk(name: "nat-\(kind)", behind: nat))
        expectSuccess(verdict)
        #expect(verdict.statistics.natMappings == 1, "\(verdict)")
    }

    @Test(arguments: [TimedEvent.Action.natRebindPort(nat: "nat"), .natRebindAddress(nat: "nat")])
    func bulkTransferSurvivesANATRebinding(rebinding: TimedEvent.Action) {
        let nat = Scenarios.nat(mapping: .addressAndPortDependent, filtering: .addressAndPortDependent)
        let verdict = Simulation.run(Scenarios.bulk(name: "rebinding", behind: nat,
                                                    events: [TimedEvent(at: .milliseconds(250), rebinding)]))
        expectSuccess(verdict)
        #expect(verdict.statistics.pathChanges >= 1, "\(verdict)")
    }

    @Test func sameSeedGivesTheSameTraceAndAnotherSeedDoesNot() {
        let scenario = Scenarios.bulk(name: "determinism", bytes: 500_000) {
            $0.loss = 0.02
            $0.jitter = .milliseconds(3)
            $0.reorderProbability = 0.02
            $0.duplicate = 0.01
            $0.corrupt = 0.01
        }
        let first = Simulation.run(scenario, seed: 11)
        let second = Simulation.run(scenario, seed: 11)
        let other = Simulation.run(scenario, seed: 12)
        expectSuccess(first)
        #expect(first.statistics.traceHash == second.statistics.traceHash)
        #expect(first.statistics.completion == second.statistics.completion)
        #expect(first.statistics.datagramsDelivered == second.statistics.datagramsDelivered)
        #expect(first.statistics.traceHash != other.statistics.traceHash)
    }

    @Test func anImpossibleGoodputCriterionIsACorrectnessFailure() {
        let criteria = Criteria(minGoodput: 200_000_000)  // 10× the 20 Mbit/s link
        let verdict = Simulation.run(Scenarios.bulk(name: "greedy", bytes: 500_000, criteria: criteria), file: "greedy.json")
        #expect(verdict.outcome == .correctnessFailure, "\(verdict)")
        #expect(verdict.exitCode == 4)
        #expect(verdict.details.contains { $0.hasPrefix("criterion: goodput") }, "\(verdict)")
        #expect(verdict.details.last == "replay: sss sim run greedy.json --seed 7")
    }

    @Test func aZeroBandwidthLinkIsALivenessFailure() {
        var scenario = Scenarios.bulk(name: "no-bandwidth", bytes: 100_000) { $0.bandwidth = 0 }
        scenario.budget = .seconds(30)
        let verdict = Simulation.run(scenario)
        #expect(verdict.outcome == .livenessFailure, "\(verdict)")
        #expect(verdict.exitCode == 3)
    }

    @Test func aPermanentlyDownLinkIsALivenessFailure() {
        let down = TimedEvent(at: .zero, .linkDown(link: "client->internet"))
        let verdict = Simulation.run(Scenarios.bulk(name: "down", bytes: 100_000, events: [down]))
        #expect(verdict.outcome == .livenessFailure, "\(verdict)")
        #expect(verdict.statistics.completion == nil)
    }

    @Test func aDownLinkMidTransferForLongerThanTheIdleTimeoutIsALivenessFailure() {
        let down = TimedEvent(at: .milliseconds(200), .linkDown(link: "client<->internet"))
        let verdict = Simulation.run(Scenarios.bulk(name: "cut", events: [down]))
        #expect(verdict.outcome == .livenessFailure, "\(verdict)")
        #expect(verdict.details.first?.contains("before the workload finished") == true, "\(verdict)")
    }
}
