import SecureStreamsCore

/// How often to sample each client's connection during a run (``Simulation/run(_:seed:file:sampling:observer:)``).
///
/// Sampling only reads: it never schedules an event, never wakes a host and
/// never draws a random number, so a sampled run is the same run (the same
/// trace hash) as an unsampled one. The state between two simulator steps
/// does not change, so the sample at a grid time `t` is the state after
/// every step at a time `≤ t`.
public struct Sampling: Sendable, Equatable {
    /// The grid step of the time series (10 ms: 100 points per second of
    /// virtual time, fine enough for a congestion window's sawtooth at
    /// tens of milliseconds of RTT).
    public var interval: Duration

    public init(interval: Duration = .milliseconds(10)) {
        precondition(interval > .zero, "the sampling interval must be positive")
        self.interval = interval
    }
}

/// One point of a ``FlowSeries``: the client's view of its connection, plus
/// the payload its workload has delivered to the application so far.
public struct FlowSample: Sendable, Equatable {
    /// Virtual time since the start of the run.
    public var time: Duration
    /// Payload bytes of this client's workload read by the receiving
    /// application so far (both directions: bulk and records at the server,
    /// requests at the server, responses at the client).
    public var deliveredBytes: Int
    /// The client's congestion window, bytes.
    public var congestionWindow: UInt64
    /// The client's bytes in flight.
    public var bytesInFlight: UInt64
    /// The client's smoothed RTT (RFC 9002 §5.3).
    public var smoothedRTT: Duration
    /// Packets the client has declared lost so far.
    public var packetsLost: UInt64
}

/// What one client's flow did over a run. The milestones and payload are
/// always filled in; `samples` and `losses` only when the run was sampled.
public struct FlowSeries: Sendable {
    /// The client host's name.
    public var client: String
    /// When the client's handshake completed (`connected`).
    public var connectedAt: Duration?
    /// When the client's whole workload was done.
    public var completedAt: Duration?
    /// Payload bytes of the client's workload delivered to the application by the end of the run.
    public var deliveredBytes: Int = 0
    /// When the client started (its ``HostSpec/start``).
    public var start: Duration = .zero
    /// Each connection's handshake duration, in order (one per connection that connected).
    public var connectDurations: [Duration] = []
    /// A connection of the client ended before its workload did.
    public var failed = false
    /// Loss and retransmission as each side's endpoint counted them, summed
    /// over the client's connections: the client's side (what it sent
    /// upstream) and the server's side of the same connections (downstream).
    public var clientRetransmittedBytes: UInt64 = 0
    public var clientLostPackets: UInt64 = 0
    public var serverRetransmittedBytes: UInt64 = 0
    public var serverLostPackets: UInt64 = 0
    /// Key updates the client's endpoint counted (sent and received), summed over its connections.
    public var keyUpdates: UInt64 = 0
    /// On the sampling grid, while the client's connection existed.
    public var samples: [FlowSample] = []
    /// Every time the client's lost-packet counter went up, by how much, at
    /// the exact virtual time loss detection declared it.
    public var losses: [(time: Duration, count: Int)] = []

    public init(client: String) {
        self.client = client
    }

    /// Payload bits per second of virtual time from `connectedAt` to
    /// `completedAt` (the transfer without the handshake), or `nil` when it
    /// never connected or never finished.
    public var goodputAfterHandshake: Double? {
        guard let connectedAt, let completedAt, completedAt > connectedAt else { return nil }
        return Double(deliveredBytes) * 8 / (completedAt - connectedAt).secondsValue
    }

    /// Payload bits per second delivered between two sample times, from the
    /// samples (`nil` without samples covering the interval).
    public func goodput(from start: Duration, to end: Duration) -> Double? {
        guard end > start, let first = sample(at: start), let last = sample(at: end) else { return nil }
        return Double(last.deliveredBytes - first.deliveredBytes) * 8 / (last.time - first.time).secondsValue
    }

    /// The last sample at or before `time`.
    public func sample(at time: Duration) -> FlowSample? {
        var low = 0
        var high = samples.count
        while low < high {
            let middle = (low + high) / 2
            if samples[middle].time <= time { low = middle + 1 } else { high = middle }
        }
        return low > 0 ? samples[low - 1] : nil
    }
}

extension Duration {
    /// Seconds as a `Double` (for rates and plots only; the run itself stays in integers).
    public var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// Collects ``FlowSeries`` for every client during a run.
struct FlowSampler {
    let interval: Duration?
    var series: [FlowSeries]
    /// The next grid time to sample.
    private var nextSample = Timestamp.zero
    private var lastLost: [UInt64]
    /// The connection `lastLost` counts for: a client's next connection counts from 0 again.
    private var lastConnection: [ConnectionHandle?]

    init(clients: [String], sampling: Sampling?) {
        interval = sampling?.interval
        series = clients.map(FlowSeries.init(client:))
        lastLost = Array(repeating: 0, count: clients.count)
        lastConnection = Array(repeating: nil, count: clients.count)
    }

    /// Called once per simulator step, after everything due at `now` ran and
    /// before time jumps to `next`: records loss marks at `now` and every grid
    /// sample in `[now, next)`, all of which see the state as it is now.
    mutating func observe(_ hosts: [Host], delivered: [Int], now: Timestamp, next: Timestamp) {
        guard let interval else { return }
        var current: [(index: Int, stats: ConnectionStatistics)] = []
        for host in hosts {
            guard let client = host.clientIndex, let connection = host.connection,
                  let stats = host.endpoint.statistics(of: connection) else { continue }
            if lastConnection[client] != connection {
                lastConnection[client] = connection
                lastLost[client] = 0
            }
            if stats.packetsLost > lastLost[client] {
                series[client].losses.append((now - .zero, Int(stats.packetsLost - lastLost[client])))
                lastLost[client] = stats.packetsLost
            }
            current.append((client, stats))
        }
        while nextSample < now { nextSample = nextSample + interval }
        while nextSample < next || nextSample == now {
            for (client, stats) in current {
                series[client].samples.append(FlowSample(
                    time: nextSample - .zero, deliveredBytes: delivered[client],
                    congestionWindow: stats.congestionWindow, bytesInFlight: stats.bytesInFlight,
                    smoothedRTT: stats.smoothedRTT, packetsLost: stats.packetsLost))
            }
            nextSample = nextSample + interval
        }
    }
}
