// What every networking command of sss shares: the identity, the driver,
// logging, known hosts, peer specs and the user-facing error type.
import ArgumentParser
import Foundation
import Logging
import SecureStreams
import SecureStreamsDispatch
import SecureStreamsLibUV
import SecureStreamsPollExample

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The event-loop driver a host runs on.
enum DriverKind: String, ExpressibleByArgument, CaseIterable, Sendable {
    case dispatch
    case libuv
    /// The reference poll(2) driver (one thread; the shared loop batches its socket calls).
    case poll
}

/// Log levels by their swift-log names.
enum LogLevel: String, ExpressibleByArgument, CaseIterable, Sendable {
    case trace, debug, info, notice, warning, error, critical

    var level: Logger.Level { Logger.Level(rawValue: rawValue)! }
}

/// `--key`, `--driver`, `--log-level`, `--known-hosts`.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The identity to use (default: the per-user key, created on first use).", valueName: "path"))
    var key: String?

    @Option(name: .long, help: "The event-loop driver: dispatch, libuv or poll.")
    var driver: DriverKind = .dispatch

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: LogLevel = .warning

    @Option(name: .customLong("known-hosts"), help: ArgumentHelp(
        "Trust-on-first-use pins for peers named without an EID (default: known_hosts next to the default key).",
        valueName: "path"))
    var knownHosts: String?

    /// The known-hosts file: the option, else `known_hosts` in the default key's folder.
    var knownHostsPath: String {
        if let knownHosts { return knownHosts }
        let keyPath = IdentityFile.defaultIdentityPath()
        return URL(fileURLWithPath: keyPath).deletingLastPathComponent().appendingPathComponent("known_hosts").path
    }

    /// Installs a stderr log handler at the chosen level (once per process).
    func bootstrapLogging() -> Logger {
        let level = logLevel.level
        LoggingBootstrap.once {
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
        var logger = Logger(label: "sss")
        logger.logLevel = level
        return logger
    }

    /// The identity: `--key`, or the default one (created and announced on first use).
    func loadIdentity() throws -> HostIdentity {
        if let key {
            let loaded = try IdentityFile.load(path: key)
            guard let identity = loaded.identity else {
                throw ToolError("'\(key)' holds only a public key; --key needs a private key")
            }
            return identity
        }
        var random = SystemRandom()
        let loaded = try IdentityFile.loadOrCreateDefault(using: &random)
        if loaded.wasCreated {
            printError("created a new identity at \(loaded.path)")
        } else {
            printError("using the identity at \(loaded.path)")
        }
        return loaded.identity
    }

    /// A host on the chosen driver, bound to `address`.
    /// - Parameter answersXX: false makes the host answer only peers that
    ///   know its EID (Noise IK; docs/PROTOCOL.md §4.6).
    func makeHost(bindingTo address: PeerAddress = .any(), handshakeTimeout: Duration? = nil,
                  idleTimeout: Duration? = nil, answersXX: Bool = true) throws -> SSHost {
        let identity = try loadIdentity()
        let configuration = HostConfiguration(knownHostsPath: knownHostsPath) { endpoint in
            if let handshakeTimeout { endpoint.handshakeTimeout = handshakeTimeout }
            if let idleTimeout { endpoint.idleTimeout = idleTimeout }
            endpoint.answersXX = answersXX
        }
        return try SSHost(identity: identity, driver: makeDriverFactory(driver), bindingTo: address,
                          configuration: configuration)
    }
}

