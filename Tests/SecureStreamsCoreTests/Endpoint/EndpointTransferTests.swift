#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import SecureStreamsCore

/// Transfers over bad networks (issue: the core must work on bad networks,
/// not only on a perfect link). Seeds are fixed; `SIM_SEED` replays one.
@Suite struct EndpointTransferTests {
    static var seeds: [UInt64] { TestSeeds.seeds([11, 12], filter: "EndpointTransferTests") }

    @Test(arguments: seeds)
    func twentyMegabytesOverALossyReorderingDuplicatingLink(seed: UInt64) throws {
        var pair = Pair(seed: seed)
        for direction in [\Pair.toServer, \Pair.toClient] {
            pair[keyPath: direction].latency = .milliseconds(10)  // 20 ms round trip
            pair[keyPath: direction].lossRate = 0.05
            pair[keyPath: direction].reorderRate = 0.05
            pair[keyPath: direction].duplicateRate = 0.01
        }
        let connection = try pair.connect()
        var transfer = Transfer(streams: 4, bytesPerStream: 5_000_000)
        let done = transfer.run(on: &pair, connection: connection, timeout: .seconds(600))
        let stats = pair.client.statistics(of: connection)
        #expect(done, "SIM_SEED=\(seed): stalled at \(transfer.received.values.map(\.count)); stats \(String(describing: stats))")
        #expect(transfer.isIntact(), "SIM_SEED=\(seed): data corrupted")
        #expect((stats?.packetsLost ?? 0) > 0, "SIM_SEED=\(seed): a 5% loss link lost nothing?")
    }

    @Test func cleanLinkLosesNothingAndFailsNoDecryption() throws {
        var pair = Pair(seed: 3)
        let connection = try pair.connect()
        var transfer = Transfer(streams: 2, bytesPerStream: 2_000_000)
        #expect(transfer.run(on: &pair, connection: connection, timeout: .seconds(60)))
        #expect(transfer.isIntact())
        let client = try #require(pair.client.statistics(of: connection))
        let serverHandle = try #require(pair.connected(.responder))
        let server = try #require(pair.server.statistics(of: serverHandle))
        #expect(client.packetsLost == 0 && server.packetsLost == 0)
        #expect(client.drops.total == 0 && server.drops.total == 0)
        #expect(pair.client.statistics.drops.total == 0 && pair.server.statistics.drops.total == 0)
    }

    @Test func thousandConcurrentStreamsWithRecords() throws {
        var pair = Pair(seed: 4) { configuration, _ in configuration.initialMaxStreams = 2_000 }
        let connection = try pair.connect()
        #expect(pair.drive(timeout: .seconds(5)) { $0.connected(.responder) != nil })
        var ids: [StreamID] = []
        for index in 0..<1_000 {
            let id = try pair.client.openStream(on: connection)
            ids.append(id)
            let record = [UInt8](repeating: UInt8(index % 251), count: 100 + index % 400)
            #expect(try pair.client.write(record, to: id, on: connection, endOfRecord: true) == record.count)
            try pair.client.finish(id, on: connection)
        }
        let server = try #require(pair.connected(.responder))
        var records: [StreamID: [UInt8]] = [:]
        let done = pair.drive(timeout: .seconds(30)) { pair in
            for id in ids where records[id] == nil {
                if let record = try? pair.server.readRecord(from: id, on: server) { records[id] = record }
            }
            return records.count == ids.count
        }
        #expect(done, "got \(records.count) of 1000 records")
        for (index, id) in ids.enumerated() {
            #expect(records[id] == [UInt8](repeating: UInt8(index % 251), count: 100 + index % 400))
        }
        let opened = pair.serverEvents.filter { if case .streamOpened = $0 { return true } else { return false } }
        #expect(opened.count == 1_000)
    }

