import Testing
@testable import SecureStreamsCore

/// Replayed, forged, tampered and truncated datagrams: each dropped and
/// counted, never a crash, and the connection carries on.
@Suite struct EndpointBadInputTests {
    /// Captures datagrams the client sends once the connection is up.
    static func establishedPair(seed: UInt64) throws -> (Pair, ConnectionHandle, [[UInt8]]) {
        var pair = Pair(seed: seed)
        let connection = try pair.connect()
        #expect(pair.drive(timeout: .seconds(2)) { $0.connected(.responder) != nil })
        let id = try pair.client.openStream(on: connection)
        _ = try pair.client.write([UInt8](repeating: 9, count: 5_000), to: id, on: connection)
        let captured = pair.client.drainTransmits(now: pair.now).map(\.bytes)
        return (pair, connection, captured)
    }

    @Test func replayedDatagramsAreDroppedAndCounted() throws {
        var (pair, _, captured) = try Self.establishedPair(seed: 31)
        let first = try #require(captured.first)
        for _ in 0..<3 {
            var copy = first
            copy.withUnsafeMutableBytes { pair.server.handleDatagram($0, from: pair.clientAddress, now: pair.now) }
        }
        let server = try #require(pair.connected(.responder))
        let stats = try #require(pair.server.statistics(of: server))
        #expect(stats.drops.replayed == 2)
        #expect(stats.packetsReceived >= 1)
    }

    @Test func everyPrefixOfAValidDatagramIsRejectedCleanly() throws {
        var (pair, _, captured) = try Self.establishedPair(seed: 32)
        let datagram = try #require(captured.first)
        let before = pair.server.statistics.drops.total
        var connectionDrops: UInt64 = 0
        for length in 0..<datagram.count {
            var prefix = Array(datagram[0..<length])
            prefix.withUnsafeMutableBytes { pair.server.handleDatagram($0, from: pair.clientAddress, now: pair.now) }
        }
        let server = try #require(pair.connected(.responder))
        connectionDrops = pair.server.statistics(of: server)?.drops.total ?? 0
        #expect(pair.server.statistics.drops.total - before + connectionDrops == UInt64(datagram.count))
        // The genuine datagram is still accepted afterwards.
        var copy = datagram
        copy.withUnsafeMutableBytes { pair.server.handleDatagram($0, from: pair.clientAddress, now: pair.now) }
        #expect(pair.server.statistics(of: server)?.packetsReceived ?? 0 >= 1)
    }

    @Test func everyBitFlipIsCaught() throws {
        var (pair, _, captured) = try Self.establishedPair(seed: 33)
        let datagram = try #require(captured.first)
        let server = try #require(pair.connected(.responder))
        let receivedBefore = pair.server.statistics(of: server)?.packetsReceived ?? 0
        for index in 0..<datagram.count {
            var tampered = datagram
            tampered[index] ^= 1 << UInt8(index % 8)
            tampered.withUnsafeMutableBytes { pair.server.handleDatagram($0, from: pair.clientAddress, now: pair.now) }
        }
        #expect(pair.server.statistics(of: server)?.packetsReceived == receivedBefore, "a tampered packet was accepted")
        #expect(pair.server.connectionCount == 1)
    }

    @Test func junkAndForgedConnectionIDsLeaveNoState() throws {
        var (pair, _, captured) = try Self.establishedPair(seed: 34)
        var random = SeededRandom(seed: 34)
        let template = try #require(captured.first)
        let slotsBefore = pair.server.connectionCount
        while pair.server.pollEvent() != nil {}
        _ = pair.server.drainTransmits(now: pair.now)
        let tablesBefore = pair.server.tableSizes
        for round in 0..<100_000 {
            var junk: [UInt8]
            switch round % 4 {
            case 0:
                junk = random.bytes(count: Int.random(in: 0..<1_400, using: &random))
            case 1:
                junk = template
                for i in 2..<10 { junk[i] = UInt8.random(in: 0...255, using: &random) }  // forged CID
            case 2:
                junk = random.bytes(count: 200)
                junk[0] = ProtocolVersion.current.rawValue; junk[1] = 1
                junk[2] = UInt8.random(in: 1...4, using: &random)  // fake Initiations
            default:
                junk = random.bytes(count: 80)
                junk[0] = ProtocolVersion.current.rawValue; junk[1] = UInt8.random(in: 2...4, using: &random)
            }
            junk.withUnsafeMutableBytes { pair.server.handleDatagram($0, from: pair.clientAddress, now: pair.now) }
        }
        #expect(pair.server.connectionCount == slotsBefore)
        let answers = pair.server.drainTransmits(now: pair.now).count
        #expect(answers <= 64, "answers to junk are bounded")
        while pair.server.pollEvent() != nil {}
        #expect(pair.server.tableSizes == tablesBefore, "junk left state behind")
        let drops = pair.server.statistics.drops
        #expect(drops.total >= 90_000)
        #expect(drops.unknownConnection > 0 && drops.authenticationFailed > 0 && drops.malformed > 0)
    }

    @Test func reflectedDatagramIsDropped() throws {
        var (pair, _, captured) = try Self.establishedPair(seed: 35)
        var datagram = try #require(captured.first)
        // The client's own packet sent back to it: wrong CID for it.
        datagram.withUnsafeMutableBytes { pair.client.handleDatagram($0, from: pair.serverAddress, now: pair.now) }
        #expect(pair.client.statistics.drops.unknownConnection == 1)
    }
}

/// Same seed, same bytes on the wire; another seed, other bytes.
@Suite struct DeterminismTests {
    static func run(seed: UInt64) throws -> String {
        var pair = Pair(seed: seed)
        pair.toServer.lossRate = 0.05
        pair.toClient.reorderRate = 0.05
        pair.toClient.duplicateRate = 0.01
        let connection = try pair.connect()
        var transfer = Transfer(streams: 3, bytesPerStream: 300_000)
        #expect(transfer.run(on: &pair, connection: connection, timeout: .seconds(120)))
        #expect(transfer.isIntact())
        return "\(pair.wireLog.count):\(pair.wireLog.hex)"
    }

    @Test func sameSeedSameWireBytes() throws {
        let first = try Self.run(seed: 41)
        let second = try Self.run(seed: 41)
        #expect(first == second)
        #expect(try Self.run(seed: 42) != first)
    }
}
