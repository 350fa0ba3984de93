// FuzzInitiation: a listening responder (fixed identity) handed one first
// handshake message. Half the inputs are framed as an Initiation with a correct
// mac1, so they get past the one-hash filter into Noise and the cookie logic;
// some go to a responder under load, and the cookie it answers with is then
// proven (or proven too late) as an honest initiator would; some come back ten
// minutes later, when only the responder's timestamp table can refuse them.
#if FUZZ_PACKAGE
@_spi(Fuzzing) import SecureStreamsCore
#else
@testable @_spi(Fuzzing) import SecureStreamsCore
#endif

public enum FuzzInitiation {
    nonisolated(unsafe) static let responder = FuzzFixtures.server()
    /// A responder under load: it allows no pending handshake beyond the one a
    /// genuine client (from a third address) started, so every further
    /// Initiation must prove its address with a cookie.
    nonisolated(unsafe) static let loadedResponder = loaded()
    static let loadingAddress = PeerAddress(ipv4: 10, 0, 0, 3, port: 41_000)
    static let loadingIdentity = try! HostIdentity(seed: [UInt8](repeating: 0x10, count: 32))

    /// Input: a mode byte, then either the raw datagram (mode bit 0 clear) or
    /// suite selector, sender CID (8 bytes) and Noise message, which the
    /// harness frames as an Initiation and signs with mac1. Mode bit 1 hands
    /// the same datagram over a second time (a retransmitted Initiation); bit 2
    /// sends it from a stranger's address. Bit 3 sends it to the loaded
    /// responder and, when a Cookie packet comes back, retries the way an
    /// honest initiator would (`mac2` under the cookie); bit 4 makes that retry
    /// come after the cookie secret has rotated out (the cookie is stale).
    /// Bit 5 replays the datagram ten minutes later, from a stranger's address,
    /// once every recent ephemeral key is forgotten: an IK Initiation the
    /// responder accepted before must not be accepted again (§4.4).
    /// Bit 6, with bit 3: after the cookie, 40 more Initiations with fresh
    /// ephemeral keys and valid `mac2` from the same address (a cookie
    /// holder): its prefix's share is kept, no more (§4.5).
    /// What one input did: whether a cookie was proven in a retry, and the
    /// connections the responder held beyond its fixture's afterwards (before
    /// the final timeout), so tests can check the seeds reach their paths.
    public struct Outcome: Equatable {
        public var retriedWithCookie = false
        public var connectionsAdded = 0
        /// Whether the late replay of bit 5 was accepted (never, for IK).
        public var lateReplayAccepted = false
    }

    @discardableResult
    public static func run(_ data: UnsafeRawBufferPointer) -> Outcome {
        var outcome = Outcome()
        var input = FuzzBytes(data)
        let mode = input.u8()
        let datagram = mode & 1 == 1 ? framed(&input) : input.rest()
        let underLoad = mode & 8 != 0
        var endpoint = underLoad ? loadedResponder : responder
        let baseline = endpoint.connectionCount
        let source = mode & 4 == 0 ? FuzzFixtures.clientAddress : FuzzFixtures.strangerAddress
        var now = FuzzFixtures.start
        var cookieReply: [UInt8]?
        for _ in 0..<(mode & 2 == 0 ? 1 : 2) {
            for reply in deliver(datagram, to: &endpoint, from: source, now: now)
            where reply.count == FuzzEntryPoints.cookiePacketCount && reply[1] == 0x04 {
                cookieReply = reply
            }
            precondition(endpoint.connectionCount <= baseline + 1)
            // Under load nothing is kept for an Initiation before its cookie (§4.1).
            if underLoad { precondition(endpoint.connectionCount == baseline, "state kept before a cookie") }
            now = now + .milliseconds(1)
        }
        if underLoad, let cookieReply {
            var retry = datagram
            let answered = cookieReply.withUnsafeBytes { packet in
                retry.withUnsafeMutableBytes {
                    FuzzEntryPoints.answerCookie(packet, initiation: $0,
                                                 responder: FuzzFixtures.serverIdentity.endpointID)
                }
            }
            // The endpoint sealed that cookie for this very Initiation.
            precondition(answered, "a Cookie packet the initiator cannot open")
            let stale = mode & 16 != 0
            if stale { now = now + .seconds(241) }
            _ = deliver(retry, to: &endpoint, from: source, now: now)
            precondition(endpoint.connectionCount <= baseline + 1)
            if stale { precondition(endpoint.connectionCount == baseline, "a stale cookie was accepted") }
            outcome.retriedWithCookie = true
            if mode & 64 != 0 { holdCookie(cookieReply, template: datagram, to: &endpoint, from: source, now: now) }
        }
        outcome.connectionsAdded = endpoint.connectionCount - baseline
        if mode & 32 != 0 {
            outcome.lateReplayAccepted = replayLater(datagram, to: &endpoint, now: &now)
            precondition(!(outcome.lateReplayAccepted && outcome.connectionsAdded > 0 && isIK(datagram)),
                         "an IK Initiation accepted again ten minutes later")
        }
        now = now + .seconds(11)
        endpoint.handleTimeout(now: now)
        var buffer = [UInt8](repeating: 0, count: 2_048)
        while buffer.withUnsafeMutableBytes({ endpoint.pollTransmit(now: now, into: $0) }) != nil {}
        while endpoint.pollEvent() != nil {}
        return outcome
    }

