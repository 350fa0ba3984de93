import SecureStreamsCore

/// The scenario file's per-host endpoint settings, per-client criteria,
/// link drop lists and cross traffic (docs/SIMULATOR.md, "Reference").
extension ScenarioFile {
    /// Workload phases × connections per client: the stream header carries the
    /// phase in 2 bytes (``Content/header(client:phase:ordinal:)``).
    static let maxPhasesPerClient = 65_535

    static func endpointSettings(_ cursor: Cursor) throws(ScenarioError) -> EndpointSettings {
        try cursor.allow(["alwaysRequireCookie", "keyUpdatePackets", "keyUpdateIntervalSeconds", "idleTimeoutSeconds",
                          "handshakeTimeoutSeconds", "keepAliveIntervalMs", "maxAckDelayMs", "maxDatagramSize",
                          "initialMaxStreams", "initialMaxData", "initialMaxStreamData"])
        var settings = EndpointSettings()
        if let value = try cursor.optional("alwaysRequireCookie") { settings.alwaysRequireCookie = try value.bool() }
        if let value = try cursor.optional("keyUpdatePackets") { settings.keyUpdatePackets = UInt64(try value.integer(in: 1...(1 << 40))) }
        if let value = try cursor.optional("keyUpdateIntervalSeconds") { settings.keyUpdateInterval = try value.seconds(positive: true) }
        if let value = try cursor.optional("idleTimeoutSeconds") { settings.idleTimeout = try value.seconds(positive: true) }
        if let value = try cursor.optional("handshakeTimeoutSeconds") { settings.handshakeTimeout = try value.seconds(positive: true) }
        if let value = try cursor.optional("keepAliveIntervalMs") {
            let interval = try value.milliseconds()
            guard interval > .zero else { throw value.expected("a number of milliseconds above 0") }
            settings.keepAliveInterval = interval
        }
        if let value = try cursor.optional("maxAckDelayMs") { settings.maxAckDelay = try value.milliseconds() }
        // 1200 is the smallest a path must carry (PROTOCOL.md §9); 65507 is UDP's largest payload over IPv4.
        if let value = try cursor.optional("maxDatagramSize") { settings.maxDatagramSize = try value.integer(in: 1_200...65_507) }
        if let value = try cursor.optional("initialMaxStreams") { settings.initialMaxStreams = UInt64(try value.integer(in: 1...(1 << 30))) }
        if let value = try cursor.optional("initialMaxData") { settings.initialMaxData = UInt64(try value.integer(in: 1_024...(1 << 40))) }
        if let value = try cursor.optional("initialMaxStreamData") {
            settings.initialMaxStreamData = UInt64(try value.integer(in: 1_024...(1 << 40)))
        }
        return settings
    }

    static func clientCriteria(_ cursor: Cursor) throws(ScenarioError) -> ClientCriteria {
        try cursor.allow(["connectWithinSeconds", "completionWithinSeconds", "minGoodputMbps", "minKeyUpdates"])
        var criteria = ClientCriteria()
        if let value = try cursor.optional("connectWithinSeconds") { criteria.connectWithin = try value.seconds(positive: true) }
        if let value = try cursor.optional("completionWithinSeconds") { criteria.completionWithin = try value.seconds(positive: true) }
        if let value = try cursor.optional("minGoodputMbps") { criteria.minGoodput = try value.number(in: 0...1e6) * 1e6 }
        if let value = try cursor.optional("minKeyUpdates") { criteria.minKeyUpdates = UInt64(try value.integer(in: 0...1_000_000)) }
        return criteria
    }

    /// Drop lists, the cap on consecutive impairments, and the corruption range.
    static func linkExtras(_ link: Cursor, into spec: inout LinkSpec) throws(ScenarioError) {
        if let list = try link.optional("dropIndices") {
            let elements = try list.array()
            // A drop list names individual datagrams; 100,000 entries is far more than any handshake or transfer case needs.
            guard elements.count <= 100_000 else { throw list.failure("expected at most 100000 indices") }
            for element in elements { spec.dropIndices.insert(try element.integer(in: 0...Int(Int32.max))) }
        }
        if let cap = try link.optional("maxConsecutiveDrops") { spec.maxConsecutiveDrops = try cap.integer(in: 0...1_000_000) }
        if let range = try link.optional("corruptBytes") {
            let bounds = try range.array()
            guard bounds.count == 2 else { throw range.expected("[first, last] byte offsets") }
            let first = try bounds[0].integer(in: 0...65_535)
            let last = try bounds[1].integer(in: first...65_535)
            spec.corruptBytes = first...last
        }
    }