/// `--port` and `--bind` for commands that listen.
struct ListenOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "The UDP port to listen on, 0…65535 (0: any free port).")
    var port: Int = 4433

    @Option(name: .long, help: ArgumentHelp("The local address to bind: 0.0.0.0, [::] (dual-stack) or one address.",
                                            valueName: "address"))
    var bind: String = "0.0.0.0"

    @Option(name: .customLong("ready-file"), help: ArgumentHelp(
        "Once listening, write EID@HOST:PORT to this file (for scripts and tests).", valueName: "path"))
    var readyFile: String?

    @Flag(name: .customLong("ik-only"), help: """
        Answer only peers that give this host's EID (Noise IK): a sender with the address alone \
        (trust on first use) gets no answer, and neither the EID nor the offered services leak to scanners.
        """)
    var ikOnly = false

    func validate() throws {
        try checkRange(port, 0...65_535, option: "--port")
        _ = try address()
    }

    /// The bind address with the chosen port.
    func address() throws -> PeerAddress {
        let text = bind.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else {
            throw ValidationError("--bind needs an address: 0.0.0.0 (every IPv4 interface), [::] (dual-stack) or one local address")
        }
        let colons = text.filter { $0 == ":" }.count
        let bracketedWithPort = text.hasPrefix("[") && !text.hasSuffix("]")
        if (colons == 1 && !text.hasPrefix("[")) || bracketedWithPort {
            throw ValidationError("--bind takes an address without a port ('\(escaped(text))'): give the port with --port")
        }
        // A bare IPv6 address (`::`, `::1`) gets its brackets.
        let host = colons >= 2 && !text.hasPrefix("[") ? "[\(text)]" : text
        do {
            return try PeerAddress(parsing: "\(host):\(port)")
        } catch {
            throw ValidationError("--bind: \(escaped(error.description))")
        }
    }

    /// Prints "listening on ADDRESS as EID" to stderr and writes the ready file.
    func announce(_ host: SSHost, what: String = "listening") throws {
        let local = host.localAddress
        // A wildcard address is not something a client can dial: name loopback.
        let reachable: PeerAddress = local.isWildcard ? .loopback(local.family, port: local.port) : local
        let scope = local.isWildcard
            ? " (every \(local.family == .ipv4 ? "IPv4" : "IPv4 and IPv6") interface; here: \(reachable.display))" : ""
        printError("\(what) on \(local.display)\(scope) as \(host.endpointID)")
        guard let readyFile else { return }
        let text = "\(host.endpointID)@\(reachable.display)\n"
        let temporary = readyFile + ".tmp-\(getpid())"
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, readyFile) == 0 else { throw ToolError("cannot rename to \(readyFile)") }
        } catch {
            throw ToolError("cannot write the ready file \(readyFile): \(error)")
        }
    }
}

/// Who to connect to: `EID@HOST:PORT` (Noise IK) or `HOST:PORT` (Noise XX and
/// trust on first use).
struct PeerSpec: ExpressibleByArgument, CustomStringConvertible, Sendable {
    let endpointID: EndpointID?
    let address: PeerAddress
    let text: String

    init(parsing text: String) throws {
        self.text = text
        let addressText: Substring
        if let at = text.lastIndex(of: "@") {
            let eidText = text[..<at]
            do {
                endpointID = try EndpointID(parsing: eidText)
            } catch {
                throw ToolError("'\(escaped(text))': the EID before '@' is not valid: \(error)")
            }
            addressText = text[text.index(after: at)...]
        } else {
            endpointID = nil
            addressText = Substring(text)
        }
        do {
            address = try PeerAddress.resolving(String(addressText))
        } catch {
            throw ToolError("'\(escaped(text))': \(error)")
        }
        guard address.port != 0 else { throw ToolError("'\(escaped(text))': the peer's port cannot be 0") }
    }

    init?(argument: String) {
        guard let spec = try? PeerSpec(parsing: argument) else { return nil }
        self = spec
    }

    var description: String { text }

    /// Connects, retrying a handshake that got no answer `attempts` times
    /// with doubling pauses; other failures (refusal, key mismatch) at once.
    /// When it fails, `host` is shut down (it was made for this connection).
    func connect(_ host: SSHost, service: String, protocol proto: String, attempts: Int,
                 knownHosts: String?, logger: Logger) async throws -> SSConnection {
        do {
            return try await attemptConnection(host, service: service, protocol: proto, attempts: attempts,
                                               knownHosts: knownHosts, logger: logger)
        } catch {
            await host.shutdown()
            throw error
        }
    }

    private func attemptConnection(_ host: SSHost, service: String, protocol proto: String, attempts: Int,
                                   knownHosts: String?, logger: Logger) async throws -> SSConnection {
        var pause: Duration = .milliseconds(250)
        for attempt in 1...max(1, attempts) {
            do {
                if let endpointID {
                    return try await host.connect(to: endpointID, at: address, service: service, protocol: proto)
                }
                let pinned = knownHosts.flatMap { try? KnownHosts(path: $0).lookup(address) }
                let connection = try await host.connect(at: address, service: service, protocol: proto)
                if pinned == nil, let knownHosts {
                    printError("trusting \(address.display) as \(connection.peer) on first use (pinned in \(knownHosts))")
                }
                return connection
            } catch let error as HostError {
                if error.isRefusal {
                    // A listener that does not trust our key refuses the
                    // same way as one without the service.
                    throw ToolError("\(error) (or it does not allow this key: its owner can add it with "
                                    + "--allow \(host.endpointID))")
                }
                guard error.isNoAnswer else { throw error }
                logger.info("attempt \(attempt) of \(attempts) to reach \(address.display): \(error)")
                if attempt < attempts {
                    try? await Task.sleep(for: pause)
                    pause *= 2
                }
            }
        }
        let hint = endpointID == nil ? "" : " (is a host listening there, and does it hold that EID? A host with another key stays silent)"
        throw ToolError("no answer from \(address.display) after \(max(1, attempts)) attempt\(attempts == 1 ? "" : "s")\(hint)")
    }
}

