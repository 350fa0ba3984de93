/// Everything an ``Endpoint`` needs to know up front. Every limit has a
/// default with its reason; all are adjustable.
public struct EndpointConfiguration: Sendable {
    /// This host's identity: its EID and Noise static key.
    public var identity: HostIdentity
    /// The largest UDP payload this endpoint sends (PROTOCOL.md §9): 1350
    /// leaves room for tunnels on the path.
    public var maxDatagramSize: Int = 1_350
    /// A connection with no packet from its peer for this long ends silently.
    public var idleTimeout: Duration = .seconds(30)
    /// When set, an otherwise quiet connection sends a PING this often, which
    /// keeps NAT bindings and the peer's idle timer alive.
    public var keepAliveInterval: Duration?
    /// The handshake deadline: how long a handshake keeps retrying (the
    /// initiator its Initiation, an XX responder its Response) before it
    /// gives up with ``HandshakeTimeout`` (PROTOCOL.md §10). A minute, as
    /// QUIC stacks allow: at 30 % loss each way the capped backoff makes
    /// about 30 attempts in it, and a failure is then about 10^-9.
    public var handshakeTimeout: Duration = .seconds(60)
    /// Flow-control windows and stream limits announced to peers.
    public var initialMaxData: UInt64 = 1 << 20
    public var initialMaxStreamData: UInt64 = 256 << 10
    public var initialMaxStreams: UInt64 = 1_024
    /// Peer streams whose data we have all read (or whose reset we read)
    /// but whose sending half this end keeps open, beyond the
    /// `initialMaxStreams` the peer may be sending on: the bound on what a
    /// peer that opens streams we never finish can make us hold
    /// (PROTOCOL.md §6.2.1). 16,384 idle entries are a few MB.
    public var maxHalfOpenPeerStreams: UInt64 = 16_384
    /// The windows grow towards the bandwidth-delay product up to these.
    public var maxConnectionWindow: UInt64 = 64 << 20
    public var maxStreamWindow: UInt64 = 16 << 20
    /// Bytes a stream buffers from the application before writes suspend.
    public var sendBufferLimit: Int = 1 << 20
    /// An ACK is due at most this long after the first unacknowledged packet.
    public var maxAckDelay: Duration = .milliseconds(25)
    /// Key update schedule (PROTOCOL.md §5.3).
    public var keyUpdatePackets: UInt64 = 1 << 22
    public var keyUpdateInterval: Duration = .seconds(120)
    /// Offer AES-256-GCM (when this CPU has AES-NI and the peer is known to).
    public var preferAESGCM: Bool = true
    /// Denial-of-service thresholds (PROTOCOL.md §4.1): above either, new
    /// Initiations must prove their address with a cookie.
    public var handshakeRateLimit: UInt64 = 1_000
    public var maxPendingHandshakes: Int = 1_024
    /// Demands the cookie round trip (PROTOCOL.md §4.2) of every Initiation,
    /// not only under load: the responder spends no DH and keeps nothing for
    /// an Initiation until its source address is proven. Costs every
    /// initiator one more round trip.
    public var alwaysRequireCookie: Bool = false
    /// Initiators whose greatest Initiation timestamp is remembered
    /// (PROTOCOL.md §4.4); beyond it the least recently seen is forgotten and
    /// falls back to the freshness window. The default is `maxConnections`'s.
    public var maxRememberedInitiators: Int = 16_384
    /// The wall-clock time taken to correspond to ``Timestamp/zero`` until the
    /// driver reports a reading with ``Endpoint/handleWallClock(_:now:)``
    /// (PROTOCOL.md §4.4). A fixed instant (2026-01-01T00:00:00Z), so tests
    /// and the simulator, whose endpoints share one virtual time, agree on
    /// the wall clock without a driver. A real driver reports the real clock.
    public var wallClockOrigin = WallClockTime(seconds: 1_767_225_600)
    /// The most connections the endpoint holds; further Initiations are dropped.
    public var maxConnections: Int = 16_384
    /// Notices (link up/stalled/down, path changed, receive blocked) waiting
    /// for `pollEvent` beyond which the newest is dropped and counted
    /// (`eventsDropped`): an application that never drains cannot grow
    /// memory. Readiness events are never dropped and do not count here: they
    /// are coalesced flags, at most one record per connection and per stream
    /// (docs/CORE.md, "Events and readiness"). 65,536 notices are a few MB.
    public var maxQueuedEvents: Int = 65_536

    /// Half-open (unconfirmed) responder handshakes beyond which further
    /// Initiations are dropped, cookie or not (PROTOCOL.md §4.5). Default
    /// 2,048, twice `maxPendingHandshakes`: cookies are demanded from 1,024
    /// on, and proven initiators get as many again before the hard stop, so
    /// that a cookie holder cannot fill the connection table with handshakes
    /// it never finishes.
    public var maxHalfOpenHandshakes: Int = 2_048
    /// Answers Noise XX Initiations, which reach a host by address alone and
    /// learn its EID from the answer (trust on first use). Set it to false on
    /// a host whose peers always know its EID: it then answers IK only, so a
    /// scanner that knows only its address learns nothing, neither its key
    /// nor its services (PROTOCOL.md §4.6). Default true: the async API's
    /// `connect(at:)` and `sss send ADDRESS` reach hosts this way.
    public var answersXX: Bool = true

    public init(identity: HostIdentity) {
        self.identity = identity
    }
}
