import SecureStreams
import Testing

/// The async layer over an endpoint whose notice queue holds one event:
/// one datagram makes many streams readable at once, far past the queue,
/// and yet no reader, writer or `waitUntilClosed` is left waiting, because
/// readiness is never dropped (docs/CORE.md, "Events and readiness").
@Suite struct HostReadinessFloodTests {
    static let streams = 200

    static func host() throws -> SecureStreams.Host {
        try HostTests.host(configure: {
            $0.maxQueuedEvents = 1
            $0.initialMaxStreams = UInt64(streams)
            $0.sendBufferLimit = 512  // writers wait for `writable` too
        })
    }

    @Test(.timeLimit(.minutes(2)))
    func noWaiterHangsWhenEventsFloodPastTheQueue() async throws {
        let server = try Self.host()
        let client = try Self.host()
        let listener = try await server.listen(service: "flood", protocols: ["v1"])
        async let accepted: Connection? = listener.first { _ in true }
        let connection = try await client.connect(to: server.endpointID, at: server.localAddress,
                                                  service: "flood", protocol: "v1")
        let serverSide = try #require(await accepted)

        // Every fifth stream is reset after its record; the others finish.
        async let sent: Void = withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<Self.streams {
                group.addTask {
                    let stream = try await connection.openStream()
                    try await stream.writeRecord(Self.record(index))
                    if index % 5 == 0 {
                        // The reset may overtake the record; the reader sees the reset either way.
                        await stream.reset(code: ErrorCode(UInt64(index)))
                    } else {
                        try await stream.finish()
                    }
                }
            }
            try await group.waitForAll()
        }
        let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            var count = 0
            for await stream in serverSide.incomingStreams {
                group.addTask { try await Self.receive(stream) }
                count += 1
                if count == Self.streams { break }
            }
            var outcomes: [Int: Bool] = [:]
            for try await (index, wasReset) in group { outcomes[index] = wasReset }
            return outcomes
        }
        try await sent
        #expect(outcomes.count == Self.streams)
        for index in 0..<Self.streams where index % 5 != 0 { #expect(outcomes[index] == false, "stream \(index)") }

        // Closes: every one reaches its waiter.
        var pairs: [(Connection, Connection)] = [(connection, serverSide)]
        for _ in 0..<10 {
            async let more: Connection? = listener.first { _ in true }
            let extra = try await client.connect(to: server.endpointID, at: server.localAddress,
                                                 service: "flood", protocol: "v1")
            pairs.append((extra, try #require(await more)))
        }
        await withTaskGroup(of: Void.self) { group in
            for (index, (clientSide, serverSide)) in pairs.enumerated() {
                group.addTask {
                    await serverSide.close(code: ErrorCode(UInt64(index)), reason: "flood")
                    let why = await clientSide.waitUntilClosed()
                    #expect(why == ConnectionError(.closedByPeer(code: ErrorCode(UInt64(index)), reason: "flood")))
                }
            }
        }
        await client.shutdown()
        await server.shutdown()
    }

    static func record(_ index: Int) -> [UInt8] {
        [UInt8(index & 0xff), UInt8(index >> 8)] + [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 2_000)
    }

    /// Reads one stream: its record then the end, or the peer's reset.
    /// - Returns: the stream's index and whether it was reset.
    static func receive(_ stream: SecureStreams.Stream) async throws -> (Int, Bool) {
        do {
            let record = try #require(try await stream.readRecord())
            let index = Int(record[0]) | Int(record[1]) << 8
            #expect(record == Self.record(index))
            do {
                #expect(try await stream.readRecord() == nil)
            } catch let error as HostError {
                guard case .streamReset = error.kind else { throw error }
                return (index, true)
            }
            return (index, false)
        } catch let error as HostError {
            guard case .streamReset(_, let code) = error.kind else { throw error }
            return (Int(code.rawValue), true)
        }
    }
}
