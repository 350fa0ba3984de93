import Testing
@testable import SecureStreamsCore

/// The endpoint schedules by readiness: a ready set for sending, a timer heap
/// for deadlines, one lookup for Version Negotiation (docs/CORE.md,
/// "Scheduling"). Work is checked by counting, never by timing.
@Suite struct EndpointSchedulingTests {
    @Test func readySetTakesTurnsBetweenTwoBusyConnections() throws {
        var pair = Pair(seed: 21)
        let first = try pair.connect()
        let second = try pair.connect()
        #expect(pair.drive(timeout: .seconds(5)) { pair in
            pair.serverEvents.filter { if case .connected = $0 { true } else { false } }.count == 2
        })
        let settled = pair.settle()
        #expect(settled)
        for handle in [first, second] {
            let id = try pair.client.openStream(on: handle)
            #expect(try pair.client.write([UInt8](repeating: 7, count: 200_000), to: id, on: handle) == 200_000)
        }
        // Both have far more than a congestion window to send: the datagrams
        // they send at this instant alternate between them.
        var senders: [ConnectionHandle] = []
        var buffer = [UInt8](repeating: 0, count: 2_048)
        var sent = [first: pair.client.statistics(of: first)!.packetsSent,
                    second: pair.client.statistics(of: second)!.packetsSent]
        while buffer.withUnsafeMutableBytes({ pair.client.pollTransmit(now: pair.now, into: $0) }) != nil {
            for handle in [first, second] {
                let now = pair.client.statistics(of: handle)!.packetsSent
                if now != sent[handle] { senders.append(handle) }
                sent[handle] = now
            }
        }
        #expect(senders.count >= 8, "only \(senders.count) datagrams went out")
        for (index, sender) in senders.enumerated().dropFirst() {
            #expect(sender != senders[index - 1], "datagram \(index) came from the same connection as the one before")
        }
    }

    @Test func idleConnectionWithPendingAckRangesIsNotPolled() throws {
        var pair = Pair(seed: 22)
        let connection = try pair.connect()
        #expect(pair.drive(timeout: .seconds(5)) { $0.connected(.responder) != nil })
        let id = try pair.client.openStream(on: connection)
        #expect(try pair.client.write([UInt8](repeating: 1, count: 50_000), to: id, on: connection) == 50_000)
        let settled = pair.settle()
        #expect(settled)
        let server = try #require(pair.connected(.responder))
        // The server still holds ACK ranges (until the client acknowledges its ACKs), none due.
        #expect(pair.server.established(server)?.acks.hasRanges == true)
        let before = pair.server.schedulingCounters
        var buffer = [UInt8](repeating: 0, count: 2_048)
        for _ in 0..<5 {
            let transmit = buffer.withUnsafeMutableBytes { pair.server.pollTransmit(now: pair.now, into: $0) }
            #expect(transmit == nil)
        }
        #expect(pair.server.schedulingCounters == before, "an idle connection was asked for a datagram")
    }

    @Test func manyIdleConnectionsDoNotChangeWhatABusyOneSends() throws {
        let alone = try LockstepBulk.run(seed: 23, idleConnections: 0)
        let crowded = try LockstepBulk.run(seed: 23, idleConnections: 200)
        #expect(alone.datagrams > 100)
        #expect(crowded.idleEstablished == 200)
        #expect(alone.datagrams == crowded.datagrams)
        #expect(alone.log.hex == crowded.log.hex, "the bulk connection's datagrams differ with 200 idle connections")
    }

    @Test func versionNegotiationFindsItsConnectionAmongMany() throws {
        var pair = Pair(seed: 24)
        var handles: [ConnectionHandle] = []
        for _ in 0..<300 { handles.append(try pair.connect()) }
        let initiations = pair.client.drainTransmits(now: pair.now)
        #expect(initiations.count == 300)
        // A forged answer naming no connection of ours closes nothing.
        let forged = Self.versionNegotiation(echo: 0x0102_0304_0506_0708)
        pair.client.deliver(forged, from: pair.serverAddress, now: pair.now)
        let nothing = pair.client.pollEvent()
        #expect(nothing == nil)
        #expect(pair.client.connectionCount == 300)
        // An answer to the 137th Initiation marks exactly that connection;
        // the mismatch is reported at the handshake deadline (§3.5), when
        // every other attempt ends with a plain timeout.
        let answer = initiations[137].bytes.withUnsafeBytes { Self.versionNegotiation(echo: VersionNegotiationPacket.echo(of: $0)) }
        pair.client.deliver(answer, from: pair.serverAddress, now: pair.now)
        let early = pair.client.pollEvent()
        #expect(early == nil)
        #expect(pair.client.connectionCount == 300)
        #expect(pair.client.tableSizes["initiatingByCIDPrefix"] == 300)
        pair.client.handleTimeout(now: pair.now + .seconds(61))
        var mismatched: [ConnectionHandle] = []
        var timedOut = 0
        while let event = pair.client.pollEvent() {
            guard case .closed(let handle, let error) = event else { continue }
            switch error.kind {
            case .noCommonVersion: mismatched.append(handle)
            case .handshakeTimeout: timedOut += 1
            case .closedByPeer, .closedLocally, .protocolViolation, .idleTimeout, .serviceRefused, .authenticationFailed:
                Issue.record("unexpected close: \(error)")
            }
        }
        #expect(mismatched == [handles[137]])
        #expect(timedOut == 299)
        #expect(pair.client.connectionCount == 0)
        #expect(pair.client.tableSizes["initiatingByCIDPrefix"] == 0)
    }

    @Test func handleTimeoutVisitsOnlyDueConnections() throws {
        var pair = Pair(seed: 25) { configuration, side in
            if side == .initiator { configuration.keepAliveInterval = .seconds(5) }
        }
        var handles: [ConnectionHandle] = []
        for _ in 0..<40 { handles.append(try pair.connect()) }
        #expect(pair.drive(timeout: .seconds(5)) { pair in
            pair.serverEvents.filter { if case .connected = $0 { true } else { false } }.count == 40
        })
        let settled = pair.settle()
        #expect(settled)
        // Early calls visit nobody.
        let before = pair.client.schedulingCounters.connectionsTimedOut
        for _ in 0..<10 { pair.client.handleTimeout(now: pair.now) }
        let earliest = try #require(pair.client.nextDeadline())
        #expect(earliest > pair.now)
        #expect(pair.client.schedulingCounters.connectionsTimedOut == before)
        // One connection is made due (its keep-alive moves when it sends): then only it is visited.
        let busy = handles[17]
        let id = try pair.client.openStream(on: busy)
        #expect(try pair.client.write([1, 2, 3], to: id, on: busy) == 3)
        pair.flush()
        let due = try #require(pair.client.nextDeadline())
        let dueCount = handles.filter { (pair.client.established($0)?.nextDeadline).map { $0 <= due } ?? false }.count
        pair.client.handleTimeout(now: due)
        #expect(pair.client.schedulingCounters.connectionsTimedOut - before == dueCount)
        #expect(dueCount >= 1 && dueCount < handles.count)
    }

    @Test func gsoRunSplitsIntoPacketsThePeerAccepts() throws {
        var pair = Pair(seed: 26)
        pair.maxDatagrams = 16
        pair.buffer = [UInt8](repeating: 0, count: 16 * 1_350)
        let connection = try pair.connect()
        var transfer = Transfer(streams: 2, bytesPerStream: 1_000_000)
        #expect(transfer.run(on: &pair, connection: connection, timeout: .seconds(60)))
        #expect(transfer.isIntact())
        #expect(pair.runs.longest > 2, "no run of several datagrams was built")
        #expect(pair.runs.malformed == 0, "a run held datagrams of unequal sizes")
        let server = try #require(pair.connected(.responder))
        #expect(pair.server.statistics.drops.total == 0)
        #expect(pair.server.statistics(of: server)?.drops.total == 0)
        #expect(pair.client.statistics(of: connection)?.packetsLost == 0)
    }

    @Test func gsoRunsRespectCongestionWindowAndPacing() throws {
        // Two identical pairs, driven alike until data is queued; then one
        // sends single datagrams and the other runs, at the same instants.
        var single = Pair(seed: 27)
        var batched = Pair(seed: 27)
        batched.maxDatagrams = 64
        batched.buffer = [UInt8](repeating: 0, count: 64 * 1_350)
        var handles: [ConnectionHandle] = []
        for index in 0..<2 {
            var pair = index == 0 ? single : batched
            let connection = try pair.connect()
            #expect(pair.drive(timeout: .seconds(5)) { $0.connected(.responder) != nil })
            let settled = pair.settle()
            #expect(settled)
            let id = try pair.client.openStream(on: connection)
            #expect(try pair.client.write([UInt8](repeating: 3, count: 1_000_000), to: id, on: connection) > 0)
            handles.append(connection)
            if index == 0 { single = pair } else { batched = pair }
        }
        #expect(single.now == batched.now)
        var buffer = [UInt8](repeating: 0, count: 64 * 1_350)
        let connection = handles[1]
        let start = batched.client.statistics(of: connection)!
        var batchedCount = 0
        while let transmit = buffer.withUnsafeMutableBytes({
            batched.client.pollTransmit(now: batched.now, into: $0, maxDatagrams: 64)
        }) {
            let segment = transmit.segmentSize ?? transmit.count
            batchedCount += (transmit.count + segment - 1) / segment
            let stats = batched.client.statistics(of: connection)!
            #expect(stats.bytesInFlight <= stats.congestionWindow, "a run overran the congestion window")
        }
        var singleCount = 0
        while buffer.withUnsafeMutableBytes({ single.client.pollTransmit(now: single.now, into: $0) }) != nil {
            singleCount += 1
        }
        #expect(batchedCount >= 2)
        #expect(batchedCount <= singleCount, "runs sent \(batchedCount) datagrams where one at a time sent \(singleCount)")
        #expect(UInt64(batchedCount) == batched.client.statistics(of: connection)!.packetsSent - start.packetsSent)
        // Later instants: the pacer spreads the window over the RTT; runs hold no more than it allows.
        #expect(batched.client.nextDeadline().map { $0 > batched.now } ?? false)
    }

    // MARK: - Helpers

    static func versionNegotiation(echo: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: VersionNegotiationPacket.encodedCount(versionCount: 1))
        bytes.withUnsafeMutableBytes { buffer in
            var writer = WireWriter(buffer)
            _ = VersionNegotiationPacket.write(echo: echo, versions: [ProtocolVersion(0x7E)], into: &writer)
        }
        return bytes
    }
}

