import Testing
@testable import SecureStreamsCore

/// The bad-input battery for handshakes: replayed first messages, cookies
/// under load, a cookie from another address, a stale cookie, and
/// oversized and out-of-window datagrams. Each is dropped or refused and
/// counted under its reason; none leaves a connection behind.
@Suite struct EndpointHandshakeAbuseTests {
    static func packetType(_ bytes: [UInt8]) -> UInt8? { bytes.count > 1 ? bytes[1] : nil }

    /// The client's Initiation, captured on its way, then a normal handshake.
    static func confirmedPair(
        seed: UInt64, knowingServer: Bool = true,
        configure: (inout EndpointConfiguration, Side) -> Void = { _, _ in }
    ) throws -> (Pair, initiation: [UInt8]) {
        var pair = Pair(seed: seed, configure: configure)
        _ = try pair.connect(knowingServer: knowingServer)
        let sent = pair.client.drainTransmits(now: pair.now)
        let initiation = try #require(sent.first { packetType($0.bytes) == 0x01 }?.bytes)
        pair.server.deliver(initiation, from: pair.clientAddress, now: pair.now)
        for answer in pair.server.drainTransmits(now: pair.now) {
            pair.client.deliver(answer.bytes, from: pair.serverAddress, now: pair.now)
        }
        #expect(pair.drive(timeout: .seconds(5)) { $0.connected(.responder) != nil })
        return (pair, initiation)
    }

    @Test func aRepeatedInitiationBeforeConfirmationGetsItsResponseAgain() throws {
        var pair = Pair(seed: 71)
        _ = try pair.connect()
        let initiation = try #require(pair.client.drainTransmits(now: pair.now).first?.bytes)
        pair.server.deliver(initiation, from: pair.clientAddress, now: pair.now)
        let first = pair.server.drainTransmits(now: pair.now)
        pair.server.deliver(initiation, from: pair.clientAddress, now: pair.now)
        let second = pair.server.drainTransmits(now: pair.now)
        #expect(first.map { Self.packetType($0.bytes) } == [0x02])
        #expect(second.map { Self.packetType($0.bytes) } == [0x02], "the lost-Response case: answer again")
        #expect(pair.server.connectionCount == 1)
        #expect(pair.server.statistics.handshakesAccepted == 1)
        #expect(pair.server.statistics.drops.replayed == 0)
    }

    @Test func aReplayedInitiationAfterConfirmationIsDroppedAndCounted() throws {
        var (pair, initiation) = try Self.confirmedPair(seed: 72)
        let tablesBefore = pair.server.tableSizes
        for _ in 0..<3 {
            pair.server.deliver(initiation, from: pair.clientAddress, now: pair.now)
            // And from elsewhere: an attacker replaying what it saw.
            pair.server.deliver(initiation, from: PeerAddress(ipv4: 203, 0, 113, 9, port: 1), now: pair.now)
        }
        let answers = pair.server.drainTransmits(now: pair.now)
        #expect(!answers.contains { Self.packetType($0.bytes) == 0x02 }, "a replay got a Response")
        #expect(pair.server.statistics.drops.replayed == 6)
        #expect(pair.server.statistics.handshakesAccepted == 1)
        #expect(pair.server.connectionCount == 1)
        #expect(pair.server.tableSizes == tablesBefore)
    }

    /// XX's first message carries no timestamp (an IK replay is refused
    /// however late: EndpointReplayTests). Past the four minutes the
    /// responder remembers ephemeral keys, an XX replay costs a DH and a
    /// half-open connection: it announces nothing, answers only with Response
    /// retransmissions within the 3× limit, and ends at the idle timeout (the
    /// replayer cannot finish it).
    @Test func aReplayedXXInitiationPastTheWindowAnnouncesNothingAndExpires() throws {
        var (pair, initiation) = try Self.confirmedPair(seed: 73, knowingServer: false)
        pair.now += .seconds(241)
        pair.server.handleTimeout(now: pair.now)
        let stranger = PeerAddress(ipv4: 203, 0, 113, 9, port: 1)
        pair.server.deliver(initiation, from: stranger, now: pair.now)
        let answers = pair.server.drainTransmits(now: pair.now)
        #expect(pair.server.statistics.handshakesAccepted == 2)
        let answered = answers.filter { $0.to == stranger }.reduce(0) { $0 + $1.bytes.count }
        #expect(answered <= 3 * initiation.count, "at most 3× to an unvalidated address")
        let end = pair.now + pair.server.configuration.idleTimeout + .seconds(5)
        while pair.now < end {
            pair.now += .milliseconds(250)
            pair.server.handleTimeout(now: pair.now)
            for answer in pair.server.drainTransmits(now: pair.now) where answer.to == stranger {
                #expect(Self.packetType(answer.bytes) == 0x02, "only Response retransmissions go to the stranger")
            }
        }
        var announced = 0
        while let event = pair.server.pollEvent() {
            if case .connected = event { announced += 1 }
        }
        #expect(announced == 0, "the replay was announced as a connection")
        #expect(pair.server.tableSizes["byInitiation"] == 0, "the half-open connection outlived the idle timeout")
        #expect(pair.server.connectionCount == 0)
    }

