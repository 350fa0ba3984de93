/// All the streams of one connection: storage, opening rules, connection
/// flow control, the send scheduler, and the queues of events and control
/// frames that come out of them.
///
/// ## What it owns
/// A dictionary of ``StreamEntry`` by ``StreamID`` (lookup only: nothing
/// ever iterates it to decide an order, so runs are deterministic); a
/// ``StreamScheduler`` of the streams with something to send; the
/// connection's ``SendCredit`` and ``ReceiveCredit``; FIFO queues of
/// ``StreamEvent``s for the application and of pending control frames.
///
/// ## How a Connection drives it
/// - **Frames in** (`StreamTable+Receiving.swift`): `handleStream`,
///   `handleResetStream`, `handleStopSending`, `handleMaxData`,
///   `handleMaxStreamData`, `handleMaxStreams`, `handle…Blocked`. Each throws
///   a ``PeerError`` for a violation; the connection closes with it.
/// - **Packets out** (`StreamTable+Sending.swift`): first
///   ``peekControlFrame(now:rtt:)`` / ``popControlFrame()`` while they fit,
///   then ``nextStreamChunk(maxBytes:)`` and ``copyData(_:_:into:)`` per STREAM
///   frame. Later, each frame's fate goes back through `onStreamFrameAcked`
///   / `onStreamFrameLost` and `onControlFrameAcked` / `onControlFrameLost`.
/// - **Application** (`StreamTable+Application.swift`): `open`, `write`,
///   `finish`, `read`, `readRecord`, `reset`, `stopSending`, `setPriority`;
///   then ``pollEvent()`` until `nil`.
///
/// ## Opening rules (PROTOCOL.md §6.2)
/// Ids carry their opener in the low bit. We open ours in order with
/// ``open(priority:)`` while the peer's MAX_STREAMS allows. A frame for a
/// peer-opener id we have not seen opens it, and every lower id of that
/// opener (QUIC-style: streams open without a round trip, and in order), if
/// it is below the MAX_STREAMS count we advertised; beyond it the frame is a
/// `STREAM_LIMIT_ERROR`. A frame for a stream of ours we never opened is a
/// `STREAM_STATE_ERROR`. A frame for a stream that existed and was closed is
/// ignored. As peer streams close we advertise more, keeping the peer at
/// ``StreamConfiguration/maxConcurrentPeerStreams`` open at once.
struct StreamTable {
    /// Which end we are: our streams carry this opener bit.
    let side: Side
    let configuration: StreamConfiguration
    let peerParameters: PeerStreamParameters

    /// The live streams. Lookup only: never iterate it for an order.
    private(set) var streams: [StreamID: StreamEntry] = [:]
    var scheduler = StreamScheduler()

    /// Streams we opened so far (the next local index).
    private(set) var localOpenedCount: UInt64 = 0
    /// How many streams the peer lets us open (its MAX_STREAMS).
    private(set) var localStreamLimit: UInt64
    /// Peer streams opened so far (the next peer index).
    private(set) var peerOpenedCount: UInt64 = 0
    /// The MAX_STREAMS count we advertised.
    private(set) var peerStreamLimit: UInt64
    /// Peer streams closed so far.
    private(set) var peerClosedCount: UInt64 = 0

    /// The peer's connection credit for our sending (MAX_DATA).
    var connectionSendCredit: SendCredit
    /// Our connection credit for the peer's sending.
    var connectionReceiveCredit: ReceiveCredit

    var events = RingBuffer<StreamEvent>()
    var pendingControl = RingBuffer<PendingControl>()
    /// Streams whose new data waits for connection credit, in blocking order.
    var connectionBlockedStreams = RingBuffer<StreamID>()
    var queuedMaxData = false
    var queuedDataBlocked = false
    var queuedMaxStreams = false
    /// A MAX_DATA / MAX_STREAMS was lost: send the current value even if no update is due.
    var resendMaxData = false
    var resendMaxStreams = false
    var openWasRefused = false
    /// Sum of the live streams' ``StreamEntry/bytesHeldForRecord``: connection
    /// credit that reading cannot release until more of those records arrives.
    private(set) var bytesHeldForRecords: UInt64 = 0

    /// A control frame waiting to be sent; its values are read at poll time.
    enum PendingControl: Hashable, Sendable {
        case resetStream(StreamID)
        case stopSending(StreamID)
        case maxStreamData(StreamID)
        case streamDataBlocked(StreamID)
        case maxData
        case dataBlocked
        case maxStreams
    }

    init(side: Side, configuration: StreamConfiguration = .init(), peer: PeerStreamParameters = .init()) {
        self.side = side
        self.configuration = configuration
        self.peerParameters = peer
        localStreamLimit = min(peer.initialMaxStreams, Self.maxStreamCount)
        peerStreamLimit = min(configuration.maxConcurrentPeerStreams, Self.maxStreamCount)
        connectionSendCredit = SendCredit(limit: peer.initialMaxData)
        connectionReceiveCredit = ReceiveCredit(window: configuration.initialConnectionWindow,
                                                maxWindow: configuration.maxConnectionWindow)
    }

    /// Live streams.
    var count: Int { streams.count }

    /// The entry for `id`, if the stream is live (tests and inspection).
    func entry(_ id: StreamID) -> StreamEntry? { streams[id] }

