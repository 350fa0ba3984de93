public import SecureStreamsCore

/// A whole simulation as a value: topology, link parameters,
/// timed events, workloads and success criteria. Built in code or parsed from
/// a JSON file by ``ScenarioFile/parse(_:)``; docs/SIMULATOR.md is the schema.
public struct Scenario: Sendable, Equatable {
    public var name: String
    /// What the scenario checks, in a sentence (the file's `description` member).
    public var summary: String?
    /// The seed used when the runner is not given one.
    public var seed: UInt64
    /// Virtual time allowed for every workload to finish (liveness).
    public var budget: Duration
    public var hosts: [HostSpec]
    public var nats: [NATSpec]
    public var links: [LinkSpec]
    public var events: [TimedEvent]
    public var criteria: Criteria
    /// Competing traffic that is not SecureStreams (``CrossFlowSpec``).
    public var crossTraffic: [CrossFlowSpec] = []

    public init(name: String, seed: UInt64 = 1, budget: Duration = .seconds(120), hosts: [HostSpec],
                nats: [NATSpec] = [], links: [LinkSpec] = [], events: [TimedEvent] = [], criteria: Criteria = Criteria(), summary: String? = nil) {
        self.name = name
        self.summary = summary
        self.seed = seed
        self.budget = budget
        self.hosts = hosts
        self.nats = nats
        self.links = links
        self.events = events
        self.criteria = criteria
    }
}

/// The node every host and NAT without a NAT in front hangs off: it routes by destination address.
public let internetNodeName = "internet"

public struct HostSpec: Sendable, Equatable {
    public enum Role: Sendable, Equatable {
        case server
        /// Connects to the host named `server` and runs `workload`, phase after phase.
        case client(server: String, workload: [WorkloadPhase])
    }

    public var name: String
    /// The host's own (inside) address.
    public var address: PeerAddress
    public var role: Role
    /// The NAT in front of it, or `nil` for a host on the internet.
    public var behind: String?
    /// The host's ``EndpointConfiguration`` knobs that differ from the core's defaults.
    public var endpoint = EndpointSettings()
    /// Clients: when the first connection starts (virtual time since the start of the run).
    public var start: Duration = .zero
    /// Clients: how many connections run the workload one after the other,
    /// each opened when the previous one's workload is done and closed.
    public var connections = 1
    /// Clients: what this client alone must achieve.
    public var criteria = ClientCriteria()

    public init(name: String, address: PeerAddress, role: Role, behind: String? = nil) {
        self.name = name
        self.address = address
        self.role = role
        self.behind = behind
    }
}

/// One phase of a client's workload.
public enum WorkloadPhase: Sendable, Equatable {
    /// `bytes` split over `streams` streams, written, finished and checked byte for byte.
    case bulk(bytes: Int, streams: Int)
    /// `count` requests one after another, each on its own stream: the
    /// server reads the request to its end, then answers with `responseBytes`.
    case requestResponse(count: Int, requestBytes: Int, responseBytes: Int)
    /// `count` records of `minBytes...maxBytes` over `streams` streams, each read whole.
    case records(count: Int, minBytes: Int, maxBytes: Int, streams: Int)
    /// Nothing sent for `duration`.
    case idle(Duration)
    /// The client asks its endpoint for a key update (PROTOCOL.md §5.3),
    /// then waits until its next packet went out under the new key.
    case keyUpdate
}

/// Per-host ``EndpointConfiguration`` overrides; `nil` keeps the core's default.
public struct EndpointSettings: Sendable, Equatable {
    /// ``EndpointConfiguration/alwaysRequireCookie``: every Initiation pays the cookie round trip.
    public var alwaysRequireCookie: Bool?
    public var keyUpdatePackets: UInt64?
    public var keyUpdateInterval: Duration?
    public var idleTimeout: Duration?
    /// ``EndpointConfiguration/handshakeTimeout``: how long an initiator keeps retrying.
    public var handshakeTimeout: Duration?
    public var keepAliveInterval: Duration?
    public var maxAckDelay: Duration?
    public var maxDatagramSize: Int?
    public var initialMaxStreams: UInt64?
    public var initialMaxData: UInt64?
    public var initialMaxStreamData: UInt64?