/// One bulk connection over a zero-latency link, moved in lockstep (one
/// instant until nothing moves, then the clock jumps to the next deadline),
/// with `idleConnections` more established on the same server from another
/// client first. Logs every datagram of the bulk connection, both ways.
struct LockstepBulk {
    struct Outcome {
        var datagrams = 0
        var log = BLAKE2bLog()
        var idleEstablished = 0
    }

    static let bulkAddress = PeerAddress(ipv4: 10, 0, 0, 1, port: 40_000)
    static let serverAddress = PeerAddress(ipv4: 10, 0, 0, 2, port: 7_000)
    static let idleAddress = PeerAddress(ipv4: 10, 0, 0, 3, port: 40_001)
    static let bytes = 400_000

    struct SetupFailed: Error {}

    var endpoints: [Endpoint]
    let addresses = [bulkAddress, serverAddress, idleAddress]
    var now = Timestamp(nanoseconds: 1_000_000_000)
    var outcome = Outcome()
    var buffer = [UInt8](repeating: 0, count: 2_048)
    var serverEvents: [Event] = []

    static func run(seed: UInt64, idleConnections: Int) throws -> Outcome {
        let root = SeededRandom(seed: seed)
        var keys = root.fork(label: "keys")
        let make = { (identity: HostIdentity, label: String) in
            Endpoint(configuration: EndpointConfiguration(identity: identity), random: root.fork(label: label),
                     now: Timestamp(nanoseconds: 1_000_000_000))
        }
        let client = make(HostIdentity(using: &keys), "client")
        var server = make(HostIdentity(using: &keys), "server")
        let idle = make(HostIdentity(using: &keys), "idle")
        server.listen(service: "test", protocol: "bytes")
        var run = LockstepBulk(endpoints: [client, server, idle])
        let serverID = server.endpointID
        let bulk = try run.endpoints[0].connect(to: serverID, at: serverAddress, service: "test", protocol: "bytes",
                                                now: run.now)
        run.exchange()
        for _ in 0..<idleConnections {
            _ = try run.endpoints[2].connect(to: serverID, at: serverAddress, service: "test", protocol: "bytes",
                                             now: run.now)
        }
        run.exchange()
        run.outcome.idleEstablished = run.serverEvents.filter { if case .connected = $0 { true } else { false } }.count - 1
        guard case .connected(let serverHandle, _, _, _, _) = run.serverEvents.first else {
            throw SetupFailed()
        }
        let stream = try run.endpoints[0].openStream(on: bulk)
        let data = [UInt8](repeating: 0x5A, count: bytes)
        var written = 0
        var received = 0
        for _ in 0..<100_000 where received < bytes {
            if written < bytes {
                written += try data[written...].withUnsafeBytes { try run.endpoints[0].write($0, to: stream, on: bulk) }
            }
            let moved = run.exchange()
            while let chunk = try run.endpoints[1].read(from: stream, on: serverHandle, maxBytes: 1 << 20), !chunk.isEmpty {
                received += chunk.count
            }
            if !moved { run.advanceClock() }
        }
        return run.outcome
    }

