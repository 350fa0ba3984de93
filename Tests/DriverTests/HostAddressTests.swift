import Foundation
@testable import SecureStreams
import SecureStreamsDispatch
import SecureStreamsLibUV
import SecureStreamsPollExample
import Testing

/// The async API as a user meets it: the default binding is dual-stack (and
/// falls back to IPv4), an address family nobody can reach fails at once,
/// host names are resolved, a record over the peer's limit fails at once,
/// and a listener says whom it refused.
@Suite(.timeLimit(.minutes(3))) struct HostAddressTests {
    /// The three drivers a Host runs on, by name.
    enum DriverName: String, CaseIterable, Sendable {
        case dispatch, libuv, poll

        var factory: any DriverFactory {
            switch self {
            case .dispatch: DispatchDriverFactory()
            case .libuv: LibUVDriverFactory()
            case .poll: PollDriverFactory()
            }
        }
    }

    static func host(_ factory: any DriverFactory, bindingTo address: PeerAddress? = nil,
                     configure: @escaping @Sendable (inout EndpointConfiguration) -> Void = { _ in })
        throws -> SecureStreams.Host
    {
        try SecureStreams.Host(identity: HostTests.identity(), driver: factory, bindingTo: address,
                               configuration: HostConfiguration(configureEndpoint: {
                                   $0.keepAliveInterval = .seconds(5)
                                   configure(&$0)
                               }))
    }

    /// `client` sends a record to `server` (listening on `service`) at `address` and gets it back.
    static func exchange(_ client: SecureStreams.Host, _ server: SecureStreams.Host, at address: PeerAddress,
                         service: String) async throws {
        let listener = try await server.listen(service: service, protocols: ["v1"])
        async let accepted: Connection? = listener.first { _ in true }
        let connection = try await client.connect(to: server.endpointID, at: address, service: service, protocol: "v1")
        let serverSide = try #require(await accepted)
        let stream = try await connection.openStream()
        try await stream.writeRecord(Array(service.utf8))
        try await stream.finish()
        let incoming = try #require(await serverSide.incomingStreams.first { _ in true })
        #expect(try await incoming.readRecord() == Array(service.utf8))
        await connection.close()
    }

    @Test(arguments: DriverName.allCases)
    func theDefaultHostIsDualStackAndReachesIPv4AndIPv6Peers(_ driver: DriverName) async throws {
        try #require(dispatchHasIPv6Loopback, "this machine has no IPv6 loopback")
        let client = try Self.host(driver.factory)
        #expect(client.localAddress.family == .ipv6 && client.localAddress.ipBytes.allSatisfy { $0 == 0 },
                "\(client.localAddress)")
        let v4 = try Self.host(PollDriverFactory(), bindingTo: .loopback(.ipv4))
        let v6 = try Self.host(PollDriverFactory(), bindingTo: .loopback(.ipv6))
        try await Self.exchange(client, v4, at: v4.localAddress, service: "over-ipv4")
        try await Self.exchange(client, v6, at: v6.localAddress, service: "over-ipv6")
        // And the other way: a default host accepts IPv4 peers (seen by their plain IPv4 address).
        let server = try Self.host(driver.factory)
        let v4Client = try Self.host(PollDriverFactory(), bindingTo: .loopback(.ipv4))
        try await Self.exchange(v4Client, server, at: .loopback(.ipv4, port: server.localAddress.port),
                                service: "to-dual-stack")
        for host in [client, v4, v6, server, v4Client] { await host.shutdown() }
    }

    @Test func withoutIPv6TheDefaultHostFallsBackToIPv4() async throws {
        let factory = NoIPv6Factory(wrapped: PollDriverFactory())
        let host = try Self.host(factory)
        #expect(host.localAddress.family == .ipv4 && host.localAddress.ipBytes == [0, 0, 0, 0])
        #expect(factory.attempts.withLock { $0 } == [.ipv6, .ipv4])
        // An IPv6 peer is out of reach, and it says so at once.
        let target = PeerAddress.loopback(.ipv6, port: 4433)
        let error = await #expect(throws: HostError.self) {
            try await host.connect(to: host.endpointID, at: target, service: "s", protocol: "p")
        }
        #expect(error?.kind == .addressFamilyUnreachable(local: host.localAddress, remote: target))
        await host.shutdown()
    }

    @Test(arguments: DriverName.allCases)
    func aHostBoundToOneIPv6AddressSaysAtOnceItCannotReachIPv4(_ driver: DriverName) async throws {
        try #require(dispatchHasIPv6Loopback, "this machine has no IPv6 loopback")
        let host = try Self.host(driver.factory, bindingTo: .loopback(.ipv6))
        let target = PeerAddress.loopback(.ipv4, port: 4433)
        #expect(!host.canReach(target) && host.canReach(.loopback(.ipv6, port: 9)))
        let error = await #expect(throws: HostError.self) {
            try await host.connect(to: host.endpointID, at: target, service: "s", protocol: "p")
        }
        #expect(error?.kind == .addressFamilyUnreachable(local: host.localAddress, remote: target))
        #expect(error.map { "\($0)" }?.contains("IPv4 address") == true, "\(String(describing: error))")
        await host.shutdown()
    }

    @Test func aHostNameIsResolvedInTheAsyncAPI() async throws {
        let server = try Self.host(PollDriverFactory(), bindingTo: .loopback(.ipv4))
        let listener = try await server.listen(service: "named", protocols: ["v1"])
        let client = try Self.host(DispatchDriverFactory())
        async let accepted: Connection? = listener.first { _ in true }
        let connection = try await client.connect(to: server.endpointID, host: "localhost", port: server.localAddress.port,
                                                  service: "named", protocol: "v1")
        #expect(connection.peer == server.endpointID)
        #expect(await accepted?.peer == client.endpointID)
        // Numeric text (bracketed or not) needs no lookup.
        #expect(try HostNameResolver.addresses(of: "[::1]", port: 7) == [.loopback(.ipv6, port: 7)])
        #expect(try HostNameResolver.addresses(of: "127.0.0.1", port: 7) == [.loopback(.ipv4, port: 7)])
        // Text that is no host name never reaches the resolver, and the error escapes it.
        let error = await #expect(throws: HostError.self) {
            try await client.connect(to: server.endpointID, host: "evil\u{1B}[31m.example", port: 1,
                                     service: "named", protocol: "v1")
        }
        guard case .nameNotResolved(let name, _)? = error?.kind else {
            Issue.record("expected nameNotResolved, got \(String(describing: error))")
            return
        }
        #expect(name == "evil\u{1B}[31m.example")
        #expect(error.map { "\($0)" }?.contains("evil\\u{1B}[31m.example") == true)
        await connection.close()
        await client.shutdown()
        await server.shutdown()
    }

    @Test func ofSeveralAddressesTheOneThatAnswersWins() async throws {
        let server = try Self.host(PollDriverFactory(), bindingTo: .loopback(.ipv4))
        let silent = try Self.host(PollDriverFactory(), bindingTo: .loopback(.ipv4))
        let deadAddress = silent.localAddress
        await silent.shutdown()  // nothing answers there any more
        let listener = try await server.listen(service: "s", protocols: ["p"])
        let client = try Self.host(PollDriverFactory(), bindingTo: .loopback(.ipv4),
                                   configure: { $0.handshakeTimeout = .seconds(20) })
        async let accepted: Connection? = listener.first { _ in true }
        // The dead address comes first: the live one is tried after the
        // stagger, long before the dead one's handshake would give up.
        let connection = try await client.connect(to: server.endpointID, anyOf: [deadAddress, server.localAddress],
                                                  service: "s", protocol: "p")
        #expect(connection.peer == server.endpointID)
        #expect(await connection.address() == server.localAddress)
        #expect(await accepted?.peer == client.endpointID)
        await connection.close()
        await client.shutdown()
        await server.shutdown()
    }

    @Test func aRecordOverThePeersLimitFailsAtOnceAndOneAtTheLimitArrivesWhole() async throws {
        let limit: UInt64 = 512 << 10
        let server = try Self.host(PollDriverFactory(), bindingTo: .loopback(), configure: { $0.maxStreamWindow = limit })
        let client = try Self.host(PollDriverFactory(), bindingTo: .loopback())
        let listener = try await server.listen(service: "records", protocols: ["v1"])
        async let accepted: Connection? = listener.first { _ in true }
        let connection = try await client.connect(to: server.endpointID, at: server.localAddress,
                                                  service: "records", protocol: "v1")
        #expect(connection.peerMaxRecordSize == limit)
        let serverSide = try #require(await accepted)
        #expect(serverSide.peerMaxRecordSize == 16 << 20, "the client announced the default")

        let stream = try await connection.openStream()
        let tooLarge = [UInt8](repeating: 1, count: Int(limit) + 1)
        let error = await #expect(throws: HostError.self) { try await stream.writeRecord(tooLarge) }
        #expect(error?.kind == .recordTooLarge(size: Int(limit) + 1, limit: limit))
        // Nothing of it was written: the stream goes on, and a record at the limit arrives whole.
        let atLimit = (0..<Int(limit)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try await stream.writeRecord(atLimit)
        try await stream.finish()
        let incoming = try #require(await serverSide.incomingStreams.first { _ in true })
        #expect(try await incoming.readRecord() == atLimit)
        #expect(try await incoming.readRecord() == nil)
        await connection.close()
        await client.shutdown()
        await server.shutdown()
    }

    @Test func aListenerSaysWhomItRefused() async throws {
        let server = try Self.host(PollDriverFactory(), bindingTo: .loopback())
        let stranger = try Self.host(PollDriverFactory(), bindingTo: .loopback())
        let listener = try await server.listen(service: "files", protocols: ["v1"], trust: .only([]))
        try await PeerTrustHostTests.expectRefused(stranger, by: server)
        var refusals = listener.refusals.makeAsyncIterator()
        let first = await refusals.next()
        let refused = try #require(first)
        #expect(refused == RefusedPeer(peer: stranger.endpointID, address: stranger.localAddress,
                                       service: "files", protocol: "v1"))
        await stranger.shutdown()
        await server.shutdown()
        let end = await refusals.next()
        #expect(end == nil, "the refusals end with the host")
    }
}

/// A driver factory on a system without IPv6: binding an IPv6 address fails.
final class NoIPv6Factory<Wrapped: DriverFactory>: DriverFactory {
    let wrapped: Wrapped
    /// The families asked for, in order.
    let attempts = Locked<[PeerAddress.Family]>([])

    init(wrapped: Wrapped) { self.wrapped = wrapped }

    struct Unavailable: Error {}

    func start(_ loop: EndpointLoop, binding address: PeerAddress) throws -> any Driver {
        attempts.withLock { $0.append(address.family) }
        guard address.family == .ipv4 else { throw Unavailable() }
        return try wrapped.start(loop, binding: address)
    }
}
