// Shared pieces of the fuzz harnesses: an input cursor, fixed identities, and
// a two-endpoint wire with a manual clock (a small cousin of the test suite's
// `Pair`, using only the public sans-IO API).
//
// This file is compiled twice: into the Fuzz package's FuzzHarness module
// (FUZZ_PACKAGE, through the Fuzzing SPI) and into the main package's tests
// (through a symlink, with @testable import), so a saved crasher replays
// through exactly the code that found it.
#if FUZZ_PACKAGE
@_spi(Fuzzing) import SecureStreamsCore
#else
@testable @_spi(Fuzzing) public import SecureStreamsCore
#endif

/// Reads a fuzz input front to back; past the end every read gives zeros
/// (or nothing), so a harness never has to check lengths.
public struct FuzzBytes {
    public let data: UnsafeRawBufferPointer
    public private(set) var offset = 0

    public init(_ data: UnsafeRawBufferPointer) { self.data = data }

    public var isEmpty: Bool { offset >= data.count }
    public var remaining: Int { max(0, data.count - offset) }

    public mutating func u8() -> UInt8 {
        guard offset < data.count else { return 0 }
        defer { offset += 1 }
        return data[offset]
    }

    public mutating func u16() -> UInt16 { UInt16(u8()) << 8 | UInt16(u8()) }

    public mutating func bool() -> Bool { u8() & 1 == 1 }

    public mutating func bytes(_ count: Int) -> [UInt8] {
        let end = min(data.count, offset + max(0, count))
        guard end > offset else { return [] }
        defer { offset = end }
        return Array(data[offset..<end])
    }

    public mutating func rest() -> [UInt8] { bytes(remaining) }
}

/// Fixed keys and addresses: every run of a target starts from the same state.
public enum FuzzFixtures {
    public static let serverIdentity = try! HostIdentity(seed: [UInt8](repeating: 0x5E, count: 32))
    public static let clientIdentity = try! HostIdentity(seed: [UInt8](repeating: 0xC1, count: 32))
    public static let clientAddress = PeerAddress(ipv4: 10, 0, 0, 1, port: 40_000)
    public static let serverAddress = PeerAddress(ipv4: 10, 0, 0, 2, port: 7_000)
    public static let strangerAddress = PeerAddress(ipv4: 192, 0, 2, 9, port: 9_999)
    /// The client's address after a NAT rebinding (its datagrams reach the client).
    public static let reboundAddress = PeerAddress(ipv4: 10, 0, 0, 1, port: 40_001)
    /// A second local address of the client, which it can move to (``Endpoint/migrate(_:toLocalAddress:now:)``).
    public static let movedAddress = PeerAddress(ipv4: 10, 0, 0, 9, port: 50_000)
    public static let start = Timestamp(nanoseconds: 1_000_000_000)
    public static let service = "test"
    public static let applicationProtocol = "bytes"

    public static func server(seed: UInt64 = 1) -> Endpoint {
        var server = Endpoint(configuration: EndpointConfiguration(identity: serverIdentity),
                              random: SeededRandom(seed: seed), now: start)
        server.listen(service: service, protocol: applicationProtocol)
        return server
    }

    public static func client(seed: UInt64 = 2) -> Endpoint {
        Endpoint(configuration: EndpointConfiguration(identity: clientIdentity),
                 random: SeededRandom(seed: seed), now: start)
    }
}

/// Two endpoints and the datagrams between them, delivered only when asked.
public struct FuzzWire {
    public struct Datagram {
        public var toServer: Bool
        public var source: PeerAddress
        public var bytes: [UInt8]
        /// The client's local address it arrives at, when not its default socket.
        public var local: PeerAddress? = nil
    }

    public var client: Endpoint
    public var server: Endpoint
    public var now = FuzzFixtures.start
    /// Sent and not yet delivered, oldest first.
    public var inFlight: [Datagram] = []
    /// Every datagram sent, oldest first (the last 64 once more were sent).
    public var sent: [Datagram] = []
    public var clientHandle: ConnectionHandle?
    public var serverHandle: ConnectionHandle?
    public var clientEvents: [Event] = []
    public var serverEvents: [Event] = []
    /// Datagrams handed to the server, genuine or not.
    public var deliveredToServer = 0
    private var buffer = [UInt8](repeating: 0, count: 2_048)

    public init(client: Endpoint = FuzzFixtures.client(), server: Endpoint = FuzzFixtures.server()) {
        self.client = client
        self.server = server
    }

    /// Moves every pending transmit of both endpoints onto the wire.
    public mutating func flush() {
        var more = true
        while more {
            more = false
            while let transmit = buffer.withUnsafeMutableBytes({ client.pollTransmit(now: now, into: $0) }) {
                record(Datagram(toServer: transmit.destination == FuzzFixtures.serverAddress,
                                source: transmit.source ?? FuzzFixtures.clientAddress,
                                bytes: Array(buffer[0..<transmit.count])))
                more = true
            }
            while let transmit = buffer.withUnsafeMutableBytes({ server.pollTransmit(now: now, into: $0) }) {
                let toClient = [FuzzFixtures.clientAddress, FuzzFixtures.reboundAddress, FuzzFixtures.movedAddress]
                if toClient.contains(transmit.destination) {
                    record(Datagram(toServer: false, source: FuzzFixtures.serverAddress,
                                    bytes: Array(buffer[0..<transmit.count]),
                                    local: transmit.destination == FuzzFixtures.movedAddress ? FuzzFixtures.movedAddress : nil))
                }
                more = true
            }
        }
        drainEvents()
    }

