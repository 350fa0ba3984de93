import CLibUV
import Dispatch
import SecureStreams
import SecureStreamsCore
@testable import SecureStreamsLibUV
import Synchronization
import Testing

/// Two endpoints over real UDP sockets on LibUVDrivers. Every wait is
/// bounded generously and a timeout is a failure, never a timing check.
@Suite(.serialized) struct LibUVDriverTests {
    /// A client and a listening server, each on its own driver, with a
    /// transfer wired into their event handlers.
    struct Setup {
        let server: LibUVPeer
        let client: LibUVPeer
        let sender: LibUVSender
        let receiver: LibUVReceiver

        init(factory: LibUVDriverFactory = LibUVDriverFactory(), family: PeerAddress.Family = .ipv4,
             streams: Int, bytesPerStream: Int) throws {
            let sender = LibUVSender(streams: streams, bytesPerStream: bytesPerStream)
            let receiver = LibUVReceiver(streams: streams)
            server = try LibUVPeer(factory: factory, binding: .loopback(family), listens: true) { loop, event, _ in
                receiver.handle(loop, event)
            }
            client = try LibUVPeer(factory: factory, binding: .loopback(family)) { loop, event, _ in
                sender.handle(loop, event)
            }
            self.sender = sender
            self.receiver = receiver
        }

        func connect() { client.connect(to: server.id, at: server.address) }

        func shutdown() {
            client.driver.shutdown()
            server.driver.shutdown()
        }
    }

    @Test func handshakeThenEightMegabytesOverFourStreamsArriveByteExact() throws {
        let setup = try Setup(streams: 4, bytesPerStream: 2 << 20)
        defer { setup.shutdown() }
        setup.connect()
        #expect(setup.sender.connected.wait(), "the client never saw `connected`")
        #expect(setup.receiver.connected.wait(), "the server never saw `connected`")
        let done = setup.receiver.done.wait(seconds: 300)
        setup.shutdown()  // joins the loop threads: the receiver's state is safe to read
        #expect(done, "transfer stalled at \(setup.receiver.totalReceived) bytes")
        #expect(setup.receiver.totalReceived == 8 << 20)
        #expect(setup.receiver.received.values.allSatisfy { $0 == 2 << 20 })
        #expect(setup.receiver.mismatches == 0)

        let server = setup.server.driver.statistics
        let client = setup.client.driver.statistics
        #expect(setup.server.driver.usesRecvmmsg && setup.client.driver.usesRecvmmsg)
        #expect(server.receiveBatches > 0, "recvmmsg never returned a batch: \(server)")
        #expect(server.datagramsReceived > 5_000 && client.datagramsSent > 5_000)
        #expect(server.receiveErrors == 0 && client.sendErrors == 0 && server.truncatedDatagrams == 0)
        #if os(Linux)
        // sendmmsg exists here: the datagrams went out in batches, not one call each.
        #expect(client.sendBatches > 0 && client.sendBatches < client.datagramsSent, "\(client)")
        #endif
        #expect(setup.server.driver.loopCloseStatus == 0 && setup.client.driver.loopCloseStatus == 0)
    }

