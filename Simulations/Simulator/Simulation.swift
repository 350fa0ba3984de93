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
            if case .client(_, let workload) = spec.role { workload.count } else { 0 }
        })
        var clientCount = 0
        for spec in scenario.hosts {
            var keys = root.fork(label: "keys:\(spec.name)")
            let configuration = EndpointConfiguration(identity: HostIdentity(using: &keys))
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
        for event in scenario.events {
            queue.schedule(.timed(event.action), at: Timestamp.zero + event.at)
        }
    }

    func run() -> Verdict {
        let budgetEnd = Timestamp.zero + scenario.budget
        connectClients()
        var drainUntil: Timestamp?
        var stalled = 0
        while true {
            var rounds = 0
            repeat {
                while let (_, happening) = queue.popDue(at: now) { process(happening) }
                for index in hosts.indices { service(index) }
                rounds += 1
            } while queue.nextTime.map({ $0 <= now }) == true && rounds < 1_000
            if invariants.hasCorrectnessViolation || !invariants.violations.isEmpty && statistics.completion == nil {
                break
            }
            if statistics.completion == nil, hosts.allSatisfy({ $0.clientIndex == nil || $0.isDone }) {
                statistics.completion = now - .zero
                snapshotConnections()
                closeClients()
                drainUntil = now + .seconds(1)
            }
            if let drainUntil, now >= drainUntil { break }
            guard let next = nextTime() else {
                if statistics.completion == nil { invariants.fail(.liveness, "nothing left to happen at \(now) and the workloads are unfinished") }
                break
            }
            let target = drainUntil.map { min(max(now, next), $0) } ?? max(now, next)
            sampler.observe(hosts, delivered: invariants.deliveredBytes, now: now, next: target)
            if next > budgetEnd, statistics.completion == nil {
                invariants.fail(.liveness, "virtual-time budget of \(scenario.budget) exhausted; \(progress())")
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

    private func connectClients() {
        for index in hosts.indices {
            guard case .client(let serverName, _) = hosts[index].spec.role,
                  let server = hosts.firstIndex(where: { $0.spec.name == serverName }) else { continue }
            do {
                hosts[index].connection = try hosts[index].endpoint.connect(
                    to: hosts[server].endpoint.endpointID, at: hosts[server].spec.address,
                    service: "sim", protocol: "workload", now: now)
            } catch {
                invariants.fail(.correctness, "\(hosts[index].spec.name): connect refused: \(error)")
            }
        }
    }

    private func service(_ index: Int) {
        if let deadline = hosts[index].endpoint.nextDeadline(), deadline <= now {
            statistics.events += 1
            hosts[index].endpoint.handleTimeout(now: now)
        }
        drainEvents(index)
        if hosts[index].clientIndex != nil {
            hosts[index].runClient(invariants: &invariants, chunk: &chunk, now: now)
        } else {
            hosts[index].runServer(clientSpecs: clientSpecs, invariants: &invariants, chunk: &chunk)
        }
        let source = hosts[index].spec.address
        let next = hosts[index].spec.behind.flatMap { name in nats.firstIndex { $0.spec.name == name } }.map(Node.nat) ?? .internet
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
        drainEvents(index)
    }

    private func drainEvents(_ index: Int) {
        while let event = hosts[index].endpoint.pollEvent() {
            if case .pathChanged = event { statistics.pathChanges += 1 }
            hosts[index].handle(event, invariants: &invariants, now: now)
        }
    }

    private func closeClients() {
        for index in hosts.indices {
            guard let connection = hosts[index].connection, !hosts[index].closed.contains(connection) else { continue }
            hosts[index].endpoint.close(connection, now: now)
        }
    }

    private func snapshotConnections() {
        var smoothed = Duration.zero
        var minimum: Duration?
        for host in hosts {
            guard let connection = host.connection, let stats = host.endpoint.statistics(of: connection) else { continue }
            statistics.bytesRetransmitted += stats.bytesRetransmitted
            statistics.packetsLost += stats.packetsLost
            smoothed = max(smoothed, stats.smoothedRTT)
            minimum = min(minimum ?? stats.minimumRTT, stats.minimumRTT)
        }
        statistics.smoothedRTT = smoothed
        statistics.minimumRTT = minimum ?? .zero
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

    private func progress() -> String {
        hosts.compactMap { host -> String? in
            guard let client = host.clientIndex else { return nil }
            let state = host.isDone ? "done" : host.isConnected ? "in phase \(host.phase)" : "not connected"
            return "client \(client) (\(host.spec.name)) \(state)"
        }.joined(separator: ", ")
    }

    // MARK: - Network

    private func name(of node: Node) -> String {
        switch node {
        case .host(let index): hosts[index].spec.name
        case .nat(let index): nats[index].spec.name
        case .internet: internetNodeName
        }
    }

    private func drop(_ cause: String) { drops[cause, default: 0] += 1 }

    /// Puts a datagram on the link `from -> to` (an ideal one when the scenario has none).
    private func forward(_ datagram: Datagram, from: Node, to: Node) {
        guard let index = linkIndex["\(name(of: from))->\(name(of: to))"] else {
            queue.schedule(.arrive(datagram, at: to, from: from, link: nil), at: now)
            return
        }
        switch links[index].send(datagram.bytes, now: now) {
        case .dropped(let reason):
            drop("link:\(reason.rawValue)")
        case .deliver(let copies):
            for copy in copies where copy.arrival != .distantFuture {
                var delivered = datagram
                delivered.bytes = copy.bytes
                queue.schedule(.arrive(delivered, at: to, from: from, link: index), at: copy.arrival)
            }
        }
    }

    private func process(_ happening: Happening) {
        statistics.events += 1
        switch happening {
        case .arrive(let datagram, let node, let from, let link):
            if let link, links[link].state == .down { return drop("link:down") }
            if let observer {
                observer(DeliveredDatagram(time: now - .zero, link: "\(name(of: from))->\(name(of: node))",
                                           source: datagram.source, destination: datagram.destination, bytes: datagram.bytes))
            }
            arrive(datagram, at: node, from: from)
        case .timed(let action):
            apply(action)
        case .linkUp(let index):
            links[index].state = .up
        }
    }

    private func arrive(_ datagram: Datagram, at node: Node, from: Node) {
        switch node {
        case .host(let index):
            guard datagram.destination == hosts[index].spec.address else { return drop("host:misaddressed") }
            statistics.datagramsDelivered += 1
            trace.add(datagram, at: now)
            var bytes = datagram.bytes
            bytes.withUnsafeMutableBytes { hosts[index].endpoint.handleDatagram($0, from: datagram.source, now: now) }
        case .internet:
            if let host = hosts.firstIndex(where: { $0.spec.behind == nil && $0.spec.address.ipBytes == datagram.destination.ipBytes }) {
                forward(datagram, from: .internet, to: .host(host))
            } else if let nat = nats.firstIndex(where: { $0.owns(datagram.destination) }) {
                forward(datagram, from: .internet, to: .nat(nat))
            } else {
                drop("internet:noRoute")
            }
        case .nat(let index):
            let verdict: NATBox.Verdict
            if case .host = from {
                verdict = nats[index].outbound(datagram, now: now)
            } else {
                verdict = nats[index].inbound(datagram, now: now)
            }
            switch verdict {
            case .toOutside(let translated):
                forward(translated, from: node, to: .internet)
            case .toInside(let translated, let inside):
                guard let host = hosts.firstIndex(where: { $0.spec.behind == nats[index].spec.name && $0.spec.address == inside }) else {
                    return drop("nat:noHost")
                }
                forward(translated, from: node, to: .host(host))
            case .dropped(let cause, _):
                drop("nat:\(cause)")
            }
        }
    }

    private func links(named label: String) -> [Int] {
        if let index = linkIndex[label] { return [index] }
        let parts = label.split(separator: "<->", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return [] }
        return ["\(parts[0])->\(parts[1])", "\(parts[1])->\(parts[0])"].compactMap { linkIndex[$0] }
    }

    private func apply(_ action: TimedEvent.Action) {
        switch action {
        case .linkDown(let label):
            for index in links(named: label) { links[index].state = .down }
        case .linkUp(let label):
            for index in links(named: label) { links[index].state = .up }
        case .blackhole(let label, let duration):
            for index in links(named: label) {
                links[index].state = .down
                queue.schedule(.linkUp(index), at: now + duration)
            }
        case .setBandwidth(let label, let bandwidth):
            for index in links(named: label) { links[index].spec.bandwidth = bandwidth }
        case .setDelay(let label, let delay):
            for index in links(named: label) { links[index].spec.delay = delay }
        case .setLoss(let label, let loss):
            for index in links(named: label) { links[index].spec.loss = loss }
        case .natRebindPort(let name):
            for index in nats.indices where nats[index].spec.name == name { nats[index].rebindPorts(now: now) }
        case .natRebindAddress(let name):
            for index in nats.indices where nats[index].spec.name == name { nats[index].rebindAddress() }
        }
    }

    // MARK: - Verdict

    private func verdict() -> Verdict {
        statistics.duration = now - .zero
        if statistics.completion == nil { snapshotConnections() }
        statistics.payloadBytes = clientSpecs.enumerated().reduce(0) { total, entry in
            guard case .client(_, let workload) = entry.element.role else { return total }
            return total + workload.enumerated().reduce(0) { $0 + $1.element.payloadBytes(client: entry.offset, phase: $1.offset) }
        }
        if let completion = statistics.completion {
            let seconds = Double(completion.nanosecondsClamped) / 1e9
            statistics.goodput = seconds > 0 ? Double(statistics.payloadBytes) * 8 / seconds : 0
        }
        statistics.drops = drops.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        statistics.traceHash = trace.hex
        statistics.natMappings = nats.reduce(0) { $0 + $1.mappingsCreated }

        var outcome = Verdict.Outcome.success
        var details: [String] = []
        let correctness = invariants.violations.filter { $0.kind == .correctness }
        let liveness = invariants.violations.filter { $0.kind == .liveness }
        if !correctness.isEmpty {
            outcome = .correctnessFailure
            details = correctness.map(\.message) + liveness.map(\.message)
        } else if !liveness.isEmpty {
            outcome = .livenessFailure
            details = liveness.map(\.message)
        } else {
            if let bound = scenario.criteria.completionWithin, let completion = statistics.completion, completion > bound {
                outcome = .correctnessFailure
                details.append("criterion: completion within \(bound), took \(completion)")
            }
            if let goodput = scenario.criteria.minGoodput, statistics.goodput < goodput {
                outcome = .correctnessFailure
                details.append("criterion: goodput ≥ \(Int(goodput)) bit/s, got \(Int(statistics.goodput)) bit/s")
            }
        }
        var flows = sampler.series
        for host in hosts {
            guard let client = host.clientIndex else { continue }
            flows[client].connectedAt = host.connectedAt.map { $0 - .zero }
            flows[client].completedAt = host.doneAt.map { $0 - .zero }
            flows[client].deliveredBytes = invariants.deliveredBytes[client]
        }
        return Verdict(outcome: outcome, details: details, scenario: scenario.name, seed: seed, statistics: statistics,
                       flows: flows)
    }
}
