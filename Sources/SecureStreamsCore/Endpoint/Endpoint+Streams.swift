/// Application commands on streams (PROTOCOL.md §6.2): open without a round
/// trip, write bytes and records, read bytes and records, finish, reset.
/// Misuse throws ``UsageError``; nothing here can be caused by the peer.
extension Endpoint {
    /// Opens a stream: the peer learns of it from its first frame.
    /// - Throws: ``UsageError`` when the peer's stream limit is reached (an
    ///   event follows when it rises) or the connection is not established.
    public mutating func openStream(on connection: ConnectionHandle, priority: Int = 0) throws(UsageError) -> StreamID {
        try withEstablished(connection) { (c) throws(UsageError) in
            guard let id = c.streams.open(priority: priority) else {
                throw UsageError("the peer's stream limit is reached; wait for more streams to be allowed")
            }
            return id
        }
    }

    /// Queues bytes on a stream; returns how many were accepted (fewer when
    /// its send buffer is full: a `streamWritable` event says when to go on).
    /// With `endOfRecord`, the last accepted byte ends a record — so a record
    /// is written by repeating the call with the rest until all is accepted.
    public mutating func write(
        _ bytes: UnsafeRawBufferPointer, to stream: StreamID, on connection: ConnectionHandle, endOfRecord: Bool = false
    ) throws(UsageError) -> Int {
        try withStreams(connection) { (c) throws(StreamCommandError) in
            let accepted = try c.streams.write(stream, bytes, endOfRecord: endOfRecord)
            return accepted
        }
    }

    /// Queues `bytes` on a stream; see ``write(_:to:on:endOfRecord:)``.
    public mutating func write(
        _ bytes: [UInt8], to stream: StreamID, on connection: ConnectionHandle, endOfRecord: Bool = false
    ) throws(UsageError) -> Int {
        try bytes.withUnsafeBytes { (buffer) throws(UsageError) in
            try write(buffer, to: stream, on: connection, endOfRecord: endOfRecord)
        }
    }

    /// Ends our sending half (the peer reads to the end, then sees the finish).
    public mutating func finish(_ stream: StreamID, on connection: ConnectionHandle) throws(UsageError) {
        try withStreams(connection) { (c) throws(StreamCommandError) in try c.streams.finish(stream) }
    }

    /// Reads bytes in order into `buffer`. Returns the count (0 when nothing
    /// is ready yet), or `nil` once the peer finished and everything was read.
    public mutating func read(
        from stream: StreamID, on connection: ConnectionHandle, into buffer: UnsafeMutableRawBufferPointer
    ) throws(UsageError) -> Int? {
        try withStreams(connection) { (c) throws(StreamCommandError) in try c.streams.read(stream, into: buffer) }
    }

    /// Reads up to `maxBytes` in order; `[]` when nothing is ready, `nil` at the end.
    public mutating func read(
        from stream: StreamID, on connection: ConnectionHandle, maxBytes: Int = .max
    ) throws(UsageError) -> [UInt8]? {
        try withStreams(connection) { (c) throws(StreamCommandError) in try c.streams.read(stream, maxBytes: maxBytes) }
    }

    /// Reads one whole record, or `nil` when no complete record is ready.
    ///
    /// Records up to ``EndpointConfiguration/maxStreamWindow`` (16 MiB by
    /// default) arrive whole: while a record reader waits, the receive
    /// windows open for the rest of the record (PROTOCOL.md §6.3). A larger
    /// record never completes; read its bytes with `read` instead.
    public mutating func readRecord(from stream: StreamID, on connection: ConnectionHandle) throws(UsageError) -> [UInt8]? {
        try withStreams(connection) { (c) throws(StreamCommandError) in try c.streams.readRecord(stream) }
    }

    /// True once the peer finished the stream and every byte was read.
    public func isFinished(_ stream: StreamID, on connection: ConnectionHandle) -> Bool {
        guard let c = established(connection) else { return true }
        return c.streams.isFinishedReading(stream)
    }

    /// Abandons our sending half: unsent data is dropped, the peer is told `code`.
    public mutating func reset(_ stream: StreamID, on connection: ConnectionHandle, code: ErrorCode) throws(UsageError) {
        try withStreams(connection) { (c) throws(StreamCommandError) in try c.streams.reset(stream, code: code) }
    }

    /// Asks the peer to stop sending on a stream (it answers with a reset).
    public mutating func stopSending(_ stream: StreamID, on connection: ConnectionHandle, code: ErrorCode) throws(UsageError) {
        try withStreams(connection) { (c) throws(StreamCommandError) in try c.streams.stopSending(stream, code: code) }
    }

    /// Changes a stream's priority: higher goes first; equal priorities share fairly.
    public mutating func setPriority(_ priority: Int, of stream: StreamID, on connection: ConnectionHandle) throws(UsageError) {
        try withStreams(connection) { (c) throws(StreamCommandError) in try c.streams.setPriority(stream, priority) }
    }

    // MARK: - Private

    private mutating func withStreams<R>(
        _ handle: ConnectionHandle, _ body: (inout Connection) throws(StreamCommandError) -> R
    ) throws(UsageError) -> R {
        // Bounded like the endpoint's own queue (it grows only as it fills):
        // a smaller sink would drop events uncounted before `emit` sees them.
        var sink = EventQueue(capacity: configuration.maxQueuedEvents)
        let result: R = try withEstablished(handle) { (c) throws(UsageError) in
            defer { c.drainStreamEvents(into: &sink) }
            do throws(StreamCommandError) {
                return try body(&c)
            } catch {
                throw UsageError(Self.describe(error))
            }
        }
        while let event = sink.next() { emit(event) }
        return result
    }

    private static func describe(_ error: StreamCommandError) -> String {
        switch error {
        case .unknownStream(let id): "\(id) is not open"
        case .finished(let id): "\(id) was already finished"
        case .sendingReset(let id, let code): "\(id) was reset (\(code))"
        case .resetByPeer(let id, let code): "\(id) was reset by the peer (\(code))"
        }
    }
}
