/// Why an application command on an ``Endpoint`` failed (`connect`,
/// `openStream`, `write`, `finish`, `read`, `readRecord`, `reset`,
/// `stopSending`, `setPriority`). Never thrown by the datagram path.
///
/// A struct wrapping an internal enum, so that new reasons can be added
/// without breaking clients (docs/CORE.md, "Errors"). Match it with `==`
/// against the static constructors (`error == .finished(id)`: the source
/// location is not compared), or read ``kind`` and the payload accessors
/// (``stream``, ``code``, ``connectionError``).
public struct CommandError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What failed, without its details: compare with `==`.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        enum Base: Hashable, Sendable {
            case unknownConnection, notEstablished, closed, unknownStream, finished, reset, stopped, resetByPeer
            case streamLimitReached, endpointFull, invalidName
        }

        let base: Base

        /// The handle names no connection (never did, or it ended and the
        /// application already polled its `closed` event).
        public static let unknownConnection = Kind(base: .unknownConnection)
        /// The connection's handshake is still in progress.
        public static let notEstablished = Kind(base: .notEstablished)
        /// The connection ended; ``CommandError/connectionError`` says why.
        public static let closed = Kind(base: .closed)
        /// No such stream on the connection: never opened, or finished on
        /// both sides and forgotten.
        public static let unknownStream = Kind(base: .unknownStream)
        /// Our sending half was already finished.
        public static let finished = Kind(base: .finished)
        /// The application reset our sending half.
        public static let reset = Kind(base: .reset)
        /// Our sending half was reset in answer to the peer's STOP_SENDING
        /// (the peer no longer reads); ``CommandError/code`` is the peer's code.
        public static let stopped = Kind(base: .stopped)
        /// The peer reset its sending half: unread data is gone.
        public static let resetByPeer = Kind(base: .resetByPeer)
        /// The peer's stream limit is reached; a `streamsAvailable` event
        /// follows when it rises.
        public static let streamLimitReached = Kind(base: .streamLimitReached)
        /// The endpoint holds its maximum of connections (a closed one still
        /// counts until the application polled its `closed` event).
        public static let endpointFull = Kind(base: .endpointFull)
        /// A service or protocol name is empty or longer than 255 bytes.
        public static let invalidName = Kind(base: .invalidName)

        public var description: String { "\(base)" }
    }

    /// The reasons, with their details. Internal, so a case may be added.
    enum Reason: Hashable, Sendable {
        case unknownConnection(ConnectionHandle)
        case notEstablished(ConnectionHandle)
        case closed(ConnectionHandle, ConnectionError)
        case unknownStream(StreamID)
        case finished(StreamID)
        case reset(StreamID, ErrorCode)
        case stopped(StreamID, ErrorCode)
        case resetByPeer(StreamID, ErrorCode)
        case streamLimitReached(ConnectionHandle)
        case endpointFull(maxConnections: Int)
        case invalidName(String)
    }

    let reason: Reason
    /// Where the error was made (`#fileID`), for a person reading a log.
    public let file: String
    /// The line where the error was made.
    public let line: Int

    init(_ reason: Reason, file: String, line: Int) {
        self.reason = reason
        self.file = file
        self.line = line
    }

    /// Equal when the reasons and details are; the source location is ignored.
    public static func == (lhs: CommandError, rhs: CommandError) -> Bool { lhs.reason == rhs.reason }

    public func hash(into hasher: inout Hasher) { hasher.combine(reason) }
}

// MARK: - Constructors (also the matchers)

extension CommandError {
    @inline(never)
    public static func unknownConnection(_ handle: ConnectionHandle, file: String = #fileID, line: Int = #line) -> Self {
        Self(.unknownConnection(handle), file: file, line: line)
    }

    @inline(never)
    public static func notEstablished(_ handle: ConnectionHandle, file: String = #fileID, line: Int = #line) -> Self {
        Self(.notEstablished(handle), file: file, line: line)
    }

    @inline(never)
    public static func closed(_ handle: ConnectionHandle, _ error: ConnectionError,
                              file: String = #fileID, line: Int = #line) -> Self {
        Self(.closed(handle, error), file: file, line: line)
    }

