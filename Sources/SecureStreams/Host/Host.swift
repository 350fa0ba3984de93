public import SecureStreamsCore

/// How a ``Host`` is set up beyond its identity and driver.
public struct HostConfiguration: Sendable {
    /// Which peers the host trusts: who its listeners admit (by default)
    /// and the known-hosts pins of ``Host/connect(at:service:protocol:)``.
    public var trust: PeerTrust
    /// Adjusts the endpoint's settings (timeouts, windows, keepalive …).
    public var configureEndpoint: @Sendable (inout EndpointConfiguration) -> Void

    /// The trust-on-first-use pin file for ``Host/connect(at:service:protocol:)``
    /// (the ``trust``'s ``PeerTrust/knownHosts``); `nil`: no pinning (every
    /// key is accepted and nothing is remembered).
    public var knownHostsPath: String? {
        get { trust.knownHosts?.path }
        set { trust.knownHosts = newValue.map(KnownHosts.init(path:)) }
    }

    /// - Parameters:
    ///   - knownHostsPath: when given, replaces the pins of `trust`.
    ///   - trust: who listeners admit by default (anyone unless told).
    public init(
        knownHostsPath: String? = nil, trust: PeerTrust = .anyone,
        configureEndpoint: @escaping @Sendable (inout EndpointConfiguration) -> Void = { _ in }
    ) {
        self.trust = trust
        self.configureEndpoint = configureEndpoint
        if let knownHostsPath { self.knownHostsPath = knownHostsPath }
    }
}

/// A SecureStreams host: one identity on one UDP socket, run by a driver.
///
/// The host is the async face of the sans-IO `Endpoint`. Every call hops
/// onto the driver's loop thread (`Driver.execute`), acts on the endpoint
/// there, and suspends until the endpoint's events answer it. Nothing of the
/// endpoint is shared between threads, so the API is free of data races
/// under Swift 6 strict concurrency; `Host`, ``Connection`` and ``Stream``
/// are `Sendable` and may be used from any task.
///
/// ```swift
/// let host = try Host(identity: identity, driver: DispatchDriverFactory())
/// let connection = try await host.connect(to: eid, at: address, service: "files", protocol: "v1")
/// let stream = try await connection.openStream()
/// try await stream.writeRecord(Array("hello".utf8))
/// ```
public final class Host: Sendable {
    /// The host's name: the EID peers connect to.
    public let endpointID: EndpointID
    /// The bound address, with the port the kernel chose.
    public let localAddress: PeerAddress
    let runtime: Runtime
    private let trust: PeerTrust

    /// Binds a socket through `driver` and starts its loop.
    /// - Parameter address: where to bind. The default (`nil`) is dual-stack:
    ///   the IPv6 wildcard with `IPV6_V6ONLY` off and a port the kernel
    ///   chooses, so IPv4 and IPv6 peers both work; where the system has no
    ///   IPv6 (the driver cannot bind it, or cannot make it dual-stack) the
    ///   IPv4 wildcard instead. ``localAddress`` says which one was bound.
    /// - Throws: what the driver throws when the socket cannot be bound (for
    ///   the default, the IPv4 attempt's error).
    public init(
        identity: HostIdentity, driver: some DriverFactory, bindingTo address: PeerAddress? = nil,
        configuration: HostConfiguration = HostConfiguration()
    ) throws {
        let core = HostCore()
        let running: any Driver
        if let address {
            running = try Self.start(driver, binding: address, identity: identity, configuration: configuration, core: core)
        } else {
            do {
                running = try Self.start(driver, binding: .any(.ipv6), identity: identity,
                                         configuration: configuration, core: core)
            } catch {
                running = try Self.start(driver, binding: .any(.ipv4), identity: identity,
                                         configuration: configuration, core: core)
            }
        }
        let runtime = Runtime(core: core, driver: running)
        runtime.perform { _, core in core.runtime = runtime }
        self.runtime = runtime
        endpointID = identity.endpointID
        localAddress = running.localAddress
        trust = configuration.trust
    }

