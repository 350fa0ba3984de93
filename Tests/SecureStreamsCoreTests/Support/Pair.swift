@testable import SecureStreamsCore

/// Two endpoints joined by a simulated link with a manual clock (STYLE.md §9).
///
/// `step()` delivers due datagrams, fires due timeouts, drains transmits into
/// the links (with latency, loss, duplication, reordering, corruption, as
/// configured), then jumps `now` to the next deadline or arrival. Every random
/// choice comes from one seed, so a run replays exactly.
struct Pair {
    struct Link {
        var latency: Duration = .milliseconds(10)
        var lossRate: Double = 0
        var duplicateRate: Double = 0
        var reorderRate: Double = 0
        var reorderDelay: Duration = .milliseconds(15)
        var corruptRate: Double = 0
        /// Drops every datagram while set (a blackhole).
        var isDown = false
    }

    struct InFlight {
        var arrival: Timestamp
        var sequence: UInt64
        var source: PeerAddress
        var destination: PeerAddress
        var bytes: [UInt8]
    }

    var client: Endpoint
    var server: Endpoint
    var clientAddress = PeerAddress(ipv4: 10, 0, 0, 1, port: 40_000)
    let serverAddress = PeerAddress(ipv4: 10, 0, 0, 2, port: 7_000)
    var toServer = Link()
    var toClient = Link()
    var now = Timestamp(nanoseconds: 1_000_000_000)
    var inFlight: [InFlight] = []
    var sequence: UInt64 = 0
    var network: SeededRandom
    let seed: UInt64
    var clientEvents: [Event] = []
    var serverEvents: [Event] = []
    /// Every datagram put on the wire, in order, for determinism checks.
    var wireLog = BLAKE2bLog()
    var delivered = 0
    /// Whether ``step()`` polls both endpoints' events into `clientEvents`
    /// and `serverEvents`; off, events wait in the endpoints (an application
    /// that does not poll).
    var drainsEvents = true
    var buffer = [UInt8](repeating: 0, count: 2_048)
    /// Passed to `pollTransmit`: above 1 (with a `buffer` that holds several
    /// datagrams) the endpoints may answer with GSO runs, split here.
    var maxDatagrams = 1
    /// What the runs looked like.
    var runs = RunStatistics()
    /// More local addresses of the client (after ``Endpoint/migrate(_:toLocalAddress:now:)``):
    /// datagrams to them reach the client, which is told where they arrived.
    var clientAliases: [PeerAddress] = []
    /// Sees (and may change) every datagram as it is put on the wire: an
    /// on-path attacker's view (a rewritten source is a copy that raced the original).
    var tamper: ((inout InFlight) -> Void)?
    /// Datagrams and bytes put on the wire per destination, after `tamper`.
    var datagramsTo: [PeerAddress: Int] = [:]
    var bytesTo: [PeerAddress: Int] = [:]

    struct RunStatistics {
        /// Datagrams in the longest run.
        var longest = 0
        /// Runs whose datagrams were not all `segmentSize` bytes but a shorter last.
        var malformed = 0
    }

    init(seed: UInt64, configure: (inout EndpointConfiguration, Side) -> Void = { _, _ in }) {
        self.seed = seed
        let root = SeededRandom(seed: seed)
        var keys = root.fork(label: "keys")
        var clientConfiguration = EndpointConfiguration(identity: HostIdentity(using: &keys))
        var serverConfiguration = EndpointConfiguration(identity: HostIdentity(using: &keys))
        configure(&clientConfiguration, .initiator)
        configure(&serverConfiguration, .responder)
        let start = Timestamp(nanoseconds: 1_000_000_000)
        client = Endpoint(configuration: clientConfiguration, random: root.fork(label: "client"), now: start)
        server = Endpoint(configuration: serverConfiguration, random: root.fork(label: "server"), now: start)
        network = root.fork(label: "network")
        server.listen(service: "test", protocol: "bytes")
    }

    /// Connects the client to the server (IK with the server's EID, XX without).
    mutating func connect(knowingServer: Bool = true) throws -> ConnectionHandle {
        try client.connect(to: knowingServer ? server.endpointID : nil, at: serverAddress,
                           service: "test", protocol: "bytes", now: now)
    }

