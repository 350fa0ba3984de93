import SecureStreamsCore
@testable import SecureStreamsSimulator
import Testing

/// The knobs that let interop-runner cases be written as scenarios: drop
/// lists, impairment caps, corruption ranges, IPv6, client start times,
/// sequential connections, per-client criteria, endpoint settings, key
/// updates, cross traffic, and a run that goes on after a liveness failure.
@Suite struct InteropKnobTests {
    let t0 = Timestamp(nanoseconds: 1_000_000_000)

    static let server = HostSpec(name: "server", address: Scenarios.serverAddress, role: .server)

    static func client(_ name: String = "client", octet: UInt8 = 2, workload: [WorkloadPhase]) -> HostSpec {
        HostSpec(name: name, address: PeerAddress(ipv4: 192, 0, 2, octet, port: 40_000), role: .client(server: "server", workload: workload))
    }

    static func link(_ from: String, delayMs: Int = 15, _ configure: (inout LinkSpec) -> Void = { _ in }) -> [LinkSpec] {
        var link = LinkSpec(from: from, to: internetNodeName)
        link.delay = .milliseconds(delayMs)
        configure(&link)
        return [link, link.reversed]
    }

    @Test func aDropListDropsExactlyTheNamedDatagrams() {
        var spec = LinkSpec(from: "a", to: "b")
        spec.dropIndices = [0, 2, 3]
        var link = Link(spec: spec, random: SeededRandom(seed: 1))
        let dropped = (0..<6).map { _ in if case .dropped(.dropList) = link.send([1, 2, 3], now: t0) { true } else { false } }
        #expect(dropped == [true, false, true, true, false, false])
    }

    @Test func theCapLimitsImpairmentsInARow() {
        var spec = LinkSpec(from: "a", to: "b")
        spec.loss = 0.9
        spec.maxConsecutiveDrops = 2
        var link = Link(spec: spec, random: SeededRandom(seed: 5))
        var run = 0
        var longest = 0
        var lost = 0
        for _ in 0..<10_000 {
            if case .dropped(.loss) = link.send([0], now: t0) {
                run += 1
                lost += 1
            } else {
                run = 0
            }
            longest = max(longest, run)
        }
        #expect(longest == 2)
        #expect(lost > 6_000, "lost \(lost)")
    }

    @Test func corruptionStaysInItsByteRange() {
        var spec = LinkSpec(from: "a", to: "b")
        spec.corrupt = 1
        spec.corruptBytes = 4...7
        var link = Link(spec: spec, random: SeededRandom(seed: 9))
        let original = [UInt8](repeating: 0, count: 100)
        for _ in 0..<200 {
            guard case .deliver(let copies) = link.send(original, now: t0), let copy = copies.first else {
                Issue.record("not delivered")
                return
            }
            #expect(copy.corrupted)
            let changed = copy.bytes.indices.filter { copy.bytes[$0] != 0 }
            #expect(changed.count == 1 && (4...7).contains(changed[0]), "\(changed)")
        }
        // A datagram shorter than the range's start is left whole.
        guard case .deliver(let copies) = link.send([0, 0, 0], now: t0) else { return }
        #expect(copies.first?.corrupted == false && copies.first?.bytes == [0, 0, 0])
    }