    /// A fresh endpoint on a loop that `driver` binds to `address`.
    private static func start(
        _ driver: some DriverFactory, binding address: PeerAddress, identity: HostIdentity,
        configuration: HostConfiguration, core: HostCore
    ) throws -> any Driver {
        var endpointConfiguration = EndpointConfiguration(identity: identity)
        configuration.configureEndpoint(&endpointConfiguration)
        // Time zero is before any clock reading of a driver, so the
        // endpoint's time never goes backwards whatever the driver's origin.
        let endpoint = Endpoint(configuration: endpointConfiguration, random: SystemRandom(), now: .zero)
        let loop = EndpointLoop(endpoint: endpoint)
        loop.eventHandler = { loop, event, _ in core.handle(event, loop: loop) }
        return try driver.start(loop, binding: address)
    }

    /// Connects to the host named `peer` at `address` with Noise IK (one
    /// round trip), for `(service, protocol)`.
    /// - Throws: ``HostError`` `.connectionFailed` (no answer after the
    ///   handshake's retries, a refused service, a wrong key), or
    ///   `CancellationError`.
    public func connect(
        to peer: EndpointID, at address: PeerAddress, service: String, protocol applicationProtocol: String
    ) async throws -> Connection {
        try await startConnection(peer: peer, at: address, service: service, protocol: applicationProtocol)
    }

    /// Connects by address alone with Noise XX, trusting on first use: the
    /// key the host presents the first time is pinned in the known-hosts
    /// file; a later different key is refused.
    /// - Throws: ``HostError`` `.keyMismatch` naming both EIDs and the pin's
    ///   line, `.connectionFailed`, `.knownHosts`, or `CancellationError`.
    public func connect(at address: PeerAddress, service: String, protocol applicationProtocol: String) async throws
        -> Connection
    {
        let pinned = try trust.pin(for: address)
        let connection = try await startConnection(peer: nil, at: address, service: service, protocol: applicationProtocol)
        do { try trust.confirmFirstUse(of: connection.peer, at: address, pinned: pinned) } catch {
            let reason = if case .keyMismatch = error.kind { "key mismatch" } else { "cannot pin the key" }
            await connection.close(code: .internalError, reason: reason)
            throw error
        }
        return connection
    }

    /// Accepts connections for `service` with any of `protocols`. Connections
    /// for a (service, protocol) nobody listens to are refused with a coded
    /// close. Ending the iteration (or dropping the listener) stops listening.
    /// - Parameter trust: who may connect (default: the host's
    ///   ``HostConfiguration/trust``); a peer it does not admit is closed
    ///   with `SERVICE_REFUSED` and reason ``PeerTrust/refusalReason``
    ///   before any stream opens, and never reaches the listener; the
    ///   listener's ``Listener/refusals`` says who it was.
    public func listen(service: String, protocols: [String], trust: PeerTrust? = nil) async throws -> Listener {
        let admission = trust ?? self.trust
        guard !service.isEmpty, !protocols.isEmpty, !protocols.contains(where: \.isEmpty) else {
            throw HostError(.command(.invalidName("listen needs a service and at least one protocol name")))
        }
        let (stream, continuation) = AsyncStream<Connection>.makeStream()
        let (refusals, refusalsContinuation) = AsyncStream<RefusedPeer>.makeStream(
            bufferingPolicy: .bufferingNewest(Listener.refusalsKept))
        let runtime = self.runtime
        continuation.onTermination = { _ in
            refusalsContinuation.finish()
            runtime.perform { loop, core in
                for name in protocols {
                    core.listeners[HostCore.ListenKey(service: service, applicationProtocol: name)] = nil
                    loop.endpoint.stopListening(service: service, protocol: name)
                }
            }
        }
        let _: Void = try await runtime.call { loop, core, done in
            loop.endpoint.handleWallClock(SystemWallClock.read(), now: loop.now)
            for name in protocols {
                core.listeners[HostCore.ListenKey(service: service, applicationProtocol: name)] =
                    HostCore.Listening(continuation: continuation, refusals: refusalsContinuation, trust: admission)
                loop.endpoint.listen(service: service, protocol: name)
            }
            done.resume()
        }
        return Listener(stream: stream, refusals: refusals)
    }

