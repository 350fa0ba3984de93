extension StreamTable {
    /// What all streams of a connection share: the scheduler, connection
    /// credit both ways, and the queues of events and control frames.
    ///
    /// It is a separate value from the ``StreamArena`` so that a stream can
    /// be changed in its slot while these change too
    /// (``StreamTable/withStream(_:_:)`` hands both out at once); the steps
    /// shared by frames and commands live here and take the entry `inout`.
    struct Shared {
        var scheduler = StreamScheduler()
        /// The peer's connection credit for our sending (MAX_DATA).
        var connectionSendCredit: SendCredit
        /// Our connection credit for the peer's sending.
        var connectionReceiveCredit: ReceiveCredit
        /// For the application; bounded by the streams' reporting flags
        /// (each event is queued once until acted on).
        var events = RingBuffer<StreamEvent>()
        /// Each stream kind at most once per stream (the entry's `queued…`
        /// flags), each connection kind at most once (the flags below).
        var pendingControl = RingBuffer<PendingControl>()
        /// Streams whose new data waits for connection credit, in blocking
        /// order; each at most once (``StreamEntry/isConnectionBlocked``).
        var connectionBlockedStreams = RingBuffer<StreamHandle>()
        var queuedMaxData = false
        var queuedDataBlocked = false
        var queuedMaxStreams = false
        var queuedStreamsBlocked = false
        /// A MAX_DATA / MAX_STREAMS was lost: send the current value even if no update is due.
        var resendMaxData = false
        var resendMaxStreams = false
        /// Sum of the live streams' ``StreamEntry/bytesHeldForRecord``: connection
        /// credit that reading cannot release until more of those records arrives.
        var bytesHeldForRecords: UInt64 = 0

        init(sendCredit: SendCredit, receiveCredit: ReceiveCredit) {
            connectionSendCredit = sendCredit
            connectionReceiveCredit = receiveCredit
        }
    }
}

extension StreamTable.Shared {
    // MARK: - Connection credit

    /// The application consumed `count` bytes (read, or discarded by a
    /// reset): releases connection credit and queues a MAX_DATA when due.
    mutating func releaseConnectionReceive(_ count: UInt64) {
        guard count > 0 else { return }
        connectionReceiveCredit.onConsumed(count)
        if connectionReceiveCredit.isUpdateDue && !queuedMaxData {
            queuedMaxData = true
            pendingControl.append(.maxData)
        }
    }

    /// Keeps the connection window at 1.5 × a stream window that grew, so
    /// one fast stream is not held back by the connection's credit; queues a
    /// MAX_DATA when the larger window makes one due.
    mutating func keepConnectionWindowAhead(ofStreamWindow streamWindow: UInt64) {
        connectionReceiveCredit.ensureWindow(atLeast: streamWindow + streamWindow / 2)
        if connectionReceiveCredit.isUpdateDue && !queuedMaxData {
            queuedMaxData = true
            pendingControl.append(.maxData)
        }
    }

    /// Recounts `entry`'s bytes held for an incomplete record (every change
    /// to a stream ends in ``StreamTable/settle(_:)``), and opens the windows
    /// they would otherwise fill for good (``ReceiveCredit/growForHeldBytes(_:)``):
    /// the stream's, when its own held bytes pass half of it, and the
    /// connection's, when all streams' held bytes pass half of it (many
    /// streams each holding part of a record). Windows stop at
    /// `maxStreamWindow` / `maxConnectionWindow`.
    mutating func openWindowsForHeldRecords(_ entry: inout StreamEntry) {
        let held = entry.bytesHeldForRecord
        guard held != entry.countedHeldBytes else { return }
        bytesHeldForRecords = bytesHeldForRecords - entry.countedHeldBytes + held
        let grew = held > entry.countedHeldBytes
        entry.countedHeldBytes = held
        guard grew else { return }
        if entry.receiveCredit.growForHeldBytes(held) != nil {
            entry.receive.raiseLimit(to: entry.receiveCredit.limit)
            entry.resendMaxStreamData = true
            if !entry.queuedMaxStreamData {
                entry.queuedMaxStreamData = true
                pendingControl.append(.maxStreamData(entry.handle))
            }
            keepConnectionWindowAhead(ofStreamWindow: entry.receiveCredit.window)
        }
        if connectionReceiveCredit.growForHeldBytes(bytesHeldForRecords) != nil {
            resendMaxData = true
            if !queuedMaxData {
                queuedMaxData = true
                pendingControl.append(.maxData)
            }
        }
    }

    // MARK: - Receiving

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
                pendingControl.append(.maxStreamData(entry.handle))
            }
        }
        if retireWhenFullyRead, entry.receive.isFullyRead { _ = entry.state.receive.onAllDataRead() }
    }

    // MARK: - Sending

    /// Our sending half was just reset (by the application or at the peer's
    /// STOP_SENDING): drop its data, stop scheduling it, queue RESET_STREAM.
    mutating func abandonSending(_ entry: inout StreamEntry) {
        entry.send.discardAll()
        entry.wantsWritable = false
        scheduler.unschedule(entry.handle)
        if !entry.queuedReset {
            entry.queuedReset = true
            pendingControl.append(.resetStream(entry.handle))
        }
    }

    /// Puts `entry` where it belongs: in the scheduler if it can send, in
    /// nothing if it has nothing, or blocked, signalling the block once per
    /// limit (a `*_BLOCKED` frame and a ``StreamEvent/blocked(_:)`` or
    /// ``StreamEvent/connectionBlocked`` event).
    mutating func updateScheduling(_ entry: inout StreamEntry) {
        guard entry.state.send.isSendingData, entry.send.hasPendingData else {
            scheduler.unschedule(entry.handle)
            return
        }
        let limit = entry.newDataLimit(connectionAvailable: connectionSendCredit.available)
        guard entry.send.isBlocked(maxOffset: limit) else {
            scheduler.schedule(entry.handle, priority: entry.priority)
            return
        }
        scheduler.unschedule(entry.handle)
        if entry.send.sentOffset >= entry.sendCredit.limit {
            if entry.sendCredit.blockedSignal() != nil && !entry.queuedStreamDataBlocked {
                entry.queuedStreamDataBlocked = true
                pendingControl.append(.streamDataBlocked(entry.handle))
                events.append(.blocked(entry.id))
            }
            return
        }
        if !entry.isConnectionBlocked {
            entry.isConnectionBlocked = true
            connectionBlockedStreams.append(entry.handle)
        }
        if connectionSendCredit.blockedSignal() != nil && !queuedDataBlocked {
            queuedDataBlocked = true
            pendingControl.append(.dataBlocked)
            events.append(.connectionBlocked)
        }
    }
}