    /// A cookie holder's burst: 40 variants of `template` with fresh ephemeral
    /// keys under the cookie of `cookiePacket`; at most 20 (the per-prefix
    /// share) plus the first retry may be held.
    static func holdCookie(_ cookiePacket: [UInt8], template: [UInt8], to endpoint: inout Endpoint,
                           from source: PeerAddress, now: Timestamp) {
        let before = endpoint.connectionCount
        for index in 0..<40 {
            let ephemeral = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ index &* 13 &+ 1) }
            guard let variant = cookiePacket.withUnsafeBytes({
                FuzzEntryPoints.cookieHolderVariant(of: template, cookiePacket: $0, ephemeral: ephemeral,
                                                    responder: FuzzFixtures.serverIdentity.endpointID)
            }) else { return }
            _ = deliver(variant, to: &endpoint, from: source, now: now)
        }
        precondition(endpoint.connectionCount - before <= 20, "a cookie holder got past its prefix's share")
    }

    /// Hands `datagram` to `endpoint` and returns what it sends back, checking
    /// that nothing exceeds 3× what arrived (§4).
    static func deliver(_ datagram: [UInt8], to endpoint: inout Endpoint, from source: PeerAddress,
                        now: Timestamp) -> [[UInt8]] {
        var copy = datagram
        copy.withUnsafeMutableBytes { endpoint.handleDatagram($0, from: source, now: now) }
        var replies: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 2_048)
        while let transmit = buffer.withUnsafeMutableBytes({ endpoint.pollTransmit(now: now, into: $0) }) {
            precondition(transmit.count <= buffer.count)
            precondition(transmit.count <= 3 * datagram.count + 64, "reply larger than 3x the Initiation")
            replies.append(Array(buffer[0..<transmit.count]))
        }
        while endpoint.pollEvent() != nil {}
        return replies
    }

    /// Delivers `datagram` again 600 s after `now` (past the 240 s the
    /// responder remembers ephemeral keys) and says whether it was accepted.
    static func replayLater(_ datagram: [UInt8], to endpoint: inout Endpoint, now: inout Timestamp) -> Bool {
        now = now + .seconds(600)
        endpoint.handleTimeout(now: now)
        var buffer = [UInt8](repeating: 0, count: 2_048)
        while buffer.withUnsafeMutableBytes({ endpoint.pollTransmit(now: now, into: $0) }) != nil {}
        let accepted = endpoint.statistics.handshakesAccepted
        _ = deliver(datagram, to: &endpoint, from: FuzzFixtures.strangerAddress, now: now)
        return endpoint.statistics.handshakesAccepted > accepted
    }

    /// Whether `datagram` is an Initiation of an IK suite (suites 0x01, 0x02).
    static func isIK(_ datagram: [UInt8]) -> Bool {
        datagram.count > 2 && datagram[1] == 0x01 && (datagram[2] == 0x01 || datagram[2] == 0x02)
    }

    static func loaded() -> Endpoint {
        var configuration = EndpointConfiguration(identity: FuzzFixtures.serverIdentity)
        configuration.maxPendingHandshakes = 0
        var server = Endpoint(configuration: configuration, random: SeededRandom(seed: 3), now: FuzzFixtures.start)
        server.listen(service: FuzzFixtures.service, protocol: FuzzFixtures.applicationProtocol)
        // Another host than the seeds' client: the responder remembers the
        // greatest Initiation timestamp per initiator (§4.4), and the seeds'
        // Initiations are dated at the same instant as this one.
        var client = Endpoint(configuration: EndpointConfiguration(identity: loadingIdentity),
                              random: SeededRandom(seed: 4), now: FuzzFixtures.start)
        _ = try! client.connect(to: FuzzFixtures.serverIdentity.endpointID, at: FuzzFixtures.serverAddress,
                                service: FuzzFixtures.service, protocol: FuzzFixtures.applicationProtocol,
                                now: FuzzFixtures.start)
        var buffer = [UInt8](repeating: 0, count: 2_048)
        let transmit = buffer.withUnsafeMutableBytes { client.pollTransmit(now: FuzzFixtures.start, into: $0) }!
        buffer.withUnsafeMutableBytes {
            server.handleDatagram(UnsafeMutableRawBufferPointer(rebasing: $0[0..<transmit.count]),
                                  from: loadingAddress, now: FuzzFixtures.start)
        }
        while buffer.withUnsafeMutableBytes({ server.pollTransmit(now: FuzzFixtures.start, into: $0) }) != nil {}
        while server.pollEvent() != nil {}
        precondition(server.connectionCount == 1, "loaded fixture: the first handshake was not accepted")
        return server
    }

    static func framed(_ input: inout FuzzBytes) -> [UInt8] {
        let suites = Suite.allCases
        let suite = suites[Int(input.u8()) % suites.count]
        var cid = input.bytes(8)
        cid += [UInt8](repeating: 0, count: 8 - cid.count)
        var packet: [UInt8] = [FuzzEntryPoints.protocolVersion, 0x01, suite.rawValue] + cid + [UInt8](repeating: 0, count: 32)
        packet += input.rest()
        if packet.count < FuzzEntryPoints.initiationHeaderCount + 32 {
            packet += [UInt8](repeating: 0, count: FuzzEntryPoints.initiationHeaderCount + 32 - packet.count)
        }
        packet.withUnsafeMutableBytes {
            FuzzEntryPoints.writeInitiationMAC1($0, responder: FuzzFixtures.serverIdentity.endpointID)
        }
        return packet
    }

    /// Genuine Initiations (IK and XX), raw and in the framed form.
    public static func seeds() -> [(name: String, bytes: [UInt8])] {
        var seeds: [(name: String, bytes: [UInt8])] = []
        for (label, knowing) in [("ik", true), ("xx", false)] {
            var client = FuzzFixtures.client()
            _ = try! client.connect(to: knowing ? FuzzFixtures.serverIdentity.endpointID : nil,
                                    at: FuzzFixtures.serverAddress, service: FuzzFixtures.service,
                                    protocol: FuzzFixtures.applicationProtocol, now: FuzzFixtures.start)
            var buffer = [UInt8](repeating: 0, count: 2_048)
            guard let transmit = buffer.withUnsafeMutableBytes({ client.pollTransmit(now: FuzzFixtures.start, into: $0) })
            else { continue }
            let initiation = Array(buffer[0..<transmit.count])
            seeds.append(("raw-\(label)", [0x00] + initiation))
            seeds.append(("raw-\(label)-twice", [0x02] + initiation))
            let suiteIndex = UInt8(Suite.allCases.firstIndex(where: { $0.rawValue == initiation[2] }) ?? 0)
            let framed = [suiteIndex] + Array(initiation[3..<11]) + Array(initiation[43...])
            seeds.append(("framed-\(label)", [0x01] + framed))
            seeds.append(("framed-\(label)-stranger", [0x05] + framed))
            seeds.append(("loaded-raw-\(label)", [0x08] + initiation))
            seeds.append(("loaded-raw-\(label)-stale", [0x18] + initiation))
            seeds.append(("loaded-raw-\(label)-cookie-holder", [0x48] + initiation))
            seeds.append(("loaded-framed-\(label)-twice", [0x0B] + framed))
            seeds.append(("raw-\(label)-late-replay", [0x20] + initiation))
        }
        seeds.append(("framed-junk", [0x01, 0x00] + [UInt8](repeating: 0x41, count: 80)))
        return seeds
    }
}
