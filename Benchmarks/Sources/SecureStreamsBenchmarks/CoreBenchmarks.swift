#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CMallocCounter
import SecureStreamsCore

/// The sans-IO core end to end: two ``Endpoint``s in one process joined by a
/// zero-latency in-memory link, no sockets.
///
/// - A bulk transfer on one stream (Noise IK, ChaChaPoly), against the AEAD
///   work its data packets cannot avoid: one seal and one open of a 1350-byte
///   packet per client→server datagram.
/// - Heap allocations per datagram in the steady state of that transfer.
/// - Heap bytes per idle established connection.
enum CoreBenchmark {
    static let service = "bench"
    static let applicationProtocol = "bytes"
    static let clientAddress = PeerAddress(ipv4: 10, 0, 0, 1, port: 40_000)
    static let serverAddress = PeerAddress(ipv4: 10, 0, 0, 2, port: 7_000)
    static let start = Timestamp(nanoseconds: 1_000_000_000)
    /// The datagram size both endpoints use (the configuration's default),
    /// and the size of the ceiling's packets.
    static let datagramSize = 1_350
    static let headerCount = 14
    static let tagCount = 16

    // MARK: - The link

    /// Two endpoints, a virtual clock, and one reused 2 KiB buffer per
    /// direction: a datagram goes from one endpoint's `pollTransmit` straight
    /// into the other's `handleDatagram`, decrypted in place in that buffer.
    struct Link {
        var client: Endpoint
        var server: Endpoint
        var now = CoreBenchmark.start
        let toServer: UnsafeMutableRawBufferPointer
        let toClient: UnsafeMutableRawBufferPointer
        /// Datagrams moved so far, per direction.
        var clientToServer = 0
        var serverToClient = 0
        /// Times the clock had to move because neither side had anything to send.
        var clockAdvances = 0

        /// Fresh identities and endpoints from `seed`; the server listens.
        /// The buffers are the caller's (two of at least 2 KiB).
        /// `configure` adjusts both endpoints' configuration (default: none).
        init(seed: UInt64, toServer: UnsafeMutableRawBufferPointer, toClient: UnsafeMutableRawBufferPointer,
             configure: (inout EndpointConfiguration) -> Void = { _ in }) {
            let root = SeededRandom(seed: seed)
            var keys = root.fork(label: "keys")
            var clientConfiguration = EndpointConfiguration(identity: HostIdentity(using: &keys))
            var serverConfiguration = EndpointConfiguration(identity: HostIdentity(using: &keys))
            configure(&clientConfiguration)
            configure(&serverConfiguration)
            server = Endpoint(configuration: serverConfiguration, random: root.fork(label: "server"), now: CoreBenchmark.start)
            client = Endpoint(configuration: clientConfiguration, random: root.fork(label: "client"), now: CoreBenchmark.start)
            server.listen(service: CoreBenchmark.service, protocol: CoreBenchmark.applicationProtocol)
            self.toServer = toServer
            self.toClient = toClient
        }

        /// One datagram client → server, if the client has one.
        @inline(__always)
        mutating func clientSends() -> Bool {
            guard let transmit = client.pollTransmit(now: now, into: toServer) else { return false }
            server.handleDatagram(UnsafeMutableRawBufferPointer(rebasing: toServer[0..<transmit.count]),
                                  from: CoreBenchmark.clientAddress, now: now)
            clientToServer += 1
            return true
        }

        /// One datagram server → client, if the server has one.
        @inline(__always)
        mutating func serverSends() -> Bool {
            guard let transmit = server.pollTransmit(now: now, into: toClient) else { return false }
            client.handleDatagram(UnsafeMutableRawBufferPointer(rebasing: toClient[0..<transmit.count]),
                                  from: CoreBenchmark.serverAddress, now: now)
            serverToClient += 1
            return true
        }

        /// Moves datagrams both ways, one at a time alternately, until
        /// neither side has anything to send at this instant.
        mutating func exchange() {
            while true {
                let a = clientSends()
                let b = serverSends()
                if !a && !b { return }
            }
        }