    static func crossFlowSpec(_ flow: Cursor, hosts: [HostSpec], taken: [CrossFlowSpec]) throws(ScenarioError) -> CrossFlowSpec {
        try flow.allow(["name", "kind", "from", "to", "port", "rateMbps", "packetBytes", "startMs", "durationMs"])
        let name = try flow.required("name").name()
        guard !taken.contains(where: { $0.name == name }) else { throw flow.member("name").failure("a second flow \"\(name)\"") }
        func host(_ key: String) throws(ScenarioError) -> HostSpec {
            let cursor = try flow.required(key)
            let text = try cursor.string()
            guard let spec = hosts.first(where: { $0.name == text }) else { throw cursor.expected("the name of a host") }
            return spec
        }
        let from = try host("from")
        let to = try host("to")
        guard from.name != to.name else { throw flow.member("to").failure("expected a host other than \"from\"") }
        let portCursor = try flow.required("port")
        let port = UInt16(try portCursor.integer(in: 1...65_535))
        guard port != from.address.port, port != to.address.port else {
            throw portCursor.failure("expected a port other than the hosts' own (\(from.address.port), \(to.address.port))")
        }
        let kindCursor = try flow.required("kind")
        let kind: CrossFlowSpec.Kind
        switch try kindCursor.string() {
        case "udp":
            let rate = try flow.required("rateMbps").number(in: 0.001...1e5)
            kind = .constantRate(bitsPerSecond: UInt64(rate * 1e6))
        case "reno": kind = .tcp(.reno)
        case "cubic": kind = .tcp(.cubic)
        case let other: throw kindCursor.failure("expected \"udp\", \"reno\" or \"cubic\", got \"\(other)\"")
        }
        if case .tcp = kind, try flow.optional("rateMbps") != nil {
            throw flow.member("rateMbps").failure("only a \"udp\" flow has a rate")
        }
        var spec = CrossFlowSpec(name: name, kind: kind, from: from.name, to: to.name, port: port)
        if let size = try flow.optional("packetBytes") { spec.packetBytes = try size.integer(in: 64...65_507) }
        if let start = try flow.optional("startMs") { spec.start = try start.milliseconds() }
        if let duration = try flow.optional("durationMs") { spec.duration = try duration.milliseconds() }
        return spec
    }
}

extension Cursor {
    /// `a.b.c.d:port` or `[v6]:port`; without a port, `a.b.c.d` or `v6`.
    func address(withPort: Bool) throws(ScenarioError) -> PeerAddress {
        let what = withPort ? "an address with a port (\"10.0.0.1:4000\", \"[2001:db8::1]:4000\")"
            : "an address (\"198.51.100.1\", \"2001:db8::1\")"
        guard case .string(let text) = value else { throw expected(what) }
        var host = Substring(text)
        var port: UInt16 = 0
        if withPort {
            guard let colon = text.lastIndex(of: ":"), let parsed = UInt16(text[text.index(after: colon)...]), parsed > 0 else {
                throw expected(what)
            }
            port = parsed
            host = text[..<colon]
            if host.hasPrefix("[") {
                guard host.hasSuffix("]") else { throw expected(what) }
                host = host.dropFirst().dropLast()
                guard host.contains(":") else { throw expected(what) }
            } else if host.contains(":") {
                throw expected(what)
            }
        }
        guard let bytes = host.contains(":") ? Self.ipv6Bytes(host) : Self.ipv4Bytes(host),
              let address = PeerAddress(ipBytes: bytes, port: port) else { throw expected(what) }
        return address
    }

    static func ipv4Bytes(_ text: Substring) -> [UInt8]? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
        return octets.count == 4 ? octets : nil
    }

    /// RFC 4291 §2.2 text: eight groups of hex, or fewer with one `::`.
    static func ipv6Bytes(_ text: Substring) -> [UInt8]? {
        func groups(_ part: Substring) -> [UInt16]? {
            guard !part.isEmpty else { return [] }
            var result: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), let value = UInt16(group, radix: 16) else { return nil }
                result.append(value)
            }
            return result
        }
        let halves = text.split(separator: "::", omittingEmptySubsequences: false)
        var words: [UInt16]
        switch halves.count {
        case 1:
            guard let all = groups(halves[0]), all.count == 8 else { return nil }
            words = all
        case 2:
            guard let head = groups(halves[0]), let tail = groups(halves[1]), head.count + tail.count < 8 else {
                return nil
            }
            words = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        default:
            return nil
        }
        return words.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }
}
