/// One secure connection: its handshake, then packet protection, recovery,
/// congestion control, streams and flow control, paths and timers.
///
/// A `Connection` is a pure state machine owned by an ``Endpoint``, which
/// routes datagrams to it by connection id and drains its outputs. It never
/// reads a clock or touches a socket: every input carries `now`.
///
/// ```
///   handshaking ──handshake done──▶ established ──peer's CLOSE──▶ draining ──deadline──▶ drained
///    (initiating,                    │   │                           ▲
///     awaitingFinish)                │   └──close(), violation──▶ closing: the CLOSE is polled
///        │                           └──idle timeout──▶ drained
///        └──timeout, refusal, failure──▶ drained
/// ```
///
/// The phase is ``State``; each case carries what exists only in that phase
/// (Connection+State.swift, docs/CORE.md "Connection states"). What every
/// phase shares and mutates per packet (streams, recovery, congestion, the
/// path) lives in the owning struct so mutating it never copies.
struct Connection {
    /// A summary of ``state`` without its payload, for the endpoint's routing.
    enum Phase {
        /// The Initiation is out; waiting for the Response.
        case initiating
        /// XX responder: the Response is out; waiting for the Finish.
        case awaitingFinish
        /// Keys are in place; data flows.
        case established
        /// The application closed: a CLOSE goes out, then draining.
        case closing
        /// Nothing more is sent; the CID is kept until the drain deadline so
        /// stragglers are dropped quietly (no TIME-WAIT beyond that).
        case draining
        /// Ready to be freed by the endpoint.
        case drained
    }

    let side: Side
    let localCID: ConnectionID
    /// The peer's CID that packets on the active path carry.
    var remoteCID: ConnectionID {
        get { paths.active.remoteCID }
        set { paths.active.remoteCID = newValue }
    }
    /// The phase and what exists only in it (Connection+State.swift).
    var state: State
    let configuration: ConnectionConfiguration

    /// True once the peer has proved it holds the keys (a protected packet
    /// from it decrypted). Outlives the established phase: the endpoint asks it.
    var isHandshakeConfirmed = false
    /// Ephemeral key of the Initiation that created this responder
    /// connection: the endpoint's route for a repeated Initiation, kept
    /// until confirmation or until the connection is freed, whatever its phase.
    var initiationKey: Bytes32?

    // Who is on the other end.
    var peer: EndpointID?
    var service: String
    var applicationProtocol: String
    /// What the connection keeps of the peer's transport parameters.
    var peerParameters = PeerLimits()

    // Recovery, streams and flow control: kept here, not in a state payload,
    // so mutating them never copies.
    var streams: StreamTable
    var loss: LossDetection
    var congestion: CongestionControl
    var pacer: Pacer
    var acks: AckTracker
    var log = SentPacketLog()
    /// Reused between calls to hold the frames of released packets.
    var releasedFrames: [SentFrame] = []
    /// Filled and emptied within one ACK or timeout. Empty: the endpoint lends
    /// its own while it handles one (``RecoveryScratch``; room for 64 packets
    /// of each kind in every connection was 4 KiB); a connection driven alone
    /// grows its own once.
    var recoveryEvents = RecoveryEvents(capacity: 0)
    var nextPacketNumber = PacketNumber(0)

    // Paths (PathManager.swift, Connection+Paths.swift).
    var paths: PathManager
    /// Spare connection ids both ways (§7.3).
    var cids = ConnectionIDPool()
    /// The active path, read and changed in place.
    var path: Path {
        get { paths.active }
        _modify { yield &paths.active }
    }

    // Control frames not owned by the stream table.
    var needsPing = false
    var probesToSend = 0

    // Timers.
    var idleDeadline: Timestamp
    var keepAliveDeadline: Timestamp?
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

    /// A connection in the handshaking phase described by `handshaking`.
    init(side: Side, localCID: ConnectionID, remoteCID: ConnectionID, address: PeerAddress,
         isAddressValidated: Bool, service: String, applicationProtocol: String, handshaking: Handshaking,
         configuration: ConnectionConfiguration, handle: ConnectionHandle, now: Timestamp) {
        self.side = side
        self.localCID = localCID
        self.state = .handshaking(handshaking)
        self.configuration = configuration
        self.service = service
        self.applicationProtocol = applicationProtocol
        self.handle = handle
        streams = StreamTable(side: side, configuration: configuration.streams)
        loss = LossDetection(maxAckDelay: configuration.maxAckDelay)
        congestion = .newReno(NewReno(maxDatagramSize: configuration.maxDatagramSize))
        pacer = Pacer(maxDatagramSize: configuration.maxDatagramSize,
                      congestionWindow: NewReno.initialWindowPackets * configuration.maxDatagramSize,
                      smoothedRTT: RTTEstimator.defaultInitialRTT)
        acks = AckTracker(maxAckDelay: configuration.maxAckDelay)
        paths = PathManager(active: Path(address: address, isValidated: isAddressValidated, remoteCID: remoteCID))
        idleDeadline = now + configuration.idleTimeout
        lastActivity = now
    }