        /// The earlier of the two endpoints' deadlines.
        func nextDeadline() -> Timestamp? {
            switch (client.nextDeadline(), server.nextDeadline()) {
            case (nil, nil): return nil
            case (let a?, nil): return a
            case (nil, let b?): return b
            case (let a?, let b?): return min(a, b)
            }
        }

        /// Neither side has anything to send: jumps the clock to the earliest
        /// deadline and fires the due timers. False when nobody has a deadline.
        mutating func advanceClock() -> Bool {
            guard let next = nextDeadline() else { return false }
            now = max(now, next)
            client.handleTimeout(now: now)
            server.handleTimeout(now: now)
            clockAdvances += 1
            return true
        }
    }

    // MARK: - Bulk transfer

    /// The source pattern repeats every `patternPeriod` bytes (a prime, so a
    /// chunk delivered at the wrong offset shows), and the buffer holds one
    /// period plus one write chunk so every write is one contiguous slice.
    static let patternPeriod = 65_521
    static let chunkSize = 64 * 1024

    @inline(__always)
    static func patternByte(_ offset: Int) -> UInt8 {
        let i = offset % patternPeriod
        return UInt8(truncatingIfNeeded: i &* 167 &+ (i >> 9))
    }

    /// Counters filled only by a diagnostic run, to say what limits the sender.
    struct Diagnostics {
        /// Loop passes in which the client had bytes to send but sent nothing,
        /// split by whether its congestion window was full.
        var clientIdleWindowFull = 0
        var clientIdleWindowOpen = 0
        /// Loop passes in which the client sent a datagram.
        var clientSent = 0
        /// `receiveBlocked` events at the server: the client said it was
        /// blocked by flow control (DATA_BLOCKED / STREAM_DATA_BLOCKED).
        var receiveBlocked = 0
        /// `streamWritable` events at the client: its send buffer had filled.
        var writable = 0
        var peakBytesInFlight: UInt64 = 0
        var finalCongestionWindow: UInt64 = 0
        var smoothedRTT: Duration = .zero
        var packetsLost: UInt64 = 0
    }

    /// One connection and one stream; `run(bytes:)` moves that many more
    /// bytes from the client's writes to the server's reads.
    struct BulkTransfer {
        var link: Link
        let clientConnection: ConnectionHandle
        var serverConnection: ConnectionHandle
        let stream: StreamID
        var written = 0
        var read = 0
        var target = 0
        var checksum: UInt64 = 0
        let source: UnsafeRawBufferPointer
        let sink: UnsafeMutableRawBufferPointer
        var diagnostics: Diagnostics?
        /// When set, allocations are counted while the reader's offset
        /// crosses this range (switched on and off from inside the loop, so
        /// the window is the middle of one continuous transfer).
        var allocationWindow: Range<Int>?
        private(set) var windowAllocations: UInt64 = 0
        private(set) var windowDatagrams = 0
        private var windowStart: (allocations: UInt64, datagrams: Int)?

        /// Connects (IK), waits for both sides to be established, opens the stream.
        init(seed: UInt64, buffers: Buffers) {
            self.init(link: Link(seed: seed, toServer: buffers.toServer, toClient: buffers.toClient), buffers: buffers)
        }

        /// The same over `link`, whose endpoints may already hold other connections.
        init(link: Link, buffers: Buffers) {
            var link = link
            let clientConnection: ConnectionHandle
            do {
                clientConnection = try link.client.connect(
                    to: link.server.endpointID, at: CoreBenchmark.serverAddress, service: CoreBenchmark.service,
                    protocol: CoreBenchmark.applicationProtocol, now: link.now)
            } catch {
                fatalError("core: connect failed: \(error)")
            }
            var clientUp = false
            var serverConnection: ConnectionHandle?
            while !clientUp || serverConnection == nil {
                link.exchange()
                while let event = link.client.pollEvent() {
                    if case .connected = event { clientUp = true }
                }
                while let event = link.server.pollEvent() {
                    if case .connected(let handle, _, _, _, _) = event { serverConnection = handle }
                }
                if !clientUp || serverConnection == nil {
                    guard link.advanceClock() else { fatalError("core: the handshake stalled") }
                }
            }
            do {
                stream = try link.client.openStream(on: clientConnection)
            } catch {
                fatalError("core: openStream failed: \(error)")
            }
            self.link = link
            self.clientConnection = clientConnection
            self.serverConnection = serverConnection!
            source = UnsafeRawBufferPointer(buffers.pattern)
            sink = buffers.sink
        }

