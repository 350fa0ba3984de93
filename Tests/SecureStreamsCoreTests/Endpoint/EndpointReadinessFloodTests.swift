import Testing
@testable import SecureStreamsCore

/// Readiness is never lost (docs/CORE.md, "Events and readiness"): floods
/// far past `maxQueuedEvents` while the application does not poll, then
/// checks that every readable, writable, reset, stopped and closed condition
/// is reported, that all data arrives, and that the event tables stay within
/// their caps at every step. Seeds are fixed; `SIM_SEED` replays one.
@Suite struct EndpointReadinessFloodTests {
    static var seeds: [UInt64] { TestSeeds.seeds([71], filter: "EndpointReadinessFlood") }

    static let streamCount = 1_000
    static let payloadCount = 600
    static let payloads: [[UInt8]] = (0..<streamCount).map { index in
        (0..<payloadCount).map { UInt8(truncatingIfNeeded: $0 &+ index &* 7) }
    }

    /// The documented cap: the notice queue, plus one record per connection,
    /// per live stream and per unpolled close; the order ring holds at most
    /// as many stale entries as live ones, plus a slack of 64.
    static func withinCaps(_ endpoint: Endpoint, liveStreams: Int) -> Bool {
        let records = endpoint.events.recordCount
        let cap = endpoint.configuration.maxQueuedEvents + 2 * endpoint.connectionCount
            + endpoint.unreportedCloseCount + liveStreams
        return endpoint.events.count <= cap && endpoint.events.orderCount <= 2 * records + 65
    }

    static func liveStreams(_ endpoint: Endpoint, _ handle: ConnectionHandle?) -> Int {
        handle.flatMap { endpoint.established($0)?.streams.count } ?? 0
    }

    static func payload(_ index: Int) -> [UInt8] { payloads[index] }

    @Test(arguments: seeds)
    func streamReadinessPastEveryQueueIsAllReported(seed: UInt64) throws {
        var pair = Pair(seed: seed) { configuration, _ in
            configuration.maxQueuedEvents = 4
            configuration.keepAliveInterval = .seconds(1)  // the clock jumps while nothing is sent
            configuration.initialMaxStreams = UInt64(Self.streamCount)
            configuration.initialMaxData = 16 << 20
            configuration.sendBufferLimit = 256  // every first write is cut short: `writable` follows
        }
        let client = try pair.connect()
        #expect(pair.drive { $0.connected(.initiator) != nil && $0.connected(.responder) != nil })
        let server = try #require(pair.connected(.responder))
        pair.drainsEvents = false
        pair.clientEvents = []
        pair.serverEvents = []
        var capsHeld = true
        func driveFor(_ duration: Duration, _ pair: inout Pair) {
            let end = pair.now + duration
            _ = pair.drive { pair in
                capsHeld = capsHeld && Self.withinCaps(pair.server, liveStreams: Self.liveStreams(pair.server, server))
                    && Self.withinCaps(pair.client, liveStreams: Self.liveStreams(pair.client, client))
                return pair.now >= end
            }
        }

        // Streams 4k+1 are reset by the client, 4k+2 stopped by the server.
        var written = [Int](repeating: 0, count: Self.streamCount)
        var ids: [StreamID] = []
        for index in 0..<Self.streamCount {
            let id = try pair.client.openStream(on: client)
            ids.append(id)
            written[index] = try pair.client.write(Self.payload(index), to: id, on: client)
            #expect(written[index] < Self.payloadCount)
            if index % 4 == 1 { try pair.client.reset(id, on: client, code: ErrorCode(UInt64(index))) }
        }
        driveFor(.seconds(2), &pair)
        for index in stride(from: 2, to: Self.streamCount, by: 4) {
            try pair.server.stopSending(ids[index], on: server, code: ErrorCode(UInt64(10_000 + index)))
        }
        driveFor(.seconds(2), &pair)
        #expect(capsHeld, "SIM_SEED=\(seed): an event table grew past its cap")

        // The client polls once: a `writable` for every stream cut short and
        // still open, a `streamStopped` for every stopped one.
        pair.drainEvents()
        var writable = Set<StreamID>()
        var stopped: [StreamID: ErrorCode] = [:]
        for event in pair.clientEvents {
            if case .streamWritable(client, let id) = event { writable.insert(id) }
            if case .streamStopped(client, let id, let code) = event { stopped[id] = code }
        }
        for index in 0..<Self.streamCount where index % 4 != 1 {
            #expect(writable.contains(ids[index]) || index % 4 == 2, "SIM_SEED=\(seed): no writable for \(ids[index])")
        }
        for index in 0..<Self.streamCount where index % 4 != 1 {
            // Level-triggered too: room freed (or, once stopped, a write fails at once).
            #expect(try pair.client.isWritable(ids[index], on: client), "SIM_SEED=\(seed): \(ids[index])")
        }
        for index in stride(from: 2, to: Self.streamCount, by: 4) {
            #expect(stopped[ids[index]] == ErrorCode(UInt64(10_000 + index)), "SIM_SEED=\(seed): stop of \(ids[index])")
            #expect(throws: CommandError.stopped(ids[index], ErrorCode(UInt64(10_000 + index)))) {
                try pair.client.write([1], to: ids[index], on: client)
            }
        }

