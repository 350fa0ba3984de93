/// Building packets: control frames, then STREAM chunks picked by the
/// scheduler; and what to do when the peer acknowledges or loses them.
extension StreamTable {
    /// The most bytes any ``StreamControlFrame`` takes on the wire: a type
    /// byte and at most three 8-byte varints. A packet builder with this much
    /// room left can always fit the frame ``pollControlFrame(now:rtt:)`` returns.
    static var maxControlFrameSize: Int { 25 }

    /// The next control frame to send, oldest first, with current values.
    ///
    /// Window updates are decided here, where time is known: `now` and the
    /// smoothed `rtt` drive auto-tuning (``ReceiveCredit``). Frames that no
    /// longer matter (the stream closed, the block lifted) are skipped.
    /// A frame that does not fit after all goes back with ``onControlFrameLost(_:)``.
    mutating func pollControlFrame(now: Timestamp, rtt: Duration) -> StreamControlFrame? {
        while let pending = shared.pendingControl.popFirst() {
            if let frame = materialize(pending, now: now, rtt: rtt) { return frame }
        }
        return nil
    }

    /// The next STREAM frame's worth: the stream the scheduler picks and the
    /// chunk to send, at most `maxBytes` data bytes (room left in the packet
    /// after a STREAM frame header, bounded by 1 + 8 + 8 + 4 bytes). Charges
    /// flow control for new bytes and moves the sending state. `nil` when no
    /// stream has anything it may send. Copy the bytes with ``copyData(_:_:into:)``.
    /// - Precondition: `maxBytes > 0`.
    mutating func nextStreamChunk(maxBytes: Int) -> (id: StreamID, chunk: SendChunk)? {
        precondition(maxBytes > 0, "nextStreamChunk needs room for at least one byte")
        while let handle = shared.scheduler.next() {
            guard arena.contains(handle) else {
                shared.scheduler.unschedule(handle)
                continue
            }
            let chunk = withStream(handle) { entry, shared in Self.takeChunk(&entry, &shared, maxBytes: maxBytes) }
            if let chunk {
                lastChunkStream = handle
                return (arena[handle].id, chunk)
            }
        }
        return nil
    }

    /// Copies the bytes of a chunk just returned by ``nextStreamChunk(maxBytes:)``
    /// into the packet being built.
    /// - Precondition: the stream is live and `range` still buffered (true
    ///   until the next call into the table).
    func copyData(_ id: StreamID, _ range: Range<UInt64>, into destination: UnsafeMutableRawBufferPointer) {
        // The chunk just returned needs no lookup.
        if let last = lastChunkStream, arena.contains(last), arena[last].id == id {
            arena[last].send.copy(range, into: destination)
            return
        }
        guard let handle = arena.handle(for: id) else { preconditionFailure("copyData: \(id) is not live") }
        arena[handle].send.copy(range, into: destination)
    }

    /// The peer acknowledged a STREAM frame carrying `range` (and the FIN if `fin`).
    mutating func onStreamFrameAcked(_ id: StreamID, range: Range<UInt64>, fin: Bool) {
        guard let handle = arena.handle(for: id) else { return }
        withStream(handle) { entry, shared in
            entry.send.onAcked(range, fin: fin)
            if entry.send.isFullyAcked { _ = entry.state.send.onAllAcknowledged() }
            if entry.wantsWritable && entry.send.availableSpace > 0 {
                entry.wantsWritable = false
                shared.events.append(.writable(id))
            }
        }
    }

    /// A STREAM frame carrying `range` (and the FIN if `fin`) was lost: its
    /// unacknowledged bytes go back in line, ahead of new data.
    mutating func onStreamFrameLost(_ id: StreamID, range: Range<UInt64>, fin: Bool) {
        guard let handle = arena.handle(for: id) else { return }
        withStream(handle) { entry, shared in
            entry.send.onLost(range, fin: fin)
            shared.updateScheduling(&entry)
        }
    }

    /// The peer acknowledged a control frame: an acknowledged RESET_STREAM
    /// ends our sending half (which may close the stream).
    mutating func onControlFrameAcked(_ frame: StreamControlFrame) {
        switch frame {
        case .resetStream(let id, _, _):
            guard let handle = arena.handle(for: id) else { return }
            withStream(handle) { entry, _ in _ = entry.state.send.onResetAcknowledged() }
        case .stopSending, .maxData, .maxStreamData, .dataBlocked, .streamDataBlocked, .maxStreams, .streamsBlocked:
            break
        }
    }

    /// A control frame was lost (or did not fit): queue it again if it still
    /// matters. Limits are re-sent only if no newer value went out since.
    mutating func onControlFrameLost(_ frame: StreamControlFrame) {
        switch frame {
        case .resetStream(let id, _, _):
            requeue(id) { entry in entry.state.send.onResetLost() == .accept } mark: { entry in
                (\.queuedReset, .resetStream(entry.handle))
            }
        case .stopSending(let id, _):
            requeue(id) { entry in entry.state.receive.isExpectingData } mark: { entry in
                (\.queuedStopSending, .stopSending(entry.handle))
            }
        case .maxStreamData(let id, let value):
            requeue(id) { entry in entry.state.receive.isExpectingData && value == entry.receiveCredit.limit } mark: {
                entry in entry.resendMaxStreamData = true
                return (\.queuedMaxStreamData, .maxStreamData(entry.handle))
            }
        case .streamDataBlocked(let id, let value):
            requeue(id) { entry in entry.sendCredit.isExhausted && value == entry.sendCredit.limit } mark: { entry in
                (\.queuedStreamDataBlocked, .streamDataBlocked(entry.handle))
            }
        case .maxData(let value):
            guard value == shared.connectionReceiveCredit.limit, !shared.queuedMaxData else { return }
            shared.resendMaxData = true
            shared.queuedMaxData = true
            shared.pendingControl.append(.maxData)
        case .dataBlocked(let value):
            guard shared.connectionSendCredit.isExhausted, value == shared.connectionSendCredit.limit,
                  !shared.queuedDataBlocked else { return }
            shared.queuedDataBlocked = true
            shared.pendingControl.append(.dataBlocked)
        case .maxStreams(let value):
            guard value == peerStreamLimit, !shared.queuedMaxStreams else { return }
            shared.resendMaxStreams = true
            shared.queuedMaxStreams = true
            shared.pendingControl.append(.maxStreams)
        case .streamsBlocked(let limit):
            onStreamsBlockedLost(limit: limit)
        }
    }

