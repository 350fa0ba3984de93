import ArgumentParser
import Foundation
import SecureStreams

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `sss bench`: SecureStreams against plain UDP on loopback, in one run.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure SecureStreams against raw UDP between two processes on loopback.",
        discussion: """
            Spawns this binary as a second process. Raw UDP: bulk goodput of 1,350-byte packets, \
            the 64-byte packet rate and ping-pong round trips, --batch datagrams per \
            sendmmsg/recvmmsg call (no GSO/GRO, which every driver's shared loop may use). SecureStreams (Noise IK, one connection): bulk goodput on \
            one stream, the echo round trip of 64-byte records and the 64-byte record rate, each \
            with its ratio to the raw figure; and the ceiling of raw UDP plus ChaCha20-Poly1305 \
            (raw time per packet + seal and open of 1,350 bytes, measured here). Build with \
            -c release for meaningful figures.
            """
    )

    @Option(help: "The event-loop driver: dispatch, libuv or poll.")
    var driver: DriverKind = .dispatch

    @Option(parsing: .unconditional, help: "Bytes for each bulk transfer.")
    var bytes: UInt64 = 64 << 20

    @Option(parsing: .unconditional, help: "Seconds for each round-trip measurement.")
    var seconds: Double = 2

    @Option(parsing: .unconditional, help: "64-byte records for the record rate.")
    var records = 50_000

    @Option(parsing: .unconditional, help: "Datagrams per sendmmsg/recvmmsg call for raw UDP (default: 32, the drivers' batch size).")
    var batch: Int?

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        try checkRange(bytes, 1...(1 << 40), option: "--bytes")
        try checkSeconds(seconds, maximum: 3_600, option: "--seconds")
        try checkRange(records, 1...100_000_000, option: "--records")
        if let batch { try checkRange(batch, 1...1_024, option: "--batch") }
    }

    func run() async throws {
        let say: (String) -> Void = { line in if !json { printError(line) } }
        say("raw UDP …")
        let batch = max(1, self.batch ?? 32)
        let raw = try BenchPeer.spawn(role: .raw, driver: driver, batch: batch)
        defer { raw.process.terminate() }
        let port = UInt16(raw.line) ?? 0
        let bulk = try RawUDP.bulk(port: port, total: bytes, size: RawUDP.packetSize, batch: batch)
        let small = try RawUDP.bulk(port: port, total: UInt64(records) * 64, size: 64, batch: batch)
        let rawRTT = percentiles(try RawUDP.pingPong(port: port, seconds: seconds))
        say("ChaCha20-Poly1305 …")
        let chacha = try AEADCost.sealAndOpen(.chaChaPoly)
        let aes = AEADAlgorithm.aesGCM.isHardwareAccelerated ? try AEADCost.sealAndOpen(.aesGCM) : nil
        let ceiling = Double(RawUDP.packetSize) / (bulk.secondsPerPacket + chacha)
        let ceilingAES = aes.map { Double(RawUDP.packetSize) / (bulk.secondsPerPacket + $0) }

        say("SecureStreams (\(driver) driver) …")
        let secure = try BenchPeer.spawn(role: .secure, driver: driver, batch: batch)
        defer { secure.process.terminate() }
        let peer = try PeerSpec(parsing: secure.line)
        let result = try await Self.measureSecure(peer, driver: driver, bytes: bytes, seconds: seconds, records: records)

        let report: [String: Any] = [
            "driver": driver.rawValue, "rawBatch": batch,
            "raw": ["bulkBytesPerSecond": bulk.bytesPerSecond, "bulkLoss": 1 - Double(bulk.packetsReceived) / Double(bulk.packetsSent),
                    "packets64PerSecond": small.packetsPerSecond, "rttMedianSeconds": rawRTT.median, "rttP99Seconds": rawRTT.p99],
            "aead": ["chachaPolySealOpenSeconds": chacha, "aesGCMSealOpenSeconds": aes.map { $0 as Any } ?? NSNull()],
            "ceilingBytesPerSecond": ceiling, "ceilingAESGCMBytesPerSecond": ceilingAES.map { $0 as Any } ?? NSNull(),
            "secureStreams": ["bulkBytesPerSecond": result.bulk, "rttMedianSeconds": result.rtt.median, "rttP99Seconds": result.rtt.p99,
                              "records64PerSecond": result.recordRate, "cipher": result.cipher],
            "ratios": ["bulkToRaw": result.bulk / bulk.bytesPerSecond, "bulkToCeiling": result.bulk / ceiling,
                       "rttMedianToRaw": result.rtt.median / rawRTT.median, "recordRateToRawPacketRate": result.recordRate / small.packetsPerSecond],
        ]
        if json {
            let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let mb = { (v: Double) in String(format: "%.1f MB/s", v / 1e6) }
        let ms = { (v: Double) in String(format: "%.3f ms", v * 1000) }
        let x = { (v: Double) in String(format: "%.2f×", v) }
        print("raw UDP, 1350-byte packets      \(mb(bulk.bytesPerSecond)) in batches of \(batch) (\(String(format: "%.1f", 100 * (1 - Double(bulk.packetsReceived) / Double(bulk.packetsSent)))) % dropped by the kernel)")
        print("raw UDP, 64-byte packets        \(String(format: "%.0f", small.packetsPerSecond)) packets/s")
        print("raw UDP ping-pong               median \(ms(rawRTT.median)), p99 \(ms(rawRTT.p99))")
        print("ChaCha20-Poly1305 seal+open     \(String(format: "%.2f µs", chacha * 1e6)) per 1350-byte packet"
              + (aes.map { String(format: " (AES-256-GCM %.2f µs)", $0 * 1e6) } ?? ""))
        print("ceiling raw UDP + ChaChaPoly    \(mb(ceiling))" + (ceilingAES.map { " (with AES-256-GCM \(mb($0)))" } ?? ""))
        print("SecureStreams bulk, one stream  \(mb(result.bulk))   \(x(result.bulk / bulk.bytesPerSecond)) raw, \(x(result.bulk / ceiling)) ceiling")
        print("SecureStreams record echo       median \(ms(result.rtt.median)), p99 \(ms(result.rtt.p99))   \(x(result.rtt.median / rawRTT.median)) raw median")
        print("SecureStreams 64-byte records   \(String(format: "%.0f", result.recordRate)) records/s   \(x(result.recordRate / small.packetsPerSecond)) raw packet rate")
        print("(cipher in use: \(result.cipher); driver: \(driver))")
    }

    struct SecureResult {
        var bulk: Double
        var rtt: (median: Double, p99: Double)
        var recordRate: Double
        var cipher: String
    }

    static func measureSecure(_ peer: PeerSpec, driver: DriverKind, bytes: UInt64, seconds: Double,
                              records: Int) async throws -> SecureResult {
        var random = SystemRandom()
        let host = try SSHost(identity: HostIdentity(using: &random), driver: makeDriverFactory(driver))
        defer { Task { await host.shutdown() } }
        let connection = try await host.connect(to: peer.endpointID!, at: peer.address, service: "bench", protocol: "bench/1")
        let clock = ContinuousClock()

        // Bulk: N bytes on one stream, timed to the peer's count.
        let sink = try await connection.openStream()
        try await sink.writeRecord(Array("sink".utf8))
        let chunk = [UInt8](repeating: 0xa5, count: 256 * 1024)
        let bulkStart = clock.now
        var sent: UInt64 = 0
        while sent < bytes {
            let n = Int(min(UInt64(chunk.count), bytes - sent))
            try await sink.write(n == chunk.count ? chunk : Array(chunk[0..<n]))
            sent += UInt64(n)
        }
        try await sink.finish()
        guard let ack = try await sink.readRecord(), UInt64(String(decoding: ack, as: UTF8.self)) == bytes else {
            throw ToolError("the bench peer did not count every byte")
        }
        let bulk = Double(bytes) / (clock.now - bulkStart).inSeconds

        // Echo round trips of 64-byte records.
        let echo = try await connection.openStream()
        try await echo.writeRecord(Array("echo".utf8))
        let record = [UInt8](repeating: 1, count: 64)
        var rtts: [Double] = []
        let stop = clock.now + .milliseconds(Int64(seconds * 1000))
        while clock.now < stop && rtts.count < 200_000 {
            let start = clock.now
            try await echo.writeRecord(record)
            guard try await echo.readRecord() != nil else { throw ToolError("the echo stream ended") }
            rtts.append((clock.now - start).inSeconds)
        }
        try await echo.finish()

        // 64-byte record rate.
        let counter = try await connection.openStream()
        try await counter.writeRecord(Array("records".utf8))
        let rateStart = clock.now
        for _ in 0..<records { try await counter.writeRecord(record) }
        try await counter.finish()
        guard let counted = try await counter.readRecord(), Int(String(decoding: counted, as: UTF8.self)) == records else {
            throw ToolError("the bench peer did not count every record")
        }
        let rate = Double(records) / (clock.now - rateStart).inSeconds
        await connection.close()
        let cipher = AEADAlgorithm.aesGCM.isHardwareAccelerated ? "AESGCM (preferred where the CPU has AES)" : "ChaChaPoly"
        return SecureResult(bulk: bulk, rtt: percentiles(rtts), recordRate: rate, cipher: cipher)
    }
}

