public import SecureStreamsCore

/// What happens to a stream, as ``Stream/events`` reports it.
public enum StreamEvent: Sendable, Equatable {
    /// The connection's acknowledgements flow (again).
    case linkUp
    /// The connection stalled (no acknowledgements for several probe timeouts).
    case linkStalled
    /// The connection's liveness is lost.
    case linkDown
    /// The peer has more to send but our receive window is exhausted: read faster.
    case receiveBlocked
    /// The peer reset its half, with its code.
    case reset(ErrorCode)
    /// The peer asked us to stop sending, with its code.
    case stopped(ErrorCode)
}

/// One reliable, ordered stream of a ``Connection``: bytes, and records
/// (message boundaries inside the bytes); half-closable, resettable.
///
/// Reads and writes may come from different tasks; reads are served in the
/// order they were made, and so are writes. Cancelling a waiting read loses
/// nothing: a read takes bytes from the stream only when it returns them.
/// A write is not cancellable: it completes, or fails when the stream or the
/// connection fails.
///
/// Writes are buffered ahead: while less than ``writeAhead`` bytes of
/// earlier writes wait to enter the stream's send buffer, a write returns at
/// once (the bytes are on their way to the loop, in order); past that it
/// suspends until they are taken. A failure of such a write is thrown by the
/// stream's next write or finish, and `finish()` returns only when every
/// byte before it was taken.
public final class Stream: Sendable {
    public let id: StreamID
    /// The connection the stream belongs to.
    public let connection: Connection
    /// Link and stream events (the newest 64 are kept when nobody reads).
    public let events: AsyncStream<StreamEvent>

    /// How many bytes of writes may be on their way to the loop before a write suspends.
    public static let writeAhead = 256 * 1024

    let runtime: Runtime
    let eventsContinuation: AsyncStream<StreamEvent>.Continuation
    /// Bytes admitted and not yet taken by the endpoint, and the failure of
    /// a write nobody waited for.
    private let outbox = Locked<(pending: Int, failure: HostError?)>((0, nil))

    init(runtime: Runtime, connection: Connection, id: StreamID) {
        self.runtime = runtime
        self.connection = connection
        self.id = id
        let (events, continuation) = AsyncStream<StreamEvent>.makeStream(bufferingPolicy: .bufferingNewest(64))
        self.events = events
        eventsContinuation = continuation
    }

    /// Reads the next bytes in order, at most `maxBytes`, ignoring record
    /// boundaries; suspends until some arrive.
    /// - Returns: the bytes, or `nil` at the end of the stream (the peer finished).
    /// - Throws: ``HostError`` `.streamReset`, `.connectionClosed`; `CancellationError`.
    public func read(maxBytes: Int = 65_536) async throws -> [UInt8]? {
        precondition(maxBytes > 0, "read(maxBytes:) needs room for at least one byte")
        return try await read(.bytes(max: maxBytes))
    }

    /// Reads the next whole record; suspends until one is complete.
    ///
    /// Records up to the endpoint's `maxStreamWindow` (16 MiB by default)
    /// arrive whole, whatever the receive window; a larger one never
    /// completes (read its bytes with ``read(maxBytes:)`` instead).
    /// - Returns: the record, or `nil` at the end of the stream.
    public func readRecord() async throws -> [UInt8]? {
        try await read(.record)
    }