    private mutating func record(_ datagram: Datagram) {
        inFlight.append(datagram)
        if inFlight.count > 256 { inFlight.removeFirst(inFlight.count - 256) }
        sent.append(datagram)
        if sent.count > 64 { sent.removeFirst(sent.count - 64) }
    }

    public mutating func drainEvents() {
        while let event = client.pollEvent() {
            if case .connected(let handle, _, _, _, _) = event, clientHandle == nil { clientHandle = handle }
            clientEvents.append(event)
        }
        while let event = server.pollEvent() {
            if case .connected(let handle, _, _, _, _) = event, serverHandle == nil { serverHandle = handle }
            serverEvents.append(event)
        }
        if clientEvents.count > 256 { clientEvents.removeFirst(clientEvents.count - 256) }
        if serverEvents.count > 256 { serverEvents.removeFirst(serverEvents.count - 256) }
    }

    /// Hands `datagram` to its endpoint now.
    public mutating func deliver(_ datagram: Datagram) {
        var bytes = datagram.bytes
        bytes.withUnsafeMutableBytes { raw in
            if datagram.toServer {
                deliveredToServer += 1
                server.handleDatagram(raw, from: datagram.source, now: now)
            } else {
                client.handleDatagram(raw, from: datagram.source, to: datagram.local, now: now)
            }
        }
    }

    /// Delivers everything in flight (and what that provokes, up to a bound).
    public mutating func deliverAll(rounds: Int = 8) {
        for _ in 0..<rounds {
            flush()
            guard !inFlight.isEmpty else { return }
            let batch = inFlight
            inFlight.removeAll()
            for datagram in batch { deliver(datagram) }
        }
        flush()
    }

    /// Advances the clock and fires both endpoints' timers.
    public mutating func advance(by duration: Duration) {
        now = now + duration
        client.handleTimeout(now: now)
        server.handleTimeout(now: now)
        flush()
    }

    /// Delivers and jumps to the next deadline until quiet or `rounds` run out.
    public mutating func settle(rounds: Int) {
        for _ in 0..<rounds {
            deliverAll()
            guard let next = [client.nextDeadline(), server.nextDeadline()].compactMap({ $0 }).min() else { return }
            now = max(now, next)
            client.handleTimeout(now: now)
            server.handleTimeout(now: now)
            flush()
        }
    }

    /// A wire whose client has connected to the server (IK, or XX when
    /// `knowingServer` is false) and both sides have seen `connected`.
    public static func connected(knowingServer: Bool = true) -> FuzzWire {
        var wire = FuzzWire()
        _ = try! wire.client.connect(to: knowingServer ? FuzzFixtures.serverIdentity.endpointID : nil,
                                    at: FuzzFixtures.serverAddress, service: FuzzFixtures.service,
                                    protocol: FuzzFixtures.applicationProtocol, now: wire.now)
        for _ in 0..<50 where wire.clientHandle == nil || wire.serverHandle == nil {
            wire.deliverAll()
            wire.advance(by: .milliseconds(5))
        }
        precondition(wire.clientHandle != nil && wire.serverHandle != nil, "fixture handshake failed")
        wire.deliverAll()
        return wire
    }

    /// Genuine datagrams of a short session: handshake, a few stream writes
    /// each way, a finish, and the close. For seed corpora.
    public static func capturedSession(knowingServer: Bool = true) -> [Datagram] {
        var wire = connected(knowingServer: knowingServer)
        let c = wire.clientHandle!
        let s = wire.serverHandle!
        if let stream = try? wire.client.openStream(on: c) {
            _ = try? wire.client.write(Array("hello over a stream".utf8), to: stream, on: c, endOfRecord: true)
            _ = try? wire.client.finish(stream, on: c)
            wire.flush()
            wire.deliverAll()
            _ = try? wire.server.read(from: stream, on: s)
        }
        if let stream = try? wire.server.openStream(on: s) {
            _ = try? wire.server.write([UInt8](repeating: 0xAB, count: 3_000), to: stream, on: s)
            _ = try? wire.server.reset(stream, on: s, code: ErrorCode(7))
            wire.flush()
            wire.deliverAll()
        }
        wire.advance(by: .milliseconds(50))
        wire.deliverAll()
        wire.client.close(c, code: .noError, reason: "bye", now: wire.now)
        wire.flush()
        wire.deliverAll()
        return wire.sent
    }
}

/// The byte at `offset` of a stream in the checked harnesses: depends on the
/// offset and the stream, so a misplaced or foreign byte is caught.
@inline(__always)
public func fuzzPatternByte(stream: UInt64, offset: UInt64) -> UInt8 {
    UInt8(truncatingIfNeeded: (offset &* 0x9E37) ^ (offset >> 7) ^ (stream &* 0x3B))
}

public func fuzzPattern(stream: UInt64, from offset: UInt64, count: Int) -> [UInt8] {
    (0..<UInt64(count)).map { fuzzPatternByte(stream: stream, offset: offset + $0) }
}