/// `sss bench-peer` (hidden): the second process of `sss bench`.
struct BenchPeer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-peer", shouldDisplay: false)

    enum Role: String, ExpressibleByArgument { case raw, secure }

    @Option var role: Role
    @Option var driver: DriverKind = .dispatch
    @Option var batch = 1

    func validate() throws {
        try checkRange(batch, 1...1_024, option: "--batch")
    }

    func run() async throws {
        switch role {
        case .raw:
            let (fd, port) = try RawUDP.socket()
            try writeAll(Array("\(port)\n".utf8), to: 1)
            RawUDP.serve(fd, batch: batch)
        case .secure:
            var random = SystemRandom()
            let host = try SSHost(identity: HostIdentity(using: &random), driver: makeDriverFactory(driver),
                                  bindingTo: .loopback())
            let listener = try await host.listen(service: "bench", protocols: ["bench/1"])
            try writeAll(Array("\(host.endpointID)@\(host.localAddress)\n".utf8), to: 1)
            for await connection in listener {
                for await stream in connection.incomingStreams {
                    Task { try await Self.serve(stream) }
                }
            }
        }
    }

    static func serve(_ stream: SSStream) async throws {
        guard let mode = try await stream.readRecord() else { return }
        switch String(decoding: mode, as: UTF8.self) {
        case "sink":
            var count: UInt64 = 0
            while let chunk = try await stream.read() { count += UInt64(chunk.count) }
            try await stream.writeRecord(Array(String(count).utf8))
        case "echo":
            while let record = try await stream.readRecord() { try await stream.writeRecord(record) }
        default:
            var count = 0
            while try await stream.readRecord() != nil { count += 1 }
            try await stream.writeRecord(Array(String(count).utf8))
        }
        try await stream.finish()
    }

    /// Starts this binary as `bench-peer` and reads its first line.
    static func spawn(role: Role, driver: DriverKind, batch: Int) throws -> (process: Process, line: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments = ["bench-peer", "--role", role.rawValue, "--driver", driver.rawValue, "--batch", String(batch)]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let more = output.fileHandleForReading.availableData
            if more.isEmpty { throw ToolError("the bench peer (\(role)) exited before it was ready") }
            line.append(more)
        }
        return (process, String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
