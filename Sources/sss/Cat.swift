// `sss listen` and `sss connect`: netcat over SecureStreams (service "sss",
// protocol "cat/1").
//
// Each side sends its standard input on one stream it opens, finished at end
// of input, and copies every byte it reads from any stream to standard
// output. A side that has read a stream to its end finishes its own half of
// that stream, so the writer learns its bytes were read. `connect` closes the
// connection once both directions ended; `listen` then exits too.
import ArgumentParser
import Foundation
import Logging
import SecureStreams

enum Cat {
    static let service = "sss"
    static let catProtocol = "cat/1"

    /// Standard input onto `stream`, then its finish.
    static func pumpStandardInput(into stream: SSStream) async throws {
        let input = BlockingReader(descriptor: 0)
        while let chunk = try await input.next() { try await stream.write(chunk) }
        try await stream.finish()
    }

    /// Everything `stream` delivers onto standard output; finishes our
    /// (otherwise unused) half of a stream the peer opened.
    static func pumpToStandardOutput(from stream: SSStream, finishOurHalf: Bool) async throws {
        while let chunk = try await stream.read() {
            if !chunk.isEmpty { try writeAll(chunk, to: 1) }
        }
        if finishOurHalf { try await stream.finish() }
    }
}

/// `sss listen`: waits for one connection and talks netcat on it.
struct Listen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Wait for one connection; its streams go to stdout, stdin goes to a stream opened back.",
        discussion: """
            Prints 'listening on ADDRESS as EID' to stderr once the socket is bound. Only the peers \
            named with --allow or --authorized-peers may connect (or anyone, with --allow-any).
            """
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var listen: ListenOptions
    @OptionGroup var trust: TrustOptions

    @Option(help: "The service to offer.")
    var service = Cat.service

    @Option(name: .customLong("protocol"), help: "The protocol to offer.")
    var proto = Cat.catProtocol

    func run() async throws {
        let logger = common.bootstrapLogging()
        let peers = try trust.trust(knownHostsPath: common.knownHostsPath, exposes: "read what this command's input holds")
        let host = try common.makeHost(bindingTo: try listen.address(), answersXX: !listen.ikOnly)
        let listener = try await host.listen(service: service, protocols: [proto], trust: peers)
        logRefusals(of: listener)
        try listen.announce(host)
        var iterator = listener.makeAsyncIterator()
        guard let connection = await iterator.next() else {
            await host.shutdown()
            throw ToolError("the listener ended before any connection arrived")
        }
        printError("connection from \(connection.peer)")
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    let back = try await connection.openStream()
                    try await Cat.pumpStandardInput(into: back)
                }
                group.addTask {
                    // Every stream the peer opens goes to stdout, until the connection ends.
                    await withDiscardingTaskGroup { streams in
                        for await stream in connection.incomingStreams {
                            streams.addTask { try? await Cat.pumpToStandardOutput(from: stream, finishOurHalf: true) }
                        }
                    }
                }
                // The first failure ends the group (and cancels the other
                // directions); waitForAll() would wait for all of them.
                for try await _ in group {}
            }
        } catch {
            logger.info("\(error)")
        }
        // (The incoming streams end when the connection does: the connecting
        // side closes it once it has read everything we sent.)
        let reason = await connection.waitUntilClosed()
        logger.info("connection ended: \(reason)")
        await host.shutdown()
    }
}

/// `sss connect PEER`: netcat to a `sss listen`.
struct Connect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect to a peer: stdin goes to one stream, what the peer sends goes to stdout.",
        discussion: """
            PEER is EID@HOST:PORT (Noise IK) or HOST:PORT (Noise XX, the key pinned in the \
            known-hosts file on first use). End of input finishes the stream; the command exits \
            when both directions have ended.
            """
    )

    @OptionGroup var common: CommonOptions

    @Argument(help: "EID@HOST:PORT or HOST:PORT.")
    var peer: PeerSpec

    @Option(help: "The service to ask for.")
    var service = Cat.service

    @Option(name: .customLong("protocol"), help: "The protocol to ask for.")
    var proto = Cat.catProtocol

    @Option(parsing: .unconditional, help: "Handshake attempts before giving up on a peer that does not answer.")
    var attempts = 3

    @Option(name: .customLong("connect-timeout"), parsing: .unconditional, help: "Seconds one handshake attempt waits for an answer.")
    var connectTimeout: Double = 2

    func validate() throws {
        try checkRange(attempts, 1...Limits.attempts, option: "--attempts")
        try checkSeconds(connectTimeout, maximum: Limits.connectTimeout, option: "--connect-timeout")
    }

    func run() async throws {
        let logger = common.bootstrapLogging()
        // The socket's family follows the peer's ([::] is dual-stack).
        let host = try common.makeHost(bindingTo: .any(peer.address.family),
                                       handshakeTimeout: .milliseconds(Int64(connectTimeout * 1000)))
        let connection = try await peer.connect(host, service: service, protocol: proto, attempts: attempts,
                                                knownHosts: common.knownHostsPath, logger: logger)
        logger.info("connected to \(connection.peer)")
        var failure: (any Error)?
        do {
            let stream = try await connection.openStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await Cat.pumpStandardInput(into: stream) }
                // Ends when the peer has read all we sent and finished its half.
                group.addTask { try await Cat.pumpToStandardOutput(from: stream, finishOurHalf: false) }
                group.addTask {
                    var streams = connection.incomingStreams.makeAsyncIterator()
                    guard let back = await streams.next() else { return }
                    try await Cat.pumpToStandardOutput(from: back, finishOurHalf: false)
                }
                // The first failure ends the group (and cancels the other
                // directions); waitForAll() would wait for all of them.
                for try await _ in group {}
            }
        } catch {
            failure = error
        }
        await connection.close()
        await host.shutdown()
        if let failure { throw ToolError("\(failure)") }
    }
}
