/// The sending side of flow control (PROTOCOL.md §6.3): the credit the peer
/// gave us, for one stream (MAX_STREAM_DATA) or for the whole connection
/// (MAX_DATA). The same type serves both.
///
/// ``limit`` only grows: a MAX_* frame that arrives late with a smaller value
/// than one already seen is ignored, as in QUIC. ``used`` counts new bytes
/// sent (retransmissions are free). When the sender wants to send and
/// ``available`` is zero, ``blockedSignal()`` says once per limit value that a
/// DATA_BLOCKED / STREAM_DATA_BLOCKED frame should go out; a later, larger
/// limit re-arms it.
struct SendCredit: Hashable, Sendable {
    /// The peer's limit: the offset (stream) or total (connection) we may send up to.
    private(set) var limit: UInt64
    /// Credit used by new data sent.
    private(set) var used: UInt64 = 0
    /// The limit at which a blocked signal was last given.
    private var blockedSignalledAt: UInt64?

    /// - Parameter limit: the peer's initial credit (its handshake parameter).
    init(limit: UInt64) {
        self.limit = limit
    }

    /// Credit left.
    var available: UInt64 { limit - used }
    /// No credit left.
    var isExhausted: Bool { used == limit }

    /// Applies a MAX_DATA / MAX_STREAM_DATA value.
    /// - Returns: `true` when the limit grew from an exhausted state, so a
    ///   blocked writer can be woken (a "writable" event).
    @discardableResult
    mutating func raiseLimit(to newLimit: UInt64) -> Bool {
        guard newLimit > limit else { return false }
        let wasExhausted = isExhausted
        limit = newLimit
        return wasExhausted
    }

    /// Records `count` bytes of new data sent.
    /// - Precondition: `count <= available` (the sender cuts chunks at the limit).
    mutating func consume(_ count: UInt64) {
        precondition(count <= available, "SendCredit: sent beyond the peer's limit")
        used += count
    }

    /// Call when data waits for credit. Returns the limit to put in a
    /// DATA_BLOCKED / STREAM_DATA_BLOCKED frame the first time the sender is
    /// blocked at this limit, and `nil` otherwise (not blocked, or already
    /// signalled at this limit).
    mutating func blockedSignal() -> UInt64? {
        guard isExhausted, blockedSignalledAt != limit else { return nil }
        blockedSignalledAt = limit
        return limit
    }
}