/// The ranges of the numeric options shared by several commands.
enum Limits {
    /// Files in flight at once (each holds a stream and an open file).
    static let parallel = 1_024
    /// Handshake attempts (with doubling pauses, 20 already span hours).
    static let attempts = 20
    /// Seconds one handshake attempt may wait (an hour).
    static let connectTimeout = 3_600.0
    /// Echoed records of `send --records`.
    static let records = 10_000_000
}

/// Throws a usage error unless `value` lies in `range`.
func checkRange<T: Comparable>(_ value: T, _ range: ClosedRange<T>, option: String) throws {
    guard range.contains(value) else {
        throw ValidationError("\(option) must be \(range.lowerBound)…\(range.upperBound), not \(value)")
    }
}

/// Throws a usage error unless `value` is a number of seconds in (0, maximum].
func checkSeconds(_ value: Double, maximum: Double, option: String) throws {
    guard value.isFinite, value > 0, value <= maximum else {
        throw ValidationError("\(option) must be a number of seconds above 0 and at most \(Int(maximum)), not \(value)")
    }
}

/// A failure with a message for the user; ArgumentParser prints it and exits 1.
struct ToolError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One line to standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Writes all of `bytes` to a file descriptor.
func writeAll(_ bytes: [UInt8], to descriptor: Int32) throws {
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { throw ToolError("write failed: \(String(cString: strerror(errno)))") }
        offset += written
    }
}

/// Reads a file descriptor on a thread of its own (a blocking read must not
/// hold one of the few threads Swift concurrency runs on), one chunk per call.
final class BlockingReader: Sendable {
    private let descriptor: Int32
    private let queue = DispatchQueue(label: "sss.reader")
    private let chunk: Int

    init(descriptor: Int32, chunk: Int = 64 * 1024) {
        self.descriptor = descriptor
        self.chunk = chunk
    }

    /// The next bytes; `nil` at end of file.
    func next() async throws -> [UInt8]? {
        let descriptor = descriptor, chunk = chunk
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                var buffer = [UInt8](repeating: 0, count: chunk)
                while true {
                    let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
                    if count < 0 && errno == EINTR { continue }
                    if count < 0 {
                        continuation.resume(throwing: ToolError("read failed: \(String(cString: strerror(errno)))"))
                    } else if count == 0 {
                        continuation.resume(returning: nil)
                    } else {
                        buffer.removeSubrange(count...)
                        continuation.resume(returning: buffer)
                    }
                    return
                }
            }
        }
    }
}

/// Runs `body` once per process.
enum LoggingBootstrap {
    nonisolated(unsafe) private static var done = false
    private static let lock = NSLock()

    static func once(_ body: () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        if !done {
            done = true
            body()
        }
    }
}

extension HostError {
    /// True when the peer refused the handshake (no such service, or our key is not allowed).
    var isRefusal: Bool {
        if case .connectionFailed(_, let error) = kind, case .serviceRefused = error.kind { return true }
        return false
    }

    /// True when the peer never answered the handshake (worth another try).
    var isNoAnswer: Bool {
        if case .connectionFailed(_, let error) = kind, case .handshakeTimeout = error.kind { return true }
        return false
    }
}

extension Duration {
    /// Seconds as a Double.
    var inSeconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}

// `Host` and `Stream` clash with Foundation's; sss names them through these.
typealias SSHost = SecureStreams.Host
typealias SSStream = SecureStreams.Stream
typealias SSConnection = SecureStreams.Connection

/// The factory for `kind`.
func makeDriverFactory(_ kind: DriverKind) -> any DriverFactory {
    switch kind {
    case .dispatch: DispatchDriverFactory()
    case .libuv: LibUVDriverFactory()
    case .poll: PollDriverFactory()
    }
}