    @Test func recordsArriveWholeOverLoss() throws {
        var pair = Pair(seed: 5)
        pair.toServer.lossRate = 0.1
        let connection = try pair.connect()
        #expect(pair.drive(timeout: .seconds(10)) { $0.connected(.responder) != nil })
        let id = try pair.client.openStream(on: connection)
        let sizes = [1, 0, 5_000, 1_349, 20_000, 7]
        for (index, size) in sizes.enumerated() {
            let record = [UInt8](repeating: UInt8(index + 1), count: size)
            #expect(try pair.client.write(record, to: id, on: connection, endOfRecord: true) == size)
        }
        let server = try #require(pair.connected(.responder))
        var got: [[UInt8]] = []
        #expect(pair.drive(timeout: .seconds(60)) { pair in
            while let record = try? pair.server.readRecord(from: id, on: server) { got.append(record) }
            return got.count == sizes.filter { $0 > 0 }.count
        })
        #expect(got.map(\.count) == sizes.filter { $0 > 0 })
        for record in got { #expect(Set(record).count == 1) }
    }

    @Test func halfCloseLetsTheOtherSideAnswer() throws {
        var pair = Pair(seed: 6)
        let connection = try pair.connect()
        #expect(pair.drive(timeout: .seconds(5)) { $0.connected(.responder) != nil })
        let id = try pair.client.openStream(on: connection)
        _ = try pair.client.write(Array("question".utf8), to: id, on: connection)
        try pair.client.finish(id, on: connection)
        let server = try #require(pair.connected(.responder))
        var question: [UInt8] = []
        #expect(pair.drive(timeout: .seconds(5)) { pair in
            return pair.server.readToEnd(from: id, on: server, into: &question)
        })
        #expect(question == Array("question".utf8))
        _ = try pair.server.write(Array("answer".utf8), to: id, on: server)
        try pair.server.finish(id, on: server)
        var answer: [UInt8] = []
        #expect(pair.drive(timeout: .seconds(5)) { pair in
            return pair.client.readToEnd(from: id, on: connection, into: &answer)
        })
        #expect(answer == Array("answer".utf8), "answer \(answer) events \(pair.clientEvents) then \(pair.client.readAvailable(from: id, on: connection)) stats \(String(describing: pair.server.statistics(of: server)))")
    }

    @Test func resetReachesThePeerWithItsCode() throws {
        var pair = Pair(seed: 7)
        let connection = try pair.connect()
        #expect(pair.drive(timeout: .seconds(5)) { $0.connected(.responder) != nil })
        let id = try pair.client.openStream(on: connection)
        _ = try pair.client.write([UInt8](repeating: 1, count: 200_000), to: id, on: connection)
        _ = pair.drive(timeout: .milliseconds(15)) { _ in false }
        try pair.client.reset(id, on: connection, code: ErrorCode(0x1234))
        let reset = pair.drive(timeout: .seconds(5)) { pair in
            pair.serverEvents.contains { if case .streamReset(_, id, ErrorCode(0x1234)) = $0 { true } else { false } }
        }
        #expect(reset, "server events: \(pair.serverEvents)")
        // And the other way: stop sending makes the peer reset.
        let server = try #require(pair.connected(.responder))
        let back = try pair.server.openStream(on: server)
        _ = try pair.server.write([UInt8](repeating: 2, count: 100_000), to: back, on: server)
        _ = pair.drive(timeout: .milliseconds(30)) { _ in false }
        try pair.client.stopSending(back, on: connection, code: ErrorCode(0x4321))
        #expect(pair.drive(timeout: .seconds(5)) { pair in
            pair.serverEvents.contains { if case .streamStopped(_, back, ErrorCode(0x4321)) = $0 { true } else { false } }
        })
    }
}

@Suite struct EndpointScaleTests {
    @Test func tenThousandConcurrentStreams() throws {
        var pair = Pair(seed: 61) { configuration, _ in configuration.initialMaxStreams = 10_000 }
        let connection = try pair.connect()
        #expect(pair.drive(timeout: .seconds(5)) { $0.connected(.responder) != nil })
        var ids: [StreamID] = []
        for index in 0..<10_000 {
            let id = try pair.client.openStream(on: connection)
            ids.append(id)
            _ = try pair.client.write([UInt8(index & 0xff), UInt8(index >> 8)], to: id, on: connection, endOfRecord: true)
            try pair.client.finish(id, on: connection)
        }
        let server = try #require(pair.connected(.responder))
        var seen = 0
        var pending = Set(ids)
        let done = pair.drive(timeout: .seconds(60)) { pair in
            for id in pending {
                if let record = try? pair.server.readRecord(from: id, on: server) {
                    let index = Int(record[0]) | Int(record[1]) << 8
                    #expect(ids[index] == id)
                    pending.remove(id)
                    seen += 1
                }
            }
            return pending.isEmpty
        }
        #expect(done, "\(seen) of 10,000 records arrived")
    }

    @Test func receiverLearnsWhenThePeerIsBlockedOnItsWindow() throws {
        var pair = Pair(seed: 62) { configuration, _ in
            configuration.initialMaxStreamData = 16_384
            configuration.maxStreamWindow = 16_384
        }
        let connection = try pair.connect()
        #expect(pair.drive(timeout: .seconds(5)) { $0.connected(.responder) != nil })
        let id = try pair.client.openStream(on: connection)
        _ = try pair.client.write([UInt8](repeating: 3, count: 100_000), to: id, on: connection)
        // The server reads nothing: the client runs out of stream credit.
        #expect(pair.drive(timeout: .seconds(5)) { pair in
            pair.serverEvents.contains { if case .receiveBlocked(_, id) = $0 { true } else { false } }
        })
    }
}