    /// Moves datagrams until nobody has one at this instant; true if any moved.
    @discardableResult
    mutating func exchange() -> Bool {
        var movedAny = false
        var moved = true
        while moved {
            moved = false
            for index in endpoints.indices {
                while let transmit = buffer.withUnsafeMutableBytes({ endpoints[index].pollTransmit(now: now, into: $0) }) {
                    moved = true
                    if index == 0 || transmit.destination == Self.bulkAddress {
                        outcome.log.append(Array(buffer[0..<transmit.count]))
                        outcome.datagrams += 1
                    }
                    guard let target = addresses.firstIndex(of: transmit.destination) else { continue }
                    buffer.withUnsafeMutableBytes { bytes in
                        endpoints[target].handleDatagram(UnsafeMutableRawBufferPointer(rebasing: bytes[0..<transmit.count]),
                                                         from: addresses[index], now: now)
                    }
                }
            }
            movedAny = movedAny || moved
        }
        while let event = endpoints[1].pollEvent() { serverEvents.append(event) }
        for index in [0, 2] { while endpoints[index].pollEvent() != nil {} }
        return movedAny
    }

    mutating func advanceClock() {
        guard let next = endpoints.compactMap({ $0.nextDeadline() }).min() else { return }
        now = max(now, next)
        for index in endpoints.indices { endpoints[index].handleTimeout(now: now) }
    }
}