    /// One round: deliver, time out, transmit, then advance the clock.
    /// Returns false when nothing remains to happen.
    @discardableResult
    mutating func step() -> Bool {
        deliverDue()
        client.handleTimeout(now: now)
        server.handleTimeout(now: now)
        flush()
        if drainsEvents { drainEvents() }
        let next = [client.nextDeadline(), server.nextDeadline(), inFlight.first?.arrival].compactMap { $0 }.min()
        guard let next else { return false }
        now = max(now, next)
        return true
    }

    /// Steps until `done` holds, or fails after `maxSteps` or `timeout` of virtual time.
    mutating func drive(maxSteps: Int = 2_000_000, timeout: Duration = .seconds(600),
                        until done: (inout Pair) -> Bool) -> Bool {
        let limit = now + timeout
        for _ in 0..<maxSteps {
            if done(&self) { return true }
            guard step(), now <= limit else { return done(&self) }
        }
        return false
    }

    mutating func flush() {
        var sentSomething = true
        while sentSomething {
            sentSomething = false
            while let transmit = buffer.withUnsafeMutableBytes({
                client.pollTransmit(now: now, into: $0, maxDatagrams: maxDatagrams)
            }) {
                for segment in segments(of: transmit) {
                    send(Array(buffer[segment]), from: transmit.source ?? clientAddress, to: transmit.destination,
                         over: toServer)
                }
                sentSomething = true
            }
            while let transmit = buffer.withUnsafeMutableBytes({
                server.pollTransmit(now: now, into: $0, maxDatagrams: maxDatagrams)
            }) {
                for segment in segments(of: transmit) {
                    send(Array(buffer[segment]), from: serverAddress, to: transmit.destination, over: toClient)
                }
                sentSomething = true
            }
        }
    }

    /// Steps until nothing is in flight and no deadline falls within
    /// `horizon`, without jumping the clock to that later deadline.
    mutating func settle(horizon: Duration = .seconds(1), maxSteps: Int = 100_000) -> Bool {
        for _ in 0..<maxSteps {
            deliverDue()
            client.handleTimeout(now: now)
            server.handleTimeout(now: now)
            flush()
            drainEvents()
            let next = [client.nextDeadline(), server.nextDeadline(), inFlight.first?.arrival].compactMap { $0 }.min()
            guard let next, !inFlight.isEmpty || next <= now + horizon else { return true }
            now = max(now, next)
        }
        return false
    }

    /// The datagrams of a transmit (several for a GSO run), checking the run's shape.
    private mutating func segments(of transmit: Transmit) -> [Range<Int>] {
        let size = transmit.segmentSize ?? transmit.count
        let ranges = stride(from: 0, to: transmit.count, by: max(size, 1)).map { $0..<min($0 + size, transmit.count) }
        runs.longest = max(runs.longest, ranges.count)
        if transmit.segmentSize != nil, ranges.count < 2 || ranges.dropLast().contains(where: { $0.count != size }) {
            runs.malformed += 1
        }
        return ranges
    }

    mutating func drainEvents() {
        while let event = client.pollEvent() { clientEvents.append(event) }
        while let event = server.pollEvent() { serverEvents.append(event) }
    }

    private mutating func send(_ bytes: [UInt8], from source: PeerAddress, to destination: PeerAddress, over link: Link) {
        wireLog.append(bytes)
        var tampered = InFlight(arrival: now, sequence: 0, source: source, destination: destination, bytes: bytes)
        tamper?(&tampered)
        let (source, destination) = (tampered.source, tampered.destination)
        datagramsTo[destination, default: 0] += 1
        bytesTo[destination, default: 0] += tampered.bytes.count
        guard !link.isDown, !chance(link.lossRate) else { return }
        var bytes = tampered.bytes
        if chance(link.corruptRate) {
            let index = Int.random(in: 0..<bytes.count, using: &network)
            bytes[index] ^= UInt8.random(in: 1...255, using: &network)
        }
        var arrival = now + link.latency
        if chance(link.reorderRate) { arrival += link.reorderDelay }
        enqueue(InFlight(arrival: arrival, sequence: 0, source: source, destination: destination, bytes: bytes))
        if chance(link.duplicateRate) {
            enqueue(InFlight(arrival: arrival + .milliseconds(1), sequence: 0, source: source, destination: destination, bytes: bytes))
        }
    }

    /// Keeps `inFlight` sorted by (arrival, sequence): delivery order is deterministic.
    private mutating func enqueue(_ datagram: InFlight) {
        var datagram = datagram
        datagram.sequence = sequence
        sequence += 1
        var low = 0
        var high = inFlight.count
        while low < high {
            let mid = (low + high) / 2
            if (inFlight[mid].arrival, inFlight[mid].sequence) <= (datagram.arrival, datagram.sequence) {
                low = mid + 1
            } else {
                high = mid
            }
        }
        inFlight.insert(datagram, at: low)
    }

