/// Why datagrams were dropped, counted per reason (bad input is
/// dropped and counted, never a crash).
public struct DropCounters: Hashable, Sendable {
    /// Too short, unknown type, or a frame that failed to decode.
    public var malformed: UInt64 = 0
    /// A MAC, AEAD tag or handshake that did not verify.
    public var authenticationFailed: UInt64 = 0
    /// A packet number seen before, or older than the replay window.
    public var replayed: UInt64 = 0
    /// A Data packet for a connection id we do not have.
    public var unknownConnection: UInt64 = 0
    /// A version this endpoint does not speak.
    public var unknownVersion: UInt64 = 0
    /// A Noise suite this endpoint cannot run (AESGCM without AES-NI).
    public var unsupportedSuite: UInt64 = 0
    /// Initiations turned away: no capacity, or a cookie demanded.
    public var refused: UInt64 = 0

    public var total: UInt64 {
        malformed + authenticationFailed + replayed + unknownConnection + unknownVersion + unsupportedSuite + refused
    }
}

/// Statistics of one connection, readable at any time.
public struct ConnectionStatistics: Hashable, Sendable {
    public var packetsSent: UInt64 = 0
    public var packetsReceived: UInt64 = 0
    public var bytesSent: UInt64 = 0
    public var bytesReceived: UInt64 = 0
    public var packetsLost: UInt64 = 0
    /// Stream bytes sent again after a loss.
    public var bytesRetransmitted: UInt64 = 0
    public var smoothedRTT: Duration = .zero
    public var minimumRTT: Duration = .zero
    public var latestRTT: Duration = .zero
    public var rttVariation: Duration = .zero
    public var congestionWindow: UInt64 = 0
    public var bytesInFlight: UInt64 = 0
    public var keyUpdates: UInt64 = 0
    /// STREAMS_BLOCKED frames sent (we waited at the peer's stream limit)
    /// and received (the peer waited at ours), PROTOCOL.md §6.2.1.
    public var streamsBlockedSent: UInt64 = 0
    public var streamsBlockedReceived: UInt64 = 0
    /// Paths validated to the end (PROTOCOL.md §7.1).
    public var pathsValidated: UInt64 = 0
    /// New addresses not probed because ``PathManager``'s probe table was full (§7.2).
    public var pathProbesRefused: UInt64 = 0
    /// PATH_RESPONSEs that matched no probe on the path they came from (§7.1).
    public var pathResponsesIgnored: UInt64 = 0
    public var drops = DropCounters()
}

/// Statistics of a whole endpoint.
public struct EndpointStatistics: Hashable, Sendable {
    public var datagramsReceived: UInt64 = 0
    public var datagramsSent: UInt64 = 0
    public var bytesReceived: UInt64 = 0
    public var bytesSent: UInt64 = 0
    public var handshakesInitiated: UInt64 = 0
    public var handshakesAccepted: UInt64 = 0
    public var cookiesSent: UInt64 = 0
    public var versionNegotiationsSent: UInt64 = 0
    /// Notices (link, path, receive-blocked events) dropped because more than
    /// `maxQueuedEvents` waited; readiness events are never dropped.
    public var eventsDropped: UInt64 = 0
    public var drops = DropCounters()
}
