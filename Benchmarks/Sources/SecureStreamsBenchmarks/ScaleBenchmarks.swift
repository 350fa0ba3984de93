#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CMallocCounter
import SecureStreamsCore

/// What many idle connections cost an endpoint (`--scale`): one bulk
/// connection's CPU per delivered datagram while the same two endpoints hold
/// 0, 1,000 and N idle established connections; heap bytes per idle
/// connection at N with keep-alive and idle timers running; and the cost of
/// handling a forged Version Negotiation packet at 0 and at N.
enum ScaleBenchmark {
    struct Settings {
        /// The largest number of idle connections (100,000 by default).
        var connections: Int
        /// Bytes of the bulk transfer per timed round, and rounds per size.
        var bytesPerRound: Int
        var rounds: Int
        var clock: BatchClock
        /// Forged Version Negotiation packets handled per timing.
        var negotiations: Int
    }

    /// One size: the bulk connection beside `idle` idle ones ("crowded")
    /// against a second link whose endpoints hold only their bulk connection
    /// ("alone"), timed in the same rounds (A B B A, odd rounds B A A B).
    struct Point {
        let idle: Int
        /// CPU time per datagram moved (either way), per side, and crowded / alone per round.
        let alone: Summary
        let crowded: Summary
        let ratio: Summary
        /// CPU time per forged Version Negotiation packet, the same way.
        let negotiationAlone: Summary
        let negotiationCrowded: Summary
        let negotiationRatio: Summary
    }

    struct Result {
        let points: [Point]
        /// Heap bytes per idle connection, the two sides' average (both
        /// endpoints live in this process), or `nil` without `mallinfo2`.
        let bytesPerConnection: Double?
        let keepAlivesFired: Int
        let aesConnections: Bool
    }

    /// Keep-alive on both sides, well inside the idle timeout, so both timers
    /// run while the clock moves; limits raised to hold every connection.
    static func configure(_ configuration: inout EndpointConfiguration, connections: Int) {
        configuration.maxConnections = connections + 16
        configuration.handshakeRateLimit = UInt64(connections) * 1_000
        configuration.maxPendingHandshakes = connections + 16
        configuration.maxHalfOpenHandshakes = connections + 16
        configuration.keepAliveInterval = .seconds(10)
    }

    static func run(_ settings: Settings) -> Result {
        let buffers = CoreBenchmark.Buffers.make()
        func makeBulk(_ seed: UInt64) -> CoreBenchmark.BulkTransfer {
            let link = CoreBenchmark.Link(seed: seed, toServer: buffers.toServer, toClient: buffers.toClient) {
                configure(&$0, connections: settings.connections)
            }
            var bulk = CoreBenchmark.BulkTransfer(link: link, buffers: buffers)
            bulk.run(bytes: settings.bytesPerRound)  // warm-up
            return bulk
        }
        var alone = makeBulk(0x5CA1E)
        var crowded = makeBulk(0x5CA1F)
        var points: [Point] = []
        var idle = 0
        var heapBefore: Int?
        for target in [0, 1_000, settings.connections] {
            if target == settings.connections { heapBefore = CoreBenchmark.heapInUse() }
            if target > idle {
                printError("scale: establishing \(target - idle) more idle connections ...")
                establish(target - idle, on: &crowded.link)
                idle = target
            }
            points.append(measure(alone: &alone, crowded: &crowded, idle: idle, settings))
        }
        printError("scale: running keep-alive and idle timers for 35 s of virtual time ...")
        let fired = runTimers(on: &crowded.link, for: .seconds(35))
        let heapAfter = CoreBenchmark.heapInUse()
        var perConnection: Double?
        if let heapBefore, let heapAfter, settings.connections > 1_000 {
            perConnection = Double(heapAfter - heapBefore) / Double(2 * (settings.connections - 1_000))
        }
        let aes = crowded.link.client.statistics.handshakesInitiated > 1 && AEADAlgorithm.aesGCM.isHardwareAccelerated
        return Result(points: points, bytesPerConnection: perConnection, keepAlivesFired: fired, aesConnections: aes)
    }

    /// Rounds of the two bulk transfers, then of forged Version Negotiation
    /// packets, crowded against alone.
    static func measure(
        alone: inout CoreBenchmark.BulkTransfer, crowded: inout CoreBenchmark.BulkTransfer, idle: Int,
        _ settings: Settings
    ) -> Point {
        printError("scale: bulk transfer beside \(idle) idle connections ...")
        func timeTransfer(_ bulk: inout CoreBenchmark.BulkTransfer) -> Double {
            let datagrams0 = bulk.link.clientToServer + bulk.link.serverToClient
            let t0 = settings.clock.nanoseconds()
            bulk.run(bytes: settings.bytesPerRound / 2)
            let elapsed = settings.clock.nanoseconds() - t0
            return Double(elapsed) / Double(max(bulk.link.clientToServer + bulk.link.serverToClient - datagrams0, 1))
        }
        func timeVN(_ bulk: inout CoreBenchmark.BulkTransfer) -> Double {
            timeNegotiations(&bulk.link.client, count: settings.negotiations / 2, clock: settings.clock, now: bulk.link.now)
        }
        var a: [Double] = [], b: [Double] = [], va: [Double] = [], vb: [Double] = []
        for round in 0..<settings.rounds {
            var x = 0.0, y = 0.0, vx = 0.0, vy = 0.0
            if round % 2 == 0 {
                x += timeTransfer(&alone); y += timeTransfer(&crowded); y += timeTransfer(&crowded); x += timeTransfer(&alone)
                vx += timeVN(&alone); vy += timeVN(&crowded); vy += timeVN(&crowded); vx += timeVN(&alone)
            } else {
                y += timeTransfer(&crowded); x += timeTransfer(&alone); x += timeTransfer(&alone); y += timeTransfer(&crowded)
                vy += timeVN(&crowded); vx += timeVN(&alone); vx += timeVN(&alone); vy += timeVN(&crowded)
            }
            a.append(x / 2); b.append(y / 2); va.append(vx / 2); vb.append(vy / 2)
        }
        return Point(idle: idle, alone: Summary(a), crowded: Summary(b), ratio: Summary(zip(b, a).map { $0 / $1 }),
                     negotiationAlone: Summary(va), negotiationCrowded: Summary(vb),
                     negotiationRatio: Summary(zip(vb, va).map { $0 / $1 }))
    }

