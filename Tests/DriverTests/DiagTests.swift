@testable import SecureStreams
import SecureStreamsPollExample
import Testing

@Suite struct DiagTests {
    @Test(arguments: [100, 400, 1000]) func diag(count: Int) async throws {
        let (client, server, connection, serverSide) = try await HostTests.connectedPair()
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
        let done = Counter()
        let watchdog = Task {
            try await Task.sleep(for: .seconds(8))
            let info: String = try await serverSide.runtime.call { loop, core, done in
                var parked = 0, withData = 0, streams = 0, records = 0
                for (_, c) in core.connections { for (id, st) in c.streams {
                    streams += 1
                    if !st.readers.isEmpty { parked += 1 }
                    if (try? loop.endpoint.readRecord(from: id, on: c.handle)) != nil { records += 1 }
                } }
                done.resume(returning: "server streams \(streams) parked \(parked) recordsAvailable \(records) withData \(withData)")
            }
            print("DIAG", info)
            print("DIAG count \(count): done \(await done.value); client \(String(describing: await connection.statistics())); server \(String(describing: await serverSide.statistics()))")
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
                    await done.add()
                }
            }
            try await group.waitForAll()
        }
        watchdog.cancel()
        #expect(try await echo.value == count)
        await client.shutdown()
        await server.shutdown()
    }
}
actor Counter { var value = 0; func add() { value += 1 } }
