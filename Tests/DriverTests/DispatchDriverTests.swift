#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import SecureStreams
import SecureStreamsDispatch
import Testing

/// Two endpoints on two `DispatchDriver`s over the real loopback: handshake,
/// bulk transfers checked byte by byte, IPv6 and dual-stack, GSO/GRO on and
/// off, shutdown, garbage. Serialized: the machine is small and shared.
@Suite(.serialized) struct DispatchDriverTests {
    struct Outcome {
        var completed: Bool
        var received: [BulkReceiver.Received]
        var serverSawClientAt: PeerAddress?
        var seconds: Double
        var client: DispatchDriverStatistics
        var server: DispatchDriverStatistics
        var serverDrops: DropCounters?

        func isIntact(streams: Int, bytesPerStream: Int) -> Bool {
            received.count == streams
                && received.allSatisfy { $0.finished && $0.mismatches == 0 && $0.count == bytesPerStream }
                && Set(received.compactMap(\.index)) == Set(0..<streams)
        }
    }

    /// Runs one transfer from a client bound to `clientBinding` to a server
    /// bound to `serverBinding`, reached at `target(server's local address)`.
    func transfer(
        server serverBinding: PeerAddress, client clientBinding: PeerAddress,
        target: (PeerAddress) -> PeerAddress = { $0 }, streams: Int, bytesPerStream: Int,
        factory: DispatchDriverFactory = DispatchDriverFactory(), beforeConnecting: (PeerAddress) -> Void = { _ in }
    ) throws -> Outcome {
        let receiver = BulkReceiver(streams: streams)
        let sender = BulkSender(streams: streams, bytesPerStream: bytesPerStream)
        let server = try DispatchPeer(binding: serverBinding, factory: factory, listening: true,
                                      handler: receiver.handle)
        let client = try DispatchPeer(binding: clientBinding, factory: factory, handler: sender.handle)
        let destination = target(server.driver.localAddress)
        beforeConnecting(destination)
        client.connect(to: server.endpointID, at: destination)
        let completed = receiver.done.wait(timeout: .now() + .seconds(120)) == .success
        let drops = onLoop(server.driver) { $0.endpoint.statistics.drops }
        client.driver.shutdown()
        server.driver.shutdown()
        var seconds = 0.0
        if let start = sender.connectedAt, let end = receiver.finishedAt, end > start {
            seconds = Double(end.nanoseconds - start.nanoseconds) / 1e9
        }
        return Outcome(completed: completed, received: Array(receiver.received.values),
                       serverSawClientAt: receiver.peerAddress, seconds: seconds,
                       client: client.driver.statistics, server: server.driver.statistics, serverDrops: drops)
    }

    @Test func eightMegabytesOverFourStreamsArriveByteExact() throws {
        let outcome = try transfer(server: .loopback(), client: .loopback(), streams: 4, bytesPerStream: 2 << 20)
        #expect(outcome.completed, "transfer stalled: \(outcome.received)")
        #expect(outcome.isIntact(streams: 4, bytesPerStream: 2 << 20), "\(outcome.received)")
        #expect(outcome.serverSawClientAt?.family == .ipv4)
        #expect(outcome.client.datagramsSent > 0 && outcome.server.datagramsReceived > 0)
        #expect(outcome.client.sendBatches > 0 && outcome.server.receiveBatches > 0)
        #expect(outcome.client.sendErrors == 0 && outcome.server.sendErrors == 0)
        if outcome.seconds > 0 {
            let megabytes = Double(8 << 20) / 1e6
            print("DispatchDriver loopback: 8 MiB in \(outcome.seconds) s = \(megabytes / outcome.seconds) MB/s;",
                  "GSO \(outcome.client.isGSOActive) (\(outcome.client.gsoSends) GSO sends),",
                  "GRO \(outcome.server.isGROActive) (\(outcome.server.coalescedReceives) coalesced receives),",
                  "client \(outcome.client), server \(outcome.server)")
        }
    }