    /// `count` IK connections client → server, 1,000 at a time, each batch
    /// driven until established on both sides.
    static func establish(_ count: Int, on link: inout CoreBenchmark.Link) {
        var remaining = count
        while remaining > 0 {
            let batch = min(remaining, 1_000)
            for _ in 0..<batch {
                do {
                    _ = try link.client.connect(
                        to: link.server.endpointID, at: CoreBenchmark.serverAddress, service: CoreBenchmark.service,
                        protocol: CoreBenchmark.applicationProtocol, now: link.now)
                } catch {
                    fatalError("scale: connect failed: \(error)")
                }
            }
            var up = 0
            while up < batch {
                link.exchange()
                while let event = link.server.pollEvent() {
                    switch event {
                    case .connected: up += 1
                    case .closed(_, let error): fatalError("scale: a connection closed: \(error)")
                    default: break
                    }
                }
                while link.client.pollEvent() != nil {}
                if up < batch, !link.advanceClock() { fatalError("scale: handshakes stalled") }
            }
            remaining -= batch
        }
        link.exchange()
    }

    /// Moves the virtual clock `duration` ahead through every deadline,
    /// exchanging what the timers send; returns the datagrams moved.
    static func runTimers(on link: inout CoreBenchmark.Link, for duration: Duration) -> Int {
        let end = link.now + duration
        let before = link.clientToServer + link.serverToClient
        while link.now < end {
            link.exchange()
            while let event = link.server.pollEvent() {
                if case .closed(_, let error) = event { fatalError("scale: a connection closed: \(error)") }
            }
            while link.client.pollEvent() != nil {}
            guard link.advanceClock() else { break }
        }
        return link.clientToServer + link.serverToClient - before
    }

    /// CPU time per forged Version Negotiation packet whose echo names no
    /// connection (what an off-path attacker can send at will).
    static func timeNegotiations(_ endpoint: inout Endpoint, count: Int, clock: BatchClock, now: Timestamp) -> Double {
        // Marker 0x00, packet marker 0x56, an 8-byte echo, one version (PROTOCOL.md §3.5).
        var packet: [UInt8] = [0x00, 0x56, 0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x02, 0x03, 0x04, 0x01, 0x7E]
        let t0 = clock.nanoseconds()
        packet.withUnsafeMutableBytes { bytes in
            for _ in 0..<count { endpoint.handleDatagram(bytes, from: CoreBenchmark.serverAddress, now: now) }
        }
        return Double(clock.nanoseconds() - t0) / Double(count)
    }

    static func table(_ result: Result, settings: Settings) -> String {
        var lines = [
            "Core at scale             bulk ns/dgram alone  beside  ratio (≤1.2)        IQR"
                + "   VN ns alone  beside  ratio (≤1.2)        IQR",
        ]
        for point in result.points {
            lines.append("  \(pad(String(point.idle), 7)) idle connections  \(pad(fixed(point.alone.median, 0), 12))"
                + "  \(pad(fixed(point.crowded.median, 0), 6))  \(pad(flagged(point.ratio.median), 12))"
                + "  \(pad(fixed(point.ratio.lowerQuartile, 2) + "–" + fixed(point.ratio.upperQuartile, 2), 9))"
                + "  \(pad(fixed(point.negotiationAlone.median, 0), 12))  \(pad(fixed(point.negotiationCrowded.median, 0), 6))"
                + "  \(pad(flagged(point.negotiationRatio.median), 12))"
                + "  \(pad(fixed(point.negotiationRatio.lowerQuartile, 2) + "–" + fixed(point.negotiationRatio.upperQuartile, 2), 9))")
        }
        let memory = result.bytesPerConnection.map { fixed($0, 0) + ($0 > 4_096 ? " !" : "") } ?? "n/a"
        lines.append("  heap per idle connection at \(settings.connections): \(memory) B (goal ≤ 4096), "
            + "AES-GCM \(result.aesConnections ? "yes" : "no"), \(result.keepAlivesFired) datagrams from timers in 35 s")
        return lines.joined(separator: "\n")
    }

    private static func flagged(_ ratio: Double) -> String { fixed(ratio, 3) + (ratio > 1.2 ? " !" : "  ") }

    private static func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