    @Test func ipv6AddressesParseInBothForms() throws {
        let scenario = try ScenarioFile.parse(#"""
            {"name": "v6", "nats": [{"name": "n", "publicAddress": "2001:db8::1"}],
             "hosts": [{"name": "s", "address": "[2001:db8:0:0:0:0:0:10]:7000", "role": "server"},
                       {"name": "c", "address": "[fd00::2]:4000", "role": "client", "server": "s", "behind": "n",
                        "workload": [{"kind": "bulk", "bytes": 10}]}]}
            """#)
        #expect(scenario.hosts[0].address.description == "[2001:db8:0:0:0:0:0:10]:7000")
        #expect(scenario.hosts[1].address.ipBytes == [0xfd, 0] + [UInt8](repeating: 0, count: 13) + [2])
        #expect(scenario.nats[0].publicAddress.family == .ipv6)
        for bad in ["[2001:db8::1::2]:4", "2001:db8::1:4000", "[1:2:3:4:5:6:7:8:9]:4", "[12345::]:4", "[::1]:0"] {
            #expect(throws: ScenarioError.self, "\(bad)") {
                try ScenarioFile.parse(#"{"name": "n", "hosts": [{"name": "s", "address": "\#(bad)", "role": "server"}]}"#)
            }
        }
    }

    /// The root of the "55 ms per request at 30 ms RTT": the next request
    /// goes out the instant the previous response is complete.
    @Test func sequentialRequestsTakeOneRoundTripEach() {
        let client = Self.client(workload: [.requestResponse(count: 40, requestBytes: 100, responseBytes: 1_000)])
        let scenario = Scenario(name: "sequential", seed: 3, hosts: [Self.server, client], links: Self.link("client"))
        let verdict = Simulation.run(scenario)
        expectSuccess(verdict)
        guard let flow = verdict.flows.first, let connected = flow.connectedAt, let done = flow.completedAt else { return }
        // 40 round trips of 30 ms, plus at most 1 ms of slack per request.
        #expect(done - connected <= .milliseconds(40 * 31), "\(done - connected)")
    }

    @Test func clientsStartWhenToldAndRunTheirConnectionsInTurn() {
        var late = Self.client("late", octet: 3, workload: [.requestResponse(count: 2, requestBytes: 10, responseBytes: 1_000)])
        late.start = .milliseconds(700)
        late.connections = 3
        late.criteria.connectWithin = .milliseconds(100)
        let early = Self.client("early", workload: [.bulk(bytes: 50_000, streams: 2)])
        let scenario = Scenario(name: "turns", seed: 4, hosts: [Self.server, early, late],
                                links: Self.link("early") + Self.link("late"))
        let verdict = Simulation.run(scenario)
        expectSuccess(verdict)
        #expect(verdict.flows.map(\.client) == ["early", "late"])
        let flow = verdict.flows[1]
        #expect(flow.connectDurations.count == 3)
        #expect(flow.connectedAt.map { $0 >= .milliseconds(700) } == true)
        #expect(flow.deliveredBytes == 3 * 2 * 1_010)
    }

    @Test func aMissedClientCriterionNamesTheClient() {
        var client = Self.client(workload: [.bulk(bytes: 200_000, streams: 1)])
        client.criteria.completionWithin = .milliseconds(10)
        let scenario = Scenario(name: "strict", seed: 1, hosts: [Self.server, client], links: Self.link("client"))
        let verdict = Simulation.run(scenario)
        #expect(verdict.outcome == .correctnessFailure)
        #expect(verdict.details.first?.hasPrefix("criterion: client completes within") == true, "\(verdict)")
    }

    @Test func anApplicationKeyUpdateHappens() {
        var client = Self.client(workload: [.bulk(bytes: 20_000, streams: 1), .keyUpdate, .bulk(bytes: 20_000, streams: 1)])
        client.criteria.minKeyUpdates = 1
        let scenario = Scenario(name: "key-update", seed: 2, hosts: [Self.server, client], links: Self.link("client"))
        let verdict = Simulation.run(scenario)
        expectSuccess(verdict)
        #expect((verdict.flows.first?.keyUpdates ?? 0) >= 1)
    }

    @Test func endpointSettingsReachTheEndpoint() throws {
        let scenario = try ScenarioFile.parse(#"""
            {"name": "e", "hosts": [{"name": "s", "address": "1.2.3.4:5", "role": "server",
              "endpoint": {"alwaysRequireCookie": true, "initialMaxStreams": 7, "idleTimeoutSeconds": 3, "keyUpdatePackets": 99}}]}
            """#)
        var keys = SeededRandom(seed: 1)
        let applied = scenario.hosts[0].endpoint.applied(to: EndpointConfiguration(identity: HostIdentity(using: &keys)))
        #expect(applied.alwaysRequireCookie && applied.initialMaxStreams == 7 && applied.idleTimeout == .seconds(3)
                && applied.keyUpdatePackets == 99)
    }

    /// One client's connection dies (its link goes down for good); the other
    /// client's dies later: both failures are reported, in order.
    @Test func aLivenessFailureDoesNotHideTheNextOne() {
        var first = Self.client("first", workload: [.bulk(bytes: 10_000_000, streams: 1)])
        first.endpoint.idleTimeout = .seconds(2)
        var second = Self.client("second", octet: 3, workload: [.bulk(bytes: 10_000_000, streams: 1)])
        second.endpoint.idleTimeout = .seconds(2)
        let scenario = Scenario(name: "two-failures", seed: 1, hosts: [Self.server, first, second],
                                links: Self.link("first") { $0.bandwidth = 5_000_000 } + Self.link("second") { $0.bandwidth = 5_000_000 },
                                events: [TimedEvent(at: .milliseconds(300), .linkDown(link: "first<->internet")),
                                         TimedEvent(at: .milliseconds(3_000), .linkDown(link: "second<->internet"))])
        let verdict = Simulation.run(scenario)
        #expect(verdict.outcome == .livenessFailure)
        #expect(verdict.details.count >= 2, "\(verdict)")
        #expect(verdict.details.first?.hasPrefix("first: connection closed") == true, "\(verdict)")
        #expect(verdict.details.dropFirst().first?.hasPrefix("second: connection closed") == true, "\(verdict)")
    }

    @Test func renoHalvesAndCubicKeepsSeventyPercentOnALoss() {
        for (model, factor) in [(CrossFlowSpec.CongestionModel.reno, 0.5), (.cubic, 0.7)] {
            var tcp = TCPModel(model: model)
            var sequences: [UInt64] = []
            for _ in 0..<tcp.sendable { sequences.append(tcp.sent(now: t0)) }
            // Three packets after the first are acknowledged: the first is lost.
            for sequence in sequences[1...3] { tcp.acknowledged(sequence, now: t0 + .milliseconds(30)) }
            #expect(tcp.packetsLost == 1)
            // Slow start reached 10 + 3 before the loss was seen.
            #expect(abs(tcp.congestionWindow - 13 * factor) < 0.01, "\(model): \(tcp.congestionWindow)")
        }
    }

    @Test func crossTrafficSharesTheBottleneckAndIsCounted() throws {
        var client = Self.client(workload: [.bulk(bytes: 500_000, streams: 1)])
        client.start = .milliseconds(300)
        var flow = CrossFlowSpec(name: "reno", kind: .tcp(.reno), from: "client", to: "server", port: 9_000)
        flow.duration = .seconds(5)
        var scenario = Scenario(name: "cross", seed: 6, hosts: [Self.server, client], links: Self.link("client") {
            $0.bandwidth = 10_000_000
            $0.queuePackets = 25
        })
        scenario.crossTraffic = [flow]
        let verdict = Simulation.run(scenario)
        expectSuccess(verdict)
        let figures = try #require(verdict.statistics.crossFlows.first)
        #expect(figures.packetsDelivered > 100 && figures.packetsLost > 0, "\(figures)")
        #expect(figures.goodput > 1_000_000, "\(figures)")
        #expect(verdict.statistics.linkDrops.first { $0.link == "client->internet" }.map { $0.count > 0 } == true)
    }
}
