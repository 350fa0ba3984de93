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
        print(verdict)
        expectSuccess(verdict)
        #expect(verdict.statistics.completion != nil)
        #expect(verdict.statistics.goodput > 1_000_000, "\(verdict)")
        #expect(verdict.statistics.drops.allSatisfy { $0.cause == "link:queueFull" }, "\(verdict)")
    }
}
