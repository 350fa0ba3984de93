/// Commands from the application. They never throw a ``PeerError``: misuse
/// is a ``StreamCommandError`` for the API layer to turn into its
/// `CommandError`. After an event, read (or write) until the call returns
/// nothing: events are reported once until acted on (``StreamEvent``).
extension StreamTable {
    /// Opens our next stream.
    /// - Returns: its id, or `nil` when the peer's MAX_STREAMS is reached
    ///   (``StreamEvent/streamsAvailable`` follows when it is raised).
    mutating func open(priority: Int = 0) -> StreamID? {
        openLocalStream(priority: priority)
    }

    /// Buffers up to the send buffer's free space of `bytes` for sending.
    ///
    /// When all of `bytes` is taken and `endOfRecord` is set, the last byte
    /// ends a record (see ``SendBuffer/endRecord()`` for the one case where
    /// the mark cannot be made). A short count means the buffer is full:
    /// ``StreamEvent/writable(_:)`` follows when acknowledgements free space.
    /// - Returns: how many bytes were taken.
    /// - Throws: `unknownStream`, `finished` (after ``finish(_:)``), or
    ///   `sendingReset` (after a reset), or `stoppedByPeer` (after the peer's STOP_SENDING).
    @discardableResult
    mutating func write(_ id: StreamID, _ bytes: UnsafeRawBufferPointer,
                        endOfRecord: Bool = false) throws(StreamCommandError) -> Int {
        let handle = try commandHandle(id)
        return try withStream(handle) { (entry, shared) throws(StreamCommandError) in
            try Self.checkWritable(entry)
            let accepted = entry.send.write(bytes, endOfRecord: endOfRecord)
            if accepted < bytes.count { entry.wantsWritable = true }
            shared.updateScheduling(&entry)
            return accepted
        }
    }

