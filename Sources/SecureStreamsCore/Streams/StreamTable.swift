/// All the streams of one connection: storage, opening rules, connection
/// flow control, the send scheduler, and the queues of events and control
/// frames that come out of them.
///
/// ## What it owns
/// A ``StreamArena`` holding every live ``StreamEntry`` in a slab slot named
/// by a ``StreamHandle``, with the one map from wire ``StreamID`` to handle
/// (lookup only: nothing ever iterates it to decide an order, so runs are
/// deterministic); and ``Shared``: a ``StreamScheduler`` of the streams with
/// something to send, the connection's ``SendCredit`` and ``ReceiveCredit``,
/// FIFO queues of ``StreamEvent``s for the application and of pending
/// control frames. Every call that names a ``StreamID`` (a frame, a command)
/// looks it up once; everything after works on the handle, and mutates the
/// entry in its slot (``withStream(_:_:)``), never a copy.
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
/// ignored. As the receiving halves of peer streams end (all data read, or
/// the reset read) we advertise more, keeping the peer at
/// ``StreamConfiguration/maxConcurrentPeerStreams`` streams still sending to
/// us; peer streams whose sending half we keep open are bounded apart, by
/// ``StreamConfiguration/maxHalfOpenPeerStreams`` (PROTOCOL.md §6.2.1).
/// Refused an open by the peer's limit, we tell it with STREAMS_BLOCKED.
struct StreamTable {
    /// Which end we are: our streams carry this opener bit.
    let side: Side
    let configuration: StreamConfiguration
    let peerParameters: PeerStreamParameters

    /// The live streams, by handle, and the map from wire id to handle.
    private(set) var arena = StreamArena()
    /// What the streams share: connection credit, scheduler, queues.
    var shared: Shared

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
    /// Peer streams whose receiving half is over (all read, or the reset
    /// read) so far, closed or not.
    private(set) var peerReceiveDoneCount: UInt64 = 0
    var openWasRefused = false
    /// The peer's limit at which we last queued STREAMS_BLOCKED: one per limit.
    private var blockedSignalledAt: UInt64?
    /// STREAMS_BLOCKED frames sent and received (inspection and tests).
    private(set) var streamsBlockedSent: UInt64 = 0
    private(set) var streamsBlockedReceived: UInt64 = 0
    /// The stream of the chunk ``nextStreamChunk(maxBytes:)`` returned last,
    /// so ``copyData(_:_:into:)`` finds it without a lookup.
    var lastChunkStream: StreamHandle?

    /// A control frame waiting to be sent; its values are read at poll time.
    enum PendingControl: Hashable, Sendable {
        case resetStream(StreamHandle)
        case stopSending(StreamHandle)
        case maxStreamData(StreamHandle)
        case streamDataBlocked(StreamHandle)
        case maxData
        case dataBlocked
        case maxStreams
        case streamsBlocked
    }

    init(side: Side, configuration: StreamConfiguration = .init(), peer: PeerStreamParameters = .init()) {
        self.side = side
        self.configuration = configuration
        self.peerParameters = peer
        localStreamLimit = min(peer.initialMaxStreams, Self.maxStreamCount)
        peerStreamLimit = min(configuration.maxConcurrentPeerStreams, Self.maxStreamCount)
        shared = Shared(sendCredit: SendCredit(limit: peer.initialMaxData),
                        receiveCredit: ReceiveCredit(window: configuration.initialConnectionWindow,
                                                     maxWindow: configuration.maxConnectionWindow))
    }

    /// Live streams.
    var count: Int { arena.count }

    /// The entry for `id`, if the stream is live (a copy: tests and inspection).
    func entry(_ id: StreamID) -> StreamEntry? { arena.handle(for: id).flatMap { arena.entry($0) } }