        /// Moves `bytes` more through the stream; returns when the server has
        /// read them all.
        mutating func run(bytes: Int) {
            target += bytes
            write()
            var stalls = 0
            while read < target {
                let sent = link.clientSends()
                if sent { serveServer() }
                if diagnostics != nil { diagnose(clientSent: sent) }
                let answered = link.serverSends()
                if answered { serveClient() }
                if !sent && !answered {
                    stalls += 1
                    guard stalls < 10_000, link.advanceClock() else {
                        fatalError("core: the transfer stalled at \(read) of \(target) bytes")
                    }
                    serveServer()
                    serveClient()
                } else {
                    stalls = 0
                }
            }
        }

        /// The client writes until its send buffer refuses or the target is reached.
        private mutating func write() {
            while written < target {
                let offset = written % CoreBenchmark.patternPeriod
                let count = min(CoreBenchmark.chunkSize, target - written)
                let accepted: Int
                do {
                    accepted = try link.client.write(UnsafeRawBufferPointer(rebasing: source[offset..<(offset + count)]),
                                                     to: stream, on: clientConnection)
                } catch {
                    fatalError("core: write failed: \(error)")
                }
                written += accepted
                if accepted < count { return }
            }
        }

        /// Server events: read whatever is readable.
        private mutating func serveServer() {
            while let event = link.server.pollEvent() {
                switch event {
                case .streamReadable(_, let id):
                    readAll(id)
                case .receiveBlocked:
                    diagnostics?.receiveBlocked += 1
                case .closed(_, let error):
                    fatalError("core: the server's connection closed: \(error)")
                default:
                    break
                }
            }
        }

        /// Client events: write more when the stream has room again.
        private mutating func serveClient() {
            while let event = link.client.pollEvent() {
                switch event {
                case .streamWritable:
                    diagnostics?.writable += 1
                    write()
                case .closed(_, let error):
                    fatalError("core: the client's connection closed: \(error)")
                default:
                    break
                }
            }
        }

        private mutating func readAll(_ id: StreamID) {
            while true {
                let count: Int?
                do {
                    count = try link.server.read(from: id, on: serverConnection, into: sink)
                } catch {
                    fatalError("core: read failed: \(error)")
                }
                guard let count, count > 0 else { return }
                // Spot checks: the first and last byte of every read.
                guard sink[0] == CoreBenchmark.patternByte(read),
                      sink[count - 1] == CoreBenchmark.patternByte(read + count - 1)
                else { fatalError("core: the stream delivered wrong bytes at offset \(read)") }
                checksum &+= UInt64(sink[count - 1]) &+ UInt64(count)
                read += count
                if allocationWindow != nil { countAllocations() }
            }
        }

        private mutating func countAllocations() {
            let window = allocationWindow!
            let datagrams = link.clientToServer + link.serverToClient
            if windowStart == nil, read >= window.lowerBound {
                windowStart = (ss_malloc_count(), datagrams)
                ss_malloc_counting(1)
            } else if let start = windowStart, read >= window.upperBound {
                ss_malloc_counting(0)
                windowAllocations = ss_malloc_count() - start.allocations
                windowDatagrams = datagrams - start.datagrams
                allocationWindow = nil
            }
        }

        private mutating func diagnose(clientSent: Bool) {
            guard let stats = link.client.statistics(of: clientConnection) else { return }
            diagnostics!.peakBytesInFlight = max(diagnostics!.peakBytesInFlight, stats.bytesInFlight)
            diagnostics!.finalCongestionWindow = stats.congestionWindow
            diagnostics!.smoothedRTT = stats.smoothedRTT
            diagnostics!.packetsLost = stats.packetsLost
            if clientSent {
                diagnostics!.clientSent += 1
            } else if read < target {
                if stats.bytesInFlight + UInt64(CoreBenchmark.datagramSize) > stats.congestionWindow {
                    diagnostics!.clientIdleWindowFull += 1
                } else {
                    diagnostics!.clientIdleWindowOpen += 1
                }
            }
        }
    }

