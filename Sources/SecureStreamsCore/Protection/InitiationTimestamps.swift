/// Per initiator, the greatest Initiation timestamp a responder has accepted
/// (PROTOCOL.md §4.4), in the manner of WireGuard's TAI64N check.
///
/// An IK Initiation authenticates its sender (Noise's `ss`) and carries, in its
/// encrypted payload, the initiator's wall-clock time. A copy of it, replayed
/// a minute or a month later, carries the same time, which is no longer
/// greater than the greatest this table holds for that static key: it is
/// refused whatever happened in between, however many other handshakes there
/// were. That is what makes replay protection independent of how many
/// ephemeral keys ``RecentInitiations`` can hold.
///
/// ## Bounded
/// A listener that accepts any key would otherwise let anyone grow the table
/// with fresh keys: it holds at most `capacity` peers and, when full, forgets
/// the least recently used one. A peer it does not hold (never seen, or
/// evicted) is judged by the freshness window instead: its timestamp must lie
/// within ± `freshnessWindow` of the responder's wall clock. A replay inside
/// that window is caught by ``RecentInitiations`` (whose lifetime is twice the
/// window, covering a skewed clock on either side), as long as that set still
/// holds its ephemeral key.
///
/// ## Deterministic
/// The dictionary is looked up, never iterated; the recency order is a linked
/// list through the `entries` array, so which peer is evicted depends only on
/// the order of the inputs.
struct InitiationTimestamps {
    /// As many peers as an endpoint holds connections by default
    /// (``EndpointConfiguration/maxConnections``): every peer that can hold a
    /// connection at one time is remembered. About 100 bytes a peer, 1.6 MB in all.
    static let defaultCapacity = 16_384
    /// How far from the responder's wall clock the timestamp of a peer the
    /// table does not hold may be (either way): two minutes, the lifetime of
    /// a cookie secret and of WireGuard's handshakes; it also bounds the clock
    /// error under which a new peer can connect.
    static let defaultFreshnessWindow = Duration.seconds(120)
    /// How much older than the greatest accepted a peer's timestamp may be,
    /// and how soon after that greatest was accepted it must arrive, to be
    /// taken as overtaken rather than replayed: one second of wall clock (two
    /// connections an initiator starts at nearly the same time, whose
    /// Initiations the network delivers in the other order) and three seconds
    /// of the responder's time (the overtaken one, or its first retransmission
    /// a second later, arrives by then). Within those three seconds a replay
    /// is caught by ``RecentInitiations`` unless more than 8,192 handshakes
    /// were accepted in them; after them, never accepted.
    static let reorderTolerance = Duration.seconds(1)
    static let reorderArrivalWindow = Duration.seconds(3)

    /// What a timestamp is worth.
    enum Verdict: Equatable {
        /// Newer than anything accepted from this peer (now recorded), or a
        /// peer not held whose timestamp is inside the window.
        case fresh
        /// Not newer than the peer's greatest (beyond the reorder tolerance): a replay.
        case replayed
        /// A peer not held, whose timestamp is outside the freshness window.
        case outsideWindow
    }

    let capacity: Int
    let freshnessWindow: Duration
    /// Static key → index in `entries`. Lookup only: never iterated.
    private var index: [Bytes32: Int32] = [:]
    private var entries: [Entry] = []
    /// The most and the least recently used entries (−1: none).
    private var newest: Int32 = -1
    private var oldest: Int32 = -1

    private struct Entry {
        var peer: Bytes32
        var greatest: WallClockTime
        /// When (responder's monotonic time) `greatest` was accepted.
        var acceptedAt: Timestamp
        var newer: Int32
        var older: Int32
    }

    /// - Precondition: `capacity` ≥ 1.
    init(capacity: Int = defaultCapacity, freshnessWindow: Duration = defaultFreshnessWindow) {
        precondition(capacity >= 1, "the timestamp table holds at least one peer")
        self.capacity = capacity
        self.freshnessWindow = freshnessWindow
    }

    /// Peers held.
    var count: Int { index.count }

    /// The greatest timestamp accepted from `peer`, if the table holds it.
    func greatest(from peer: Bytes32) -> WallClockTime? {
        index[peer].map { entries[Int($0)].greatest }
    }

    /// Judges an authenticated Initiation's `timestamp` from `peer` at the
    /// responder's wall-clock time `wallClock` and monotonic time `now`, and
    /// records it when fresh.
    ///
    /// - Precondition: the caller has checked the Initiation's ephemeral key
    ///   against ``RecentInitiations`` (a key found there is a replay), so a
    ///   timestamp inside the reorder tolerance or the window is fresh here.
    mutating func admit(_ timestamp: WallClockTime, from peer: Bytes32, wallClock: WallClockTime,
                        now: Timestamp) -> Verdict {
        if let slot = index[peer] {
            let entry = entries[Int(slot)]
            if timestamp > entry.greatest {
                entries[Int(slot)].greatest = timestamp
                entries[Int(slot)].acceptedAt = now
            } else {
                let overtaken = timestamp < entry.greatest
                    && entry.greatest.distance(from: timestamp) < Self.reorderTolerance
                    && now - entry.acceptedAt < Self.reorderArrivalWindow
                guard overtaken else { return .replayed }
            }
            touch(slot)
            return .fresh
        }
        let skew = timestamp.distance(from: wallClock)
        guard skew <= freshnessWindow, skew >= .zero - freshnessWindow else { return .outsideWindow }
        insert(peer, timestamp, now: now)
        return .fresh
    }

    // MARK: - Recency list

    private mutating func insert(_ peer: Bytes32, _ timestamp: WallClockTime, now: Timestamp) {
        let slot: Int32
        if index.count < capacity {
            slot = Int32(entries.count)
            entries.append(Entry(peer: peer, greatest: timestamp, acceptedAt: now, newer: -1, older: -1))
        } else {
            // Full: the least recently used peer leaves and its entry is reused.
            slot = oldest
            unlink(slot)
            index.removeValue(forKey: entries[Int(slot)].peer)
            entries[Int(slot)] = Entry(peer: peer, greatest: timestamp, acceptedAt: now, newer: -1, older: -1)
        }
        index[peer] = slot
        linkAsNewest(slot)
    }

    private mutating func touch(_ slot: Int32) {
        guard slot != newest else { return }
        unlink(slot)
        linkAsNewest(slot)
    }

    private mutating func unlink(_ slot: Int32) {
        let entry = entries[Int(slot)]
        if entry.newer >= 0 { entries[Int(entry.newer)].older = entry.older } else { newest = entry.older }
        if entry.older >= 0 { entries[Int(entry.older)].newer = entry.newer } else { oldest = entry.newer }
        entries[Int(slot)].newer = -1
        entries[Int(slot)].older = -1
    }

    private mutating func linkAsNewest(_ slot: Int32) {
        entries[Int(slot)].older = newest
        entries[Int(slot)].newer = -1
        if newest >= 0 { entries[Int(newest)].newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
    }
}