    /// The scheduler (inspection).
    var scheduler: StreamScheduler { shared.scheduler }
    /// The peer's connection credit for our sending (inspection).
    var connectionSendCredit: SendCredit { shared.connectionSendCredit }
    /// Our connection credit for the peer's sending (inspection).
    var connectionReceiveCredit: ReceiveCredit { shared.connectionReceiveCredit }
    /// Sum of the live streams' ``StreamEntry/bytesHeldForRecord`` (inspection).
    var bytesHeldForRecords: UInt64 { shared.bytesHeldForRecords }

    /// The next event for the application, oldest first.
    ///
    /// Handing out `resetByPeer` counts as telling the application of the
    /// reset (the receiving half moves to `resetRead`), which may close the stream.
    mutating func pollEvent() -> StreamEvent? {
        guard let event = shared.events.popFirst() else { return nil }
        if case .resetByPeer(let id, _) = event, let handle = arena.handle(for: id) {
            withStream(handle) { entry, _ in _ = entry.state.receive.onResetRead() }
        }
        return event
    }

    // MARK: - In place

    /// Runs `body` on the live stream `handle` where it lies, with the shared
    /// state beside it, then settles it (``settle(_:)``): the one way the
    /// table changes a stream.
    /// - Precondition: `handle` is live.
    mutating func withStream<R, E: Error>(
        _ handle: StreamHandle, _ body: (inout StreamEntry, inout Shared) throws(E) -> R
    ) throws(E) -> R {
        defer { settle(handle) }
        return try body(&arena[handle], &shared)
    }

    /// After any change to a stream: when both halves are over, removes it
    /// (its slot is reused at once), reports ``StreamEvent/closed(_:)`` and
    /// lets the peer open another stream if it was one of the peer's;
    /// otherwise recounts its bytes held for an incomplete record.
    mutating func settle(_ handle: StreamHandle) {
        if arena[handle].id.opener != side, !arena[handle].countedReceiveDone, arena[handle].state.receive.isTerminal {
            arena[handle].countedReceiveDone = true
            peerReceiveDoneCount += 1
            queueMaxStreamsIfDue()
        }
        guard arena[handle].state.isClosed else {
            shared.openWindowsForHeldRecords(&arena[handle])
            return
        }
        let entry = arena.remove(handle)
        shared.bytesHeldForRecords -= entry.countedHeldBytes
        shared.scheduler.unschedule(handle)
        shared.events.append(.closed(entry.id))
        guard entry.id.opener != side else { return }
        peerClosedCount += 1
        queueMaxStreamsIfDue()
    }

    /// The MAX_STREAMS count we may advertise now (§6.2.1): at most
    /// `maxConcurrentPeerStreams` peer streams whose receiving half is not
    /// over, and at most `maxHalfOpenPeerStreams` more that are live only
    /// because our sending half is.
    var peerStreamLimitTarget: UInt64 {
        let receiving = peerReceiveDoneCount + configuration.maxConcurrentPeerStreams
        let live = peerClosedCount + configuration.maxConcurrentPeerStreams + configuration.maxHalfOpenPeerStreams
        return min(receiving, live, Self.maxStreamCount)
    }

    /// Queues MAX_STREAMS once the target is half a window ahead of what we advertised.
    private mutating func queueMaxStreamsIfDue() {
        let step = max(1, configuration.maxConcurrentPeerStreams / 2)
        if peerStreamLimitTarget >= peerStreamLimit + step && !shared.queuedMaxStreams {
            shared.queuedMaxStreams = true
            shared.pendingControl.append(.maxStreams)
        }
    }

    // MARK: - Opening

    /// Finds the stream a peer frame is about (the frame's one lookup),
    /// opening peer streams implicitly.
    /// - Returns: its handle, or `nil` when the stream was closed (ignore the frame).
    /// - Throws: `STREAM_LIMIT_ERROR` beyond our MAX_STREAMS;
    ///   `STREAM_STATE_ERROR` for one of our streams we never opened.
    mutating func handleForPeerFrame(_ id: StreamID, frameType: UInt64) throws(PeerError) -> StreamHandle? {
        if let handle = arena.handle(for: id) { return handle }
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
        var handle: StreamHandle?
        while peerOpenedCount <= id.index {
            let opened = StreamID(opener: side.peer, index: peerOpenedCount)
            peerOpenedCount += 1
            shared.events.append(.opened(opened))
            handle = insert(opened, priority: 0)
        }
        return handle
    }

