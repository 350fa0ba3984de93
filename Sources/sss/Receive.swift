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
            Prints 'receiving on ADDRESS as EID' to stderr once it listens. Each file is written to a \
            temporary file in DIR, its BLAKE2b-256 checked, then renamed into place; names with '/' \
            or '..' are refused. Serves until interrupted, or with --once until the first \
            connection ends.
            """
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var listen: ListenOptions

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
            throw ToolError("cannot create the folder '\(dir)': \(error.localizedDescription)")
        }
        guard access(dir, W_OK) == 0 else { throw ToolError("cannot write into '\(dir)'") }

        let host = try common.makeHost(bindingTo: try listen.address())
        let listener = try await host.listen(service: service, protocols: [proto])
        try listen.announce(host, what: "receiving")
        let directory = dir, showStats = stats
        if once {
            for await connection in listener {
                await Self.serve(connection, into: directory, stats: showStats, logger: logger)
                break
            }
        } else {
            await withDiscardingTaskGroup { group in
                for await connection in listener {
                    group.addTask { await Self.serve(connection, into: directory, stats: showStats, logger: logger) }
                }
            }
        }
        await host.shutdown()
    }

    /// Serves every stream of one connection until it closes.
    static func serve(_ connection: SSConnection, into directory: String, stats: Bool, logger: Logger) async {
        printError("connection from \(connection.peer)")
        let counts = await withTaskGroup(of: Bool?.self) { group in
            for await stream in connection.incomingStreams {
                group.addTask { await handle(stream, into: directory, logger: logger) }
            }
            var received = 0, failed = 0
            for await result in group {
                if result == true { received += 1 } else if result == false { failed += 1 }
            }
            return (received, failed)
        }
        if stats, let statistics = await connection.statistics() { printError(Send.describe(statistics)) }
        let reason = await connection.waitUntilClosed()
        printError("connection from \(connection.peer) ended (\(reason)): \(counts.0) file\(counts.0 == 1 ? "" : "s") received"
                   + (counts.1 > 0 ? ", \(counts.1) failed" : ""))
    }

    /// One stream: a file (true: stored, false: refused or broken) or an echo (nil).
    static func handle(_ stream: SSStream, into directory: String, logger: Logger) async -> Bool? {
        do {
            guard let first = try await stream.readRecord() else { return nil }
            let header = try Transfer.decode(Transfer.Header.self, first, what: "header")
            switch header.kind {
            case "echo":
                while let record = try await stream.readRecord() { try await stream.writeRecord(record) }
                try await stream.finish()
                return nil
            case "file":
                let outcome: Transfer.Status
                do {
                    try await receiveFile(header, from: stream, into: directory)
                    outcome = Transfer.Status(ok: true)
                } catch {
                    printError("\(header.name ?? "?"): \(error)")
                    outcome = Transfer.Status(ok: false, error: "\(error)")
                    // Drain what the sender still sends, so that it reaches its verdict.
                    while let rest = try await stream.read(), !rest.isEmpty {}
                }
                try await stream.writeRecord(Transfer.encode(outcome))
                try await stream.finish()
                return outcome.ok
            default:
                await stream.reset(code: ErrorCode(0x101))
                return false
            }
        } catch {
            logger.info("stream \(stream.id): \(error)")
            return false
        }
    }

    /// Reads the bytes and the end record into a temporary file, checks the
    /// hash, then renames it into place.
    static func receiveFile(_ header: Transfer.Header, from stream: SSStream, into directory: String) async throws {
        guard let name = header.name, let size = header.size else { throw ToolError("the header lacks a name or a size") }
        if let problem = Transfer.problem(withName: name) { throw ToolError("refused: \(problem)") }
        let final = URL(fileURLWithPath: directory).appendingPathComponent(name).path
        let temporary = URL(fileURLWithPath: directory).appendingPathComponent(".\(name).part-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ToolError("cannot create '\(temporary)': \(String(cString: strerror(errno)))") }
        var placed = false
        defer {
            close(descriptor)
            if !placed { unlink(temporary) }
        }
        let hash = StreamingHash()
        var remaining = size
        while remaining > 0 {
            guard let chunk = try await stream.read(maxBytes: Int(min(remaining, UInt64(Transfer.chunkSize)))) else {
                throw ToolError("the stream ended after \(size - remaining) of \(size) bytes")
            }
            guard UInt64(chunk.count) <= remaining else { throw ToolError("more bytes than announced") }
            hash.update(chunk)
            try writeAll(chunk, to: descriptor)
            remaining -= UInt64(chunk.count)
        }
        guard let endRecord = try await stream.readRecord() else { throw ToolError("the stream ended before the hash") }
        let end = try Transfer.decode(Transfer.End.self, endRecord, what: "end")
        let actual = Transfer.hex(hash.finalize())
        guard actual == end.blake2b256.lowercased() else {
            throw ToolError("BLAKE2b-256 mismatch: the sender hashed \(end.blake2b256), the bytes received hash to \(actual)")
        }
        guard fsync(descriptor) == 0 else { throw ToolError("cannot sync '\(temporary)': \(String(cString: strerror(errno)))") }
        guard rename(temporary, final) == 0 else {
            throw ToolError("cannot rename into '\(final)': \(String(cString: strerror(errno)))")
        }
        placed = true
        printError("received \(name) (\(size) bytes, BLAKE2b-256 \(actual.prefix(16))… verified)")
    }
}