    /// `write` for an array.
    @discardableResult
    mutating func write(_ id: StreamID, _ bytes: [UInt8], endOfRecord: Bool = false) throws(StreamCommandError) -> Int {
        let result: Result<Int, StreamCommandError> = bytes.withUnsafeBytes { raw in
            do throws(StreamCommandError) {
                return .success(try write(id, raw, endOfRecord: endOfRecord))
            } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Ends our sending half after the bytes written so far (FIN; half-close).
    /// Finishing twice is harmless.
    /// - Throws: `unknownStream`, `sendingReset` or `stoppedByPeer`.
    mutating func finish(_ id: StreamID) throws(StreamCommandError) {
        let handle = try commandHandle(id)
        try withStream(handle) { (entry, shared) throws(StreamCommandError) in
            switch entry.state.send {
            case .resetSent(let code), .resetRecvd(let code):
                throw entry.isStoppedByPeer ? .stoppedByPeer(id, code) : .sendingReset(id, code)
            case .dataSent, .dataRecvd: return
            case .ready, .send: break
            }
            guard !entry.send.isFinished else { return }
            entry.send.finish()
            shared.updateScheduling(&entry)
        }
    }

    /// Reads contiguous bytes into `destination`, ignoring record boundaries.
    /// - Returns: the count read (0 when nothing is available yet), or `nil`
    ///   at the end of the stream (every byte read after the peer's FIN).
    /// - Throws: `unknownStream`, or `resetByPeer`.
    mutating func read(_ id: StreamID,
                       into destination: UnsafeMutableRawBufferPointer) throws(StreamCommandError) -> Int? {
        let handle = try commandHandle(id)
        return try withStream(handle) { (entry, shared) throws(StreamCommandError) -> Int? in
            if let code = entry.state.receive.resetCode { throw .resetByPeer(id, code) }
            if entry.receive.isFullyRead {
                // The application has now seen the end: only now may the stream
                // be retired (a reader that got the last bytes still needs this nil).
                _ = entry.state.receive.onAllDataRead()
                return nil
            }
            let count = entry.receive.read(into: destination)
            if count > 0 { entry.readsRecords = false }
            entry.reportedReadable = false
            if entry.receive.readableCount == 0 { entry.reportedRecord = false }
            shared.releaseReceived(&entry, count: count, retireWhenFullyRead: false)
            return count
        }
    }

    /// Reads up to `maxBytes` contiguous bytes as an array; `nil` at the end
    /// of the stream. See ``read(_:into:)``.
    mutating func read(_ id: StreamID, maxBytes: Int = .max) throws(StreamCommandError) -> [UInt8]? {
        let available = arena.handle(for: id).map { arena[$0].receive.readableCount } ?? 0
        var out = [UInt8](repeating: 0, count: min(maxBytes, available))
        let result: Result<Int?, StreamCommandError> = out.withUnsafeMutableBytes { raw in
            do throws(StreamCommandError) { return .success(try read(id, into: raw)) } catch { return .failure(error) }
        }
        guard let count = try result.get() else { return nil }
        return Array(out[0..<count])
    }

    /// Reads the next whole record.
    ///
    /// Calling it marks the stream as read by records: while it holds no
    /// whole record, its unread bytes grow its receive window (and the
    /// connection's) so the rest of the record can arrive (PROTOCOL.md §6.3),
    /// up to `maxStreamWindow`, the largest record that can be read whole.
    /// Bytes of a larger record can still be taken with ``read(_:into:)``.
    /// - Returns: the record, or `nil` when no whole record is available yet
    ///   (check ``isFinishedReading(_:)`` to tell the end of the stream).
    /// - Throws: `unknownStream`, or `resetByPeer`.
    mutating func readRecord(_ id: StreamID) throws(StreamCommandError) -> [UInt8]? {
        let handle = try commandHandle(id)
        return try withStream(handle) { (entry, shared) throws(StreamCommandError) -> [UInt8]? in
            if let code = entry.state.receive.resetCode { throw .resetByPeer(id, code) }
            entry.readsRecords = true
            guard let record = entry.receive.readRecord() else { return nil }
            entry.reportedRecord = false
            entry.reportedReadable = false
            shared.releaseReceived(&entry, count: record.count)
            return record
        }
    }

    /// Whether every byte of the peer's half was read (after its FIN), or the
    /// stream is gone.
    func isFinishedReading(_ id: StreamID) -> Bool {
        guard let handle = arena.handle(for: id) else { return true }
        return arena[handle].receive.isFullyRead
    }

    /// Abandons our sending half with `code`: unsent and unacknowledged data
    /// is dropped and a RESET_STREAM carries `code` and the final size.
    /// Does nothing if everything was already delivered or reset.
    /// - Throws: `unknownStream`.
    mutating func reset(_ id: StreamID, code: ErrorCode) throws(StreamCommandError) {
        let handle = try commandHandle(id)
        withStream(handle) { entry, shared in
            if entry.state.send.reset(code) == .accept { shared.abandonSending(&entry) }
        }
    }

    /// Asks the peer to stop sending, with `code` (STOP_SENDING); data that
    /// still arrives is dropped and its credit released.
    /// Does nothing if the peer's half is already complete or reset.
    /// - Throws: `unknownStream`.
    mutating func stopSending(_ id: StreamID, code: ErrorCode) throws(StreamCommandError) {
        let handle = try commandHandle(id)
        withStream(handle) { entry, shared in
            guard entry.state.receive.stopSending() == .accept, entry.stopSendingCode == nil else { return }
            entry.stopSendingCode = code
            if !entry.queuedStopSending {
                entry.queuedStopSending = true
                shared.pendingControl.append(.stopSending(handle))
            }
            shared.releaseReceived(&entry, count: entry.receive.discard())
        }
    }

    /// Changes a stream's priority (higher sends first); a scheduled stream
    /// moves to the back of its new level.
    /// - Throws: `unknownStream`.
    mutating func setPriority(_ id: StreamID, _ priority: Int) throws(StreamCommandError) {
        let handle = try commandHandle(id)
        withStream(handle) { entry, shared in
            entry.priority = priority
            if shared.scheduler.contains(handle) { shared.scheduler.schedule(handle, priority: priority) }
        }
    }

    // MARK: - Private

    /// The command's one lookup: the live stream named `id`.
    private func commandHandle(_ id: StreamID) throws(StreamCommandError) -> StreamHandle {
        guard let handle = arena.handle(for: id) else { throw .unknownStream(id) }
        return handle
    }

    private static func checkWritable(_ entry: StreamEntry) throws(StreamCommandError) {
        switch entry.state.send {
        case .resetSent(let code), .resetRecvd(let code):
            throw entry.isStoppedByPeer ? .stoppedByPeer(entry.id, code) : .sendingReset(entry.id, code)
        case .dataSent, .dataRecvd:
            throw .finished(entry.id)
        case .ready, .send:
            if entry.send.isFinished { throw .finished(entry.id) }
        }
    }
}