    public init() {}

    /// `base` with every set knob applied.
    public func applied(to base: EndpointConfiguration) -> EndpointConfiguration {
        var configuration = base
        if let alwaysRequireCookie { configuration.alwaysRequireCookie = alwaysRequireCookie }
        if let keyUpdatePackets { configuration.keyUpdatePackets = keyUpdatePackets }
        if let keyUpdateInterval { configuration.keyUpdateInterval = keyUpdateInterval }
        if let idleTimeout { configuration.idleTimeout = idleTimeout }
        if let handshakeTimeout { configuration.handshakeTimeout = handshakeTimeout }
        if let keepAliveInterval { configuration.keepAliveInterval = keepAliveInterval }
        if let maxAckDelay { configuration.maxAckDelay = maxAckDelay }
        if let maxDatagramSize { configuration.maxDatagramSize = maxDatagramSize }
        if let initialMaxStreams { configuration.initialMaxStreams = initialMaxStreams }
        if let initialMaxData { configuration.initialMaxData = initialMaxData }
        if let initialMaxStreamData { configuration.initialMaxStreamData = initialMaxStreamData }
        return configuration
    }
}

/// What one client must achieve, measured from its own ``HostSpec/start``.
public struct ClientCriteria: Sendable, Equatable {
    /// Every connection's handshake completed within this of its start.
    public var connectWithin: Duration?
    /// The whole workload (every connection) done within this of the client's start.
    public var completionWithin: Duration?
    /// The client's payload bits over (completion − start).
    public var minGoodput: Double?
    /// At least this many key updates on the client's connections (sent, summed).
    public var minKeyUpdates: UInt64?

    public init() {}
}

/// RFC 4787 §4.1 mapping, §5 filtering kinds.
public enum NATBehavior: String, Sendable, Equatable, CaseIterable {
    case endpointIndependent
    case addressDependent
    case addressAndPortDependent
}

/// RFC 4787 §4.2.1 port assignment.
public enum PortAssignment: String, Sendable, Equatable, CaseIterable {
    /// The internal port when free, else the next free one above it.
    case preserving
    /// The next port of a counter from 49152.
    case sequential
    /// A random free port in 1024...65535.
    case random
}

public struct NATSpec: Sendable, Equatable {
    public var name: String
    /// The public IP (the port is ignored).
    public var publicAddress: PeerAddress
    public var mapping: NATBehavior
    public var filtering: NATBehavior
    public var portAssignment: PortAssignment
    /// A mapping idle this long (no outbound datagram) is forgotten (RFC 4787 REQ-5: at least 2 min).
    public var bindingTimeout: Duration
    public var hairpinning: Bool

    public init(name: String, publicAddress: PeerAddress, mapping: NATBehavior = .endpointIndependent,
                filtering: NATBehavior = .endpointIndependent, portAssignment: PortAssignment = .preserving,
                bindingTimeout: Duration = .seconds(120), hairpinning: Bool = true) {
        self.name = name
        self.publicAddress = publicAddress
        self.mapping = mapping
        self.filtering = filtering
        self.portAssignment = portAssignment
        self.bindingTimeout = bindingTimeout
        self.hairpinning = hairpinning
    }
}

/// Gilbert–Elliott burst loss: a two-state Markov chain stepped once per datagram.
public struct BurstLoss: Sendable, Equatable {
    public var goodToBad: Double
    public var badToGood: Double
    public var lossInGood: Double
    public var lossInBad: Double

    public init(goodToBad: Double, badToGood: Double, lossInGood: Double = 0, lossInBad: Double = 1) {
        self.goodToBad = goodToBad
        self.badToGood = badToGood
        self.lossInGood = lossInGood
        self.lossInBad = lossInBad
    }
}