    var isEstablished: Bool { phase == .established }
    var isDrained: Bool { phase == .drained }

    var phase: Phase {
        switch state {
        case .handshaking(let handshaking):
            switch handshaking.role {
            case .initiating: .initiating
            case .awaitingFinish: .awaitingFinish
            }
        case .established: .established
        case .closing: .closing
        case .draining: .draining
        case .drained: .drained
        case .modifying: preconditionFailure(State.reentered)
        }
    }
}

/// Per-connection settings derived from the endpoint's configuration. Every
/// connection of an endpoint shares one immutable copy by reference: a
/// connection holds 8 bytes of it, not the whole (about 300 bytes).
struct ConnectionConfiguration: Sendable {
    private final class Storage: Sendable {
        let maxDatagramSize: Int
        let idleTimeout: Duration
        let keepAliveInterval: Duration?
        let handshakeTimeout: Duration
        let maxAckDelay: Duration
        let protection: ProtectionConfiguration
        let streams: StreamConfiguration
        let local: TransportParameters

        init(maxDatagramSize: Int, idleTimeout: Duration, keepAliveInterval: Duration?, handshakeTimeout: Duration,
             maxAckDelay: Duration, protection: ProtectionConfiguration, streams: StreamConfiguration,
             local: TransportParameters) {
            self.maxDatagramSize = maxDatagramSize
            self.idleTimeout = idleTimeout
            self.keepAliveInterval = keepAliveInterval
            self.handshakeTimeout = handshakeTimeout
            self.maxAckDelay = maxAckDelay
            self.protection = protection
            self.streams = streams
            self.local = local
        }
    }

    private let storage: Storage

    init(maxDatagramSize: Int, idleTimeout: Duration, keepAliveInterval: Duration?, handshakeTimeout: Duration,
         maxAckDelay: Duration, protection: ProtectionConfiguration, streams: StreamConfiguration,
         local: TransportParameters) {
        storage = Storage(maxDatagramSize: maxDatagramSize, idleTimeout: idleTimeout,
                          keepAliveInterval: keepAliveInterval, handshakeTimeout: handshakeTimeout,
                          maxAckDelay: maxAckDelay, protection: protection, streams: streams, local: local)
    }

    var maxDatagramSize: Int { storage.maxDatagramSize }
    var idleTimeout: Duration { storage.idleTimeout }
    var keepAliveInterval: Duration? { storage.keepAliveInterval }
    var handshakeTimeout: Duration { storage.handshakeTimeout }
    var maxAckDelay: Duration { storage.maxAckDelay }
    var protection: ProtectionConfiguration { storage.protection }
    var streams: StreamConfiguration { storage.streams }
    var local: TransportParameters { storage.local }
}

/// The peer's transport parameters that matter once the handshake is read
/// (PROTOCOL.md §6.15): its limits, idle timeout and cipher preference, and
/// not its names, identity or timestamp, which the handshake consumes.
struct PeerLimits {
    var initialMaxData: UInt64 = 0
    var initialMaxStreamData: UInt64 = 0
    var initialMaxStreams: UInt64 = 0
    var idleTimeoutMilliseconds: UInt64 = 0
    var hasHardwareAES = false
    /// How many of our spare CIDs the peer keeps (§7.3); 0: it takes none.
    var activeConnectionIDLimit: UInt64 = 0
    /// The largest record the peer reads whole (16 MiB when it left it out).
    var maxRecordSize: UInt64 = TransportParameters().maxRecordSize

    init() {}

    init(_ parameters: TransportParameters) {
        initialMaxData = parameters.initialMaxData
        initialMaxStreamData = parameters.initialMaxStreamData
        initialMaxStreams = parameters.initialMaxStreams
        idleTimeoutMilliseconds = parameters.idleTimeoutMilliseconds
        hasHardwareAES = parameters.hasHardwareAES
        activeConnectionIDLimit = parameters.activeConnectionIDLimit
        maxRecordSize = parameters.maxRecordSize
    }
}

/// Liveness of the path as acknowledgements show it.
enum LinkState: Hashable, Sendable {
    case up, stalled, down
}
