import Foundation
@testable import SecureStreams
import SecureStreamsPollExample
import Testing

/// The async API over the poll(2) driver: the Host, Connection and Stream
/// behaviour every driver shares (the interop tests repeat the transfers
/// across drivers).
@Suite(.timeLimit(.minutes(3))) struct HostTests {
    static func identity() -> HostIdentity {
        var random = SystemRandom()
        return HostIdentity(using: &random)
    }

    /// A host on loopback. Its connections send keepalives: a test's tasks
    /// can wait longer than the 30 s idle timeout for a thread when the whole
    /// suite runs in parallel on two cores (as under `make test-tsan`), and
    /// what these tests check is the data, not the idle timeout.
    static func host(_ factory: some DriverFactory = PollDriverFactory(), knownHosts: String? = nil,
                     configure: @escaping @Sendable (inout EndpointConfiguration) -> Void = { _ in }) throws -> SecureStreams.Host {
        let configureEndpoint: @Sendable (inout EndpointConfiguration) -> Void = {
            $0.keepAliveInterval = .seconds(5)
            configure(&$0)
        }
        return try SecureStreams.Host(identity: identity(), driver: factory, bindingTo: .loopback(),
                 configuration: HostConfiguration(knownHostsPath: knownHosts, configureEndpoint: configureEndpoint))
    }

    @Test func connectByEIDExchangesRecordsBothWays() async throws {
        let server = try Self.host()
        let client = try Self.host()
        let listener = try await server.listen(service: "echo", protocols: ["v1"])
        async let accepted: Connection? = listener.first { _ in true }
        let connection = try await client.connect(to: server.endpointID, at: server.localAddress, service: "echo", protocol: "v1")
        let serverSide = try #require(await accepted)
        #expect(connection.peer == server.endpointID)
        #expect(serverSide.peer == client.endpointID)
        #expect(serverSide.service == "echo" && serverSide.protocol == "v1" && serverSide.side == .responder)

        let stream = try await connection.openStream()
        try await stream.writeRecord(Array("hello".utf8))
        try await stream.writeRecord(Array(repeating: 7, count: 100_000))
        try await stream.finish()
        let incoming = try #require(await serverSide.incomingStreams.first { _ in true })
        #expect(try await incoming.readRecord() == Array("hello".utf8))
        #expect(try await incoming.readRecord() == Array(repeating: 7, count: 100_000))
        #expect(try await incoming.readRecord() == nil)
        try await incoming.writeRecord(Array("back".utf8))
        try await incoming.finish()
        #expect(try await stream.readRecord() == Array("back".utf8))
        #expect(try await stream.read() == nil)

        let statistics = try #require(await connection.statistics())
        #expect(statistics.packetsSent > 0 && statistics.packetsReceived > 0)
        await connection.close(code: ErrorCode(42), reason: "done")
        let why = await serverSide.waitUntilClosed()
        #expect(why == ConnectionError(.closedByPeer(code: ErrorCode(42), reason: "done")))
        await client.shutdown()
        await server.shutdown()
    }

    @Test func refusedServiceIsAClearError() async throws {
        let server = try Self.host()
        let client = try Self.host()
        _ = try await server.listen(service: "files", protocols: ["v1"])
        let error = await #expect(throws: HostError.self) {
            try await client.connect(to: server.endpointID, at: server.localAddress, service: "files", protocol: "v9")
        }
        let refused: Bool = {
            guard case .connectionFailed(server.localAddress, let why)? = error?.kind else { return false }
            return why.kind == .serviceRefused(service: "files", protocol: "v9")
        }()
        #expect(refused, "expected a refusal of (files, v9), got \(String(describing: error))")
        await client.shutdown()
        await server.shutdown()
    }

    @Test func unreachablePeerFailsAfterTheHandshakeRetries() async throws {
        let silent = try Self.host()  // bound, never listens: its endpoint drops nothing but refuses...
        await silent.shutdown()       // ...so shut it: nothing answers on that port any more
        let client = try Self.host(configure: { $0.handshakeTimeout = Duration.seconds(1) })
        let error = await #expect(throws: HostError.self) {
            try await client.connect(to: silent.endpointID, at: silent.localAddress, service: "s", protocol: "p")
        }
        let timedOut: Bool = {
            guard case .connectionFailed(silent.localAddress, let why)? = error?.kind else { return false }
            guard case .handshakeTimeout(let timeout) = why.kind else { return false }
            return timeout.phase == .awaitingResponse && timeout.packetsHeard == 0 && timeout.attempts >= 1
        }()
        #expect(timedOut, "expected a handshake timeout, got \(String(describing: error))")
        await client.shutdown()
    }

    @Test func trustOnFirstUsePinsThenRefusesAChangedKey() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sss-known-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let knownHosts = folder.appendingPathComponent("known_hosts").path
        let server = try Self.host()
        let listener = try await server.listen(service: "s", protocols: ["p"])
        let client = try Self.host(knownHosts: knownHosts)
        let first = try await client.connect(at: server.localAddress, service: "s", protocol: "p")
        #expect(first.peer == server.endpointID)
        #expect(try KnownHosts(path: knownHosts).lookup(server.localAddress)?.endpointID == server.endpointID)
        let again = try await client.connect(at: server.localAddress, service: "s", protocol: "p")
        #expect(again.peer == server.endpointID)

        // Another key at the same address: refused, naming both EIDs.
        let address = server.localAddress
        await server.shutdown()
        let impostor = try SecureStreams.Host(identity: Self.identity(), driver: PollDriverFactory(), bindingTo: address)
        let impostorListener = try await impostor.listen(service: "s", protocols: ["p"])
        let error = await #expect(throws: HostError.self) {
            try await client.connect(at: address, service: "s", protocol: "p")
        }
        let expected = HostError.Kind.keyMismatch(address: address, pinned: server.endpointID,
                                                  presented: impostor.endpointID, file: knownHosts, line: 2)
        #expect(error?.kind == expected)
        await client.shutdown()
        await impostor.shutdown()
        withExtendedLifetime((listener, impostorListener)) {}
    }

    @Test func malformedKnownHostsFileNamesTheLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sss-kh-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "# pins\n127.0.0.1:1 not-an-eid\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            try KnownHosts(path: path).entries()
        } throws: { error in
            guard case .knownHosts(file: path, line: 2, _)? = (error as? HostError)?.kind else { return false }
            return true
        }
    }

    @Test func cancellingAReadLosesNoData() async throws {
        let (client, server, connection, serverSide) = try await Self.connectedPair()
        let stream = try await connection.openStream()
        try await stream.write([1])
        let incoming = try #require(await serverSide.incomingStreams.first { _ in true })
        #expect(try await incoming.read() == [1])
        // A read waits; cancel it; then the next bytes go to the next read.
        let waiting = Task { try await incoming.read() }
        #expect(try await eventually { try await incoming.waitingReaders == 1 }, "the read never waited")
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        try await stream.write([2, 3])
        var received: [UInt8] = []
        while received.count < 2, let bytes = try await incoming.read() { received += bytes }
        #expect(received == [2, 3])
        await client.shutdown()
        await server.shutdown()
    }

    @Test func manyConcurrentStreams() async throws {
        let (client, server, connection, serverSide) = try await Self.connectedPair()
        let count = 300
        async let served: Int = {
            var seen = 0
            for await stream in serverSide.incomingStreams {
                let record = try await stream.readRecord()
                try await stream.writeRecord(record!.reversed())
                try await stream.finish()
                seen += 1
                if seen == count { break }
            }
            return seen
        }()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                group.addTask {
                    let stream = try await connection.openStream()
                    let payload = Array("stream \(index)".utf8)
                    try await stream.writeRecord(payload)
                    try await stream.finish()
                    #expect(try await stream.readRecord() == payload.reversed())
                }
            }
            try await group.waitForAll()
        }
        #expect(try await served == count)
        await client.shutdown()
        await server.shutdown()
    }

    @Test func shutdownFailsWaitingCallsAndIsIdempotent() async throws {
        let (client, server, connection, _) = try await Self.connectedPair()
        let stream = try await connection.openStream()
        let waiting = Task { try await stream.read() }
        #expect(try await eventually { try await stream.waitingReaders == 1 }, "the read never waited")
        await client.shutdown()
        await #expect(throws: HostError.self) { try await waiting.value }
        await client.shutdown()
        await #expect(throws: HostError.self) { try await connection.openStream() }
        await server.shutdown()
    }

    static func connectedPair(_ serverFactory: some DriverFactory = PollDriverFactory(),
                              _ clientFactory: some DriverFactory = PollDriverFactory()) async throws
        -> (client: SecureStreams.Host, server: SecureStreams.Host, connection: Connection, serverSide: Connection)
    {
        let server = try host(serverFactory)
        let client = try host(clientFactory)
        let listener = try await server.listen(service: "test", protocols: ["v1"])
        async let accepted: Connection? = listener.first { _ in true }
        let connection = try await client.connect(to: server.endpointID, at: server.localAddress, service: "test", protocol: "v1")
        guard let serverSide = await accepted else { throw HostError(.shutDown) }
        return (client, server, connection, serverSide)
    }
}

