import SecureStreamsCore

/// A scenario file that does not describe a scenario: where and what.
public struct ScenarioError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A JSON path such as `links[1].loss` (`$` for the whole document).
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// Reads scenario files (the schema is docs/SIMULATOR.md). Every error
/// names the JSON path it is about and what was expected there; unknown
/// members are errors too, so a misspelt knob is not silently ignored.
public enum ScenarioFile {
    public static func parse(_ bytes: [UInt8]) throws(ScenarioError) -> Scenario {
        let document: JSON
        do {
            document = try JSON.parse(bytes)
        } catch {
            throw ScenarioError(path: "$", message: "not JSON: \(error)")
        }
        return try scenario(Cursor(value: document, path: ""))
    }

    public static func parse(_ text: String) throws(ScenarioError) -> Scenario {
        try parse(Array(text.utf8))
    }

    private static func scenario(_ root: Cursor) throws(ScenarioError) -> Scenario {
        try root.allow(["name", "description", "seed", "budgetSeconds", "hosts", "nats", "links", "events", "criteria", "crossTraffic"])
        var scenario = Scenario(name: try root.required("name").string(), hosts: [])
        if let summary = try root.optional("description") { scenario.summary = try summary.string() }
        if let seed = try root.optional("seed") { scenario.seed = UInt64(try seed.integer(in: 0...Int.max)) }
        if let budget = try root.optional("budgetSeconds") { scenario.budget = try budget.seconds(positive: true) }

        var nodeNames: [String] = [internetNodeName]
        var natNames: [String] = []
        for nat in try root.optional("nats")?.array() ?? [] {
            let spec = try natSpec(nat)
            guard !nodeNames.contains(spec.name) else { throw nat.member("name").failure("the name \"\(spec.name)\" is taken") }
            nodeNames.append(spec.name)
            natNames.append(spec.name)
            scenario.nats.append(spec)
        }
        let hosts = try root.required("hosts").array()
        guard !hosts.isEmpty else { throw root.member("hosts").failure("expected at least one host") }
        for host in hosts {
            let spec = try hostSpec(host, natNames: natNames)
            guard !nodeNames.contains(spec.name) else { throw host.member("name").failure("the name \"\(spec.name)\" is taken") }
            nodeNames.append(spec.name)
            scenario.hosts.append(spec)
        }
        for (host, spec) in zip(hosts, scenario.hosts) {
            guard case .client(let server, _) = spec.role else { continue }
            guard let target = scenario.hosts.first(where: { $0.name == server }), target.role == .server, target.behind == nil else {
                throw host.member("server").failure("expected the name of a server host on the internet, got \"\(server)\"")
            }
        }
        for link in try root.optional("links")?.array() ?? [] {
            for spec in try linkSpecs(link, nodeNames: nodeNames) {
                guard !scenario.links.contains(where: { $0.label == spec.label }) else {
                    throw link.failure("a second link \(spec.label)")
                }
                scenario.links.append(spec)
            }
        }
        for flow in try root.optional("crossTraffic")?.array() ?? [] {
            scenario.crossTraffic.append(try crossFlowSpec(flow, hosts: scenario.hosts, taken: scenario.crossTraffic))
        }
        let labels = scenario.links.map(\.label)
        for event in try root.optional("events")?.array() ?? [] {
            scenario.events.append(try timedEvent(event, linkLabels: labels, natNames: natNames))
        }
        if let criteria = try root.optional("criteria") {
            try criteria.allow(["completionWithinSeconds", "minGoodputMbps"])
            if let within = try criteria.optional("completionWithinSeconds") {
                scenario.criteria.completionWithin = try within.seconds(positive: true)
            }
            if let goodput = try criteria.optional("minGoodputMbps") {
                scenario.criteria.minGoodput = try goodput.number(in: 0...1e6) * 1e6
            }
        }
        return scenario
    }

    private static func natSpec(_ nat: Cursor) throws(ScenarioError) -> NATSpec {
        try nat.allow(["name", "publicAddress", "mapping", "filtering", "portAssignment", "bindingTimeoutSeconds", "hairpinning"])
        var spec = NATSpec(name: try nat.required("name").name(), publicAddress: try nat.required("publicAddress").address(withPort: false))
        if let mapping = try nat.optional("mapping") { spec.mapping = try mapping.choice(NATBehavior.self) }
        if let filtering = try nat.optional("filtering") { spec.filtering = try filtering.choice(NATBehavior.self) }
        if let ports = try nat.optional("portAssignment") { spec.portAssignment = try ports.choice(PortAssignment.self) }
        if let timeout = try nat.optional("bindingTimeoutSeconds") { spec.bindingTimeout = try timeout.seconds(positive: true) }
        if let hairpinning = try nat.optional("hairpinning") { spec.hairpinning = try hairpinning.bool() }
        return spec
    }