        // The rest of each open stream, level-triggered: write, step, repeat.
        var pending = Set((0..<Self.streamCount).filter { $0 % 4 == 0 || $0 % 4 == 3 })
        #expect(pair.drive(timeout: .seconds(60)) { pair in
            for index in pending.sorted() {
                let taken = Self.payload(index)[written[index]...].withUnsafeBytes {
                    try? pair.client.write($0, to: ids[index], on: client)
                }
                guard let taken else { return false }
                written[index] += taken
                if written[index] == Self.payloadCount {
                    try? pair.client.finish(ids[index], on: client)
                    pending.remove(index)
                }
            }
            capsHeld = capsHeld && Self.withinCaps(pair.server, liveStreams: Self.liveStreams(pair.server, server))
            return pending.isEmpty
        }, "SIM_SEED=\(seed): the client could not write everything")
        driveFor(.seconds(2), &pair)
        #expect(capsHeld, "SIM_SEED=\(seed): an event table grew past its cap")

        // The server polls for the first time since the handshake.
        pair.drainEvents()
        var opened = [StreamID: Int]()
        var readable = Set<StreamID>()
        var resets: [StreamID: ErrorCode] = [:]
        for event in pair.serverEvents {
            switch event {
            case .streamOpened(server, let id): opened[id, default: 0] += 1
            case .streamReadable(server, let id): readable.insert(id)
            case .streamReset(server, let id, let code): resets[id] = code
            default: break
            }
        }
        #expect(opened.count == Self.streamCount && opened.values.allSatisfy { $0 == 1 }, "SIM_SEED=\(seed)")
        for index in 0..<Self.streamCount {
            let id = ids[index]
            switch index % 4 {
            case 1: #expect(resets[id] == ErrorCode(UInt64(index)), "SIM_SEED=\(seed): reset of \(id)")
            case 2: #expect(resets[id] != nil, "SIM_SEED=\(seed): the answer to our stop on \(id)")
            default:
                #expect(readable.contains(id), "SIM_SEED=\(seed): no readable for \(id)")
                #expect(try pair.server.isReadable(id, on: server), "SIM_SEED=\(seed): \(id)")
                var bytes: [UInt8] = []
                #expect(pair.server.readToEnd(from: id, on: server, into: &bytes), "SIM_SEED=\(seed): \(id)")
                let intact = bytes == Self.payload(index)
                #expect(intact, "SIM_SEED=\(seed): data of \(id)")
            }
        }
    }

    /// A peer that opens, resets and stops streams as fast as it may, while
    /// the application never polls, grows no event table: a stream forgotten
    /// before the application heard of it takes its record with it, and the
    /// stream limit keeps coming back, so thousands of streams pass through.
    @Test func streamsThatEndUnseenLeaveNoRecords() throws {
        let limit = 50
        var pair = Pair(seed: 72) { configuration, side in
            configuration.maxQueuedEvents = 4
            if side == .responder { configuration.initialMaxStreams = UInt64(limit) }
        }
        let client = try pair.connect()
        #expect(pair.drive { $0.connected(.initiator) != nil && $0.connected(.responder) != nil })
        let server = try #require(pair.connected(.responder))
        pair.drainsEvents = false
        var cycled = 0
        var mostRecords = 0
        #expect(pair.drive(timeout: .seconds(120)) { pair in
            while cycled < 3_000, let id = try? pair.client.openStream(on: client) {
                _ = try? pair.client.write([1, 2, 3], to: id, on: client)
                try? pair.client.reset(id, on: client, code: ErrorCode(1))
                try? pair.client.stopSending(id, on: client, code: ErrorCode(2))
                cycled += 1
            }
            mostRecords = max(mostRecords, pair.server.events.recordCount)
            return cycled == 3_000 && Self.liveStreams(pair.server, server) == 0
        })
        #expect(mostRecords <= limit + 2, "at most one record per live stream and per connection")
        #expect(pair.server.events.orderCount <= 2 * pair.server.events.recordCount + 65)
        pair.drainEvents()
        #expect(pair.serverEvents.count <= limit + 2 + pair.server.configuration.maxQueuedEvents)
    }

    /// Connections closing faster than the application polls: every close
    /// is reported with its reason, and until then each closed connection
    /// holds its place, so `connect` says the endpoint is full instead of
    /// growing the closes waiting to be told.
    @Test func everyCloseIsReportedAndHoldsItsPlaceUntilPolled() throws {
        let count = 40
        var pair = Pair(seed: 73) { configuration, side in
            configuration.maxQueuedEvents = 2
            if side == .initiator { configuration.maxConnections = count }
        }
        var handles: [ConnectionHandle] = []
        for _ in 0..<count { handles.append(try pair.connect()) }
        #expect(pair.drive {
            $0.serverEvents.filter { if case .connected = $0 { true } else { false } }.count == count
        })
        #expect(pair.drive { $0.clientEvents.filter { if case .connected = $0 { true } else { false } }.count == count })
        var serverHandles: [ConnectionHandle] = []
        for event in pair.serverEvents { if case .connected(let handle, _, _, _, _) = event { serverHandles.append(handle) } }
        pair.drainsEvents = false
        pair.clientEvents = []
        for (index, handle) in serverHandles.enumerated() {
            pair.server.close(handle, code: ErrorCode(UInt64(index)), reason: "", now: pair.now)
        }
        #expect(pair.drive { $0.client.connectionCount == 0 })
        #expect(pair.client.unreportedCloseCount == count && !pair.client.hasRoomForConnection)
        #expect(throws: CommandError.endpointFull(maxConnections: count)) { try pair.connect() }
        #expect(pair.client.events.recordCount <= count + pair.client.configuration.maxQueuedEvents)

        pair.drainEvents()
        var closes: [ConnectionHandle: ConnectionError] = [:]
        for event in pair.clientEvents { if case .closed(let handle, let error) = event { closes[handle] = error } }
        #expect(Set(closes.keys) == Set(handles))
        #expect(closes.values.allSatisfy { if case .closedByPeer = $0.kind { true } else { false } })
        #expect(pair.client.hasRoomForConnection)
        _ = try pair.connect()
    }
}
