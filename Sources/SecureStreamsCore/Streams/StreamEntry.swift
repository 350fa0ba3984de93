/// Everything ``StreamTable`` keeps for one stream: both state machines,
/// both buffers, both credits, and the bookkeeping that keeps events and
/// control frames from being queued twice.
///
/// A plain value held in a slot of the table's ``StreamArena``; the table
/// mutates it where it lies (through the arena's subscript), so its buffers
/// are never copied.
struct StreamEntry {
    let id: StreamID
    /// Its slot in the arena: how the stream layer names it internally.
    let handle: StreamHandle
    var priority: Int
    var state = StreamState()
    var send: SendBuffer
    var sendCredit: SendCredit
    var receive: ReceiveBuffer
    var receiveCredit: ReceiveCredit

    // Control frames already queued for this stream (each at most once).
    var queuedReset = false
    var queuedStopSending = false
    var queuedMaxStreamData = false
    var queuedStreamDataBlocked = false
    /// A MAX_STREAM_DATA was lost: send the current limit even if no new update is due.
    var resendMaxStreamData = false
    /// The code of a STOP_SENDING the application asked for.
    var stopSendingCode: ErrorCode?
    /// Our sending half was reset in answer to the peer's STOP_SENDING (not by
    /// the application), so a refused write says `stopped`, not `reset`.
    var isStoppedByPeer = false

    // Events already reported and not yet acted on.
    var reportedReadable = false
    var reportedRecord = false
    /// A write was refused or cut short: report `writable` when space frees.
    var wantsWritable = false
    /// Waiting in the table's connection-blocked list.
    var isConnectionBlocked = false
    /// A peer stream whose receiving half's end the table has counted
    /// towards MAX_STREAMS (§6.2.1).
    var countedReceiveDone = false

    /// The application reads this stream by records (it called `readRecord`
    /// since it last read bytes with `read`).
    var readsRecords = false
    /// This stream's share of the table's `bytesHeldForRecords`, as last counted.
    var countedHeldBytes: UInt64 = 0

    /// Unread bytes a record reader cannot take: all the credit the peer
    /// used beyond what was read, while the reader reads records and no whole
    /// record is buffered. Zero otherwise (those bytes will be read).
    var bytesHeldForRecord: UInt64 {
        guard readsRecords, stopSendingCode == nil, state.receive.isExpectingData,
              !receive.hasCompleteRecord else { return 0 }
        return receiveCredit.received - receiveCredit.consumed
    }

    init(id: StreamID, handle: StreamHandle, priority: Int, configuration: StreamConfiguration,
         peerMaxStreamData: UInt64) {
        self.id = id
        self.handle = handle
        self.priority = priority
        send = SendBuffer(limit: configuration.sendBufferLimit)
        sendCredit = SendCredit(limit: peerMaxStreamData)
        receive = ReceiveBuffer(limit: configuration.initialStreamWindow)
        receiveCredit = ReceiveCredit(window: configuration.initialStreamWindow,
                                      maxWindow: configuration.maxStreamWindow)
    }

    /// The highest offset new data may reach now: the stream credit, and
    /// what the connection credit allows beyond what this stream sent.
    func newDataLimit(connectionAvailable: UInt64) -> UInt64 {
        min(sendCredit.limit, send.sentOffset + connectionAvailable)
    }
}
