/// The endpoint's events for the application, in two parts with different
/// guarantees (docs/CORE.md, "Events and readiness"):
///
/// - **Readiness is never lost.** What an application waits on — a
///   connection established, a stream opened by the peer, readable,
///   writable, reset, stopped, more streams allowed, a connection closed —
///   is kept as pending flags on one *record* per connection, one per
///   stream, and one per closed connection. A record is queued once, however
///   often its flags are set before it is polled (setting a flag again
///   coalesces), so the records can never outnumber the objects they are
///   about: connections (bounded by `maxConnections`, and a closed one counts
///   until its `closed` event is polled) and streams (bounded by the stream
///   limits). Nothing here is ever dropped.
/// - **Notices may be dropped.** One-shot information — link up, stalled,
///   down, path changed, receive blocked — waits in a queue of
///   `maxQueuedEvents`; when it is full the newest notice is dropped and
///   counted (``dropped``, reported as `eventsDropped`).
///
/// ``next()`` hands out the oldest of both, by the order in which a notice
/// was queued or a record was first set. A record's flags come out in a
/// fixed order: connected, more streams allowed; opened, readable, writable,
/// reset, stopped; closed (a separate record, queued at the close, so it
/// follows everything that happened before).
struct EventQueue {
    private var notices: BoundedQueue<(sequence: UInt64, event: Event)>
    /// The pending records by key. Lookup only: the order comes from `order`.
    private var records: [Key: Pending] = [:]
    /// Records in the order they were first set; an entry whose record was
    /// withdrawn (or set again later) is stale and skipped.
    private var order = RingBuffer<(sequence: UInt64, key: Key)>()
    private var staleEntries = 0
    private var sequence: UInt64 = 0
    /// Notices dropped because the queue was full.
    private(set) var dropped: UInt64 = 0
    /// Closed connections whose `closed` event was not polled yet.
    private(set) var unreportedCloses = 0

    /// What a record is about.
    enum Key: Hashable {
        case connection(ConnectionHandle)
        case stream(ConnectionHandle, StreamID)
        case closed(ConnectionHandle)
    }

    /// A record's pending flags.
    private struct Pending {
        var sequence: UInt64
        var connected: Event?
        var streamsAvailable = false
        var opened = false
        var readable = false
        var writable = false
        var reset: ErrorCode?
        var stopped: ErrorCode?
        var closed: ConnectionError?

        init(sequence: UInt64) { self.sequence = sequence }
    }

    /// - Parameter capacity: the most notices kept (records are bounded by
    ///   the objects they describe, not by this).
    init(capacity: Int) {
        notices = BoundedQueue(capacity: capacity)
    }

    /// Records `event`: a readiness flag, or a notice.
    mutating func emit(_ event: Event) {
        switch event {
        case .connected(let handle, _, _, _, _): mark(.connection(handle)) { $0.connected = event }
        case .streamsAvailable(let handle): mark(.connection(handle)) { $0.streamsAvailable = true }
        case .streamOpened(let handle, let id): mark(.stream(handle, id)) { $0.opened = true }
        case .streamReadable(let handle, let id): mark(.stream(handle, id)) { $0.readable = true }
        case .streamWritable(let handle, let id): mark(.stream(handle, id)) { $0.writable = true }
        case .streamReset(let handle, let id, let code): mark(.stream(handle, id)) { $0.reset = code }
        case .streamStopped(let handle, let id, let code): mark(.stream(handle, id)) { $0.stopped = code }
        case .closed(let handle, let error):
            if records[.closed(handle)] == nil { unreportedCloses += 1 }
            mark(.closed(handle)) { $0.closed = error }
        case .receiveBlocked, .linkUp, .linkStalled, .linkDown, .pathChanged:
            if notices.append((nextSequence(), event)) == false { dropped += 1 }
        }
    }

