/// Everything a responder keeps to tell a fresh Initiation from a replayed
/// one (PROTOCOL.md §4.4), and what an initiator needs to date its own.
///
/// Two defences, checked in this order by the endpoint:
/// 1. ``RecentInitiations``: the ephemeral keys accepted lately. A copy of a
///    recent Initiation is refused before any Diffie-Hellman. Bounded by a
///    count, so under a high handshake rate it covers only seconds.
/// 2. ``InitiationTimestamps``: per initiator static key (IK only, whose first
///    message authenticates the initiator), the greatest wall-clock timestamp
///    accepted. It needs the DH work of reading message 1 (to learn who is
///    speaking), but refuses before any state, Response or further DH, and it
///    does not forget with the handshake rate: a peer it holds can never
///    replay an older Initiation.
///
/// The wall clock is an input (the core reads no clock): the driver's last
/// reading, moved forward by the monotonic time since, or until the first
/// reading the configured origin taken as the reading at ``Timestamp/zero``.
struct InitiationGuard {
    private(set) var recent: RecentInitiations
    private(set) var timestamps: InitiationTimestamps
    private var anchor: (reading: WallClockTime, at: Timestamp)
    /// The timestamp of this endpoint's last IK Initiation: the next is later.
    private var lastSent: WallClockTime?

    init(origin: WallClockTime, peerCapacity: Int) {
        recent = RecentInitiations()
        timestamps = InitiationTimestamps(capacity: peerCapacity)
        anchor = (origin, .zero)
    }

    /// The driver read its real-time clock at `now`.
    mutating func handleWallClock(_ reading: WallClockTime, now: Timestamp) {
        anchor = (reading, now)
    }

    /// The wall-clock time at `now`.
    func wallClock(at now: Timestamp) -> WallClockTime {
        anchor.reading.advanced(by: now - anchor.at)
    }

    /// The timestamp for a new IK Initiation: the wall clock, or just after
    /// the previous Initiation's when the clock has not moved past it (two
    /// connections started at once, or a clock set back), so that every
    /// Initiation of this endpoint is newer than the last.
    mutating func nextInitiationTimestamp(now: Timestamp) -> WallClockTime {
        var timestamp = wallClock(at: now)
        if let lastSent, timestamp <= lastSent { timestamp = lastSent.successor }
        lastSent = timestamp
        return timestamp
    }

    /// Whether the Initiation with this ephemeral key was accepted lately.
    mutating func isRecent(_ ephemeral: Bytes32, now: Timestamp) -> Bool {
        recent.contains(ephemeral, now: now)
    }

    /// Records an accepted Initiation's ephemeral key.
    mutating func accepted(_ ephemeral: Bytes32, now: Timestamp) {
        recent.insert(ephemeral, now: now)
    }

    /// Judges the timestamp of an authenticated IK Initiation from `peer`
    /// whose ephemeral key ``isRecent(_:now:)`` did not know.
    mutating func admit(_ timestamp: WallClockTime, from peer: X25519.PublicKey, now: Timestamp)
        -> InitiationTimestamps.Verdict
    {
        timestamps.admit(timestamp, from: peer.bytes, wallClock: wallClock(at: now), now: now)
    }
}
