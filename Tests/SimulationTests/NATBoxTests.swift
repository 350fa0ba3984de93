import SecureStreamsCore
@testable import SecureStreamsSimulator
import Testing

/// The NAT model on its own, one RFC 4787 behaviour at a time.
@Suite struct NATBoxTests {
    let inside = PeerAddress(ipv4: 192, 168, 1, 2, port: 40_000)
    let server = PeerAddress(ipv4: 203, 0, 113, 10, port: 7_000)
    let serverOtherPort = PeerAddress(ipv4: 203, 0, 113, 10, port: 7_001)
    let otherServer = PeerAddress(ipv4: 203, 0, 113, 11, port: 7_000)
    let t0 = Timestamp(nanoseconds: 1_000_000_000)

    func box(_ mapping: NATBehavior, _ filtering: NATBehavior, ports: PortAssignment = .preserving,
             hairpinning: Bool = true) -> NATBox {
        NATBox(spec: NATSpec(name: "nat", publicAddress: PeerAddress(ipv4: 198, 51, 100, 1, port: 0), mapping: mapping,
                             filtering: filtering, portAssignment: ports, bindingTimeout: .seconds(30), hairpinning: hairpinning),
               random: SeededRandom(seed: 1))
    }

    func send(_ nat: inout NATBox, from: PeerAddress, to: PeerAddress, at now: Timestamp) -> PeerAddress? {
        guard case .toOutside(let out) = nat.outbound(Datagram(source: from, destination: to, bytes: [1]), now: now) else { return nil }
        return out.source
    }

    func admits(_ nat: inout NATBox, from: PeerAddress, to: PeerAddress, at now: Timestamp) -> Bool {
        if case .toInside = nat.inbound(Datagram(source: from, destination: to, bytes: [1]), now: now) { return true }
        return false
    }

    @Test func endpointIndependentMappingReusesOnePortAndPreservesIt() throws {
        var nat = box(.endpointIndependent, .endpointIndependent)
        let first = try #require(send(&nat, from: inside, to: server, at: t0))
        let second = try #require(send(&nat, from: inside, to: otherServer, at: t0))
        #expect(first == second && first.port == inside.port)
        #expect(admits(&nat, from: PeerAddress(ipv4: 1, 2, 3, 4, port: 9), to: first, at: t0))
    }

    @Test func addressAndPortDependentMappingGivesEachDestinationItsOwnPort() throws {
        var nat = box(.addressAndPortDependent, .addressAndPortDependent, ports: .sequential)
        let first = try #require(send(&nat, from: inside, to: server, at: t0))
        let second = try #require(send(&nat, from: inside, to: serverOtherPort, at: t0))
        #expect(first.port == 49_152 && second.port == 49_153)
        #expect(admits(&nat, from: server, to: first, at: t0))
        #expect(!admits(&nat, from: serverOtherPort, to: first, at: t0))
    }

    @Test func addressDependentFilteringAdmitsAnyPortOfAContactedAddress() throws {
        var nat = box(.endpointIndependent, .addressDependent)
        let mapped = try #require(send(&nat, from: inside, to: server, at: t0))
        #expect(admits(&nat, from: serverOtherPort, to: mapped, at: t0))
        #expect(!admits(&nat, from: otherServer, to: mapped, at: t0))
    }

    @Test func aMappingExpiresAfterItsBindingTimeoutWithoutOutboundTraffic() throws {
        var nat = box(.endpointIndependent, .endpointIndependent)
        let mapped = try #require(send(&nat, from: inside, to: server, at: t0))
        #expect(admits(&nat, from: server, to: mapped, at: t0 + .seconds(30)))
        #expect(!admits(&nat, from: server, to: mapped, at: t0 + .seconds(31)))
    }

    @Test func hairpinningLoopsBackOnlyWhenEnabled() throws {
        for enabled in [true, false] {
            var nat = box(.endpointIndependent, .endpointIndependent, hairpinning: enabled)
            let neighbour = PeerAddress(ipv4: 192, 168, 1, 3, port: 50_000)
            let neighbourPublic = try #require(send(&nat, from: neighbour, to: server, at: t0))
            let verdict = nat.outbound(Datagram(source: inside, destination: neighbourPublic, bytes: [1]), now: t0)
            if case .toInside(let looped, let host) = verdict {
                #expect(enabled && host == neighbour && looped.source.ipBytes == [198, 51, 100, 1])
            } else {
                #expect(!enabled)
            }
        }
    }

    @Test func rebindingMovesTheMappingToANewPortOrAddress() throws {
        var nat = box(.endpointIndependent, .endpointIndependent)
        let before = try #require(send(&nat, from: inside, to: server, at: t0))
        nat.rebindPorts(now: t0)
        let afterPort = try #require(send(&nat, from: inside, to: server, at: t0))
        #expect(afterPort.port != before.port && afterPort.ipBytes == before.ipBytes)
        #expect(!admits(&nat, from: server, to: before, at: t0))
        nat.rebindAddress()
        let afterAddress = try #require(send(&nat, from: inside, to: server, at: t0))
        #expect(afterAddress.ipBytes == [198, 51, 100, 2] && afterAddress.port == afterPort.port)
    }
}
