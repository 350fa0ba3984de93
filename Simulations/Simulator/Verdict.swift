import SecureStreamsCore

/// How a run ended. The exit codes are what `sss sim run` returns.
public struct Verdict: Sendable, CustomStringConvertible {
    public enum Outcome: Sendable, Equatable {
        case success
        /// The process trapped. A trap cannot be observed in-process: the
        /// runner runs each seed in a child process and reports its signal.
        case crash
        /// Something did not finish within the virtual-time budget (or stopped for good).
        case livenessFailure
        /// A byte, a record or a success criterion was wrong.
        case correctnessFailure

        public var exitCode: Int32 {
            switch self {
            case .success: 0
            case .crash: 2
            case .livenessFailure: 3
            case .correctnessFailure: 4
            }
        }
    }

    public var outcome: Outcome
    /// What went wrong, first failure first; empty on success.
    public var details: [String]
    public var scenario: String
    public var seed: UInt64
    public var statistics: RunStatistics
    /// One per client, in scenario order: milestones and payload, plus time
    /// series when the run was sampled.
    public var flows: [FlowSeries] = []

    public init(outcome: Outcome, details: [String], scenario: String, seed: UInt64, statistics: RunStatistics,
                flows: [FlowSeries] = []) {
        self.outcome = outcome
        self.details = details
        self.scenario = scenario
        self.seed = seed
        self.statistics = statistics
        self.flows = flows
    }

    public var exitCode: Int32 { outcome.exitCode }

    /// The command that replays this run exactly.
    public func replayCommand(file: String) -> String { "sss sim run \(file) --seed \(seed)" }

    public var description: String {
        var lines = ["SEED=\(seed) scenario=\(scenario) outcome=\(outcome) exit=\(exitCode)"]
        lines += details.map { "  \($0)" }
        lines.append(statistics.description)
        return lines.joined(separator: "\n")
    }
}

/// What a run measured. Everything here is a pure function of (scenario, seed).
public struct RunStatistics: Sendable, CustomStringConvertible {
    /// Virtual time from the start to the end of the run.
    public var duration: Duration = .zero
    /// Virtual time at which every workload had finished.
    public var completion: Duration?
    /// Application payload bytes delivered (both directions).
    public var payloadBytes: Int = 0
    /// Payload bits per second of virtual time up to completion.
    public var goodput: Double = 0
    public var datagramsSent = 0
    /// Simulator events handled: queued happenings (datagram arrivals,
    /// timed scenario events, blackhole ends) plus endpoint timeouts fired.
    public var events = 0
    public var datagramsDelivered = 0
    /// Drops by cause (`link:loss`, `nat:filtered`, …), sorted by cause.
    public var drops: [(cause: String, count: Int)] = []
    /// Stream bytes retransmitted and packets declared lost, both sides of
    /// every client's connections (the sums of the four counters below).
    public var bytesRetransmitted: UInt64 = 0
    public var packetsLost: UInt64 = 0
    /// The clients' endpoints' counts (upstream data) and their servers' (downstream data).
    public var clientRetransmittedBytes: UInt64 = 0
    public var serverRetransmittedBytes: UInt64 = 0
    public var clientLostPackets: UInt64 = 0
    public var serverLostPackets: UInt64 = 0
    /// Drops on each link, in scenario order (`from->to`), every cause together.
    public var linkDrops: [(link: String, count: Int)] = []
    /// What each cross flow did, in scenario order.
    public var crossFlows: [CrossFlowFigures] = []
    /// `pathChanged` events seen by any host (a NAT rebinding shows here).
    public var pathChanges = 0
    /// NAT mappings created, over every NAT.
    public var natMappings = 0
    public var smoothedRTT: Duration = .zero
    public var minimumRTT: Duration = .zero
    /// BLAKE2b-256 over every datagram delivered to an endpoint (time, addresses, bytes), hex.
    public var traceHash: String = ""

    public var description: String {
        let completed = completion.map { "\($0)" } ?? "never"
        let dropText = drops.map { "\($0.cause)=\($0.count)" }.joined(separator: " ")
        return """
          virtual duration \(duration), completed at \(completed), payload \(payloadBytes) B, \
        goodput \(Int(goodput)) bit/s
          datagrams sent \(datagramsSent), delivered \(datagramsDelivered), drops [\(dropText)]
          path changes \(pathChanges), NAT mappings \(natMappings)
          retransmitted \(bytesRetransmitted) B (client \(clientRetransmittedBytes), server \(serverRetransmittedBytes)), \
        lost packets \(packetsLost) (client \(clientLostPackets), server \(serverLostPackets)), srtt \(smoothedRTT), min rtt \(minimumRTT)
          trace \(traceHash)
        """
    }
}