/// One direction of a link between two nodes (hosts, NATs or `internet`).
/// A pair of nodes without a link is joined by an ideal one (no delay, no loss).
public struct LinkSpec: Sendable, Equatable {
    public var from: String
    public var to: String
    public var delay: Duration = .milliseconds(10)
    /// Extra delay drawn uniformly from `0...jitter` per datagram.
    public var jitter: Duration = .zero
    /// Bits per second; `nil` is unlimited, 0 passes nothing.
    public var bandwidth: UInt64?
    public var queuePackets: Int?
    public var queueBytes: Int?
    public var mtu: Int = 1_500
    public var loss: Double = 0
    public var burstLoss: BurstLoss?
    public var reorderProbability: Double = 0
    public var reorderDelay: Duration = .milliseconds(20)
    public var duplicate: Double = 0
    public var corrupt: Double = 0
    /// Corruption hits a byte in this range of offsets only (clipped to the
    /// datagram; a datagram shorter than its start is left whole).
    public var corruptBytes: ClosedRange<Int>?
    /// Indices (0-based, counting every datagram that enters this direction
    /// of the link) dropped for certain, before any other impairment.
    public var dropIndices: Set<Int> = []
    /// At most this many datagrams in a row are lost or corrupted by the
    /// random impairments (`loss`, `burstLoss`, `corrupt`); the next one
    /// passes untouched. Drop lists, queues and outages are not capped.
    public var maxConsecutiveDrops: Int?

    public init(from: String, to: String) {
        self.from = from
        self.to = to
    }

    /// The same parameters in the other direction.
    public var reversed: LinkSpec {
        var other = self
        other.from = to
        other.to = from
        return other
    }

    /// `from->to`, how events name it.
    public var label: String { "\(from)->\(to)" }
}

public struct TimedEvent: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        case linkDown(link: String)
        case linkUp(link: String)
        /// Down for `duration`, then up.
        case blackhole(link: String, duration: Duration)
        case setBandwidth(link: String, bitsPerSecond: UInt64?)
        case setDelay(link: String, delay: Duration)
        case setLoss(link: String, loss: Double)
        /// Every mapping of the NAT moves to a new external port.
        case natRebindPort(nat: String)
        /// The NAT's public address changes (last octet + 1); mappings keep their ports.
        case natRebindAddress(nat: String)
    }

    public var at: Duration
    public var action: Action

    public init(at: Duration, _ action: Action) {
        self.at = at
        self.action = action
    }
}

public struct Criteria: Sendable, Equatable {
    /// Every workload finished within this much virtual time from the start.
    public var completionWithin: Duration?
    /// Application bytes delivered per second of virtual time (start to completion), in bits.
    public var minGoodput: Double?

    public init(completionWithin: Duration? = nil, minGoodput: Double? = nil) {
        self.completionWithin = completionWithin
        self.minGoodput = minGoodput
    }
}

/// A competing flow that is not SecureStreams: datagrams from host `from`
/// to host `to`, through the same links, queues and NATs as everything else,
/// addressed to the hosts' IPs at `port` (so the endpoints never see them).
public struct CrossFlowSpec: Sendable, Equatable {
    /// TCP-like congestion control models (RFC 5681 Reno, RFC 9438 CUBIC).
    public enum CongestionModel: String, Sendable, Equatable, CaseIterable {
        case reno, cubic
    }

    public enum Kind: Sendable, Equatable {
        /// One `packetBytes` datagram every `packetBytes × 8 / bitsPerSecond`, whatever happens to them.
        case constantRate(bitsPerSecond: UInt64)
        /// A window-based bulk sender with per-packet acknowledgements from
        /// the receiver (ACK datagrams of 40 bytes on the reverse path).
        case tcp(CongestionModel)
    }

    public var name: String
    public var kind: Kind
    public var from: String
    public var to: String
    /// The UDP port the flow uses at both ends (never a host's own port).
    public var port: UInt16
    public var packetBytes: Int = 1_200
    public var start: Duration = .zero
    /// How long the sender keeps sending; `nil`: until the run ends.
    public var duration: Duration?

    public init(name: String, kind: Kind, from: String, to: String, port: UInt16) {
        self.name = name
        self.kind = kind
        self.from = from
        self.to = to
        self.port = port
    }
}
