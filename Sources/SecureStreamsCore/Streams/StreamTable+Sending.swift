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
        while let pending = pendingControl.popFirst() {
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
        while let id = scheduler.next() {
            guard var entry = take(id) else {
                scheduler.unschedule(id)
                continue
            }
            let before = entry.send.sentOffset
            let limit = entry.newDataLimit(connectionAvailable: connectionSendCredit.available)
            let chunk = entry.state.send.isSendingData
                ? entry.send.nextChunk(maxBytes: maxBytes, maxOffset: limit) : nil
            if let chunk {
                let fresh = entry.send.sentOffset - before
                entry.sendCredit.consume(fresh)
                connectionSendCredit.consume(fresh)
                _ = entry.state.send.onStreamFrameSent(fin: chunk.isFinal)
                updateScheduling(&entry)
            } else {
                // Nothing sendable after all: never leave it where `next()` finds it again.
                updateScheduling(&entry)
                scheduler.unschedule(id)
            }
            put(entry)
            if let chunk { return (id, chunk) }
        }
        return nil
    }

    /// Copies the bytes of a chunk just returned by ``nextStreamChunk(maxBytes:)``
    /// into the packet being built.
    /// - Precondition: the stream is live and `range` still buffered (true
    ///   until the next call into the table).
    func copyData(_ id: StreamID, _ range: Range<UInt64>, into destination: UnsafeMutableRawBufferPointer) {
        guard let entry = streams[id] else { preconditionFailure("copyData: \(id) is not live") }
        entry.send.copy(range, into: destination)
    }

    /// The peer acknowledged a STREAM frame carrying `range` (and the FIN if `fin`).
    mutating func onStreamFrameAcked(_ id: StreamID, range: Range<UInt64>, fin: Bool) {
        guard var entry = take(id) else { return }
        entry.send.onAcked(range, fin: fin)
        if entry.send.isFullyAcked { _ = entry.state.send.onAllAcknowledged() }
        if entry.wantsWritable && entry.send.availableSpace > 0 {
            entry.wantsWritable = false
            events.append(.writable(id))
        }
        put(entry)
    }

    /// A STREAM frame carrying `range` (and the FIN if `fin`) was lost: its
    /// unacknowledged bytes go back in line, ahead of new data.
    mutating func onStreamFrameLost(_ id: StreamID, range: Range<UInt64>, fin: Bool) {
        guard var entry = take(id) else { return }
        entry.send.onLost(range, fin: fin)
        updateScheduling(&entry)
        put(entry)
    }

    /// The peer acknowledged a control frame: an acknowledged RESET_STREAM
    /// ends our sending half (which may close the stream).
    mutating func onControlFrameAcked(_ frame: StreamControlFrame) {
        switch frame {
        case .resetStream(let id, _, _):
            guard var entry = take(id) else { return }
            _ = entry.state.send.onResetAcknowledged()
            put(entry)
        case .stopSending, .maxData, .maxStreamData, .dataBlocked, .streamDataBlocked, .maxStreams:
            break
        }
    }

    /// A control frame was lost (or did not fit): queue it again if it still
    /// matters. Limits are re-sent only if no newer value went out since.
    mutating func onControlFrameLost(_ frame: StreamControlFrame) {
        switch frame {
        case .resetStream(let id, _, _):
            requeue(id) { entry in entry.state.send.onResetLost() == .accept } mark: { entry in
                (\.queuedReset, .resetStream(entry.id))
            }
        case .stopSending(let id, _):
            requeue(id) { entry in entry.state.receive.isExpectingData } mark: { entry in
                (\.queuedStopSending, .stopSending(entry.id))
            }
        case .maxStreamData(let id, let value):
            requeue(id) { entry in entry.state.receive.isExpectingData && value == entry.receiveCredit.limit } mark: {
                entry in entry.resendMaxStreamData = true
                return (\.queuedMaxStreamData, .maxStreamData(entry.id))
            }
        case .streamDataBlocked(let id, let value):
            requeue(id) { entry in entry.sendCredit.isExhausted && value == entry.sendCredit.limit } mark: { entry in
                (\.queuedStreamDataBlocked, .streamDataBlocked(entry.id))
            }
        case .maxData(let value):
            guard value == connectionReceiveCredit.limit, !queuedMaxData else { return }
            resendMaxData = true
            queuedMaxData = true
            pendingControl.append(.maxData)
        case .dataBlocked(let value):
            guard connectionSendCredit.isExhausted, value == connectionSendCredit.limit, !queuedDataBlocked else {
                return
            }
            queuedDataBlocked = true
            pendingControl.append(.dataBlocked)
        case .maxStreams(let value):
            guard value == peerStreamLimit, !queuedMaxStreams else { return }
            resendMaxStreams = true
            queuedMaxStreams = true
            pendingControl.append(.maxStreams)
        }
    }

    // MARK: - Shared steps

    /// Puts `entry` where it belongs: in the scheduler if it can send, in
    /// nothing if it has nothing, or blocked, signalling the block once per
    /// limit (a `*_BLOCKED` frame and a ``StreamEvent/blocked(_:)`` or
    /// ``StreamEvent/connectionBlocked`` event).
    mutating func updateScheduling(_ entry: inout StreamEntry) {
        guard entry.state.send.isSendingData, entry.send.hasPendingData else {
            scheduler.unschedule(entry.id)
            return
        }
        let limit = entry.newDataLimit(connectionAvailable: connectionSendCredit.available)
        guard entry.send.isBlocked(maxOffset: limit) else {
            scheduler.schedule(entry.id, priority: entry.priority)
            return
        }
        scheduler.unschedule(entry.id)
        if entry.send.sentOffset >= entry.sendCredit.limit {
            if entry.sendCredit.blockedSignal() != nil && !entry.queuedStreamDataBlocked {
                entry.queuedStreamDataBlocked = true
                pendingControl.append(.streamDataBlocked(entry.id))
                events.append(.blocked(entry.id))
            }
            return
        }
        if !entry.isConnectionBlocked {
            entry.isConnectionBlocked = true
            connectionBlockedStreams.append(entry.id)
        }
        if connectionSendCredit.blockedSignal() != nil && !queuedDataBlocked {
            queuedDataBlocked = true
            pendingControl.append(.dataBlocked)
            events.append(.connectionBlocked)
        }
    }

    // MARK: - Private

    /// The frame for `pending` with current values, or `nil` when it no
    /// longer matters. Clears the "queued" mark either way.
    private mutating func materialize(_ pending: PendingControl, now: Timestamp, rtt: Duration) -> StreamControlFrame? {
        switch pending {
        case .resetStream(let id):
            return withEntry(id) { entry in
                entry.queuedReset = false
                guard case .resetSent(let code) = entry.state.send else { return nil }
                return .resetStream(id, code, finalSize: entry.send.sentOffset)
            }
        case .stopSending(let id):
            return withEntry(id) { entry in
                entry.queuedStopSending = false
                guard entry.state.receive.isExpectingData, let code = entry.stopSendingCode else { return nil }
                return .stopSending(id, code)
            }
        case .maxStreamData(let id):
            var grownWindow: UInt64 = 0
            let frame: StreamControlFrame? = withEntry(id) { entry in
                entry.queuedMaxStreamData = false
                guard entry.state.receive.isExpectingData else { return nil }
                let updated = entry.receiveCredit.nextUpdate(now: now, rtt: rtt)
                guard updated != nil || entry.resendMaxStreamData else { return nil }
                entry.resendMaxStreamData = false
                entry.receive.raiseLimit(to: entry.receiveCredit.limit)
                grownWindow = entry.receiveCredit.window
                return .maxStreamData(id, entry.receiveCredit.limit)
            }
            if grownWindow > 0 { keepConnectionWindowAhead(ofStreamWindow: grownWindow) }
            return frame
        case .streamDataBlocked(let id):
            return withEntry(id) { entry in
                entry.queuedStreamDataBlocked = false
                guard entry.sendCredit.isExhausted, entry.state.send.isSendingData else { return nil }
                return .streamDataBlocked(id, entry.sendCredit.limit)
            }
        case .maxData:
            queuedMaxData = false
            let updated = connectionReceiveCredit.nextUpdate(now: now, rtt: rtt)
            guard updated != nil || resendMaxData else { return nil }
            resendMaxData = false
            return .maxData(connectionReceiveCredit.limit)
        case .dataBlocked:
            queuedDataBlocked = false
            guard connectionSendCredit.isExhausted else { return nil }
            return .dataBlocked(connectionSendCredit.limit)
        case .maxStreams:
            queuedMaxStreams = false
            let before = peerStreamLimit
            let value = advanceAdvertisedPeerStreamLimit()
            guard value > before || resendMaxStreams else { return nil }
            resendMaxStreams = false
            return .maxStreams(value)
        }
    }

    /// Runs `body` on `id`'s entry in place (taken out and put back);
    /// `nil` when the stream is not live.
    private mutating func withEntry<R>(_ id: StreamID, _ body: (inout StreamEntry) -> R?) -> R? {
        guard var entry = take(id) else { return nil }
        let result = body(&entry)
        put(entry)
        return result
    }

    /// Queues a stream control frame again when `stillMatters` and it is not
    /// queued already; `mark` names the entry's "queued" flag and the pending kind.
    private mutating func requeue(
        _ id: StreamID, if stillMatters: (StreamEntry) -> Bool,
        mark: (inout StreamEntry) -> (WritableKeyPath<StreamEntry, Bool>, PendingControl)
    ) {
        guard var entry = take(id) else { return }
        if stillMatters(entry) {
            let (flag, pending) = mark(&entry)
            if !entry[keyPath: flag] {
                entry[keyPath: flag] = true
                pendingControl.append(pending)
            }
        }
        put(entry)
    }
}