    // MARK: - Private

    /// One chunk of `entry`'s data, if it may send any now: charges flow
    /// control for new bytes, moves the sending state, and reschedules it
    /// (or takes it out of the scheduler when nothing was sendable after all,
    /// so ``StreamScheduler/next()`` never finds it again).
    private static func takeChunk(_ entry: inout StreamEntry, _ shared: inout Shared, maxBytes: Int) -> SendChunk? {
        let before = entry.send.sentOffset
        let limit = entry.newDataLimit(connectionAvailable: shared.connectionSendCredit.available)
        let chunk = entry.state.send.isSendingData ? entry.send.nextChunk(maxBytes: maxBytes, maxOffset: limit) : nil
        if let chunk {
            let fresh = entry.send.sentOffset - before
            entry.sendCredit.consume(fresh)
            shared.connectionSendCredit.consume(fresh)
            _ = entry.state.send.onStreamFrameSent(fin: chunk.isFinal)
            shared.updateScheduling(&entry)
        } else {
            shared.updateScheduling(&entry)
            shared.scheduler.unschedule(entry.handle)
        }
        return chunk
    }

    /// The frame for `pending` with current values, or `nil` when it no
    /// longer matters (a stale handle: the stream closed). Clears the
    /// "queued" mark either way.
    private mutating func materialize(_ pending: PendingControl, now: Timestamp, rtt: Duration) -> StreamControlFrame? {
        switch pending {
        case .resetStream(let handle):
            return withLiveStream(handle) { entry, _ in
                entry.queuedReset = false
                guard case .resetSent(let code) = entry.state.send else { return nil }
                return .resetStream(entry.id, code, finalSize: entry.send.sentOffset)
            }
        case .stopSending(let handle):
            return withLiveStream(handle) { entry, _ in
                entry.queuedStopSending = false
                guard entry.state.receive.isExpectingData, let code = entry.stopSendingCode else { return nil }
                return .stopSending(entry.id, code)
            }
        case .maxStreamData(let handle):
            var grownWindow: UInt64 = 0
            let frame: StreamControlFrame? = withLiveStream(handle) { entry, _ in
                entry.queuedMaxStreamData = false
                guard entry.state.receive.isExpectingData else { return nil }
                let updated = entry.receiveCredit.nextUpdate(now: now, rtt: rtt)
                guard updated != nil || entry.resendMaxStreamData else { return nil }
                entry.resendMaxStreamData = false
                entry.receive.raiseLimit(to: entry.receiveCredit.limit)
                grownWindow = entry.receiveCredit.window
                return .maxStreamData(entry.id, entry.receiveCredit.limit)
            }
            if grownWindow > 0 { shared.keepConnectionWindowAhead(ofStreamWindow: grownWindow) }
            return frame
        case .streamDataBlocked(let handle):
            return withLiveStream(handle) { entry, _ in
                entry.queuedStreamDataBlocked = false
                guard entry.sendCredit.isExhausted, entry.state.send.isSendingData else { return nil }
                return .streamDataBlocked(entry.id, entry.sendCredit.limit)
            }
        case .maxData:
            shared.queuedMaxData = false
            let updated = shared.connectionReceiveCredit.nextUpdate(now: now, rtt: rtt)
            guard updated != nil || shared.resendMaxData else { return nil }
            shared.resendMaxData = false
            return .maxData(shared.connectionReceiveCredit.limit)
        case .dataBlocked:
            shared.queuedDataBlocked = false
            guard shared.connectionSendCredit.isExhausted else { return nil }
            return .dataBlocked(shared.connectionSendCredit.limit)
        case .maxStreams:
            shared.queuedMaxStreams = false
            let before = peerStreamLimit
            let value = advanceAdvertisedPeerStreamLimit()
            guard value > before || shared.resendMaxStreams else { return nil }
            shared.resendMaxStreams = false
            return .maxStreams(value)
        case .streamsBlocked:
            return materializeStreamsBlocked()
        }
    }

    /// ``withStream(_:_:)`` for a handle that may be stale: `nil` when the
    /// stream is gone.
    private mutating func withLiveStream<R>(
        _ handle: StreamHandle, _ body: (inout StreamEntry, inout Shared) -> R?
    ) -> R? {
        guard arena.contains(handle) else { return nil }
        return withStream(handle, body)
    }

    /// Queues a stream control frame again when `stillMatters` and it is not
    /// queued already; `mark` names the entry's "queued" flag and the pending kind.
    private mutating func requeue(
        _ id: StreamID, if stillMatters: (StreamEntry) -> Bool,
        mark: (inout StreamEntry) -> (WritableKeyPath<StreamEntry, Bool>, PendingControl)
    ) {
        guard let handle = arena.handle(for: id) else { return }
        withStream(handle) { entry, shared in
            guard stillMatters(entry) else { return }
            let (flag, pending) = mark(&entry)
            if !entry[keyPath: flag] {
                entry[keyPath: flag] = true
                shared.pendingControl.append(pending)
            }
        }
    }
}