    @Test(arguments: [true, false])
    func gsoAndGROOnAndOffBothDeliver(enabled: Bool) throws {
        let factory = DispatchDriverFactory(enableGSO: enabled, enableGRO: enabled)
        let outcome = try transfer(server: .loopback(), client: .loopback(), streams: 2, bytesPerStream: 1 << 20,
                                   factory: factory)
        #expect(outcome.completed)
        #expect(outcome.isIntact(streams: 2, bytesPerStream: 1 << 20), "\(outcome.received)")
        if enabled {
            if outcome.client.isGSOActive { #expect(outcome.client.gsoSends > 0, "GSO active but never used") }
        } else {
            #expect(!outcome.client.isGSOActive && !outcome.server.isGROActive)
            #expect(outcome.client.gsoSends == 0 && outcome.server.gsoSends == 0)
            #expect(outcome.server.coalescedReceives == 0 && outcome.client.coalescedReceives == 0)
        }
    }

    @Test(.enabled(if: dispatchHasIPv6Loopback, "this machine has no IPv6 loopback ([::1] cannot be bound)"))
    func ipv6Loopback() throws {
        let outcome = try transfer(server: .loopback(.ipv6), client: .loopback(.ipv6),
                                   streams: 2, bytesPerStream: 256 << 10)
        #expect(outcome.completed)
        #expect(outcome.isIntact(streams: 2, bytesPerStream: 256 << 10))
        #expect(outcome.serverSawClientAt == nil || outcome.serverSawClientAt?.family == .ipv6)
    }

    @Test(.enabled(if: dispatchHasIPv6Loopback, "this machine has no IPv6 (a dual-stack socket needs it)"))
    func dualStackServerReachedByIPv4Client() throws {
        let outcome = try transfer(server: .any(.ipv6), client: .loopback(),
                                   target: { .loopback(.ipv4, port: $0.port) }, streams: 2, bytesPerStream: 256 << 10)
        #expect(outcome.completed)
        #expect(outcome.isIntact(streams: 2, bytesPerStream: 256 << 10))
        // The dual-stack socket reports ::ffff:127.0.0.1; the driver names it 127.0.0.1.
        #expect(outcome.serverSawClientAt?.family == .ipv4)
        #expect(outcome.server.sendErrors == 0)
    }

    @Test func garbageIsCountedAsDropsAndBreaksNothing() throws {
        var sent = 0
        let outcome = try transfer(server: .loopback(), client: .loopback(), streams: 1,
                                   bytesPerStream: 128 << 10) { server in sent = sendGarbage(to: server) }
        #expect(sent == 64)
        #expect(outcome.completed)
        #expect(outcome.isIntact(streams: 1, bytesPerStream: 128 << 10))
        #expect((outcome.serverDrops?.total ?? 0) >= UInt64(sent), "drops \(String(describing: outcome.serverDrops))")
        #expect(outcome.server.receiveErrors == 0)
    }

    @Test func shutdownIsIdempotentFromAnyThreadAndDropsLaterBodies() throws {
        let peer = try DispatchPeer(binding: .loopback())
        let address = peer.driver.localAddress
        #expect(address.port != 0)
        let driver = peer.driver
        let ranAfterShutdown = Locked(false)
        // From the loop thread: returns at once (no deadlock); the body queued after it is dropped.
        let shutDownOnLoop = onLoop(driver) { _ in
            driver.shutdown()
            driver.shutdown()
            driver.execute { _ in ranAfterShutdown.withLock { $0 = true } }
            return true
        }
        #expect(shutDownOnLoop == true)
        driver.shutdown()  // from another thread: waits for the close, idempotent
        driver.shutdown()
        driver.execute { _ in ranAfterShutdown.withLock { $0 = true } }
        #expect(driver.statistics.bodiesDropped == 2)
        #expect(ranAfterShutdown.withLock { $0 } == false)
        #expect(driver.localAddress == address)
        // The port is free again: the socket was closed.
        let again = try DispatchPeer(binding: address)
        again.driver.shutdown()
    }

    @Test func statisticsReportSocketBuffers() throws {
        let peer = try DispatchPeer(binding: .loopback())
        let statistics = peer.driver.statistics
        peer.driver.shutdown()
        #expect(statistics.receiveBufferBytes > 0 && statistics.sendBufferBytes > 0)
    }

    @Test func bindingAnAddressInUseThrows() throws {
        let peer = try DispatchPeer(binding: .loopback())
        defer { peer.driver.shutdown() }
        #expect(throws: DispatchDriverError.self) {
            _ = try DispatchPeer(binding: peer.driver.localAddress)
        }
    }
}

/// Sends 64 datagrams of seeded junk (sizes 1 to 60,000) from a plain socket; returns how many left.
private func sendGarbage(to destination: PeerAddress) -> Int {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var generator = SeededRandom(seed: TestSeeds.seed(0x6A_B4_6E, filter: "garbageIsCountedAsDropsAndBreaksNothing"))
    var sent = 0
    for index in 0..<64 {
        let size = [1, 7, 40, 200, 1_200, 1_350, 9_000, 60_000][index % 8]
        var bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        if index % 4 == 1 { bytes[0] = 0 }  // some with plausible-looking first bytes
        let result = destination.withSocketAddress { name, length in
            bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, name, length) }
        }
        if result == size { sent += 1 }
    }
    return sent
}
