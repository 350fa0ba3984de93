/// The ephemeral keys of the Initiations a responder accepted in the last
/// `lifetime` (§4.4 of docs/PROTOCOL.md). Once a handshake has been
/// confirmed (or has timed out) its Initiation is no longer matched to a
/// connection, so a copy of it arriving later, a replay or a duplicate the
/// network delivered late, would otherwise cost a Diffie-Hellman and leave a
/// half-open connection behind. A key found here is dropped as `replayed`.
///
/// Bounded: at most `capacity` keys, the oldest leaving first when full.
/// Membership is looked up, never iterated; keys leave in arrival order, so
/// the set is as deterministic as its inputs.
struct RecentInitiations {
    static let defaultCapacity = 8_192
    /// Twice the freshness window of ``InitiationTimestamps`` (± 120 s): an
    /// Initiation whose timestamp the window would still accept, from a peer
    /// the timestamp table has forgotten, is still remembered here, even when
    /// the initiator's clock was ahead by the whole window when it was accepted.
    static let defaultLifetime = InitiationTimestamps.defaultFreshnessWindow * 2

    let lifetime: Duration
    private var order: BoundedQueue<(key: Bytes32, acceptedAt: Timestamp)>
    private var members: Set<Bytes32> = []

    init(capacity: Int = defaultCapacity, lifetime: Duration = defaultLifetime) {
        self.lifetime = lifetime
        order = BoundedQueue(capacity: capacity)
    }

    var count: Int { members.count }

    /// Whether `key` was accepted less than `lifetime` before `now`.
    mutating func contains(_ key: Bytes32, now: Timestamp) -> Bool {
        expire(now: now)
        return members.contains(key)
    }

    /// Records an accepted Initiation's ephemeral key.
    mutating func insert(_ key: Bytes32, now: Timestamp) {
        expire(now: now)
        guard !members.contains(key) else { return }
        if order.isFull, let oldest = order.popFirst() { members.remove(oldest.key) }
        order.append((key, now))
        members.insert(key)
    }

    private mutating func expire(now: Timestamp) {
        while let oldest = order.first, oldest.acceptedAt + lifetime <= now {
            _ = order.popFirst()
            members.remove(oldest.key)
        }
    }
}