    /// The next event for the application, oldest first.
    ///
    /// Handing out `resetByPeer` counts as telling the application of the
    /// reset (the receiving half moves to `resetRead`), which may close the stream.
    mutating func pollEvent() -> StreamEvent? {
        guard let event = events.popFirst() else { return nil }
        if case .resetByPeer(let id, _) = event, var entry = take(id) {
            _ = entry.state.receive.onResetRead()
            put(entry)
        }
        return event
    }

    // MARK: - Opening

    /// Finds the stream a peer frame is about, opening peer streams implicitly.
    /// - Returns: the entry, taken out of the table (give it back with
    ///   ``put(_:)``), or `nil` when the stream was closed (ignore the frame).
    /// - Throws: `STREAM_LIMIT_ERROR` beyond our MAX_STREAMS;
    ///   `STREAM_STATE_ERROR` for one of our streams we never opened.
    mutating func takeForPeerFrame(_ id: StreamID, frameType: UInt64) throws(PeerError) -> StreamEntry? {
        if let entry = take(id) { return entry }
        if id.rawValue > VarInt.maxValue {
            throw PeerError(.frameEncodingError, frameType: frameType, "stream id beyond 2^62")
        }
        if id.opener == side {
            if id.index >= localOpenedCount {
                throw PeerError(.streamStateError, frameType: frameType, "frame for a stream we have not opened")
            }
            return nil
        }
        if id.index < peerOpenedCount { return nil }
        if id.index >= peerStreamLimit {
            throw PeerError(.streamLimitError, frameType: frameType, "stream id beyond MAX_STREAMS")
        }
        while peerOpenedCount <= id.index {
            let opened = StreamID(opener: side.peer, index: peerOpenedCount)
            peerOpenedCount += 1
            events.append(.opened(opened))
            if opened != id { streams[opened] = makeEntry(opened, priority: 0) }
        }
        return makeEntry(id, priority: 0)
    }

    /// Takes `id`'s entry out of the table, so it can be mutated while the
    /// table is too; give it back with ``put(_:)``. `nil` if not live.
    mutating func take(_ id: StreamID) -> StreamEntry? {
        streams.removeValue(forKey: id)
    }

    /// Gives back an entry taken with ``take(_:)``: stores it, or, when both
    /// halves are over, forgets it (``StreamEvent/closed(_:)``) and lets the
    /// peer open another stream if it was one of the peer's.
    mutating func put(_ entry: StreamEntry) {
        guard entry.state.isClosed else {
            var entry = entry
            openWindowsForHeldRecords(&entry)
            streams[entry.id] = entry
            return
        }
        bytesHeldForRecords -= entry.countedHeldBytes
        scheduler.unschedule(entry.id)
        events.append(.closed(entry.id))
        guard entry.id.opener != side else { return }
        peerClosedCount += 1
        let target = min(peerClosedCount + configuration.maxConcurrentPeerStreams, Self.maxStreamCount)
        let step = max(1, configuration.maxConcurrentPeerStreams / 2)
        if target >= peerStreamLimit + step && !queuedMaxStreams {
            queuedMaxStreams = true
            pendingControl.append(.maxStreams)
        }
    }

    func makeEntry(_ id: StreamID, priority: Int) -> StreamEntry {
        StreamEntry(id: id, priority: priority, configuration: configuration,
                    peerMaxStreamData: peerParameters.initialMaxStreamData)
    }

    /// Raises the count of streams we may open (MAX_STREAMS from the peer).
    mutating func raiseLocalStreamLimit(to count: UInt64) {
        guard count > localStreamLimit else { return }
        localStreamLimit = min(count, Self.maxStreamCount)
        if openWasRefused {
            openWasRefused = false
            events.append(.streamsAvailable)
        }
    }

    /// The MAX_STREAMS value to advertise now, recorded as advertised.
    mutating func advanceAdvertisedPeerStreamLimit() -> UInt64 {
        peerStreamLimit = max(peerStreamLimit,
                              min(peerClosedCount + configuration.maxConcurrentPeerStreams, Self.maxStreamCount))
        return peerStreamLimit
    }

    /// Opens our next stream, if the peer's MAX_STREAMS allows.
    mutating func openLocalStream(priority: Int) -> StreamID? {
        guard localOpenedCount < localStreamLimit else {
            openWasRefused = true
            return nil
        }
        let id = StreamID(opener: side, index: localOpenedCount)
        localOpenedCount += 1
        streams[id] = makeEntry(id, priority: priority)
        return id
    }

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
    /// to a stream comes back through ``put(_:)``), and opens the windows
    /// they would otherwise fill for good (``ReceiveCredit/growForHeldBytes(_:)``):
    /// the stream's, when its own held bytes pass half of it, and the
    /// connection's, when all streams' held bytes pass half of it (many
    /// streams each holding part of a record). Windows stop at
    /// `maxStreamWindow` / `maxConnectionWindow`.
    private mutating func openWindowsForHeldRecords(_ entry: inout StreamEntry) {
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
                pendingControl.append(.maxStreamData(entry.id))
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

    /// Most streams one opener can have: ids stay below 2^62 (PROTOCOL.md §9),
    /// and an opener uses every other id.
    static var maxStreamCount: UInt64 { 1 << 61 }
}
