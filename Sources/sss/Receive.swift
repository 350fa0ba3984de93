import ArgumentParser
import Foundation
import Logging
import SecureStreams

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `sss receive --dir DIR`: accepts files from `sss send`.
struct Receive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Receive files sent with `sss send` into a folder.",
        discussion: """
            Prints 'receiving on ADDRESS as EID' to stderr once it listens. Only the peers named with \
            --allow or --authorized-peers may connect (or anyone, with --allow-any). Each file is \
            answered before its bytes cross: a refused name or a file larger than the free space \
            costs a round trip. It is written to a hidden temporary file in DIR, its BLAKE2b-256 \
            checked, then stored under its name, never replacing a file: when the name is taken it \
            becomes 'name (1).ext', 'name (2).ext' … and the sender is told. Names with '/', control \
            or bidirectional characters, '.' and '..' are refused. Serves until interrupted, or with \
            --once until the first connection ends (exit status 1 when a file failed).
            """
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var listen: ListenOptions
    @OptionGroup var trust: TrustOptions

    @Option(help: ArgumentHelp("Where received files go (created when missing).", valueName: "dir"))
    var dir: String

    @Option(help: "The service to offer.")
    var service = Transfer.service

    @Option(name: .customLong("protocol"), help: "The protocol to offer.")
    var proto = Transfer.fileProtocol

    @Flag(help: "Exit after the first connection ends.")
    var once = false

    @Flag(help: "Print each connection's statistics when it ends.")
    var stats = false

    func run() async throws {
        let logger = common.bootstrapLogging()
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw ToolError("cannot create the folder '\(escaped(dir))': \(error.localizedDescription)")
        }
        guard access(dir, W_OK) == 0 else { throw ToolError("cannot write into '\(escaped(dir))'") }
        let inbox = Inbox(directory: dir)
        let stale = inbox.removeStalePartialFiles()
        if stale > 0 { printError("removed \(stale) partial file\(stale == 1 ? "" : "s") left by a receiver that stopped") }

        let peers = try trust.trust(knownHostsPath: common.knownHostsPath, exposes: "write files into \(escaped(dir))")
        let host = try common.makeHost(bindingTo: try listen.address(), answersXX: !listen.ikOnly)
        let listener = try await host.listen(service: service, protocols: [proto], trust: peers)
        logRefusals(of: listener)
        try listen.announce(host, what: "receiving")
        let showStats = stats
        var failed = 0
        if once {
            for await connection in listener {
                failed = await Self.serve(connection, into: inbox, stats: showStats, logger: logger)
                break
            }
        } else {
            await withDiscardingTaskGroup { group in
                for await connection in listener {
                    group.addTask { _ = await Self.serve(connection, into: inbox, stats: showStats, logger: logger) }
                }
            }
        }
        await host.shutdown()
        if failed > 0 { throw ToolError("\(failed) file\(failed == 1 ? "" : "s") failed") }
    }

    /// Serves every stream of one connection until it closes; the number of files that failed.
    static func serve(_ connection: SSConnection, into inbox: Inbox, stats: Bool, logger: Logger) async -> Int {
        printError("connection from \(connection.peer)")
        let slots = Slots(limit: Inbox.maximumOpenFilesPerConnection)
        let counts = await withTaskGroup(of: Bool?.self) { group in
            for await stream in connection.incomingStreams {
                group.addTask { await handle(stream, into: inbox, slots: slots, logger: logger) }
            }
            var received = 0, failed = 0
            for await result in group {
                if result == true { received += 1 } else if result == false { failed += 1 }
            }
            return (received, failed)
        }
        if stats, let statistics = await connection.statistics() { printError(Send.describe(statistics)) }
        let reason = await connection.waitUntilClosed()
        printError("connection from \(connection.peer) ended (\(escaped("\(reason)"))): "
                   + "\(counts.0) file\(counts.0 == 1 ? "" : "s") received"
                   + (counts.1 > 0 ? ", \(counts.1) failed" : ""))
        return counts.1
    }

    /// One stream: a file (true: stored, false: refused or broken) or an echo (nil).
    static func handle(_ stream: SSStream, into inbox: Inbox, slots: Slots, logger: Logger) async -> Bool? {
        do {
            guard let first = try await stream.readRecord() else { return nil }
            guard let header = try? JSONDecoder().decode(Transfer.Header.self, from: Data(first)) else {
                printError("\(stream.id): malformed header \(escaped(String(decoding: first.prefix(80), as: UTF8.self))): reset")
                await abort(stream, code: Transfer.malformedHeader)
                return false
            }
            switch header.kind {
            case "echo":
                while let record = try await stream.readRecord() { try await stream.writeRecord(record) }
                try await stream.finish()
                return nil
            case "file":
                return try await IncomingFile.receive(header, from: stream, into: inbox, slots: slots)
            default:
                await abort(stream, code: Transfer.unknownKind)
                return false
            }
        } catch {
            logger.info("stream \(stream.id): \(escaped("\(error)"))")
            return false
        }
    }

    /// Resets both directions of `stream` with `code`.
    static func abort(_ stream: SSStream, code: ErrorCode) async {
        await stream.stopSending(code: code)
        await stream.reset(code: code)
    }
}
