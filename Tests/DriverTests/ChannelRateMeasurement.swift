import Foundation
@testable import SecureStreams
import SecureStreamsCore
import Testing

/// Channel message rates by `sendDelay` and size, printed, never asserted:
/// a measurement, run only when asked (`SS_MEASURE_CHANNELS=1 swift test
/// --filter ChannelRateMeasurement`), as docs/CHANNELS.md "Figures" says.
@Suite(.serialized, .timeLimit(.minutes(10)),
       .enabled(if: ProcessInfo.processInfo.environment["SS_MEASURE_CHANNELS"] == "1"))
struct ChannelRateMeasurement {
    @Test(.serialized, arguments: [0, 50, 200]) func measure(delayMicroseconds: Int) async throws {
        for size in [1, 16, 1024] {
            let options = ChannelOptions(sendDelay: .microseconds(delayMicroseconds))
            let (client, server, hosts) = try await MessageChannelTests.pair(clientOptions: options, serverOptions: options)
            let writers = 8, perWriter = 4000
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    var count = 0
                    for try await _ in server.channel(1).messages { count += 1; if count == writers * perWriter { break } }
                }
                for _ in 0..<writers {
                    group.addTask {
                        let message = [UInt8](repeating: 5, count: size)
                        for index in 0..<perWriter {
                            let ticket = try client.send(message, on: 1)
                            if index % 256 == 255 { try await ticket.sent() }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let rate = Double(writers * perWriter) / seconds
            print("[measure] sendDelay \(delayMicroseconds) µs, \(size) B: \(Int(rate)) msg/s, \(String(format: "%.2f", rate * Double(size) / 1e6)) MB/s, \(Int(seconds * 1e9 / Double(writers * perWriter))) ns/msg")
            for host in hosts { await host.shutdown() }
        }
    }
}