    /// Tiny kernel buffers make `uv_udp_try_send` more likely to answer
    /// `UV_EAGAIN` (loopback may still never block): whichever path each
    /// datagram took, the transfer is whole and the counters agree.
    @Test func tinySocketBuffersStillDeliverEverythingAndCountTheSlowPath() throws {
        var factory = LibUVDriverFactory()
        factory.socketBufferSize = 4_096
        let setup = try Setup(factory: factory, streams: 2, bytesPerStream: 512 << 10)
        defer { setup.shutdown() }
        setup.connect()
        #expect(setup.receiver.connected.wait())
        let done = setup.receiver.done.wait(seconds: 300)
        setup.shutdown()
        #expect(done, "stalled at \(setup.receiver.totalReceived) bytes")
        #expect(setup.receiver.mismatches == 0 && setup.receiver.totalReceived == 1 << 20)
        for driver in [setup.client.driver, setup.server.driver] {
            let stats = driver.statistics
            #expect(stats.queuedDatagrams + stats.queueDrops <= stats.wouldBlock * UInt64(LibUVDriverTests.maxSegments),
                    "datagrams queued without a would-block: \(stats)")
            #expect(stats.sendErrors == 0, "\(stats)")
        }
    }

    /// The slow path for real: every 7th send (a `uv_udp_try_send`, or a
    /// message of a sendmmsg batch) pretends `UV_EAGAIN`, so those datagrams
    /// go through copied `uv_udp_send` requests and their completions, the
    /// rest waiting behind them. Order and contents must survive.
    @Test func wouldBlockQueuesCopiesAndResumesWithoutLosingOrder() throws {
        var factory = LibUVDriverFactory()
        factory.injectedWouldBlockEvery = 7
        let setup = try Setup(factory: factory, streams: 2, bytesPerStream: 1 << 20)
        defer { setup.shutdown() }
        setup.connect()
        #expect(setup.receiver.connected.wait())
        let done = setup.receiver.done.wait(seconds: 300)
        setup.shutdown()
        #expect(done, "stalled at \(setup.receiver.totalReceived) bytes")
        #expect(setup.receiver.mismatches == 0 && setup.receiver.totalReceived == 2 << 20)
        let client = setup.client.driver.statistics
        #expect(client.wouldBlock > 100 && client.queuedDatagrams >= client.wouldBlock, "\(client)")
        #expect(client.queueDrops == 0 && client.sendErrors == 0, "\(client)")
        #if os(Linux)
        #expect(client.sendBatches > 0, "the batched path was not used: \(client)")
        #endif
    }

    /// Every handle's retain of the session is given back by its close
    /// callback: once the driver is shut down and dropped, the endpoint loop
    /// it owned is freed — in both modes.
    @Test func shutdownReleasesEverything() throws {
        weak var ownLoopEndpoint: EndpointLoop?
        weak var embeddedEndpoint: EndpointLoop?
        let caller = LibUVTestLoop()
        do {
            var random = SystemRandom()
            let configuration = EndpointConfiguration(identity: HostIdentity(using: &random))
            let first = EndpointLoop(endpoint: Endpoint(configuration: configuration, random: SystemRandom(),
                                                        now: LibUVDriver.now()))
            let second = EndpointLoop(endpoint: Endpoint(configuration: configuration, random: SystemRandom(),
                                                         now: LibUVDriver.now()))
            ownLoopEndpoint = first
            embeddedEndpoint = second
            let own = try LibUVDriverFactory().startDriver(first, binding: .loopback())
            let embedded = try LibUVDriverFactory(loop: caller.loop).startDriver(second, binding: .loopback())
            caller.start()
            own.shutdown()
            embedded.shutdown()
        }
        #expect(ownLoopEndpoint == nil, "the own-loop driver leaked its session")
        #expect(caller.stopAndJoin() == 0)
        #expect(embeddedEndpoint == nil, "the embedded driver leaked its session")
    }

    /// The most datagrams one transmit may hold (64 KiB of 1-byte segments is
    /// the extreme; the endpoint's segments are ~1,350 bytes).
    static let maxSegments = 65_536

    @Test func embeddingRunsBothDriversOnTheCallersLoopAndLeavesItRunning() throws {
        let caller = LibUVTestLoop()
        // Drivers are started before the caller's thread runs the loop (the thread rule).
        let setup = try Setup(factory: LibUVDriverFactory(loop: caller.loop), streams: 2, bytesPerStream: 256 << 10)
        caller.start()
        setup.connect()
        #expect(setup.sender.connected.wait() && setup.receiver.connected.wait())
        #expect(setup.receiver.done.wait(seconds: 120), "stalled at \(setup.receiver.totalReceived) bytes")
        #expect(setup.server.driver.loopCloseStatus == nil)
        setup.shutdown()
        setup.shutdown()
        #expect(setup.server.driver.isShutDown && setup.client.driver.isShutDown)
        // The loop was left running; it ends only once our handles are closed too,
        // and closes without UV_EBUSY: nothing of ours stayed open.
        #expect(caller.stopAndJoin() == 0)
        #expect(setup.receiver.mismatches == 0 && setup.receiver.totalReceived == 512 << 10)
    }

    @Test(.enabled(if: libUVIPv6LoopbackAvailable, "IPv6 loopback [::1] is not available here"))
    func ipv6AndDualStackServeIPv6AndIPv4Clients() throws {
        let connections = Atomic<Int>(0)
        let bothConnected = LibUVLatch()
        let server = try LibUVPeer(binding: .any(.ipv6), listens: true) { _, event, _ in
            if case .connected = event, connections.add(1, ordering: .relaxed).newValue == 2 { bothConnected.open() }
        }
        defer { server.driver.shutdown() }
        let port = server.address.port
        let six = LibUVLatch()
        let four = LibUVLatch()
        let client6 = try LibUVPeer(binding: .loopback(.ipv6)) { _, event, _ in
            if case .connected = event { six.open() }
        }
        let client4 = try LibUVPeer(binding: .loopback(.ipv4)) { _, event, _ in
            if case .connected = event { four.open() }
        }
        defer { client6.driver.shutdown(); client4.driver.shutdown() }
        client6.connect(to: server.id, at: .loopback(.ipv6, port: port))
        client4.connect(to: server.id, at: .loopback(.ipv4, port: port))  // answered as ::ffff:127.0.0.1
        #expect(six.wait(), "no IPv6 handshake")
        #expect(four.wait(), "no IPv4 handshake through the dual-stack socket")
        #expect(bothConnected.wait())
        #expect(server.driver.statistics.sendErrors == 0)
    }

    @Test func shutdownIsIdempotentFromSeveralThreadsAndDropsLaterBodies() throws {
        let peer = try LibUVPeer(binding: .loopback())
        let ran = LibUVLatch()
        peer.driver.execute { _ in ran.open() }
        #expect(ran.wait())
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            peer.driver.shutdown()
            peer.driver.shutdown()
        }
        #expect(peer.driver.isShutDown)
        #expect(peer.driver.loopCloseStatus == 0, "the loop was not closed cleanly")
        let late = Atomic<Int>(0)
        peer.driver.execute { _ in late.add(1, ordering: .relaxed) }
        peer.driver.shutdown()
        #expect(late.load(ordering: .relaxed) == 0, "a body ran after shutdown")
        #expect(peer.driver.statistics.bodiesRun == 1)
    }

    @Test func shutdownFromInsideAnExecuteBodyDoesNotDeadlock() throws {
        let peer = try LibUVPeer(binding: .loopback())
        let driver = peer.driver
        let returned = LibUVLatch()
        let after = Atomic<Int>(0)
        driver.execute { _ in
            driver.shutdown()
            driver.shutdown()
            returned.open()
        }
        driver.execute { _ in after.add(1, ordering: .relaxed) }  // queued behind: dropped
        #expect(returned.wait(), "shutdown inside a body never returned")
        driver.shutdown()  // from this thread: joins the loop thread
        #expect(driver.loopCloseStatus == 0)
        #expect(after.load(ordering: .relaxed) == 0)
    }

    @Test func garbageDatagramsAreDroppedAndCountedAndBreakNothing() throws {
        let setup = try Setup(streams: 1, bytesPerStream: 64 << 10)
        defer { setup.shutdown() }
        setup.connect()
        #expect(setup.receiver.connected.wait())
        let raw = LibUVRawSocket()
        defer { raw.close() }
        var random = SeededRandom(seed: TestSeeds.seed(0x1B_07, filter: "garbageDatagramsAreDroppedAndCounted"))
        let junk: [[UInt8]] = [[], [0], [0xff], random.bytes(count: 20), random.bytes(count: 100),
                               random.bytes(count: 1_200), random.bytes(count: 1_400), random.bytes(count: 9_000)]
        for datagram in junk {
            raw.send(datagram, to: setup.server.address)
            raw.send(datagram, to: setup.client.address)
        }
        // The transfer that follows the junk still arrives whole.
        #expect(setup.receiver.done.wait(seconds: 120), "stalled at \(setup.receiver.totalReceived) bytes")
        #expect(setup.receiver.mismatches == 0)
        let drops = LibUVLatch()
        let counted = Atomic<UInt64>(0)
        setup.server.driver.execute { loop in
            counted.store(loop.endpoint.statistics.drops.total, ordering: .relaxed)
            drops.open()
        }
        #expect(drops.wait())
        #expect(counted.load(ordering: .relaxed) >= UInt64(junk.count), "the endpoint counted too few drops")
        #expect(setup.server.driver.statistics.receiveErrors == 0)
    }

    @Test func executeFromManyThreadsRunsEveryBodyExactlyOnce() throws {
        let peer = try LibUVPeer(binding: .loopback())
        defer { peer.driver.shutdown() }
        let threads = 8
        let perThread = 500
        let runs = LibUVRunTally(count: threads * perThread)
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in 0..<perThread {
                let id = thread * perThread + index
                peer.driver.execute { _ in runs.record(id) }
            }
        }
        let finished = LibUVLatch()
        peer.driver.execute { _ in finished.open() }  // FIFO: after every body above
        #expect(finished.wait())
        peer.driver.shutdown()  // joins the loop thread: every counter is final
        #expect(runs.counts.allSatisfy { $0 == 1 }, "some body ran \(runs.counts.max() ?? 0) or \(runs.counts.min() ?? 0) times")
        #expect(peer.driver.statistics.bodiesRun == UInt64(threads * perThread + 1))
    }
}

/// How often each body ran (touched on the loop thread, read after a latch).
final class LibUVRunTally: Sendable {
    private let storage: Locked<[Int]>
    init(count: Int) { storage = Locked(Array(repeating: 0, count: count)) }
    func record(_ id: Int) { storage.withLock { $0[id] += 1 } }
    var counts: [Int] { storage.withLock { $0 } }
}