    /// Writes bytes; suspends until the stream has taken all of them (while
    /// the send buffer is full, that is until the peer's acknowledgements
    /// make room).
    public func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        try await enqueue(.bytes(bytes, offset: 0, endOfRecord: false))
    }

    /// Writes `bytes` as one record (the reader gets it whole).
    /// - Throws: ``HostError`` `.emptyRecord` for no bytes;
    ///   `.recordTooLarge` at once, writing nothing, for a record larger
    ///   than the peer reads whole (``Connection/peerMaxRecordSize``,
    ///   16 MiB by default), which would otherwise fill its window and wait
    ///   forever.
    public func writeRecord(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { throw HostError(.emptyRecord) }
        guard UInt64(bytes.count) <= connection.peerMaxRecordSize else {
            throw HostError(.recordTooLarge(size: bytes.count, limit: connection.peerMaxRecordSize))
        }
        try await enqueue(.bytes(bytes, offset: 0, endOfRecord: true))
    }

    /// Ends our sending half after everything written before (half-close);
    /// the peer reads to the end, then sees `nil`.
    public func finish() async throws {
        try await enqueue(.finish)
    }

    /// Abandons our sending half: unsent bytes are dropped and the peer
    /// learns `code`; waiting writes fail.
    public func reset(code: ErrorCode = .noError) async {
        let (handle, id) = (connection.handle, self.id)
        let _: Void? = try? await runtime.call { loop, core, done in
            try? loop.endpoint.reset(id, on: handle, code: code)
            core.connections[handle]?.streams[id]?.failWriters(HostError(.command(.reset(id, code))))
            done.resume()
        }
    }

    /// Asks the peer to stop sending (it answers with a reset).
    public func stopSending(code: ErrorCode = .noError) async {
        let (handle, id) = (connection.handle, self.id)
        let _: Void? = try? await runtime.call { loop, _, done in
            try? loop.endpoint.stopSending(id, on: handle, code: code)
            done.resume()
        }
    }

    /// Changes the stream's priority: higher goes first; equal ones share fairly.
    public func setPriority(_ priority: Int) async throws {
        let (handle, id) = (connection.handle, self.id)
        let _: Void = try await runtime.call { loop, _, done in
            do throws(CommandError) {
                try loop.endpoint.setPriority(priority, of: id, on: handle)
                done.resume()
            } catch {
                done.resume(throwing: HostError(error))
            }
        }
    }

    private func read(_ kind: StreamState.ReadKind) async throws -> [UInt8]? {
        let (handle, id) = (connection.handle, self.id)
        return try await runtime.cancellableCall { loop, core, token, continuation in
            guard let state = core.connections[handle]?.streams[id] else {
                return continuation.resume(throwing: self.gone(core))
            }
            state.read(kind, token: token, continuation: continuation, loop: loop)
        }
    }

    private func enqueue(_ operation: StreamState.Writer.Operation) async throws {
        let (handle, id) = (connection.handle, self.id)
        let count: Int
        switch operation {
        case .bytes(let bytes, _, _): count = bytes.count
        case .finish: count = 0
        }
        // Admit the write ahead (no suspension) while the allowance lasts.
        let admittedAhead = try outbox.withLock { (state) throws(HostError) -> Bool in
            if let failure = state.failure { throw failure }
            guard count > 0, state.pending + count <= Self.writeAhead else {
                state.pending += count
                return false
            }
            state.pending += count
            return true
        }
        if admittedAhead {
            runtime.perform({ loop, core in
                guard let state = core.connections[handle]?.streams[id] else {
                    return self.release(count, failure: self.gone(core))
                }
                state.write(operation, continuation: nil, admitted: count, loop: loop)
            }, orElse: { self.release(count, failure: HostError(.shutDown)) })
            return
        }
        do {
            let _: Void = try await runtime.call { loop, core, continuation in
                guard let state = core.connections[handle]?.streams[id] else {
                    self.release(count, failure: nil)
                    return continuation.resume(throwing: self.gone(core))
                }
                state.write(operation, continuation: continuation, admitted: count, loop: loop)
            }
        } catch let error as HostError where error.kind == .shutDown {
            release(count, failure: nil)
            throw error
        }
        // Whatever failed ahead of this call is this call's failure too.
        if let failure = outbox.withLock({ $0.failure }) { throw failure }
    }

    /// The endpoint took (or refused) `count` admitted bytes.
    func release(_ count: Int, failure: HostError?) {
        outbox.withLock { state in
            state.pending -= count
            if let failure, state.failure == nil { state.failure = failure }
        }
    }

    private func gone(_ core: HostCore) -> HostError {
        if let error = connection.ending.withLock({ $0 }) { return HostError(.connectionClosed(error)) }
        return core.connections[connection.handle] == nil
            ? HostError(.connectionClosed(ConnectionError(.closedLocally(code: .noError, reason: "the connection is gone"))))
            : HostError(.command(.unknownStream(id)))
    }
}