    /// Puts a new stream in the arena.
    @discardableResult
    mutating func insert(_ id: StreamID, priority: Int) -> StreamHandle {
        let configuration = configuration, peerMaxStreamData = peerParameters.initialMaxStreamData
        return arena.insert(id: id) { handle in
            StreamEntry(id: id, handle: handle, priority: priority, configuration: configuration,
                        peerMaxStreamData: peerMaxStreamData)
        }
    }

    /// Raises the count of streams we may open (MAX_STREAMS from the peer).
    mutating func raiseLocalStreamLimit(to count: UInt64) {
        guard count > localStreamLimit else { return }
        localStreamLimit = min(count, Self.maxStreamCount)
        if openWasRefused {
            openWasRefused = false
            shared.events.append(.streamsAvailable)
        }
    }

    /// The MAX_STREAMS value to advertise now, recorded as advertised.
    mutating func advanceAdvertisedPeerStreamLimit() -> UInt64 {
        peerStreamLimit = max(peerStreamLimit, peerStreamLimitTarget)
        return peerStreamLimit
    }

    /// Opens our next stream, if the peer's MAX_STREAMS allows.
    mutating func openLocalStream(priority: Int) -> StreamID? {
        guard localOpenedCount < localStreamLimit else {
            openWasRefused = true
            // Tell the peer once per limit why we stopped opening (§6.2.1).
            if blockedSignalledAt != localStreamLimit, !shared.queuedStreamsBlocked {
                blockedSignalledAt = localStreamLimit
                shared.queuedStreamsBlocked = true
                shared.pendingControl.append(.streamsBlocked)
            }
            return nil
        }
        let id = StreamID(opener: side, index: localOpenedCount)
        localOpenedCount += 1
        insert(id, priority: priority)
        return id
    }

    /// A STREAMS_BLOCKED frame: the peer is stuck at `limit`. Informational
    /// (counted): a higher MAX_STREAMS we sent is on its way, or resent when
    /// lost (``onControlFrameLost(_:)``); a lower one rises as our reader consumes.
    mutating func handleStreamsBlocked(limit: UInt64) {
        streamsBlockedReceived += 1
    }

    /// Takes the STREAMS_BLOCKED to send now, if we are still blocked.
    mutating func materializeStreamsBlocked() -> StreamControlFrame? {
        shared.queuedStreamsBlocked = false
        guard localOpenedCount >= localStreamLimit else { return nil }
        streamsBlockedSent += 1
        return .streamsBlocked(localStreamLimit)
    }

    /// A STREAMS_BLOCKED was lost: send it again if we are still blocked at that limit.
    mutating func onStreamsBlockedLost(limit: UInt64) {
        guard limit == localStreamLimit, localOpenedCount >= localStreamLimit, !shared.queuedStreamsBlocked else { return }
        shared.queuedStreamsBlocked = true
        shared.pendingControl.append(.streamsBlocked)
    }

    /// Links the live stream `child` under the live stream `parent` in the
    /// arena's tree (``StreamArena/link(_:under:)``). Structure only: no
    /// frame or rule uses the tree yet.
    /// - Returns: `false` when either id is not live.
    /// - Precondition: `child` is a root with no children, and not `parent`.
    @discardableResult
    mutating func link(_ child: StreamID, under parent: StreamID) -> Bool {
        guard let c = arena.handle(for: child), let p = arena.handle(for: parent) else { return false }
        arena.link(c, under: p)
        return true
    }

    /// Most streams one opener can have: ids stay below 2^62 (PROTOCOL.md §9),
    /// and an opener uses every other id.
    static var maxStreamCount: UInt64 { 1 << 61 }
}