    /// The endpoint's statistics (datagrams, bytes, handshakes, drops by reason).
    public func statistics() async throws -> EndpointStatistics {
        try await runtime.call { loop, _, done in done.resume(returning: loop.endpoint.statistics) }
    }

    /// Closes every connection (peers learn it), fails every waiting call
    /// with ``HostError`` `.shutDown`, ends every sequence, then stops the
    /// driver. Idempotent.
    public func shutdown() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let accepted = runtime.close { loop, core in
                core.shutDown(loop: loop)
                done.resume()
            }
            if !accepted { done.resume() }
        }
        // The closes went out when that last body returned: a driver
        // flushes its transmits after every body.
        runtime.driver.shutdown()
    }

    private func startConnection(
        peer: EndpointID?, at address: PeerAddress, service: String, protocol applicationProtocol: String
    ) async throws -> Connection {
        // Say now, not as "no answer" after the handshake's retries, that
        // the socket cannot send there.
        guard canReach(address) else {
            throw HostError(.addressFamilyUnreachable(local: localAddress, remote: address))
        }
        return try await runtime.cancellableCall { loop, core, token, continuation in
            do throws(CommandError) {
                loop.endpoint.handleWallClock(SystemWallClock.read(), now: loop.now)
                let handle = try loop.endpoint.connect(
                    to: peer, at: address, service: service, protocol: applicationProtocol, now: loop.now)
                core.pendingConnects[handle] = HostCore.PendingConnect(
                    address: address, token: token, continuation: continuation)
            } catch {
                continuation.resume(throwing: HostError(error))
            }
        }
    }
}

extension Host {
    /// Whether this host's socket can send to `address` at all: an IPv4
    /// socket reaches no IPv6 address, and an IPv6 socket bound to one IPv6
    /// address (not the dual-stack wildcard) reaches no IPv4 address.
    public func canReach(_ address: PeerAddress) -> Bool {
        switch (localAddress.family, address.family) {
        case (.ipv4, .ipv4), (.ipv6, .ipv6): return true
        case (.ipv4, .ipv6): return false
        case (.ipv6, .ipv4): return localAddress.ipBytes.allSatisfy { $0 == 0 }
        }
    }
}

/// The connections accepted for a ``Host/listen(service:protocols:trust:)`` call.
public struct Listener: AsyncSequence, Sendable {
    public typealias Element = Connection
    let stream: AsyncStream<Connection>

    /// The peers the listener's ``PeerTrust`` refused, in the order they
    /// came (for a log line: print ``RefusedPeer/peer`` escaped, like any
    /// text about a peer). Ends when the listener ends. Unread, the newest
    /// ``refusalsKept`` are kept, so a stranger retrying in a loop costs
    /// bounded memory.
    public let refusals: AsyncStream<RefusedPeer>

    /// Refusals kept for a reader that has not read them yet: enough for a
    /// log to show a burst, bounded against a flood of strangers.
    public static let refusalsKept = 64

    public func makeAsyncIterator() -> AsyncStream<Connection>.Iterator { stream.makeAsyncIterator() }
}

/// A peer a listener refused because its ``PeerTrust`` does not admit it.
public struct RefusedPeer: Sendable, Equatable {
    /// The EID the peer authenticated as.
    public let peer: EndpointID
    /// Where its handshake came from (`nil` if the endpoint no longer knew).
    public let address: PeerAddress?
    /// The (service, protocol) it asked for.
    public let service: String
    public let `protocol`: String
}