/// Bulk transfers through the async API, checked by hash.
enum Transfer {
    /// Sends `bytes` on each of `streams` new streams (a header record with
    /// the stream's index, then the bytes, then the finish); the receiving
    /// side hashes what arrives (BLAKE2b-256) and the hashes must match.
    static func run(_ connection: Connection, _ serverSide: Connection, bytes: Int, streams: Int) async throws {
        let chunkSize = 64 * 1024
        // 1 MiB of varied bytes per stream, sent cyclically.
        let sources: [[UInt8]] = (0..<streams).map { s in
            (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ ($0 >> 8) &+ s &* 7) }
        }
        async let received: [(Int, [UInt8], Int)] = withThrowingTaskGroup(of: (Int, [UInt8], Int).self) { group in
            var accepted = 0
            for await stream in serverSide.incomingStreams {
                group.addTask {
                    let index = Int(try await stream.readRecord()![0])
                    var hash = BLAKE2b(outputCount: 32)
                    var count = 0
                    while let piece = try await stream.read(maxBytes: 1 << 20) {
                        hash.update(piece)
                        count += piece.count
                    }
                    return (index, digest(hash), count)
                }
                accepted += 1
                if accepted == streams { break }
            }
            var results: [(Int, [UInt8], Int)] = []
            for try await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }
        }
        let sent = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for index in 0..<streams {
                group.addTask {
                    let stream = try await connection.openStream()
                    try await stream.writeRecord([UInt8(index)])
                    var hash = BLAKE2b(outputCount: 32)
                    var offset = 0
                    while offset < bytes {
                        let count = min(chunkSize, bytes - offset)
                        let start = offset % (1 << 20)
                        let piece = Array(sources[index][start..<min(start + count, 1 << 20)])
                        hash.update(piece)
                        try await stream.write(piece)
                        offset += piece.count
                    }
                    try await stream.finish()
                    return (index, digest(hash))
                }
            }
            var hashes: [(Int, [UInt8])] = []
            for try await result in group { hashes.append(result) }
            return hashes.sorted { $0.0 < $1.0 }
        }
        let results = try await received
        #expect(results.map(\.2) == [Int](repeating: bytes, count: streams))
        #expect(results.map(\.1) == sent.map(\.1), "hashes of the received bytes differ from the sent ones")
    }

    static func digest(_ hash: borrowing BLAKE2b) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBytes { hash.finalize(into: $0) }
        return out
    }
}

