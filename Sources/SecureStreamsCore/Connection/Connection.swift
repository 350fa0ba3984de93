/// One secure connection: its handshake, then packet protection, recovery,
/// congestion control, streams and flow control, paths and timers.
///
/// A `Connection` is a pure state machine owned by an ``Endpoint``, which
/// routes datagrams to it by connection id and drains its outputs. It never
/// reads a clock or touches a socket: every input carries `now`.
///
/// ```
///   initiator:  initiating ──Response──▶ established ──CLOSE/idle──▶ draining ─▶ (freed)
///   responder:  (Initiation) ─IK─▶ established          ▲
///               (Initiation) ─XX─▶ awaitingFinish ─Finish─┘
///   either:     established ──close()──▶ closing (sends CLOSE) ──▶ draining
/// ```
///
/// The established state lives in the owning struct (not in an enum payload)
/// so mutating it never copies it.
struct Connection {
    enum Phase {
        /// The Initiation is out; waiting for the Response.
        case initiating
        /// XX responder: the Response is out; waiting for the Finish.
        case awaitingFinish
        /// Keys are in place; data flows.
        case established
        /// The application closed: a CLOSE goes out, then draining.
        case closing
        /// Nothing more is sent; the CID is kept until `drainDeadline` so
        /// stragglers are dropped quietly (no TIME-WAIT beyond that).
        case draining
        /// Ready to be freed by the endpoint.
        case drained
    }

    let side: Side
    let localCID: ConnectionID
    var remoteCID: ConnectionID
    var phase: Phase
    let configuration: ConnectionConfiguration

    // Handshake (until established).
    var handshake: HandshakeState?
    /// The datagram to resend until the handshake is confirmed: our Initiation
    /// (initiator), our Response (responder), our Finish (XX initiator).
    var handshakeRetransmit: [UInt8]?
    var handshakeRetransmitDeadline: Timestamp?
    var handshakeRetransmitInterval: Duration = .seconds(1)
    /// Times the handshake datagram went out, and when it first did.
    var handshakeRetransmitCount = 0
    var initiationSentAt: Timestamp?
    var handshakeDeadline: Timestamp
    /// True once the peer has proved it holds the keys (a protected packet
    /// from it decrypted).
    var isHandshakeConfirmed = false
    var initiationMACs: HandshakeMACs?
    var cookie: Cookie?
    var cookieExpiry: Timestamp?
    /// Ephemeral key of the Initiation that created this responder connection.
    var initiationKey: Bytes32?

    // Who is on the other end.
    var peer: EndpointID?
    var service: String
    var applicationProtocol: String
    var peerParameters = TransportParameters()

    // Established state.
    var protection: PacketProtection?
    var streams: StreamTable
    var loss: LossDetection
    var congestion: CongestionControl
    var pacer: Pacer
    var acks: AckTracker
    var log = SentPacketLog()
    /// Reused between calls to hold the frames of released packets.
    var releasedFrames: [SentFrame] = []
    /// Room for 8 packets of each kind at first (64 was 4 KiB per
    /// connection); an ACK or timeout with more grows it once, for good.
    var recoveryEvents = RecoveryEvents(capacity: 8)
    var nextPacketNumber = PacketNumber(0)

    // Paths.
    var path: Path
    var probe: PathProbe?
    var pathResponses = BoundedQueue<(PathToken, PeerAddress)>(capacity: 4)

    // Control frames not owned by the stream table.
    var needsPing = false
    var probesToSend = 0
    var closeFrame: (code: ErrorCode, frameType: UInt64?, reason: [UInt8])?
    var closeSent = false

    // Timers.
    var idleDeadline: Timestamp
    var keepAliveDeadline: Timestamp?
    var drainDeadline: Timestamp?
    /// Set when data waits only for the pacer (§8).
    var pacingDeadline: Timestamp?
    var lastActivity: Timestamp

    // Link liveness.
    var link: LinkState = .up

    // Outputs.
    var closeReason: ConnectionError?
    var statistics = ConnectionStatistics()
    var handle: ConnectionHandle

    /// Data packets carry this much besides frames (PROTOCOL.md §3.4).
    static let packetOverhead = DataPacketLayout.overhead
    /// Link stalled after this many consecutive probe timeouts, down after the second.
    static let stalledAfterProbes = 3
    static let downAfterProbes = 6

    init(side: Side, localCID: ConnectionID, remoteCID: ConnectionID, address: PeerAddress,
         isAddressValidated: Bool, service: String, applicationProtocol: String,
         configuration: ConnectionConfiguration, handle: ConnectionHandle, now: Timestamp) {
        self.side = side
        self.localCID = localCID
        self.remoteCID = remoteCID
        self.phase = side == .initiator ? .initiating : .awaitingFinish
        self.configuration = configuration
        self.service = service
        self.applicationProtocol = applicationProtocol
        self.handle = handle
        handshakeDeadline = now + configuration.handshakeTimeout
        streams = StreamTable(side: side, configuration: configuration.streams)
        loss = LossDetection(maxAckDelay: configuration.maxAckDelay)
        congestion = .newReno(NewReno(maxDatagramSize: configuration.maxDatagramSize))
        pacer = Pacer(maxDatagramSize: configuration.maxDatagramSize,
                      congestionWindow: NewReno.initialWindowPackets * configuration.maxDatagramSize,
                      smoothedRTT: RTTEstimator.defaultInitialRTT)
        acks = AckTracker(maxAckDelay: configuration.maxAckDelay)
        path = Path(address: address, isValidated: isAddressValidated)
        idleDeadline = now + configuration.idleTimeout
        lastActivity = now
    }

    var isEstablished: Bool { phase == .established }
    var isDrained: Bool { phase == .drained }
}

/// Per-connection settings derived from the endpoint's configuration.
struct ConnectionConfiguration: Sendable {
    var maxDatagramSize: Int
    var idleTimeout: Duration
    var keepAliveInterval: Duration?
    var handshakeTimeout: Duration
    var maxAckDelay: Duration
    var protection: ProtectionConfiguration
    var streams: StreamConfiguration
    var local: TransportParameters
}

/// A network path: the peer's address and what we know about it.
struct Path {
    var address: PeerAddress
    /// Validated: the peer proved it receives at this address (a handshake
    /// message decrypted, or a PATH_RESPONSE), lifting the 3× limit.
    var isValidated: Bool
    var bytesReceived: UInt64 = 0
    var bytesSent: UInt64 = 0

    /// Bytes we may still send before validation (PROTOCOL.md §4.3).
    var amplificationBudget: Int {
        isValidated ? .max : Self.unvalidatedBudget(received: bytesReceived, sent: bytesSent)
    }

    /// "At most three times the bytes received" to an address not yet validated.
    static func unvalidatedBudget(received: UInt64, sent: UInt64) -> Int {
        let allowed = received * 3
        return sent >= allowed ? 0 : Int(allowed - sent)
    }
}

/// A path being validated (PROTOCOL.md §7).
struct PathProbe {
    var address: PeerAddress
    var token: PathToken
    var attempts: Int
    var retryDeadline: Timestamp?
    var bytesReceived: UInt64
    var bytesSent: UInt64 = 0
    var isChallengeDue = true

    static let maxAttempts = 3

    var amplificationBudget: Int { Path.unvalidatedBudget(received: bytesReceived, sent: bytesSent) }
}

/// Liveness of the path as acknowledgements show it.
enum LinkState: Hashable, Sendable {
    case up, stalled, down
}
