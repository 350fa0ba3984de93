/// The receiving side of flow control (PROTOCOL.md §6.3): the credit we
/// advertise to the peer, for one stream (MAX_STREAM_DATA) or for the whole
/// connection (MAX_DATA). The same type serves both; only the owner differs.
///
/// Credit is absolute: ``limit`` is the offset (for a stream) or total byte
/// count (for the connection) the peer may send up to. The peer consumes
/// credit by sending (``onReceived(_:)``, counted by highest offset, so
/// retransmissions are free); the application releases it by reading
/// (``onConsumed(_:)``). When the application has read half of the window
/// past the last advertisement, ``nextUpdate(now:rtt:)`` returns a new limit
/// to send: `consumed + window`.
///
/// ## Auto-tuning
/// The window should be about twice the bandwidth-delay product, which we do
/// not know. So: if the previous update was sent less than `2 × rtt` ago when
/// the next one is due, the reader drained half a window in under two round
/// trips: the window is the bottleneck, and it doubles (up to
/// ``maxWindow``). The first update only starts the clock. Time and RTT are
/// inputs (the sans-IO rule); the caller passes its smoothed RTT.
///
/// ## Held bytes
/// Reading is what releases credit, but a reader that takes whole records
/// cannot read the bytes of a record still incomplete: when they fill the
/// window, nothing is ever released and the peer waits forever.
/// ``growForHeldBytes(_:)`` doubles the window (up to ``maxWindow``) and
/// raises ``limit`` at once when such held bytes pass half of it.
struct ReceiveCredit: Hashable, Sendable {
    /// The credit advertised ahead of what the application consumed.
    private(set) var window: UInt64
    /// Auto-tuning never grows ``window`` beyond this.
    let maxWindow: UInt64
    /// The advertised limit: receiving beyond it is a `FLOW_CONTROL_ERROR`.
    private(set) var limit: UInt64
    /// Credit the peer used: highest offset (stream) or sum of them (connection).
    private(set) var received: UInt64 = 0
    /// Credit the application released by reading.
    private(set) var consumed: UInt64 = 0
    /// When the last update was made; `nil` before the first.
    private(set) var lastUpdate: Timestamp?

    /// - Parameters:
    ///   - window: the initial credit (also the initial ``limit``), as
    ///     announced in the handshake parameters.
    ///   - maxWindow: the auto-tuning cap (`maxStreamWindow` / `maxConnectionWindow`).
    init(window: UInt64, maxWindow: UInt64) {
        self.window = window
        self.maxWindow = max(window, maxWindow)
        self.limit = window
    }

    /// Credit still open to the peer.
    var remaining: UInt64 { limit - received }

    /// Whether an update should be sent: the advertised credit left ahead of
    /// the reader has fallen to half the window or less.
    var isUpdateDue: Bool { limit - consumed <= window / 2 }

    /// The peer used `increase` more credit.
    /// - Throws: `FLOW_CONTROL_ERROR` beyond ``limit``; nothing changes then.
    mutating func onReceived(_ increase: UInt64, frameType: UInt64? = nil) throws(PeerError) {
        guard increase <= remaining else {
            throw PeerError(.flowControlError, frameType: frameType, "data beyond the advertised credit")
        }
        received += increase
    }

    /// Whether `increase` more credit would stay within ``limit``.
    func allows(_ increase: UInt64) -> Bool { increase <= remaining }

    /// The application consumed `count` more bytes (read them, or they were
    /// discarded by a reset), releasing their credit.
    /// - Precondition: never more than was received.
    mutating func onConsumed(_ count: UInt64) {
        precondition(consumed + count <= received, "ReceiveCredit: consumed more than received")
        consumed += count
    }

    /// If an update is due, auto-tunes the window and raises ``limit`` to
    /// `consumed + window`.
    /// - Parameters:
    ///   - now: the current time.
    ///   - rtt: the smoothed round-trip time.
    /// - Returns: the new limit to advertise, or `nil` when no update is due.
    mutating func nextUpdate(now: Timestamp, rtt: Duration) -> UInt64? {
        guard isUpdateDue else { return nil }
        if let last = lastUpdate, now - last < rtt * 2 {
            window = min(window * 2, maxWindow)
        }
        lastUpdate = now
        let newLimit = consumed + window
        guard newLimit > limit else { return nil }
        limit = newLimit
        return newLimit
    }

    /// `held` unread bytes cannot be read yet (a record reader waits for the
    /// rest of their record): when they are more than half the window, the
    /// window doubles (up to ``maxWindow``) and ``limit`` rises to
    /// `consumed + window` now, whether or not an update was due.
    /// - Returns: the new limit to advertise, or `nil` when nothing changed.
    mutating func growForHeldBytes(_ held: UInt64) -> UInt64? {
        guard held > window / 2, window < maxWindow else { return nil }
        window = min(window * 2, maxWindow)
        let newLimit = consumed + window
        guard newLimit > limit else { return nil }
        limit = newLimit
        return newLimit
    }

    /// Grows the window without waiting for auto-tuning (a connection window
    /// kept ahead of a stream window that grew), capped at ``maxWindow``.
    mutating func ensureWindow(atLeast minimum: UInt64) {
        window = max(window, min(minimum, maxWindow))
    }
}
