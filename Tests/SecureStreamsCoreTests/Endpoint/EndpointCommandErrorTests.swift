import Testing
@testable import SecureStreamsCore

/// Every command fails with a typed ``CommandError`` whose case says why
/// (docs/CORE.md, "Errors"); nothing is told apart by its text.
@Suite struct EndpointCommandErrorTests {
    @Test func streamCommandsNameTheirStreamCondition() throws {
        var pair = Pair(seed: 21) { configuration, side in
            if side == .responder { configuration.initialMaxStreams = 2 }
        }
        let handle = try pair.connect()
        #expect(throws: CommandError.notEstablished(handle)) { try pair.client.openStream(on: handle) }
        let bogus = ConnectionHandle(index: 999, generation: 0)
        #expect(throws: CommandError.unknownConnection(bogus)) { try pair.client.openStream(on: bogus) }
        #expect(pair.drive { $0.connected(.initiator) != nil && $0.connected(.responder) != nil })

        let finished = try pair.client.openStream(on: handle)
        let reset = try pair.client.openStream(on: handle)
        let limited = #expect(throws: CommandError.streamLimitReached(handle)) { try pair.client.openStream(on: handle) }
        #expect(limited?.kind == .streamLimitReached && limited?.stream == nil)
        _ = try pair.client.write([1, 2, 3], to: finished, on: handle)
        try pair.client.finish(finished, on: handle)
        #expect(throws: CommandError.finished(finished)) { try pair.client.write([4], to: finished, on: handle) }
        _ = try pair.client.write([5], to: reset, on: handle)
        try pair.client.reset(reset, on: handle, code: ErrorCode(7))
        let ours = #expect(throws: CommandError.reset(reset, ErrorCode(7))) {
            try pair.client.write([6], to: reset, on: handle)
        }
        #expect(ours?.kind == .reset && ours?.code == ErrorCode(7) && ours?.stream == reset)
        let never = StreamID(opener: .initiator, index: 40)
        #expect(throws: CommandError.unknownStream(never)) { try pair.client.read(from: never, on: handle) }
        #expect(throws: CommandError.unknownStream(never)) { try pair.client.setPriority(3, of: never, on: handle) }

        let serverHandle = try #require(pair.connected(.responder))
        #expect(pair.drive { pair in
            pair.serverEvents.contains { if case .streamReset(_, reset, ErrorCode(7)) = $0 { true } else { false } }
        })
        let theirs = #expect(throws: CommandError.resetByPeer(reset, ErrorCode(7))) {
            try pair.server.read(from: reset, on: serverHandle)
        }
        #expect(theirs?.kind == .resetByPeer)
        #expect(throws: CommandError.resetByPeer(reset, ErrorCode(7))) { try pair.server.readRecord(from: reset, on: serverHandle) }
    }

    /// A write refused because the peer sent STOP_SENDING says `stopped`
    /// with the peer's code, not `reset` as if the application had reset it.
    @Test func aStreamStoppedByThePeerRefusesWritesAsStopped() throws {
        var pair = Pair(seed: 24)
        let handle = try pair.connect()
        #expect(pair.drive { $0.connected(.initiator) != nil && $0.connected(.responder) != nil })
        let stream = try pair.client.openStream(on: handle)
        _ = try pair.client.write([1, 2, 3], to: stream, on: handle)
        let serverHandle = try #require(pair.connected(.responder))
        #expect(pair.drive { pair in
            pair.serverEvents.contains { if case .streamReadable(_, stream) = $0 { true } else { false } }
        })
        try pair.server.stopSending(stream, on: serverHandle, code: ErrorCode(9))
        #expect(pair.drive { pair in
            pair.clientEvents.contains { if case .streamStopped(_, stream, ErrorCode(9)) = $0 { true } else { false } }
        })
        let refused = #expect(throws: CommandError.stopped(stream, ErrorCode(9))) {
            try pair.client.write([4], to: stream, on: handle)
        }
        #expect(refused?.kind == .stopped && refused?.code == ErrorCode(9) && refused?.stream == stream)
        #expect(throws: CommandError.stopped(stream, ErrorCode(9))) { try pair.client.finish(stream, on: handle) }
    }

    @Test func namesAreCheckedAsInvalidNames() throws {
        var pair = Pair(seed: 22)
        for (service, proto) in [("", "p"), ("s", ""), (String(repeating: "x", count: 256), "p")] {
            let error = #expect(throws: CommandError.self) {
                try pair.client.connect(to: nil, at: pair.serverAddress, service: service, protocol: proto, now: pair.now)
            }
            #expect(error?.kind == .invalidName)
        }
        #expect(pair.client.connectionCount == 0)
    }

    /// A closed connection answers with its reason until the application
    /// polled its `closed` event, and keeps its place against
    /// `maxConnections` until then; afterwards its handle is unknown.
    @Test func aClosedConnectionKeepsItsReasonAndPlaceUntilPolled() throws {
        var pair = Pair(seed: 23) { configuration, side in
            if side == .initiator { configuration.maxConnections = 1 }
        }
        let handle = try pair.connect()
        #expect(pair.drive { $0.connected(.initiator) != nil && $0.connected(.responder) != nil })
        let serverHandle = try #require(pair.connected(.responder))
        pair.drainsEvents = false
        pair.server.close(serverHandle, code: ErrorCode(5), reason: "bye", now: pair.now)
        #expect(pair.drive { $0.client.connectionCount == 0 })  // received, drained and freed

        let reason = ConnectionError(.closedByPeer(code: ErrorCode(5), reason: "bye"))
        #expect(pair.client.closeReason(of: handle) == reason)
        let closed = #expect(throws: CommandError.closed(handle, reason)) { try pair.client.openStream(on: handle) }
        #expect(closed?.kind == .closed && closed?.connectionError == reason)
        #expect(pair.client.unreportedCloseCount == 1 && !pair.client.hasRoomForConnection)
        #expect(throws: CommandError.endpointFull(maxConnections: 1)) { try pair.connect() }

        pair.drainEvents()
        #expect(pair.closed(.initiator) == reason)
        #expect(pair.client.unreportedCloseCount == 0 && pair.client.hasRoomForConnection)
        #expect(pair.client.closeReason(of: handle) == nil)
        #expect(throws: CommandError.unknownConnection(handle)) { try pair.client.openStream(on: handle) }
        _ = try pair.connect()
    }

    @Test func equalityIgnoresWhereTheErrorWasMade() {
        let id = StreamID(opener: .responder, index: 3)
        let here = CommandError.finished(id)
        let there = CommandError.finished(id, file: "Elsewhere.swift", line: 1)
        #expect(here == there && here.hashValue == there.hashValue)
        #expect(here != CommandError.unknownStream(id))
        #expect(here.file == #fileID && there.line == 1)
    }
}