    @inline(never)
    public static func unknownStream(_ id: StreamID, file: String = #fileID, line: Int = #line) -> Self {
        Self(.unknownStream(id), file: file, line: line)
    }

    @inline(never)
    public static func finished(_ id: StreamID, file: String = #fileID, line: Int = #line) -> Self {
        Self(.finished(id), file: file, line: line)
    }

    @inline(never)
    public static func reset(_ id: StreamID, _ code: ErrorCode, file: String = #fileID, line: Int = #line) -> Self {
        Self(.reset(id, code), file: file, line: line)
    }

    @inline(never)
    public static func stopped(_ id: StreamID, _ code: ErrorCode, file: String = #fileID, line: Int = #line) -> Self {
        Self(.stopped(id, code), file: file, line: line)
    }

    @inline(never)
    public static func resetByPeer(_ id: StreamID, _ code: ErrorCode, file: String = #fileID, line: Int = #line) -> Self {
        Self(.resetByPeer(id, code), file: file, line: line)
    }

    @inline(never)
    public static func streamLimitReached(_ handle: ConnectionHandle, file: String = #fileID, line: Int = #line) -> Self {
        Self(.streamLimitReached(handle), file: file, line: line)
    }

    @inline(never)
    public static func endpointFull(maxConnections: Int, file: String = #fileID, line: Int = #line) -> Self {
        Self(.endpointFull(maxConnections: maxConnections), file: file, line: line)
    }

    /// - Parameter problem: what is wrong with the name, for a person.
    @inline(never)
    public static func invalidName(_ problem: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(.invalidName(problem), file: file, line: line)
    }
}

// MARK: - Accessors

extension CommandError {
    /// What failed, for `==` and `switch`-like matching.
    public var kind: Kind {
        switch reason {
        case .unknownConnection: .unknownConnection
        case .notEstablished: .notEstablished
        case .closed: .closed
        case .unknownStream: .unknownStream
        case .finished: .finished
        case .reset: .reset
        case .stopped: .stopped
        case .resetByPeer: .resetByPeer
        case .streamLimitReached: .streamLimitReached
        case .endpointFull: .endpointFull
        case .invalidName: .invalidName
        }
    }

    /// The stream the command was about, when the failure concerns one.
    public var stream: StreamID? {
        switch reason {
        case .unknownStream(let id), .finished(let id), .reset(let id, _), .stopped(let id, _),
             .resetByPeer(let id, _): id
        case .unknownConnection, .notEstablished, .closed, .streamLimitReached, .endpointFull, .invalidName: nil
        }
    }

    /// The reset code: ours for ``Kind/reset``, the peer's for ``Kind/stopped``
    /// (its STOP_SENDING) and ``Kind/resetByPeer``.
    public var code: ErrorCode? {
        switch reason {
        case .reset(_, let code), .stopped(_, let code), .resetByPeer(_, let code): code
        case .unknownConnection, .notEstablished, .closed, .unknownStream, .finished, .streamLimitReached,
             .endpointFull, .invalidName: nil
        }
    }

    /// Why the connection ended, for ``Kind/closed``.
    public var connectionError: ConnectionError? {
        switch reason {
        case .closed(_, let error): error
        case .unknownConnection, .notEstablished, .unknownStream, .finished, .reset, .stopped, .resetByPeer,
             .streamLimitReached, .endpointFull, .invalidName: nil
        }
    }

    public var description: String {
        switch reason {
        case .unknownConnection(let handle): "\(handle) is not open"
        case .notEstablished(let handle): "\(handle) is not established yet (its handshake is in progress)"
        case .closed(let handle, let error): "\(handle) has ended: \(error)"
        case .unknownStream(let id): "\(id) is not open"
        case .finished(let id): "\(id) was already finished"
        case .reset(let id, let code): "\(id) was reset (\(code))"
        case .stopped(let id, let code): "\(id) was stopped by the peer, which no longer reads (\(code))"
        case .resetByPeer(let id, let code): "\(id) was reset by the peer (\(code))"
        case .streamLimitReached: "the peer's stream limit is reached; wait for more streams to be allowed"
        case .endpointFull(let max): "the endpoint holds its maximum of \(max) connections"
        case .invalidName(let problem): problem
        }
    }
}
