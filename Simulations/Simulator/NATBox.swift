import SecureStreamsCore

/// A NAT after RFC 4787: mapping and filtering each endpoint-independent,
/// address-dependent or address-and-port-dependent; port preservation,
/// sequential or random assignment; binding timeout refreshed by outbound
/// traffic; optional hairpinning; and rebinding on demand.
///
/// Mappings live in dictionaries for lookup only; anything that walks them
/// (rebinding) sorts by creation order first, so no hash order leaks out.
struct NATBox {
    struct MappingKey: Hashable {
        var inside: PeerAddress
        /// The remote part the mapping depends on (zeroed where it does not).
        var remoteIP: [UInt8]
        var remotePort: UInt16
    }

    struct Mapping {
        var key: MappingKey
        var externalPort: UInt16
        var created: UInt64
        var lastOutbound: Timestamp
        /// Remote (IP, port)s this mapping sent to, for filtering.
        var contacted: Set<PeerAddress> = []
    }

    /// What happens to a datagram reaching the NAT.
    enum Verdict {
        case toInside(Datagram, host: PeerAddress)
        case toOutside(Datagram)
        /// `cause` is one word (statistics key), `detail` is for humans.
        case dropped(cause: String, detail: String)
    }

    let spec: NATSpec
    private(set) var publicAddress: PeerAddress
    var random: SeededRandom
    private var mappings: [MappingKey: Mapping] = [:]
    private var byPort: [UInt16: MappingKey] = [:]
    private var created: UInt64 = 0
    private var nextSequential: UInt16 = 49_152
    private(set) var mappingsCreated = 0
    private(set) var dropped = 0

    init(spec: NATSpec, random: SeededRandom) {
        self.spec = spec
        self.publicAddress = spec.publicAddress
        self.random = random
    }

    func owns(_ address: PeerAddress) -> Bool { address.ipBytes == publicAddress.ipBytes }

    /// A datagram from an inside host.
    mutating func outbound(_ datagram: Datagram, now: Timestamp) -> Verdict {
        guard var mapping = mapping(for: datagram.source, to: datagram.destination, now: now) else {
            dropped += 1
            return .dropped(cause: "noPort", detail: "no free port")
        }
        mapping.lastOutbound = now
        mapping.contacted.insert(datagram.destination)
        mappings[mapping.key] = mapping
        var translated = datagram
        translated.source = address(ip: publicAddress, port: mapping.externalPort)
        if owns(datagram.destination) {
            guard spec.hairpinning else {
                dropped += 1
                return .dropped(cause: "hairpinningOff", detail: "hairpinning off")
            }
            return inbound(translated, now: now)
        }
        return .toOutside(translated)
    }

    /// A datagram from outside to our public address.
    mutating func inbound(_ datagram: Datagram, now: Timestamp) -> Verdict {
        guard let key = byPort[datagram.destination.port], let mapping = live(key, now: now) else {
            dropped += 1
            return .dropped(cause: "noMapping", detail: "no mapping for port \(datagram.destination.port)")
        }
        let allowed: Bool
        switch spec.filtering {
        case .endpointIndependent: allowed = true
        case .addressDependent: allowed = mapping.contacted.contains { $0.ipBytes == datagram.source.ipBytes }
        case .addressAndPortDependent: allowed = mapping.contacted.contains(datagram.source)
        }
        guard allowed else {
            dropped += 1
            return .dropped(cause: "filtered", detail: "filtered \(datagram.source)")
        }
        var translated = datagram
        translated.destination = mapping.key.inside
        return .toInside(translated, host: mapping.key.inside)
    }

    /// Every mapping moves to a fresh external port (a NAT reboot that keeps its address).
    mutating func rebindPorts(now: Timestamp) {
        let all = mappings.values.sorted { $0.created < $1.created }
        for old in all {
            byPort[old.externalPort] = nil
            var moved = old
            moved.externalPort = freshPort(avoiding: old.externalPort, preferring: old.key.inside.port &+ 1)
            byPort[moved.externalPort] = moved.key
            mappings[moved.key] = moved
        }
    }

    /// The public address changes; ports stay.
    mutating func rebindAddress() {
        var bytes = publicAddress.ipBytes
        bytes[bytes.count - 1] &+= 1
        publicAddress = PeerAddress(ipBytes: bytes, port: 0)!
    }

    private mutating func mapping(for inside: PeerAddress, to remote: PeerAddress, now: Timestamp) -> Mapping? {
        let key: MappingKey
        switch spec.mapping {
        case .endpointIndependent: key = MappingKey(inside: inside, remoteIP: [], remotePort: 0)
        case .addressDependent: key = MappingKey(inside: inside, remoteIP: remote.ipBytes, remotePort: 0)
        case .addressAndPortDependent: key = MappingKey(inside: inside, remoteIP: remote.ipBytes, remotePort: remote.port)
        }
        if let existing = live(key, now: now) { return existing }
        let port = freshPort(avoiding: nil, preferring: inside.port)
        guard port != 0 else { return nil }
        created += 1
        mappingsCreated += 1
        let mapping = Mapping(key: key, externalPort: port, created: created, lastOutbound: now)
        mappings[key] = mapping
        byPort[port] = key
        return mapping
    }

    /// The mapping if it has not timed out (an expired one is removed).
    private mutating func live(_ key: MappingKey, now: Timestamp) -> Mapping? {
        guard let mapping = mappings[key] else { return nil }
        if now - mapping.lastOutbound > spec.bindingTimeout {
            mappings[key] = nil
            byPort[mapping.externalPort] = nil
            return nil
        }
        return mapping
    }

    /// A free external port by the assignment rule; 0 when none is left.
    private mutating func freshPort(avoiding: UInt16?, preferring: UInt16) -> UInt16 {
        func free(_ port: UInt16) -> Bool { port >= 1_024 && byPort[port] == nil && port != avoiding }
        switch spec.portAssignment {
        case .preserving:
            var port = preferring
            for _ in 0..<65_536 {
                if free(port) { return port }
                port = port == .max ? 1_024 : port + 1
            }
        case .sequential:
            for _ in 0..<65_536 {
                let port = nextSequential
                nextSequential = nextSequential == .max ? 1_024 : nextSequential + 1
                if free(port) { return port }
            }
        case .random:
            for _ in 0..<4_096 {
                let port = UInt16.random(in: 1_024...UInt16.max, using: &random)
                if free(port) { return port }
            }
            for port in UInt16(1_024)...UInt16.max where free(port) { return port }
        }
        return 0
    }

    private func address(ip: PeerAddress, port: UInt16) -> PeerAddress {
        PeerAddress(ipBytes: ip.ipBytes, port: port)!
    }
}
