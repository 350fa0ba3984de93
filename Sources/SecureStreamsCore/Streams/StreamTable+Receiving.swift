/// Frames from the peer (PROTOCOL.md §6). Each handler either applies the
/// frame, ignores it (a stream already closed, a duplicate), or throws the
/// ``PeerError`` the connection must close with. After a throw the table's
/// state does not matter: the connection is closing.
extension StreamTable {
    /// A STREAM frame: `data` at `offset`, with the FIN and RECORD flags.
    /// - Throws: `STREAM_LIMIT_ERROR`, `STREAM_STATE_ERROR` (opening rules),
    ///   `FINAL_SIZE_ERROR`, `FLOW_CONTROL_ERROR` (stream or connection),
    ///   `FRAME_ENCODING_ERROR` (offset + length ≥ 2^62).
    mutating func handleStream(_ id: StreamID, offset: UInt64, data: UnsafeRawBufferPointer,
                               fin: Bool, recordEnd: Bool) throws(PeerError) {
        let frameType: UInt64 = 0x10 | (recordEnd ? 0x8 : 0) | (fin ? 0x1 : 0)
        let (end, overflow) = offset.addingReportingOverflow(UInt64(data.count))
        if overflow || end > VarInt.maxValue {
            throw PeerError(.frameEncodingError, frameType: frameType, "stream offset + length ≥ 2^62")
        }
        guard var entry = try takeForPeerFrame(id, frameType: frameType) else { return }
        defer { put(entry) }
        switch entry.state.receive.onStreamFrame(end: end, fin: fin, highestReceived: entry.receive.highestOffset) {
        case .violation(let error): throw error
        case .ignore: return
        case .accept: break
        }
        let increase = entry.receive.creditIncrease(toReach: end)
        guard connectionReceiveCredit.allows(increase) else {
            throw PeerError(.flowControlError, frameType: frameType, "data beyond connection credit")
        }
        try entry.receive.insert(offset: offset, data, fin: fin, recordEnd: recordEnd)
        try entry.receiveCredit.onReceived(increase, frameType: frameType)
        try connectionReceiveCredit.onReceived(increase, frameType: frameType)
        afterReceiving(&entry)
    }

    /// `handleStream` for an array (tests).
    mutating func handleStream(_ id: StreamID, offset: UInt64, data: [UInt8],
                               fin: Bool = false, recordEnd: Bool = false) throws(PeerError) {
        let result: Result<Void, PeerError> = data.withUnsafeBytes { raw in
            do throws(PeerError) {
                return .success(try handleStream(id, offset: offset, data: raw, fin: fin, recordEnd: recordEnd))
            } catch { return .failure(error) }
        }
        try result.get()
    }

    /// A RESET_STREAM frame: the peer abandons its sending half.
    ///
    /// Unread data is dropped and its credit released at once, connection
    /// credit included (RFC 9000 §4.5: the final size counts as consumed).
    /// - Throws: opening-rule errors, `FINAL_SIZE_ERROR`, `FLOW_CONTROL_ERROR`.
    mutating func handleResetStream(_ id: StreamID, code: ErrorCode, finalSize: UInt64) throws(PeerError) {
        let frameType: UInt64 = 0x03
        guard var entry = try takeForPeerFrame(id, frameType: frameType) else { return }
        defer { put(entry) }
        let highest = entry.receive.highestOffset
        switch entry.state.receive.onReset(code, finalSize: finalSize, highestReceived: highest) {
        case .violation(let error): throw error
        case .ignore: return
        case .accept: break
        }
        let increase = entry.receive.creditIncrease(toReach: finalSize)
        guard connectionReceiveCredit.allows(increase) else {
            throw PeerError(.flowControlError, frameType: frameType, "reset final size beyond connection credit")
        }
        let unread = finalSize - entry.receive.readOffset
        try entry.receive.reset(finalSize: finalSize)
        try entry.receiveCredit.onReceived(increase, frameType: frameType)
        try connectionReceiveCredit.onReceived(increase, frameType: frameType)
        entry.receiveCredit.onConsumed(unread)
        releaseConnectionReceive(unread)
        events.append(.resetByPeer(id, code))
    }

