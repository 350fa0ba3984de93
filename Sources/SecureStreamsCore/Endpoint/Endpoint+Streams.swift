/// Application commands on streams (PROTOCOL.md §6.2): open without a round
/// trip, write bytes and records, read bytes and records, finish, reset.
/// A command that cannot run throws a ``CommandError`` saying why: the
/// connection (`unknownConnection`, `notEstablished`, `closed(reason)`) or the
/// stream (`unknownStream`, `finished`, `reset`, `resetByPeer`).
extension Endpoint {
    /// Opens a stream: the peer learns of it from its first frame.
    /// - Throws: ``CommandError`` `streamLimitReached` when the peer's stream
    ///   limit is reached (a `streamsAvailable` event follows when it rises),
    ///   or the connection's reason when it is not established.
    public mutating func openStream(on connection: ConnectionHandle, priority: Int = 0) throws(CommandError) -> StreamID {
        try withEstablished(connection) { (c) throws(CommandError) in
            guard let id = c.streams.open(priority: priority) else { throw .streamLimitReached(connection) }
            return id
        }
    }

    /// Queues bytes on a stream; returns how many were accepted (fewer when
    /// its send buffer is full: a `streamWritable` event says when to go on).
    /// With `endOfRecord`, the last accepted byte ends a record — so a record
    /// is written by repeating the call with the rest until all is accepted.
    public mutating func write(
        _ bytes: UnsafeRawBufferPointer, to stream: StreamID, on connection: ConnectionHandle, endOfRecord: Bool = false
    ) throws(CommandError) -> Int {
        try withStreams(connection) { (c) throws(StreamCommandError) in
            let accepted = try c.streams.write(stream, bytes, endOfRecord: endOfRecord)
            return accepted
        }
    }

    /// Queues `bytes` on a stream; see ``write(_:to:on:endOfRecord:)``.
    public mutating func write(
        _ bytes: [UInt8], to stream: StreamID, on connection: ConnectionHandle, endOfRecord: Bool = false
    ) throws(CommandError) -> Int {
        try bytes.withUnsafeBytes { (buffer) throws(CommandError) in
            try write(buffer, to: stream, on: connection, endOfRecord: endOfRecord)
        }
    }

    /// Ends our sending half (the peer reads to the end, then sees the finish).
    public mutating func finish(_ stream: StreamID, on connection: ConnectionHandle) throws(CommandError) {
        try withStreams(connection) { (c) throws(StreamCommandError) in try c.streams.finish(stream) }
    }

    /// Reads bytes in order into `buffer`. Returns the count (0 when nothing
    /// is ready yet), or `nil` once the peer finished and everything was read.
    public mutating func read(
        from stream: StreamID, on connection: ConnectionHandle, into buffer: UnsafeMutableRawBufferPointer
    ) throws(CommandError) -> Int? {
        try withStreams(connection) { (c) throws(StreamCommandError) in try c.streams.read(stream, into: buffer) }
    }

    /// Reads up to `maxBytes` in order; `[]` when nothing is ready, `nil` at the end.
    public mutating func read(
        from stream: StreamID, on connection: ConnectionHandle, maxBytes: Int = .max
    ) throws(CommandError) -> [UInt8]? {
        try withStreams(connection) { (c) throws(StreamCommandError) in try c.streams.read(stream, maxBytes: maxBytes) }
    }

    /// Reads one whole record, or `nil` when no complete record is ready.
    ///
    /// Records up to ``EndpointConfiguration/maxStreamWindow`` (16 MiB by
    /// default) arrive whole: while a record reader waits, the receive
    /// windows open for the rest of the record (PROTOCOL.md §6.3). A larger
    /// record never completes; read its bytes with `read` instead.
    public mutating func readRecord(from stream: StreamID, on connection: ConnectionHandle) throws(CommandError) -> [UInt8]? {
        try withStreams(connection) { (c) throws(StreamCommandError) in try c.streams.readRecord(stream) }
    }

    /// True once the peer finished the stream and every byte was read.
    public func isFinished(_ stream: StreamID, on connection: ConnectionHandle) -> Bool {
        guard let c = established(connection) else { return true }
        return c.streams.isFinishedReading(stream)
    }

    /// How far the peer acknowledged our sending half: every byte of the
    /// stream below the returned offset reached the peer. `nil` when the
    /// stream or the connection is gone. The message channels of the async
    /// API resolve "acknowledged" tickets with it (docs/CHANNELS.md).
    public func acknowledgedOffset(of stream: StreamID, on connection: ConnectionHandle) -> UInt64? {
        established(connection)?.streams.entry(stream)?.send.ackedOffset
    }

    /// Abandons our sending half: unsent data is dropped, the peer is told `code`.
    public mutating func reset(_ stream: StreamID, on connection: ConnectionHandle, code: ErrorCode) throws(CommandError) {
        try withStreams(connection) { (c) throws(StreamCommandError) in try c.streams.reset(stream, code: code) }
    }

    /// Asks the peer to stop sending on a stream (it answers with a reset).
    public mutating func stopSending(_ stream: StreamID, on connection: ConnectionHandle, code: ErrorCode) throws(CommandError) {
        try withStreams(connection) { (c) throws(StreamCommandError) in try c.streams.stopSending(stream, code: code) }
    }

    /// Changes a stream's priority: higher goes first; equal priorities share fairly.
    public mutating func setPriority(_ priority: Int, of stream: StreamID, on connection: ConnectionHandle) throws(CommandError) {
        try withStreams(connection) { (c) throws(StreamCommandError) in try c.streams.setPriority(stream, priority) }
    }

    // MARK: - Private

    /// Runs a stream command on an established connection (its stream events
    /// are queued after it), mapping the stream layer's refusal to a
    /// ``CommandError``.
    private mutating func withStreams<R>(
        _ handle: ConnectionHandle, _ body: (inout Connection) throws(StreamCommandError) -> R
    ) throws(CommandError) -> R {
        try withEstablished(handle) { (c) throws(CommandError) in
            do throws(StreamCommandError) {
                return try body(&c)
            } catch {
                throw Self.commandError(error)
            }
        }
    }

    private static func commandError(_ error: StreamCommandError) -> CommandError {
        switch error {
        case .unknownStream(let id): .unknownStream(id)
        case .finished(let id): .finished(id)
        case .sendingReset(let id, let code): .reset(id, code)
        case .stoppedByPeer(let id, let code): .stopped(id, code)
        case .resetByPeer(let id, let code): .resetByPeer(id, code)
        }
    }
}