    private mutating func deliverDue() {
        var delivering = 0
        while delivering < inFlight.count, inFlight[delivering].arrival <= now { delivering += 1 }
        let due = inFlight[0..<delivering]
        inFlight.removeFirst(delivering)
        for datagram in due { deliver(datagram) }
    }

    /// Hands one datagram to its endpoint now, whatever its arrival time.
    mutating func deliver(_ datagram: InFlight) {
        var datagram = datagram
        delivered += 1
        datagram.bytes.withUnsafeMutableBytes { bytes in
            if datagram.destination == serverAddress {
                server.handleDatagram(bytes, from: datagram.source, now: now)
            } else if datagram.destination == clientAddress {
                client.handleDatagram(bytes, from: datagram.source, now: now)
            } else if clientAliases.contains(datagram.destination) {
                client.handleDatagram(bytes, from: datagram.source, to: datagram.destination, now: now)
            }
            // Anything else goes nowhere (an old client address after a rebinding).
        }
    }

    /// Removes and returns the datagrams in flight to `destination`, oldest first.
    mutating func takeInFlight(to destination: PeerAddress) -> [InFlight] {
        let taken = inFlight.filter { $0.destination == destination }
        inFlight.removeAll { $0.destination == destination }
        return taken
    }

    private mutating func chance(_ rate: Double) -> Bool {
        rate > 0 && Double.random(in: 0..<1, using: &network) < rate
    }

    /// The handle of the first `connected` event seen by `side`.
    func connected(_ side: Side) -> ConnectionHandle? {
        for event in side == .initiator ? clientEvents : serverEvents {
            if case .connected(let handle, _, _, _, _) = event { return handle }
        }
        return nil
    }

    func closed(_ side: Side) -> ConnectionError? {
        for event in side == .initiator ? clientEvents : serverEvents {
            if case .closed(_, let error) = event { return error }
        }
        return nil
    }
}

/// A running hash of every datagram sent, to compare runs byte for byte.
struct BLAKE2bLog {
    private(set) var count = 0
    private var digest = [UInt8](repeating: 0, count: 32)

    mutating func append(_ bytes: [UInt8]) {
        digest = BLAKE2b.hash(digest + bytes, outputCount: 32)
        count += 1
    }

    var hex: String { Hex.encode(digest) }
}

/// What a read found.
enum ReadOutcome: Equatable {
    case bytes([UInt8])
    /// The peer finished and everything was read.
    case end
    /// Nothing yet (no bytes, or the stream is not known here yet).
    case nothing
}

extension Endpoint {
    /// Reads what is ready, telling "not yet" apart from "finished".
    mutating func readAvailable(from stream: StreamID, on connection: ConnectionHandle, maxBytes: Int = 1 << 20) -> ReadOutcome {
        do {
            guard let bytes = try read(from: stream, on: connection, maxBytes: maxBytes) else { return .end }
            return bytes.isEmpty ? .nothing : .bytes(bytes)
        } catch {
            return .nothing
        }
    }
}

extension Endpoint {
    /// Appends what is ready to `bytes`; true once the stream's end was read.
    mutating func readToEnd(from stream: StreamID, on connection: ConnectionHandle, into bytes: inout [UInt8]) -> Bool {
        while true {
            switch readAvailable(from: stream, on: connection) {
            case .bytes(let more): bytes += more
            case .end: return true
            case .nothing: return false
            }
        }
    }
}

/// Driving one endpoint by hand, for tests that capture, hold back, replay
/// or forge datagrams outside the pair's links.
extension Endpoint {
    /// Everything the endpoint wants to send now, as (destination, bytes).
    mutating func drainTransmits(now: Timestamp) -> [(to: PeerAddress, bytes: [UInt8])] {
        var out: [(PeerAddress, [UInt8])] = []
        var buffer = [UInt8](repeating: 0, count: 2_048)
        while let transmit = buffer.withUnsafeMutableBytes({ pollTransmit(now: now, into: $0) }) {
            out.append((transmit.destination, Array(buffer[0..<transmit.count])))
        }
        return out
    }

    mutating func deliver(_ bytes: [UInt8], from address: PeerAddress, now: Timestamp) {
        bytes.withUnsafeBytes { handleDatagram($0, from: address, now: now) }
    }
}