    /// A STOP_SENDING frame: the peer no longer reads. Our sending half is
    /// reset with the peer's code (a RESET_STREAM is queued) and the
    /// application hears ``StreamEvent/stopSendingRequested(_:_:)``.
    /// - Throws: opening-rule errors.
    mutating func handleStopSending(_ id: StreamID, code: ErrorCode) throws(PeerError) {
        guard var entry = try takeForPeerFrame(id, frameType: 0x04) else { return }
        defer { put(entry) }
        switch entry.state.send.onStopSending(code) {
        case .violation(let error): throw error
        case .ignore: return
        case .accept: break
        }
        abandonSending(&entry)
        events.append(.stopSendingRequested(id, code))
    }

    /// A MAX_STREAM_DATA frame: more credit for one stream (smaller values ignored).
    /// - Throws: opening-rule errors.
    mutating func handleMaxStreamData(_ id: StreamID, maximum: UInt64) throws(PeerError) {
        guard var entry = try takeForPeerFrame(id, frameType: 0x06) else { return }
        defer { put(entry) }
        entry.sendCredit.raiseLimit(to: maximum)
        updateScheduling(&entry)
    }

    /// A MAX_DATA frame: more connection credit. Streams that waited for it
    /// go back to the scheduler, in the order they blocked.
    mutating func handleMaxData(maximum: UInt64) {
        guard maximum > connectionSendCredit.limit else { return }
        connectionSendCredit.raiseLimit(to: maximum)
        for _ in 0..<connectionBlockedStreams.count {
            guard let id = connectionBlockedStreams.popFirst(), var entry = take(id) else { continue }
            entry.isConnectionBlocked = false
            updateScheduling(&entry)
            put(entry)
        }
    }

    /// A MAX_STREAMS frame: the count of streams we may open.
    /// - Throws: `FRAME_ENCODING_ERROR` for a count that would need ids ≥ 2^62.
    mutating func handleMaxStreams(_ count: UInt64) throws(PeerError) {
        if count > Self.maxStreamCount {
            throw PeerError(.frameEncodingError, frameType: 0x09, "MAX_STREAMS beyond 2^61")
        }
        raiseLocalStreamLimit(to: count)
    }

    /// A STREAM_DATA_BLOCKED frame: informational, but it opens a peer
    /// stream implicitly like any stream frame.
    /// - Throws: opening-rule errors.
    mutating func handleStreamDataBlocked(_ id: StreamID, limit: UInt64) throws(PeerError) {
        guard let entry = try takeForPeerFrame(id, frameType: 0x08) else { return }
        put(entry)
    }

    /// A DATA_BLOCKED frame: informational only.
    mutating func handleDataBlocked(limit: UInt64) {}

    // MARK: - Shared steps

    /// Moves the receiving half along after new data, and reports what the
    /// application can now do.
    mutating func afterReceiving(_ entry: inout StreamEntry) {
        if entry.receive.isComplete { _ = entry.state.receive.onAllDataReceived() }
        if entry.stopSendingCode != nil {
            releaseReceived(&entry, count: entry.receive.discard())
            return
        }
        if !entry.reportedReadable && (entry.receive.readableCount > 0 || entry.receive.isComplete) {
            entry.reportedReadable = true
            events.append(.readable(entry.id))
        }
        if !entry.reportedRecord && entry.receive.hasCompleteRecord {
            entry.reportedRecord = true
            events.append(.recordReady(entry.id))
        }
    }

    /// `count` bytes of `entry` were consumed (read or discarded): release
    /// their credit, queue window updates that are due, and move the
    /// receiving half to `dataRead` once everything was read.
    mutating func releaseReceived(_ entry: inout StreamEntry, count: Int, retireWhenFullyRead: Bool = true) {
        if count > 0 {
            entry.receiveCredit.onConsumed(UInt64(count))
            releaseConnectionReceive(UInt64(count))
            if entry.receiveCredit.isUpdateDue && entry.state.receive.isExpectingData && !entry.queuedMaxStreamData {
                entry.queuedMaxStreamData = true
                pendingControl.append(.maxStreamData(entry.id))
            }
        }
        if retireWhenFullyRead, entry.receive.isFullyRead { _ = entry.state.receive.onAllDataRead() }
    }

    /// Our sending half was just reset (by the application or at the peer's
    /// STOP_SENDING): drop its data, stop scheduling it, queue RESET_STREAM.
    mutating func abandonSending(_ entry: inout StreamEntry) {
        entry.send.discardAll()
        entry.wantsWritable = false
        scheduler.unschedule(entry.id)
        if !entry.queuedReset {
            entry.queuedReset = true
            pendingControl.append(.resetStream(entry.id))
        }
    }
}
