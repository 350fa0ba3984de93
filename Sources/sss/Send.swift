import ArgumentParser
import Foundation
import Logging
import SecureStreams

/// `sss send FILE... PEER`: sends files, one stream each, several at once.
struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send files to a peer running `sss receive`.",
        discussion: """
            PEER is EID@HOST:PORT (Noise IK: the peer must hold that key) or HOST:PORT (Noise XX: \
            the peer's key is pinned in the known-hosts file on first use and must match later). \
            Each file goes on its own stream, up to --parallel at once: a header with its name and \
            size, answered by the receiver before any byte of the file is sent (a refused file costs \
            one round trip), the bytes, then its BLAKE2b-256; the receiver answers whether the file \
            arrived whole and the name it stored it under (a taken name becomes 'name (1).ext'). \
            Exits 0 only when every file was confirmed.
            """
    )

    @OptionGroup var common: CommonOptions

    @Argument(help: ArgumentHelp("The files, then the peer.", valueName: "FILE... PEER"))
    var arguments: [String]

    @Option(help: "The service to ask for.")
    var service = Transfer.service

    @Option(name: .customLong("protocol"), help: "The protocol to ask for.")
    var proto = Transfer.fileProtocol

    @Option(parsing: .unconditional, help: "Files sent at the same time.")
    var parallel = 8

    @Option(parsing: .unconditional, help: "Handshake attempts before giving up on a peer that does not answer.")
    var attempts = 3

    @Option(name: .customLong("connect-timeout"), parsing: .unconditional, help: "Seconds one handshake attempt waits for an answer.")
    var connectTimeout: Double = 2

    @Option(parsing: .unconditional, help: "After the files, send this many small records to be echoed and report their round-trip times.")
    var records = 0

    @Flag(help: "Print the connection's statistics (RTT, packets, losses, congestion window) at the end.")
    var stats = false

    @Flag(name: .customLong("no-progress"), help: "Print no progress.")
    var noProgress = false

    func validate() throws {
        guard arguments.count >= 2 else { throw ValidationError("expected at least one FILE and a PEER") }
        try checkRange(parallel, 1...Limits.parallel, option: "--parallel")
        try checkRange(attempts, 1...Limits.attempts, option: "--attempts")
        try checkSeconds(connectTimeout, maximum: Limits.connectTimeout, option: "--connect-timeout")
        try checkRange(records, 0...Limits.records, option: "--records")
    }

    func run() async throws {
        let logger = common.bootstrapLogging()
        let peer = try PeerSpec(parsing: arguments.last!)
        // Every file is checked before anything goes on the wire.
        let files = try arguments.dropLast().map { try SourceFile(path: $0) }
        let total = files.reduce(0) { $0 + $1.size }

        // The socket's family follows the peer's ([::] is dual-stack).
        let host = try common.makeHost(bindingTo: .any(peer.address.family),
                                       handshakeTimeout: .milliseconds(Int64(connectTimeout * 1000)))
        let connection = try await peer.connect(host, service: service, protocol: proto, attempts: attempts,
                                                knownHosts: common.knownHostsPath, logger: logger)
        logger.info("connected to \(connection.peer) at \(peer.address)")

        let progress = Progress(total: total, label: "sending \(files.count) file\(files.count == 1 ? "" : "s")",
                                enabled: !noProgress)
        let watcher = Task { await Self.watchLink(connection, progress: progress) }
        let outcomes = await Self.sendAll(files, on: connection, parallel: parallel, progress: progress)
        watcher.cancel()
        progress.finish()
        var failures = 0, renamed = 0
        for outcome in outcomes {
            switch outcome.result {
            case .success(let stored) where stored != outcome.name:
                renamed += 1
                printError("\(escaped(outcome.name)): stored as '\(escaped(stored))' (the name was taken)")
            case .success:
                break
            case .failure(let problem):
                failures += 1
                printError("\(escaped(outcome.name)): \(escaped(problem.description))")
            }
        }

        var echoFailure: (any Error)?
        if records > 0 {
            do {
                try await Self.echo(records, on: connection)
            } catch {
                echoFailure = error
            }
        }
        if stats, let statistics = await connection.statistics() {
            printError(Self.describe(statistics))
        }
        await connection.close()
        await host.shutdown()

        if let echoFailure { throw ToolError("the record exchange failed: \(echoFailure)") }
        guard failures == 0 else {
            throw ToolError("\(failures) of \(files.count) file\(files.count == 1 ? " was" : "s were") not confirmed")
        }
        let others = renamed == 0 ? "" : "; \(renamed) stored under another name"
        printError("sent \(files.count) file\(files.count == 1 ? "" : "s") (\(Progress.bytes(Double(total)))), "
                   + "every one confirmed\(others)")
    }

    /// Shows a stalled link at once on the progress display (counting the
    /// seconds), and says when the link is declared down.
    static func watchLink(_ connection: SSConnection, progress: Progress) async {
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                progress.tick()
            }
        }
        defer { ticker.cancel() }
        for await event in connection.events {
            switch event {
            case .linkStalled: progress.linkStalled()
            case .linkUp: progress.linkUp()
            case .linkDown:
                printError("\nthe link to the peer is down: no acknowledgement for several probes; "
                           + "the transfer fails at the idle timeout unless the peer answers again")
            case .pathChanged(let address): printError("\nthe peer moved to \(address.display)")
            case .streamLimitBlocked: break  // one file per stream: opens resume when the peer allows
            case .closed: return
            }
        }
    }

    /// What became of one file: the name the receiver stored it under, or why not.
    struct Outcome: Sendable {
        let name: String
        let result: Result<String, ToolError>
    }

    /// Sends every file, `parallel` at a time; the outcomes in the order of `files`.
    static func sendAll(_ files: [SourceFile], on connection: SSConnection, parallel: Int,
                        progress: Progress) async -> [Outcome] {
        await withTaskGroup(of: (Int, Outcome).self) { group in
            var outcomes: [Outcome?] = Array(repeating: nil, count: files.count)
            var running = 0
            for (index, file) in files.enumerated() {
                if running >= parallel, let (done, outcome) = await group.next() {
                    outcomes[done] = outcome
                    running -= 1
                }
                running += 1
                group.addTask {
                    do {
                        let stored = try await sendFile(file, on: connection, progress: progress)
                        return (index, Outcome(name: file.name, result: .success(stored)))
                    } catch let error as ToolError {
                        return (index, Outcome(name: file.name, result: .failure(error)))
                    } catch {
                        return (index, Outcome(name: file.name, result: .failure(ToolError("\(error)"))))
                    }
                }
            }
            while let (done, outcome) = await group.next() { outcomes[done] = outcome }
            return outcomes.compactMap { $0 }
        }
    }

    /// One file on one stream: header, the receiver's go-ahead, bytes, hash;
    /// then the receiver's verdict. Returns the name the file was stored under.
    static func sendFile(_ file: SourceFile, on connection: SSConnection, progress: Progress) async throws -> String {
        let reader = try ChunkReader(path: file.path)
        let stream = try await connection.openStream()
        try await stream.writeRecord(Transfer.encode(Transfer.Header(kind: "file", name: file.name, size: file.size)))
        guard let goAhead = try await stream.readRecord() else {
            throw ToolError("the receiver closed the stream without answering the header")
        }
        let answer = try Transfer.decode(Transfer.Status.self, goAhead, what: "answer")
        guard answer.ok else {
            try? await stream.finish()
            throw ToolError("the receiver refused it before it was sent: \(answer.error ?? "no reason given")")
        }
        let hash = StreamingHash()
        var sent: UInt64 = 0
        while true {
            let chunk = try reader.read(Transfer.chunkSize)
            if chunk.isEmpty { break }
            hash.update(chunk)
            try await stream.write(chunk)
            sent += UInt64(chunk.count)
            progress.add(chunk.count)
            guard sent <= file.size else { break }
        }
        guard sent == file.size else {
            await stream.reset(code: Transfer.fileChanged)
            throw ToolError("the file changed while it was sent (\(file.size) bytes before, \(sent) read)")
        }
        try await stream.writeRecord(Transfer.encode(Transfer.End(blake2b256: Transfer.hex(hash.finalize()))))
        try await stream.finish()
        guard let verdict = try await stream.readRecord() else {
            throw ToolError("the receiver closed the stream without confirming the file")
        }
        let status = try Transfer.decode(Transfer.Status.self, verdict, what: "verdict")
        guard status.ok else { throw ToolError("the receiver refused it: \(status.error ?? "no reason given")") }
        guard let stored = status.name, Transfer.problem(withName: stored) == nil else {
            throw ToolError("the receiver confirmed it without a valid stored name")
        }
        return stored
    }

    /// `count` records of 64 bytes, each echoed before the next is sent.
    static func echo(_ count: Int, on connection: SSConnection) async throws {
        let stream = try await connection.openStream()
        try await stream.writeRecord(Transfer.encode(Transfer.Header(kind: "echo")))
        var rtts: [Duration] = []
        rtts.reserveCapacity(count)
        let clock = ContinuousClock()
        for index in 0..<count {
            var record = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 64)
            record[0] = UInt8(truncatingIfNeeded: index >> 8)
            let start = clock.now
            try await stream.writeRecord(record)
            guard let back = try await stream.readRecord() else { throw ToolError("the echo stream ended early") }
            rtts.append(clock.now - start)
            guard back == record else { throw ToolError("record \(index) came back changed") }
        }
        try await stream.finish()
        _ = try await stream.readRecord()
        rtts.sort()
        let median = rtts[rtts.count / 2], p99 = rtts[min(rtts.count - 1, rtts.count * 99 / 100)]
        printError(String(format: "echoed %d records of 64 bytes: round trip median %.3f ms, p99 %.3f ms",
                          count, median.inSeconds * 1000, p99.inSeconds * 1000))
    }

    /// The statistics as a few lines for people.
    static func describe(_ s: ConnectionStatistics) -> String {
        let ms = { (d: Duration) in String(format: "%.3f ms", d.inSeconds * 1000) }
        return """
            connection statistics:
              rtt        smoothed \(ms(s.smoothedRTT)), min \(ms(s.minimumRTT)), latest \(ms(s.latestRTT)), variation \(ms(s.rttVariation))
              packets    sent \(s.packetsSent), received \(s.packetsReceived), lost \(s.packetsLost)
              bytes      sent \(s.bytesSent), received \(s.bytesReceived), retransmitted \(s.bytesRetransmitted)
              cwnd       \(s.congestionWindow) bytes (\(s.bytesInFlight) in flight); key updates \(s.keyUpdates); drops \(s.drops.total)
            """
    }
}