    /// A stream was forgotten by its connection (both halves over). If the
    /// application was never told it exists (its `streamOpened` is still
    /// pending), nothing can wait on it: its record goes, so a peer that opens
    /// and ends streams faster than the application polls grows nothing here.
    mutating func streamRetired(_ id: StreamID, on handle: ConnectionHandle) {
        let key = Key.stream(handle, id)
        guard let pending = records[key], pending.opened else { return }
        records[key] = nil
        staleEntries += 1
        compactIfMostlyStale()
    }

    /// The oldest event, or `nil` when there is none.
    mutating func next() -> Event? {
        while true {
            let entry = order.first
            if let notice = notices.first, entry.map({ notice.sequence < $0.sequence }) ?? true {
                return notices.popFirst()!.event
            }
            guard let (entrySequence, key) = entry else { return nil }
            guard var pending = records[key], pending.sequence == entrySequence else {
                order.popFirst()
                staleEntries -= 1
                continue
            }
            let event = Self.takeFirst(&pending, key)
            if let event, !Self.isEmpty(pending) {
                records[key] = pending
                return event
            }
            records[key] = nil
            order.popFirst()
            if case .closed = key { unreportedCloses -= 1 }
            if let event { return event }
        }
    }

    /// Why the connection behind `handle` closed, while its `closed` event
    /// waits to be polled.
    func closeReason(of handle: ConnectionHandle) -> ConnectionError? {
        records[.closed(handle)]?.closed
    }

    var isEmpty: Bool { notices.isEmpty && records.isEmpty }
    /// Events waiting: notices plus records (a record may yield several events).
    var count: Int { notices.count + records.count }
    /// Records waiting (at most one per connection, stream and unpolled close).
    var recordCount: Int { records.count }
    /// Entries in the order ring, stale ones included (compacted when most are stale).
    var orderCount: Int { order.count }

    // MARK: - Private

    private mutating func mark(_ key: Key, _ set: (inout Pending) -> Void) {
        if var pending = records[key] {
            set(&pending)
            records[key] = pending
            return
        }
        var pending = Pending(sequence: nextSequence())
        set(&pending)
        records[key] = pending
        order.append((pending.sequence, key))
    }

    private mutating func nextSequence() -> UInt64 {
        sequence += 1
        return sequence
    }

    /// Keeps the ring within twice the live records (plus slack), at an
    /// amortized O(1) per withdrawal.
    private mutating func compactIfMostlyStale() {
        guard staleEntries > 64, staleEntries > records.count else { return }
        var kept = RingBuffer<(sequence: UInt64, key: Key)>()
        while let entry = order.popFirst() {
            if records[entry.key]?.sequence == entry.sequence { kept.append(entry) }
        }
        order = kept
        staleEntries = 0
    }

    /// Clears and returns the first pending flag, in the documented order.
    private static func takeFirst(_ pending: inout Pending, _ key: Key) -> Event? {
        switch key {
        case .connection(let handle):
            if let event = pending.connected {
                pending.connected = nil
                return event
            }
            if pending.streamsAvailable {
                pending.streamsAvailable = false
                return .streamsAvailable(handle)
            }
        case .stream(let handle, let id):
            if pending.opened {
                pending.opened = false
                return .streamOpened(handle, id)
            }
            if pending.readable {
                pending.readable = false
                return .streamReadable(handle, id)
            }
            if pending.writable {
                pending.writable = false
                return .streamWritable(handle, id)
            }
            if let code = pending.reset {
                pending.reset = nil
                return .streamReset(handle, id, code)
            }
            if let code = pending.stopped {
                pending.stopped = nil
                return .streamStopped(handle, id, code)
            }
        case .closed(let handle):
            if let error = pending.closed {
                pending.closed = nil
                return .closed(handle, error)
            }
        }
        return nil
    }

    private static func isEmpty(_ pending: Pending) -> Bool {
        pending.connected == nil && !pending.streamsAvailable && !pending.opened && !pending.readable
            && !pending.writable && pending.reset == nil && pending.stopped == nil && pending.closed == nil
    }
}