    /// A responder under load (rate limit 1/s, the token taken by a first
    /// connection) answers the second Initiation with a Cookie; the retry
    /// that proves it connects. The proven Initiation from another address,
    /// and again after confirmation, is refused.
    @Test func underLoadACookieIsRequiredBoundToTheAddressAndNotReplayable() throws {
        var pair = Pair(seed: 74) { configuration, side in
            if side == .responder { configuration.handshakeRateLimit = 1 }
        }
        _ = try pair.connect()
        _ = try pair.connect()
        let initiations = pair.client.drainTransmits(now: pair.now)
        #expect(initiations.count == 2)
        for initiation in initiations {
            pair.server.deliver(initiation.bytes, from: pair.clientAddress, now: pair.now)
        }
        let answers = pair.server.drainTransmits(now: pair.now)
        #expect(answers.compactMap { Self.packetType($0.bytes) }.sorted() == [0x02, 0x04], "a Response and a Cookie")
        #expect(pair.server.statistics.cookiesSent == 1 && pair.server.statistics.drops.refused == 1)
        #expect(pair.server.connectionCount == 1, "no state for the Initiation under load")
        let cookie = try #require(answers.first { Self.packetType($0.bytes) == 0x04 })
        let response = try #require(answers.first { Self.packetType($0.bytes) == 0x02 })
        #expect(cookie.bytes.count == CookiePacket.packetCount)
        #expect(cookie.bytes.count < initiations[1].bytes.count, "a Cookie amplifies nothing")

        // The client answers the Cookie with the same Initiation, mac2 set.
        pair.client.deliver(response.bytes, from: pair.serverAddress, now: pair.now)
        pair.client.deliver(cookie.bytes, from: pair.serverAddress, now: pair.now)
        pair.client.handleTimeout(now: pair.now)
        let retries = pair.client.drainTransmits(now: pair.now).filter { Self.packetType($0.bytes) == 0x01 }
        let proven = try #require(retries.first?.bytes)
        #expect(Array(proven[27..<43]) != [UInt8](repeating: 0, count: 16), "the retry carries mac2")

        // From another address the cookie proves nothing.
        let elsewhere = PeerAddress(ipv4: 203, 0, 113, 9, port: 1)
        pair.server.deliver(proven, from: elsewhere, now: pair.now)
        #expect(pair.server.drainTransmits(now: pair.now).map { Self.packetType($0.bytes) } == [0x04])
        #expect(pair.server.statistics.drops.refused == 2 && pair.server.connectionCount == 1)

        // From the client it does.
        pair.server.deliver(proven, from: pair.clientAddress, now: pair.now)
        #expect(pair.server.statistics.handshakesAccepted == 2 && pair.server.connectionCount == 2)
        for answer in pair.server.drainTransmits(now: pair.now) {
            pair.client.deliver(answer.bytes, from: pair.serverAddress, now: pair.now)
        }
        #expect(pair.drive(timeout: .seconds(5)) { pair in
            pair.serverEvents.filter { if case .connected = $0 { true } else { false } }.count == 2
        })

        // Replayed once both are confirmed: dropped before any work.
        let replayedBefore = pair.server.statistics.drops.replayed
        pair.server.deliver(proven, from: pair.clientAddress, now: pair.now)
        #expect(pair.server.statistics.drops.replayed == replayedBefore + 1)
        #expect(pair.server.statistics.handshakesAccepted == 2 && pair.server.connectionCount == 2)
    }

    /// A cookie outlives its secret by one rotation at most: the proven
    /// Initiation held back 241 s gets a fresh Cookie, not a connection.
    @Test func aStaleCookieIsRefused() throws {
        var pair = Pair(seed: 75) { configuration, side in
            if side == .responder { configuration.handshakeRateLimit = 1 }
        }
        _ = try pair.connect()
        _ = try pair.connect()
        for initiation in pair.client.drainTransmits(now: pair.now) {
            pair.server.deliver(initiation.bytes, from: pair.clientAddress, now: pair.now)
        }
        let cookie = try #require(pair.server.drainTransmits(now: pair.now).last { Self.packetType($0.bytes) == 0x04 })
        pair.client.deliver(cookie.bytes, from: pair.serverAddress, now: pair.now)
        pair.client.handleTimeout(now: pair.now)
        let proven = try #require(pair.client.drainTransmits(now: pair.now).first { Self.packetType($0.bytes) == 0x01 }?.bytes)

        let later = pair.now + .seconds(241)
        pair.server.handleTimeout(now: later)
        let refusedBefore = pair.server.statistics.drops.refused
        // Another client's Initiation takes the one token the bucket has
        // refilled to, so the held-back one arrives under load.
        let tokenTaker = try Self.initiationTakingTheToken(pair, now: later)
        pair.server.deliver(tokenTaker, from: PeerAddress(ipv4: 198, 51, 100, 7, port: 9), now: later)
        let tokenTaken = pair.server.statistics.handshakesAccepted
        pair.server.deliver(proven, from: pair.clientAddress, now: later)
        #expect(pair.server.statistics.handshakesAccepted == tokenTaken, "a stale cookie was accepted")
        #expect(pair.server.statistics.drops.refused >= refusedBefore + 1)
        #expect(pair.server.drainTransmits(now: later).contains { $0.to == pair.clientAddress && Self.packetType($0.bytes) == 0x04 })
    }

    /// A fresh Initiation from another client at `now`, to use up the rate
    /// limiter's token.
    static func initiationTakingTheToken(_ pair: Pair, now: Timestamp) throws -> [UInt8] {
        var random = SeededRandom(seed: 0x7011)
        var other = Endpoint(configuration: EndpointConfiguration(identity: HostIdentity(using: &random)),
                             random: random, now: now)
        _ = try other.connect(to: pair.server.endpointID, at: pair.serverAddress, service: "test", protocol: "bytes", now: now)
        return try #require(other.drainTransmits(now: now).first?.bytes)
    }

    @Test func oversizedDatagramsAreDroppedAndCounted() throws {
        var (pair, _) = try Self.confirmedPair(seed: 76)
        let server = try #require(pair.connected(.responder))
        let received = pair.server.statistics(of: server)?.packetsReceived ?? 0
        let before = pair.server.statistics.drops.total + (pair.server.statistics(of: server)?.drops.total ?? 0)
        var random = SeededRandom(seed: 76)
        // A Data packet header for the live connection, then 64 KiB of noise;
        // an Initiation-shaped one; a version-negotiation-shaped one.
        let handle = try #require(pair.connected(.initiator))
        let stream = try pair.client.openStream(on: handle)
        _ = try pair.client.write([1, 2, 3], to: stream, on: handle)
        let probe = try #require(pair.client.drainTransmits(now: pair.now).first { (0x10...0x11).contains(Self.packetType($0.bytes) ?? 0) }?.bytes)
        for head in [Array(probe.prefix(12)), [ProtocolVersion.current.rawValue, 0x01, 1], [0, 0]] {
            pair.server.deliver(head + random.bytes(count: 65_000), from: pair.clientAddress, now: pair.now)
        }
        let after = pair.server.statistics.drops.total + (pair.server.statistics(of: server)?.drops.total ?? 0)
        #expect(after == before + 3, "each oversized datagram counted once")
        #expect(pair.server.statistics(of: server)?.packetsReceived == received)
        #expect(pair.server.connectionCount == 1)
    }

    /// A genuine packet replayed after more than the replay window (4,096
    /// packets) has passed is too old: dropped, counted as replayed.
    @Test func aPacketOlderThanTheReplayWindowIsDropped() throws {
        var (pair, _) = try Self.confirmedPair(seed: 77)
        let handle = try #require(pair.connected(.initiator))
        let server = try #require(pair.connected(.responder))
        let stream = try pair.client.openStream(on: handle)
        _ = try pair.client.write([UInt8](repeating: 1, count: 100), to: stream, on: handle)
        let old = try #require(pair.client.drainTransmits(now: pair.now).first?.bytes)
        pair.server.deliver(old, from: pair.clientAddress, now: pair.now)
        // Six megabytes later the server has seen far more than 4,096 newer packets.
        var sent = 0
        let total = 6_000_000
        #expect(pair.drive(timeout: .seconds(120)) { pair in
            if sent < total, let written = try? pair.client.write([UInt8](repeating: 2, count: 60_000), to: stream, on: handle) {
                sent += written
            }
            while let bytes = try? pair.server.read(from: stream, on: server, maxBytes: 1 << 20), !bytes.isEmpty {}
            return (pair.server.statistics(of: server)?.packetsReceived ?? 0) > 4_500
        })
        let replayedBefore = pair.server.statistics(of: server)?.drops.replayed ?? 0
        let receivedBefore = pair.server.statistics(of: server)?.packetsReceived ?? 0
        pair.server.deliver(old, from: pair.clientAddress, now: pair.now)
        #expect(pair.server.statistics(of: server)?.drops.replayed == replayedBefore + 1)
        #expect(pair.server.statistics(of: server)?.packetsReceived == receivedBefore)
    }
}
