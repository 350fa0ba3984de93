import SecureStreams
import SecureStreamsPollExample
import SecureStreamsDispatch
import SecureStreamsLibUV
import Testing

/// Hosts on different drivers talk to each other over loopback: the
/// Dispatch and libuv drivers in both directions, and the poll(2) example
/// driver against both. The same async API runs over each.
@Suite(.serialized, .timeLimit(.minutes(10))) struct InteropTests {
    enum Kind: String, CustomStringConvertible, Sendable {
        case dispatch, libuv, poll
        var description: String { rawValue }
        var factory: any DriverFactory {
            switch self {
            case .dispatch: DispatchDriverFactory()
            case .libuv: LibUVDriverFactory()
            case .poll: PollDriverFactory()
            }
        }
    }

    struct Pair: CustomStringConvertible, Sendable {
        let client: Kind
        let server: Kind
        var description: String { "\(client) → \(server)" }
    }

    static let everyPairing = [
        Pair(client: .dispatch, server: .libuv), Pair(client: .libuv, server: .dispatch),
        Pair(client: .poll, server: .dispatch), Pair(client: .dispatch, server: .poll),
        Pair(client: .poll, server: .libuv), Pair(client: .libuv, server: .poll),
    ]
    static let mainPairings = [
        Pair(client: .dispatch, server: .libuv), Pair(client: .libuv, server: .dispatch),
        Pair(client: .poll, server: .dispatch), Pair(client: .poll, server: .libuv),
    ]

    @Test(arguments: everyPairing)
    func hundredMegabytesArriveIntact(_ pair: Pair) async throws {
        let (client, server, connection, serverSide) = try await HostTests.connectedPair(pair.server.factory, pair.client.factory)
        #expect(connection.peer == server.endpointID && serverSide.peer == client.endpointID)
        let clock = ContinuousClock()
        let started = clock.now
        try await Transfer.run(connection, serverSide, bytes: 25_000_000, streams: 4)
        let elapsed = clock.now - started
        let statistics = await connection.statistics()
        print("interop \(pair): 100 MB in \(elapsed); \(statistics.map { "\($0.packetsSent) packets, \($0.packetsLost) lost" } ?? "")")
        await client.shutdown()
        await server.shutdown()
    }

    @Test(arguments: mainPairings)
    func thousandConcurrentStreamsEchoRecords(_ pair: Pair) async throws {
        let (client, server, connection, serverSide) = try await HostTests.connectedPair(pair.server.factory, pair.client.factory)
        let count = 1_000
        let echo = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                var seen = 0
                for await stream in serverSide.incomingStreams {
                    group.addTask {
                        while let record = try await stream.readRecord() { try await stream.writeRecord(record.reversed()) }
                        try await stream.finish()
                    }
                    seen += 1
                    if seen == count { break }
                }
                try await group.waitForAll()
                return seen
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                group.addTask {
                    let stream = try await connection.openStream()
                    let records = [Array("record \(index)".utf8), [UInt8](repeating: UInt8(index & 0xff), count: 1 + index * 37 % 3_000)]
                    for record in records { try await stream.writeRecord(record) }
                    try await stream.finish()
                    for record in records { #expect(try await stream.readRecord() == record.reversed()) }
                    #expect(try await stream.readRecord() == nil)
                }
            }
            try await group.waitForAll()
        }
        #expect(try await echo.value == count)
        await client.shutdown()
        await server.shutdown()
    }

    @Test(arguments: [Pair(client: .dispatch, server: .libuv), Pair(client: .libuv, server: .dispatch)])
    func recordsOfEverySizeKeepTheirBoundaries(_ pair: Pair) async throws {
        let (client, server, connection, serverSide) = try await HostTests.connectedPair(pair.server.factory, pair.client.factory)
        let sizes = [1, 2, 100, 1_299, 1_300, 1_301, 4_096, 65_535, 65_536, 300_000, 1_000_000]
        let stream = try await connection.openStream()
        async let check: [Int] = {
            let incoming = try #require(await serverSide.incomingStreams.first { _ in true })
            var seen: [Int] = []
            while let record = try await incoming.readRecord() {
                #expect(record.allSatisfy { $0 == UInt8(record.count & 0xff) })
                seen.append(record.count)
            }
            return seen
        }()
        for size in sizes { try await stream.writeRecord([UInt8](repeating: UInt8(size & 0xff), count: size)) }
        try await stream.finish()
        #expect(try await check == sizes)
        await client.shutdown()
        await server.shutdown()
    }
}
