import Testing
@testable import SecureStreamsCore

/// Flow control against readers that take whole records (`readRecord`):
/// bytes of a record still incomplete cannot be read as a record, so they
/// release no credit; the receiver must open its windows for them, or the
/// sender waits forever. Virtual time only (``Pair``).
@Suite struct EndpointFlowControlTests {
    /// 1,000 streams at once, each a short record then one of up to 3,000
    /// bytes: together ≈ 1.5 MB, more than the 1 MiB connection window, and
    /// the sender's round-robin leaves most streams with an incomplete second
    /// record. The server echoes every record reversed; the client reads the
    /// echoes as records too.
    @Test func manyStreamsExhaustingConnectionCreditStillComplete() throws {
        var pair = Pair(seed: 71) { configuration, _ in configuration.initialMaxStreams = 2_000 }
        let connection = try pair.connect()
        #expect(pair.drive(timeout: .seconds(5)) { $0.connected(.responder) != nil })
        let count = 1_000
        var ids: [StreamID] = []
        var sent: [StreamID: [[UInt8]]] = [:]
        for index in 0..<count {
            let id = try pair.client.openStream(on: connection)
            ids.append(id)
            let records = [Array("record \(index)".utf8),
                           [UInt8](repeating: UInt8(index & 0xff), count: 1 + index * 37 % 3_000)]
            for record in records {
                #expect(try pair.client.write(record, to: id, on: connection, endOfRecord: true) == record.count)
            }
            try pair.client.finish(id, on: connection)
            sent[id] = records
        }
        let server = try #require(pair.connected(.responder))
        var serverOpen = Set(ids)
        var echoes: [StreamID: [[UInt8]]] = [:]
        var clientOpen = Set(ids)
        var serverRecords = 0
        var stats = pair.client.statistics(of: connection)
        var serverSeen = 0
        var clientSeen = 0
        let done = pair.drive(timeout: .seconds(120)) { pair in
            // Event-driven, as an application would: only streams said readable.
            let serverReady = Self.readable(in: pair.serverEvents[serverSeen...])
            serverSeen = pair.serverEvents.count
            for id in serverReady where serverOpen.contains(id) {
                while let record = try? pair.server.readRecord(from: id, on: server) {
                    serverRecords += 1
                    let echo = Array(record.reversed())
                    _ = try? pair.server.write(echo, to: id, on: server, endOfRecord: true)
                }
                if pair.server.isFinished(id, on: server) {
                    try? pair.server.finish(id, on: server)
                    serverOpen.remove(id)
                }
            }
            let clientReady = Self.readable(in: pair.clientEvents[clientSeen...])
            clientSeen = pair.clientEvents.count
            for id in clientReady where clientOpen.contains(id) {
                while let record = try? pair.client.readRecord(from: id, on: connection) {
                    echoes[id, default: []].append(record)
                }
                if pair.client.isFinished(id, on: connection) { clientOpen.remove(id) }
            }
            if let current = pair.client.statistics(of: connection) { stats = current }
            // A closed connection reports every stream as finished: not done.
            return pair.closed(.initiator) == nil && serverOpen.isEmpty && clientOpen.isEmpty
        }
        #expect(pair.closed(.initiator) == nil && pair.closed(.responder) == nil,
                "closed: client \(String(describing: pair.closed(.initiator))), server \(String(describing: pair.closed(.responder)))")
        #expect(done, "server read \(serverRecords) records, server open \(serverOpen.count), client open \(clientOpen.count); client \(String(describing: stats))")
        let wrong = ids.filter { echoes[$0] != sent[$0]!.map { Array($0.reversed()) } }
        #expect(wrong.count == 0, "\(wrong.count) of \(count) streams did not get their records back; first: \(wrong.first.map { "\(echoes[$0]?.map(\.count) ?? []) for \(sent[$0]!.map(\.count))" } ?? "")")
    }

    /// The streams of `streamReadable` events, in order, each once.
    static func readable(in events: ArraySlice<Event>) -> [StreamID] {
        var seen = Set<StreamID>()
        var ids: [StreamID] = []
        for event in events {
            if case .streamReadable(_, let id) = event, seen.insert(id).inserted { ids.append(id) }
        }
        return ids
    }

    /// Records larger than the 256 KiB stream window (and the 5 MB one larger
    /// than the 1 MiB connection window) arrive whole to a reader that only
    /// reads records.
    @Test func recordsLargerThanTheReceiveWindowArriveWhole() throws {
        var pair = Pair(seed: 72)
        let connection = try pair.connect()
        #expect(pair.drive(timeout: .seconds(5)) { $0.connected(.responder) != nil })
        let id = try pair.client.openStream(on: connection)
        let sizes = [1, 300_000, 1_000_000, 5_000_000]
        let records = sizes.enumerated().map { index, size in
            (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ index) }
        }
        let server = try #require(pair.connected(.responder))
        var recordIndex = 0
        var written = 0
        var finished = false
        var got: [[UInt8]] = []
        let done = pair.drive(timeout: .seconds(300)) { pair in
            // Write what the send buffer takes; the last byte of a record is marked.
            while recordIndex < records.count {
                let rest = Array(records[recordIndex][written...])
                guard let accepted = try? pair.client.write(rest, to: id, on: connection, endOfRecord: true),
                      accepted > 0 else { break }
                written += accepted
                if written == records[recordIndex].count {
                    recordIndex += 1
                    written = 0
                }
            }
            if recordIndex == records.count && !finished {
                try? pair.client.finish(id, on: connection)
                finished = true
            }
            while let record = try? pair.server.readRecord(from: id, on: server) { got.append(record) }
            return got.count == records.count
        }
        #expect(done, "got records of \(got.map(\.count)); server \(String(describing: pair.server.statistics(of: server)))")
        #expect(got.map(\.count) == sizes)
        let intact = got == records
        #expect(intact, "record contents differ")
    }
}