    private static func hostSpec(_ host: Cursor, natNames: [String]) throws(ScenarioError) -> HostSpec {
        let name = try host.required("name").name()
        let address = try host.required("address").address(withPort: true)
        var behind: String?
        if let nat = try host.optional("behind") {
            let natName = try nat.string()
            guard natNames.contains(natName) else { throw nat.failure("expected the name of a NAT, got \"\(natName)\"") }
            behind = natName
        }
        let common = ["name", "address", "role", "behind", "endpoint"]
        let role = try host.required("role")
        var spec: HostSpec
        switch try role.string() {
        case "server":
            try host.allow(common)
            spec = HostSpec(name: name, address: address, role: .server, behind: behind)
        case "client":
            try host.allow(common + ["server", "workload", "startMs", "connections", "criteria"])
            let server = try host.required("server").string()
            let phases = try host.required("workload").array()
            guard !phases.isEmpty else { throw host.member("workload").failure("expected at least one phase") }
            var workload: [WorkloadPhase] = []
            for phase in phases { workload.append(try workloadPhase(phase)) }
            spec = HostSpec(name: name, address: address, role: .client(server: server, workload: workload), behind: behind)
            if let start = try host.optional("startMs") { spec.start = try start.milliseconds() }
            if let connections = try host.optional("connections") { spec.connections = try connections.integer(in: 1...10_000) }
            guard workload.count * spec.connections <= maxPhasesPerClient else {
                throw host.member("connections").failure("workload phases × connections must be at most \(maxPhasesPerClient)")
            }
            if let criteria = try host.optional("criteria") { spec.criteria = try clientCriteria(criteria) }
        case let other:
            throw role.failure("expected \"server\" or \"client\", got \"\(other)\"")
        }
        if let endpoint = try host.optional("endpoint") { spec.endpoint = try endpointSettings(endpoint) }
        return spec
    }

    private static func workloadPhase(_ phase: Cursor) throws(ScenarioError) -> WorkloadPhase {
        let kind = try phase.required("kind")
        switch try kind.string() {
        case "bulk":
            try phase.allow(["kind", "bytes", "streams"])
            let bytes = try phase.required("bytes").integer(in: 1...(1 << 40))
            let streams = try phase.optional("streams")?.integer(in: 1...10_000) ?? 1
            return .bulk(bytes: bytes, streams: streams)
        case "requestResponse":
            try phase.allow(["kind", "count", "requestBytes", "responseBytes"])
            return .requestResponse(count: try phase.required("count").integer(in: 1...1_000_000),
                                    requestBytes: try phase.required("requestBytes").integer(in: 0...(1 << 32)),
                                    responseBytes: try phase.required("responseBytes").integer(in: 0...(1 << 32)))
        case "records":
            try phase.allow(["kind", "count", "minBytes", "maxBytes", "streams"])
            let minBytes = try phase.required("minBytes").integer(in: 1...(1 << 24))
            let maxBytes = try phase.required("maxBytes").integer(in: minBytes...(1 << 24))
            return .records(count: try phase.required("count").integer(in: 1...10_000_000), minBytes: minBytes,
                            maxBytes: maxBytes, streams: try phase.optional("streams")?.integer(in: 1...10_000) ?? 1)
        case "idle":
            try phase.allow(["kind", "durationMs"])
            return .idle(try phase.required("durationMs").milliseconds())
        case "keyUpdate":
            try phase.allow(["kind"])
            return .keyUpdate
        case let other:
            throw kind.failure("expected \"bulk\", \"requestResponse\", \"records\", \"idle\" or \"keyUpdate\", got \"\(other)\"")
        }
    }