extension HostTests {
    @Test func bulkTransferOverPollDrivers() async throws {
        let (client, server, connection, serverSide) = try await Self.connectedPair()
        let clock = ContinuousClock()
        let started = clock.now
        try await Transfer.run(connection, serverSide, bytes: 25_000_000, streams: 4)
        print("poll → poll: 100 MB in \(clock.now - started)")
        await client.shutdown()
        await server.shutdown()
    }
}

extension HostTests {
    @Test func aResetReachesTheReaderWithItsCode() async throws {
        let (client, server, connection, serverSide) = try await Self.connectedPair()
        let stream = try await connection.openStream()
        try await stream.write([1, 2, 3])
        let incoming = try #require(await serverSide.incomingStreams.first { _ in true })
        #expect(try await incoming.read() == [1, 2, 3])
        await stream.reset(code: ErrorCode(77))
        await #expect(throws: HostError(.streamReset(incoming.id, ErrorCode(77)))) {
            while try await incoming.read() != nil {}
        }
        var sawReset = false
        for await event in incoming.events { if case .reset(ErrorCode(77)) = event { sawReset = true; break } }
        #expect(sawReset)
        await client.shutdown()
        await server.shutdown()
    }

    @Test func theCloseReasonReachesWaitingReadersOnTheOtherSide() async throws {
        let (client, server, connection, serverSide) = try await Self.connectedPair()
        let stream = try await connection.openStream()
        try await stream.write([9])
        let incoming = try #require(await serverSide.incomingStreams.first { _ in true })
        #expect(try await incoming.read() == [9])
        let waiting = Task { try await incoming.read() }
        await connection.close(code: ErrorCode(5), reason: "bye")
        let expected = HostError(.connectionClosed(ConnectionError(.closedByPeer(code: ErrorCode(5), reason: "bye"))))
        await #expect(throws: expected) { try await waiting.value }
        var last: ConnectionEvent?
        for await event in serverSide.events { last = event }
        #expect(last == .closed(ConnectionError(.closedByPeer(code: ErrorCode(5), reason: "bye"))))
        await client.shutdown()
        await server.shutdown()
    }
}

extension HostTests {
    @Test func writesAheadReportAFailureOnTheNextCall() async throws {
        let (client, server, connection, serverSide) = try await Self.connectedPair()
        let stream = try await connection.openStream()
        try await stream.write([1])
        let incoming = try #require(await serverSide.incomingStreams.first { _ in true })
        #expect(try await incoming.read() == [1])
        await incoming.stopSending(code: ErrorCode(9))
        var sawStopped = false
        for await event in stream.events { if case .stopped(ErrorCode(9)) = event { sawStopped = true; break } }
        #expect(sawStopped)
        // Writes after the stop fail: the first may be admitted ahead, but
        // the failure reaches the caller by the finish at the latest.
        await #expect(throws: HostError.self) {
            for _ in 0..<4 { try await stream.write([UInt8](repeating: 2, count: 1000)) }
            try await stream.finish()
        }
        await client.shutdown()
        await server.shutdown()
    }
}
