import SecureStreamsCore

/// Runs a ``Scenario`` in virtual time and judges it.
///
/// The loop: deliver every datagram and timed event due now (in
/// (time, sequence) order), let every host (in scenario order) fire due
/// timeouts, react to events, run its workload and hand its datagrams to
/// the network; repeat while something is still due now; then jump to the
/// earliest next arrival, timed event, endpoint deadline or workload wake-up.
/// Every random choice comes from one seed through named sub-streams.
public enum Simulation {
    /// Runs `scenario` with `seed` (the scenario's own when `nil`).
    /// `file` only names the scenario in the replay command. `observer`,
    /// when given, sees every datagram a link (or an implicit ideal link)
    /// delivers, in delivery order; it only watches and cannot change the run.
    /// `sampling`, when given, fills each ``FlowSeries`` in ``Verdict/flows``
    /// with time series; it only reads and cannot change the run either.
    public static func run(_ scenario: Scenario, seed: UInt64? = nil, file: String? = nil, sampling: Sampling? = nil,
                           observer: ((DeliveredDatagram) -> Void)? = nil) -> Verdict {
        let runner = Runner(scenario: scenario, seed: seed ?? scenario.seed, sampling: sampling)
        runner.observer = observer
        var verdict = runner.run()
        if verdict.outcome != .success {
            verdict.details.append("replay: \(verdict.replayCommand(file: file ?? "\(scenario.name).json"))")
        }
        return verdict
    }
}

/// A running hash of delivered datagrams (a class: BLAKE2b is non-copyable).
final class TraceHash {
    private var hasher = BLAKE2b(outputCount: 32)

    func add(_ datagram: Datagram, at now: Timestamp) {
        withUnsafeBytes(of: now.nanoseconds.littleEndian) { hasher.update($0) }
        hasher.update(datagram.source.canonicalBytes)
        hasher.update(datagram.destination.canonicalBytes)
        withUnsafeBytes(of: UInt32(datagram.bytes.count).littleEndian) { hasher.update($0) }
        hasher.update(datagram.bytes)
    }

    var hex: String { Hex.encode(hasher.finalize()) }
}

final class Runner {
    enum Node: Equatable {
        case host(Int)
        case nat(Int)
        case internet
    }

    enum Happening {
        case arrive(Datagram, at: Node, from: Node, link: Int?)
        case timed(TimedEvent.Action)
        case linkUp(Int)
        /// A cross flow's sender sends (its start, or the next packet of a constant-rate flow).
        case crossSend(Int)
        /// A TCP-like cross flow's retransmission timer, armed as `generation`.
        case crossTimeout(Int, generation: Int)
    }

    let scenario: Scenario
    let seed: UInt64
    var hosts: [Host] = []
    var nats: [NATBox] = []
    var links: [Link] = []
    var linkIndex: [String: Int] = [:]
    var queue = EventQueue<Happening>()
    var invariants: Invariants
    var now = Timestamp.zero
    var statistics = RunStatistics()
    var drops: [String: Int] = [:]
    /// Drops on each link, by link index.
    var linkDrops: [Int] = []
    var crossFlows: [CrossFlow] = []
    /// The largest smoothed and the smallest minimum RTT over the clients' connections.
    var smoothedRTT = Duration.zero
    var minimumRTT: Duration?
    let trace = TraceHash()
    var buffer = [UInt8](repeating: 0, count: 64 * 1_024)
    var chunk = Chunk()
    let clientSpecs: [HostSpec]
    var observer: ((DeliveredDatagram) -> Void)?
    var sampler: FlowSampler

    init(scenario: Scenario, seed: UInt64, sampling: Sampling? = nil) {
        self.scenario = scenario
        self.seed = seed
        let root = SeededRandom(seed: seed)
        clientSpecs = scenario.hosts.filter { if case .client = $0.role { true } else { false } }
        sampler = FlowSampler(clients: clientSpecs.map(\.name), sampling: sampling)
        invariants = Invariants(phasesPerClient: clientSpecs.map { spec in
            if case .client(_, let workload) = spec.role { workload.count * spec.connections } else { 0 }
        })
        var clientCount = 0
        for spec in scenario.hosts {
            var keys = root.fork(label: "keys:\(spec.name)")
            let configuration = spec.endpoint.applied(to: EndpointConfiguration(identity: HostIdentity(using: &keys)))
            var endpoint = Endpoint(configuration: configuration, random: root.fork(label: "endpoint:\(spec.name)"), now: now)
            var clientIndex: Int?
            if case .client = spec.role {
                clientIndex = clientCount
                clientCount += 1
            } else {
                endpoint.listen(service: "sim", protocol: "workload")
            }
            hosts.append(Host(spec: spec, endpoint: endpoint, clientIndex: clientIndex))
        }
        for spec in scenario.nats {
            nats.append(NATBox(spec: spec, random: root.fork(label: "nat:\(spec.name)")))
        }
        for spec in scenario.links {
            linkIndex[spec.label] = links.count
            links.append(Link(spec: spec, random: root.fork(label: "link:\(spec.label)")))
        }
        linkDrops = Array(repeating: 0, count: links.count)
        for event in scenario.events {
            queue.schedule(.timed(event.action), at: Timestamp.zero + event.at)
        }
        setUpCrossTraffic()
    }