    private static func linkSpecs(_ link: Cursor, nodeNames: [String]) throws(ScenarioError) -> [LinkSpec] {
        try link.allow(["from", "to", "bidirectional", "delayMs", "jitterMs", "bandwidthMbps", "queuePackets", "queueBytes",
                        "mtu", "loss", "burstLoss", "reorder", "duplicate", "corrupt", "corruptBytes", "dropIndices",
                        "maxConsecutiveDrops"])
        let from = try link.required("from").node(in: nodeNames)
        let to = try link.required("to").node(in: nodeNames)
        guard from != to else { throw link.member("to").failure("expected a node other than \"from\"") }
        var spec = LinkSpec(from: from, to: to)
        if let delay = try link.optional("delayMs") { spec.delay = try delay.milliseconds() }
        if let jitter = try link.optional("jitterMs") { spec.jitter = try jitter.milliseconds() }
        if let bandwidth = try link.optional("bandwidthMbps") { spec.bandwidth = UInt64(try bandwidth.number(in: 0...1e6) * 1e6) }
        if let packets = try link.optional("queuePackets") { spec.queuePackets = try packets.integer(in: 1...10_000_000) }
        if let bytes = try link.optional("queueBytes") { spec.queueBytes = try bytes.integer(in: 1...(1 << 40)) }
        if let mtu = try link.optional("mtu") { spec.mtu = try mtu.integer(in: 68...65_535) }
        if let loss = try link.optional("loss") { spec.loss = try loss.probability() }
        if let burst = try link.optional("burstLoss") {
            try burst.allow(["goodToBad", "badToGood", "lossInGood", "lossInBad"])
            spec.burstLoss = BurstLoss(goodToBad: try burst.required("goodToBad").probability(),
                                       badToGood: try burst.required("badToGood").probability(),
                                       lossInGood: try burst.optional("lossInGood")?.probability() ?? 0,
                                       lossInBad: try burst.optional("lossInBad")?.probability() ?? 1)
        }
        if let reorder = try link.optional("reorder") {
            try reorder.allow(["probability", "delayMs"])
            spec.reorderProbability = try reorder.required("probability").probability()
            if let delay = try reorder.optional("delayMs") { spec.reorderDelay = try delay.milliseconds() }
        }
        if let duplicate = try link.optional("duplicate") { spec.duplicate = try duplicate.probability() }
        if let corrupt = try link.optional("corrupt") { spec.corrupt = try corrupt.probability() }
        try linkExtras(link, into: &spec)
        let both = try link.optional("bidirectional")?.bool() ?? false
        return both ? [spec, spec.reversed] : [spec]
    }

    private static func timedEvent(_ event: Cursor, linkLabels: [String], natNames: [String]) throws(ScenarioError) -> TimedEvent {
        let at = try event.required("atMs").milliseconds()
        let kind = try event.required("kind")
        func link() throws(ScenarioError) -> String {
            let cursor = try event.required("link")
            let label = try cursor.string()
            let parts = label.split(separator: "<->", omittingEmptySubsequences: false).map(String.init)
            let known = linkLabels.contains(label)
                || parts.count == 2 && linkLabels.contains("\(parts[0])->\(parts[1])") && linkLabels.contains("\(parts[1])->\(parts[0])")
            guard known else { throw cursor.failure("expected \"from->to\" or \"a<->b\" naming links in \"links\", got \"\(label)\"") }
            return label
        }
        func nat() throws(ScenarioError) -> String {
            let cursor = try event.required("nat")
            let name = try cursor.string()
            guard natNames.contains(name) else { throw cursor.failure("expected the name of a NAT, got \"\(name)\"") }
            return name
        }
        switch try kind.string() {
        case "linkDown":
            try event.allow(["atMs", "kind", "link"])
            return TimedEvent(at: at, .linkDown(link: try link()))
        case "linkUp":
            try event.allow(["atMs", "kind", "link"])
            return TimedEvent(at: at, .linkUp(link: try link()))
        case "blackhole":
            try event.allow(["atMs", "kind", "link", "durationMs"])
            return TimedEvent(at: at, .blackhole(link: try link(), duration: try event.required("durationMs").milliseconds()))
        case "setBandwidth":
            try event.allow(["atMs", "kind", "link", "bandwidthMbps"])
            let value = try event.required("bandwidthMbps")
            let bandwidth: UInt64? = value.value == .null ? nil : UInt64(try value.number(in: 0...1e6) * 1e6)
            return TimedEvent(at: at, .setBandwidth(link: try link(), bitsPerSecond: bandwidth))
        case "setDelay":
            try event.allow(["atMs", "kind", "link", "delayMs"])
            return TimedEvent(at: at, .setDelay(link: try link(), delay: try event.required("delayMs").milliseconds()))
        case "setLoss":
            try event.allow(["atMs", "kind", "link", "loss"])
            return TimedEvent(at: at, .setLoss(link: try link(), loss: try event.required("loss").probability()))
        case "natRebind":
            try event.allow(["atMs", "kind", "nat", "change"])
            let name = try nat()
            let change = try event.required("change")
            switch try change.string() {
            case "port": return TimedEvent(at: at, .natRebindPort(nat: name))
            case "address": return TimedEvent(at: at, .natRebindAddress(nat: name))
            case let other: throw change.failure("expected \"port\" or \"address\", got \"\(other)\"")
            }
        case let other:
            throw kind.failure("""
                expected one of "linkDown", "linkUp", "blackhole", "setBandwidth", "setDelay", "setLoss", "natRebind", got "\(other)"
                """)
        }
    }
}