    /// Memory every transfer reuses: the two datagram buffers, the source
    /// pattern and the reader's buffer. Allocated once for the process.
    struct Buffers {
        let toServer: UnsafeMutableRawBufferPointer
        let toClient: UnsafeMutableRawBufferPointer
        let pattern: UnsafeMutableRawBufferPointer
        let sink: UnsafeMutableRawBufferPointer

        static func make() -> Buffers {
            let pattern = UnsafeMutableRawBufferPointer.allocate(
                byteCount: CoreBenchmark.patternPeriod + CoreBenchmark.chunkSize, alignment: 64)
            for index in pattern.indices { pattern[index] = CoreBenchmark.patternByte(index) }
            let sink = UnsafeMutableRawBufferPointer.allocate(byteCount: CoreBenchmark.chunkSize, alignment: 64)
            sink.initializeMemory(as: UInt8.self, repeating: 0)
            func datagram() -> UnsafeMutableRawBufferPointer {
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2_048, alignment: 64)
                buffer.initializeMemory(as: UInt8.self, repeating: 0)
                return buffer
            }
            return Buffers(toServer: datagram(), toClient: datagram(), pattern: pattern, sink: sink)
        }
    }

    // MARK: - The ceiling

    /// Seal+open of `packets` 1350-byte Data packets in place with `AEADKey`
    /// (ChaChaPoly, the suite a fresh connection uses): the 14-byte header
    /// as associated data, 1320 bytes of frames, the 16-byte tag. The nonce
    /// is the packet number, as in the transfer.
    final class Ceiling {
        let key: AEADKey
        let packet: UnsafeMutableRawBufferPointer
        private var counter: UInt64 = 0

        init() {
            do {
                key = try AEADKey(algorithm: .chaChaPoly, key: (0..<32).map { UInt8($0) &* 13 &+ 5 })
            } catch {
                fatalError("core: AEADKey failed: \(error)")
            }
            packet = UnsafeMutableRawBufferPointer.allocate(byteCount: CoreBenchmark.datagramSize, alignment: 64)
            for index in packet.indices { packet[index] = UInt8(truncatingIfNeeded: index &* 31) }
        }

        func run(packets: Int) -> UInt64 {
            let header = UnsafeRawBufferPointer(rebasing: packet[0..<CoreBenchmark.headerCount])
            let body = UnsafeMutableRawBufferPointer(rebasing: packet[CoreBenchmark.headerCount...])
            let plaintextCount = CoreBenchmark.datagramSize - CoreBenchmark.headerCount - CoreBenchmark.tagCount
            var checksum: UInt64 = 0
            for _ in 0..<packets {
                let nonce = AEADNonce(noiseCounter: counter, algorithm: .chaChaPoly)
                counter &+= 1
                let sealed = key.seal(nonce: nonce, associatedData: header, buffer: body, plaintextCount: plaintextCount)
                checksum &+= UInt64(body[sealed - 1])
                do {
                    let opened = try key.open(nonce: nonce, associatedData: header, buffer: body, ciphertextCount: sealed)
                    checksum &+= UInt64(truncatingIfNeeded: opened)
                } catch {
                    fatalError("core: ceiling open failed")
                }
            }
            return checksum
        }
    }

    // MARK: - Measurements

    struct TransferSettings {
        /// Bytes per round, moved in two halves (A B B A with the ceiling).
        var bytesPerRound: Int
        var rounds: Int
        var clock: BatchClock
        /// Warm-up before the allocation window, and the window itself.
        var allocationWarmupBytes = 8 << 20
        var allocationWindowBytes = 8 << 20
    }

    /// Interleaved rounds of transfer and ceiling, then a diagnostic run and
    /// the allocation window.
    static func measureTransfer(_ settings: TransferSettings, sink: inout UInt64) -> CoreTransferResult {
        let buffers = Buffers.make()
        let ceiling = Ceiling()
        let half = settings.bytesPerRound / 2

        // Warm-up: code paths, caches, and the ceiling's batch size (the
        // client→server datagrams of half a round).
        var warm = BulkTransfer(seed: 0xC0DE_0000, buffers: buffers)
        warm.run(bytes: half)
        sink &+= warm.checksum
        let ceilingPackets = max(1, warm.link.clientToServer)
        sink &+= ceiling.run(packets: ceilingPackets)

        var transferMBps: [Double] = []
        var ceilingMBps: [Double] = []
        var ratios: [Double] = []
        var nanosecondsPerPacket: [Double] = []
        var clientToServer = 0
        var serverToClient = 0
        var clockAdvances = 0
        for round in 0..<settings.rounds {
            var transfer = BulkTransfer(seed: 0xC0DE_0001 &+ UInt64(round), buffers: buffers)
            var transferTime: UInt64 = 0
            var ceilingTime: UInt64 = 0
            func timeTransfer() {
                let t0 = settings.clock.nanoseconds()
                transfer.run(bytes: half)
                transferTime += settings.clock.nanoseconds() - t0
            }
            func timeCeiling() {
                let t0 = settings.clock.nanoseconds()
                sink &+= ceiling.run(packets: ceilingPackets)
                ceilingTime += settings.clock.nanoseconds() - t0
            }
            // A B B A, odd rounds B A A B.
            let c2s0 = transfer.link.clientToServer
            let s2c0 = transfer.link.serverToClient
            let clock0 = transfer.link.clockAdvances
            if round % 2 == 0 {
                timeTransfer(); timeCeiling(); timeCeiling(); timeTransfer()
            } else {
                timeCeiling(); timeTransfer(); timeTransfer(); timeCeiling()
            }
            sink &+= transfer.checksum
            let packets = transfer.link.clientToServer - c2s0
            clientToServer = packets
            serverToClient = transfer.link.serverToClient - s2c0
            clockAdvances = transfer.link.clockAdvances - clock0
            let perPacket = Double(ceilingTime) / Double(2 * ceilingPackets)
            let payload = Double(2 * half)
            let aeadTime = perPacket * Double(packets)
            transferMBps.append(payload / Double(transferTime) * 1_000)
            ceilingMBps.append(payload / aeadTime * 1_000)
            ratios.append(aeadTime / Double(transferTime))
            nanosecondsPerPacket.append(perPacket)
        }

        // Diagnostics (untimed): what the sender waits for.
        var diagnosed = BulkTransfer(seed: 0xC0DE_D1A6, buffers: buffers)
        diagnosed.diagnostics = Diagnostics()
        diagnosed.run(bytes: min(settings.bytesPerRound, 16 << 20))
        sink &+= diagnosed.checksum

        // Allocations in the steady state.
        var allocationsPerDatagram: Double?
        var windowDatagrams = 0
        var windowAllocations: UInt64 = 0
        if MallocCounter.isActive {
            var steady = BulkTransfer(seed: 0xC0DE_A110, buffers: buffers)
            let windowStart = settings.allocationWarmupBytes
            steady.allocationWindow = windowStart..<(windowStart + settings.allocationWindowBytes)
            steady.run(bytes: 2 * settings.allocationWarmupBytes + settings.allocationWindowBytes)
            guard steady.allocationWindow == nil else { fatalError("core: the allocation window never closed") }
            windowDatagrams = steady.windowDatagrams
            windowAllocations = steady.windowAllocations
            allocationsPerDatagram = Double(windowAllocations) / Double(max(1, windowDatagrams))
            sink &+= steady.checksum
        }

        return CoreTransferResult(
            bytesPerRound: 2 * half,
            transferMBps: Summary(transferMBps),
            ceilingMBps: Summary(ceilingMBps),
            ratio: Summary(ratios),
            ceilingNanosecondsPerPacket: Summary(nanosecondsPerPacket),
            clientToServerDatagrams: clientToServer,
            serverToClientDatagrams: serverToClient,
            clockAdvances: clockAdvances,
            diagnostics: diagnosed.diagnostics!,
            diagnosticBytes: diagnosed.read,
            allocationWarmupBytes: settings.allocationWarmupBytes,
            allocationWindowBytes: settings.allocationWindowBytes,
            allocationWindowDatagrams: windowDatagrams,
            allocationWindowAllocations: windowAllocations,
            allocationsPerDatagram: allocationsPerDatagram)
    }

    /// Heap bytes in use (glibc's `mallinfo2`: small blocks plus mmapped
    /// ones); `nil` without the counter.
    static func heapInUse() -> Int? {
        guard MallocCounter.isActive else { return nil }
        return Int(ss_heap_in_use())
    }

    /// `count` IK connections from one client endpoint to one server
    /// endpoint, driven until every one is established and the link is
    /// quiet; heap bytes per connection on each side.
    static func measureIdle(connections count: Int) -> CoreIdleResult {
        let buffers = Buffers.make()
        let h0 = heapInUse()
        var link: Link? = Link(seed: 0x1D1E, toServer: buffers.toServer, toClient: buffers.toClient)
        // Endpoints exist: from here on, growth is the connections' (and the
        // endpoints' tables growing to hold them).
        let h1 = heapInUse()
        for _ in 0..<count {
            do {
                _ = try link!.client.connect(
                    to: link!.server.endpointID, at: CoreBenchmark.serverAddress, service: CoreBenchmark.service,
                    protocol: CoreBenchmark.applicationProtocol, now: link!.now)
            } catch {
                fatalError("core: connect failed: \(error)")
            }
        }
        var clientUp = 0
        var serverUp = 0
        var closed = 0
        func drainEvents() {
            while let event = link!.client.pollEvent() {
                switch event {
                case .connected: clientUp += 1
                case .closed: closed += 1
                default: break
                }
            }
            while let event = link!.server.pollEvent() {
                switch event {
                case .connected: serverUp += 1
                case .closed: closed += 1
                default: break
                }
            }
        }
        // Establish, then let every timer that is not the idle timeout run
        // out (ACK delays, probes, retransmitted handshake messages): quiet
        // means nothing to send and no deadline within the next 5 s.
        let quietHorizon = Duration.seconds(5)
        while true {
            link!.exchange()
            drainEvents()
            guard let next = link!.nextDeadline(), next < link!.now + quietHorizon else { break }
            _ = link!.advanceClock()
        }
        guard clientUp == count, serverUp == count, closed == 0 else {
            fatalError("core: \(clientUp) client and \(serverUp) server connections up of \(count), \(closed) closed")
        }
        let h2 = heapInUse()
        let datagrams = link!.clientToServer + link!.serverToClient
        let settleTime = link!.now - CoreBenchmark.start
        // Dropping the client endpoint frees the client side, its fixed
        // part included; what remains above h0 is the server's fixed part
        // and growth. The two endpoints have the same configuration, so each
        // fixed part is taken as half of h1 - h0 (a few KiB in all).
        let server = link!.server
        link = nil
        let h3 = heapInUse()
        withExtendedLifetime(server) {}
        var serverBytes: Int?
        var clientBytes: Int?
        if let h0, let h1, let h2, let h3 {
            serverBytes = (h3 - h0) - (h1 - h0) / 2
            clientBytes = (h2 - h1) - serverBytes!
        }
        return CoreIdleResult(
            connections: count, established: serverUp,
            serverBytesPerConnection: serverBytes.map { Double($0) / Double(count) },
            clientBytesPerConnection: clientBytes.map { Double($0) / Double(count) },
            datagrams: datagrams, settleTime: settleTime)
    }
}

struct CoreTransferResult {
    let bytesPerRound: Int
    /// Application payload MB/s (10^6), per round.
    let transferMBps: Summary
    /// Payload MB/s if the data packets cost only their seal+open.
    let ceilingMBps: Summary
    /// Per round: AEAD-only time of the round's data packets / transfer time.
    let ratio: Summary
    let ceilingNanosecondsPerPacket: Summary
    /// Datagrams per round (the last round), each direction.
    let clientToServerDatagrams: Int
    let serverToClientDatagrams: Int
    let clockAdvances: Int
    let diagnostics: CoreBenchmark.Diagnostics
    let diagnosticBytes: Int
    let allocationWarmupBytes: Int
    let allocationWindowBytes: Int
    let allocationWindowDatagrams: Int
    let allocationWindowAllocations: UInt64
    let allocationsPerDatagram: Double?

    static let goal = 0.6
}

struct CoreIdleResult {
    let connections: Int
    let established: Int
    let serverBytesPerConnection: Double?
    let clientBytesPerConnection: Double?
    let datagrams: Int
    let settleTime: Duration

    static let goal = 8_192.0
}