    func run() -> Verdict {
        let budgetEnd = Timestamp.zero + scenario.budget
        var drainUntil: Timestamp?
        var stalled = 0
        while true {
            var rounds = 0
            repeat {
                if statistics.completion == nil { startClients() }
                while let (_, happening) = queue.popDue(at: now) { process(happening) }
                for index in hosts.indices where needsService(index) { service(index) }
                rounds += 1
            } while queue.nextTime.map({ $0 <= now }) == true && rounds < 1_000
            // A wrong byte ends the run; a liveness failure (a client whose
            // connection died) does not: the other clients go on, and every
            // later failure is reported too.
            if invariants.hasCorrectnessViolation { break }
            let clientsFinished = hosts.allSatisfy { $0.clientIndex == nil || $0.isFinished }
            if statistics.completion == nil, clientsFinished, !hosts.allSatisfy({ $0.clientIndex == nil || $0.isDone }) {
                // Every client is done or failed, and some failed: nothing more to wait for.
                break
            }
            if statistics.completion == nil, clientsFinished {
                statistics.completion = now - .zero
                snapshotConnections()
                closeClients()
                drainUntil = now + .seconds(1)
            }
            if let drainUntil, now >= drainUntil { break }
            guard let next = nextTime() else {
                if statistics.completion == nil { failUnfinished("nothing left to happen at \(now)") }
                break
            }
            let target = drainUntil.map { min(max(now, next), $0) } ?? max(now, next)
            sampler.observe(hosts, delivered: invariants.deliveredBytes, now: now, next: target)
            if next > budgetEnd, statistics.completion == nil {
                failUnfinished("virtual-time budget of \(scenario.budget) exhausted")
                break
            }
            if next <= now {
                stalled += 1
                if stalled > 100_000 {
                    invariants.fail(.liveness, "livelock: 100000 steps without virtual time advancing at \(now)")
                    break
                }
            } else {
                stalled = 0
            }
            now = target
        }
        sampler.observe(hosts, delivered: invariants.deliveredBytes, now: now, next: now)
        return verdict()
    }

    // MARK: - Hosts

    /// Lets host `index` act at `now`: its endpoint's due timeout, its events,
    /// its workload, its datagrams. Repeats while the application still has
    /// events to react to (a pass can produce some), so nothing it could do
    /// now waits for a later event.
    private func service(_ index: Int) {
        if let deadline = hosts[index].endpoint.nextDeadline(), deadline <= now {
            statistics.events += 1
            hosts[index].endpoint.handleTimeout(now: now)
        }
        var pending = drainEvents(index)
        var passes = 0
        repeat {
            if hosts[index].clientIndex != nil {
                hosts[index].runClient(invariants: &invariants, chunk: &chunk, now: now)
                if hosts[index].roundDone { finishRound(index) }
                // Counted when the workload is done: the connection may end
                // (idle timeout) and be forgotten before the run does.
                if hosts[index].isDone { count(index) }
            } else {
                hosts[index].runServer(clientSpecs: clientSpecs, invariants: &invariants, chunk: &chunk)
            }
            transmit(index)
            pending = drainEvents(index)
            passes += 1
        } while pending && passes < Self.maxPassesPerStep
        hosts[index].needsService = pending
        hosts[index].seenCompletions = invariants.completions
    }

    /// Whether host `index` can have anything to do now: a datagram reached
    /// it, its endpoint's deadline or its workload's wake-up is due, it
    /// connected, or a stream of a client completed (its phase may be done).
    /// Servicing any other host would change nothing (its events are
    /// drained, its streams wait for readiness events, its endpoint has
    /// nothing due), so skipping it keeps the run identical and saves a pass
    /// over every host at every step.
    private func needsService(_ index: Int) -> Bool {
        if hosts[index].needsService { return true }
        if hosts[index].clientIndex != nil, hosts[index].seenCompletions != invariants.completions { return true }
        if let deadline = hosts[index].endpoint.nextDeadline(), deadline <= now { return true }
        if let wake = hosts[index].wakeTime, wake <= now { return true }
        return false
    }

    /// Workload passes per host per step: a pass runs while events keep
    /// coming; 16 is far above the two or three a request, its response and
    /// the next request need, and bounds a host that would never settle.
    static let maxPassesPerStep = 16

    /// Hands host `index`'s datagrams to the network.
    func transmit(_ index: Int) {
        let source = hosts[index].spec.address
        let next = firstHop(of: index)
        while let transmit = buffer.withUnsafeMutableBytes({ hosts[index].endpoint.pollTransmit(now: now, into: $0) }) {
            let segment = transmit.segmentSize ?? transmit.count
            var start = 0
            while start < transmit.count {
                let end = min(start + max(segment, 1), transmit.count)
                statistics.datagramsSent += 1
                forward(Datagram(source: source, destination: transmit.destination, bytes: Array(buffer[start..<end])),
                        from: .host(index), to: next)
                start = end
            }
        }
    }

    /// The node a host's datagrams enter first: its NAT, or the internet.
    func firstHop(of index: Int) -> Node {
        hosts[index].spec.behind.flatMap { name in nats.firstIndex { $0.spec.name == name } }.map(Node.nat) ?? .internet
    }

    /// Hands host `index` its endpoint's events; true when there were any.
    @discardableResult
    func drainEvents(_ index: Int) -> Bool {
        var any = false
        while let event = hosts[index].endpoint.pollEvent() {
            any = true
            if case .pathChanged = event { statistics.pathChanges += 1 }
            hosts[index].handle(event, invariants: &invariants, now: now)
        }
        return any
    }

    private func nextTime() -> Timestamp? {
        var next = queue.nextTime
        for host in hosts {
            for candidate in [host.endpoint.nextDeadline(), host.wakeTime].compactMap({ $0 }) {
                next = min(next ?? candidate, candidate)
            }
        }
        return next
    }
}