/// A JSON value and the path that led to it.
struct Cursor {
    let value: JSON
    let path: String

    var shownPath: String { path.isEmpty ? "$" : path }

    func failure(_ message: String) -> ScenarioError { ScenarioError(path: shownPath, message: message) }

    func expected(_ what: String) -> ScenarioError { failure("expected \(what), got \(value.summary)") }

    /// The member's cursor (its value `null` when absent), for error paths.
    func member(_ key: String) -> Cursor {
        var found = JSON.null
        if case .object(let members) = value, let member = members.first(where: { $0.key == key }) { found = member.value }
        return Cursor(value: found, path: path.isEmpty ? key : "\(path).\(key)")
    }

    func members() throws(ScenarioError) -> [(key: String, value: JSON)] {
        guard case .object(let members) = value else { throw expected("an object") }
        return members
    }

    func optional(_ key: String) throws(ScenarioError) -> Cursor? {
        guard try members().contains(where: { $0.key == key }) else { return nil }
        return member(key)
    }

    func required(_ key: String) throws(ScenarioError) -> Cursor {
        guard let found = try optional(key) else { throw member(key).failure("required member is missing") }
        return found
    }

    /// Rejects members not in `known`.
    func allow(_ known: [String]) throws(ScenarioError) {
        for (key, _) in try members() where !known.contains(key) {
            throw member(key).failure("unknown member; expected one of \(known.joined(separator: ", "))")
        }
    }

    func array() throws(ScenarioError) -> [Cursor] {
        guard case .array(let elements) = value else { throw expected("an array") }
        return elements.enumerated().map { Cursor(value: $1, path: "\(shownPath)[\($0)]") }
    }

    func string() throws(ScenarioError) -> String {
        guard case .string(let text) = value else { throw expected("a string") }
        return text
    }

    func name() throws(ScenarioError) -> String {
        let text = try string()
        guard !text.isEmpty, !text.contains("->"), !text.contains("<->") else { throw expected("a non-empty name without \"->\"") }
        return text
    }

    func node(in names: [String]) throws(ScenarioError) -> String {
        let text = try string()
        guard names.contains(text) else { throw expected("a host, a NAT or \"internet\"") }
        return text
    }

    func bool() throws(ScenarioError) -> Bool {
        guard case .bool(let flag) = value else { throw expected("true or false") }
        return flag
    }

    func number(in range: ClosedRange<Double>) throws(ScenarioError) -> Double {
        guard case .number(let number) = value, range.contains(number) else {
            throw expected("a number between \(JSON.number(range.lowerBound).summary) and \(JSON.number(range.upperBound).summary)")
        }
        return number
    }

    func probability() throws(ScenarioError) -> Double { try number(in: 0...1) }

    func integer(in range: ClosedRange<Int>) throws(ScenarioError) -> Int {
        // Int(exactly:) refuses fractions and what Int cannot hold: comparing with
        // Double(range.upperBound) instead let 2^63 through for Int.max (a trap).
        guard case .number(let number) = value, let whole = Int(exactly: number), range.contains(whole) else {
            throw expected("a whole number between \(range.lowerBound) and \(range.upperBound)")
        }
        return whole
    }

    func milliseconds() throws(ScenarioError) -> Duration {
        .nanoseconds(Int64(try number(in: 0...1e9) * 1e6))
    }

    func seconds(positive: Bool) throws(ScenarioError) -> Duration {
        let value = try number(in: 0...1e6)
        guard !positive || value > 0 else { throw expected("a number of seconds above 0") }
        return .nanoseconds(Int64(value * 1e9))
    }

    func choice<T: RawRepresentable & CaseIterable>(_: T.Type) throws(ScenarioError) -> T where T.RawValue == String {
        let options = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        guard case .string(let text) = value, let choice = T(rawValue: text) else { throw expected("one of \(options)") }
        return choice
    }
}
