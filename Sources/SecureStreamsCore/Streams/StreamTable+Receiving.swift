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
        guard let handle = try handleForPeerFrame(id, frameType: frameType) else { return }
        try withStream(handle) { (entry, shared) throws(PeerError) in
            let highest = entry.receive.highestOffset
            switch entry.state.receive.onStreamFrame(end: end, fin: fin, highestReceived: highest) {
            case .violation(let error): throw error
            case .ignore: return
            case .accept: break
            }
            let increase = entry.receive.creditIncrease(toReach: end)
            guard shared.connectionReceiveCredit.allows(increase) else {
                throw PeerError(.flowControlError, frameType: frameType, "data beyond connection credit")
            }
            try entry.receive.insert(offset: offset, data, fin: fin, recordEnd: recordEnd)
            try entry.receiveCredit.onReceived(increase, frameType: frameType)
            try shared.connectionReceiveCredit.onReceived(increase, frameType: frameType)
            shared.afterReceiving(&entry)
        }
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
        guard let handle = try handleForPeerFrame(id, frameType: frameType) else { return }
        try withStream(handle) { (entry, shared) throws(PeerError) in
            let highest = entry.receive.highestOffset
            switch entry.state.receive.onReset(code, finalSize: finalSize, highestReceived: highest) {
            case .violation(let error): throw error
            case .ignore: return
            case .accept: break
            }
            let increase = entry.receive.creditIncrease(toReach: finalSize)
            guard shared.connectionReceiveCredit.allows(increase) else {
                throw PeerError(.flowControlError, frameType: frameType, "reset final size beyond connection credit")
            }
            let unread = finalSize - entry.receive.readOffset
            try entry.receive.reset(finalSize: finalSize)
            try entry.receiveCredit.onReceived(increase, frameType: frameType)
            try shared.connectionReceiveCredit.onReceived(increase, frameType: frameType)
            entry.receiveCredit.onConsumed(unread)
            shared.releaseConnectionReceive(unread)
            shared.events.append(.resetByPeer(id, code))
        }
    }

    /// A STOP_SENDING frame: the peer no longer reads. Our sending half is
    /// reset with the peer's code (a RESET_STREAM is queued) and the
    /// application hears ``StreamEvent/stopSendingRequested(_:_:)``.
    /// - Throws: opening-rule errors.
    mutating func handleStopSending(_ id: StreamID, code: ErrorCode) throws(PeerError) {
        guard let handle = try handleForPeerFrame(id, frameType: 0x04) else { return }
        try withStream(handle) { (entry, shared) throws(PeerError) in
            switch entry.state.send.onStopSending(code) {
            case .violation(let error): throw error
            case .ignore: return
            case .accept: break
            }
            entry.isStoppedByPeer = true
            shared.abandonSending(&entry)
            shared.events.append(.stopSendingRequested(id, code))
        }
    }

    /// A MAX_STREAM_DATA frame: more credit for one stream (smaller values ignored).
    /// - Throws: opening-rule errors.
    mutating func handleMaxStreamData(_ id: StreamID, maximum: UInt64) throws(PeerError) {
        guard let handle = try handleForPeerFrame(id, frameType: 0x06) else { return }
        withStream(handle) { entry, shared in
            entry.sendCredit.raiseLimit(to: maximum)
            shared.updateScheduling(&entry)
        }
    }

    /// A MAX_DATA frame: more connection credit. Streams that waited for it
    /// go back to the scheduler, in the order they blocked.
    mutating func handleMaxData(maximum: UInt64) {
        guard maximum > shared.connectionSendCredit.limit else { return }
        shared.connectionSendCredit.raiseLimit(to: maximum)
        for _ in 0..<shared.connectionBlockedStreams.count {
            guard let handle = shared.connectionBlockedStreams.popFirst(), arena.contains(handle) else { continue }
            withStream(handle) { entry, shared in
                entry.isConnectionBlocked = false
                shared.updateScheduling(&entry)
            }
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
        guard let handle = try handleForPeerFrame(id, frameType: 0x08) else { return }
        settle(handle)
    }

    /// A DATA_BLOCKED frame: informational only.
    mutating func handleDataBlocked(limit: UInt64) {}
}
