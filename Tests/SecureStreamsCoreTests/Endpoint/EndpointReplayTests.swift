import Testing
@testable import SecureStreamsCore

/// Replayed Initiations from an attacker's view (PROTOCOL.md §4.4): an IK
/// Initiation carries its initiator's wall-clock time, and the responder
/// keeps the greatest it accepted per static key, so a replay is refused
/// however late it comes and however many handshakes came between; a peer
/// the bounded table forgot falls back to the freshness window.
@Suite struct EndpointReplayTests {
    static func packetType(_ bytes: [UInt8]) -> UInt8? { bytes.count > 1 ? bytes[1] : nil }
    static let stranger = PeerAddress(ipv4: 203, 0, 113, 9, port: 1)

    /// The tables a refused Initiation must leave as they were (the set of
    /// recent ephemeral keys expires lazily, so it is left out).
    static func stateTables(_ endpoint: Endpoint) -> [String: Int] {
        endpoint.tableSizes.filter { $0.key != "recentInitiations" }
    }

    /// A responder that takes any number of handshakes at once without
    /// demanding cookies, so that thousands of them can be made quickly.
    static func busyResponder(_ configuration: inout EndpointConfiguration, _ side: Side) {
        guard side == .responder else { return }
        configuration.handshakeRateLimit = 1_000_000
        configuration.maxPendingHandshakes = 4_096
        configuration.maxHalfOpenHandshakes = 4_096
    }

    /// A new initiator (its own identity from `seed`) with `count` IK
    /// Initiations to `pair.server`, made at `now`.
    static func initiations(count: Int, seed: UInt64, to pair: Pair, now: Timestamp) throws -> [[UInt8]] {
        var random = SeededRandom(seed: seed)
        var other = Endpoint(configuration: EndpointConfiguration(identity: HostIdentity(using: &random)),
                             random: random, now: now)
        for _ in 0..<count {
            _ = try other.connect(to: pair.server.endpointID, at: pair.serverAddress, service: "test",
                                  protocol: "bytes", now: now)
        }
        return other.drainTransmits(now: now).map(\.bytes)
    }

    @Test(.timeLimit(.minutes(5)))
    func aReplayTenMinutesAndNineThousandHandshakesLaterIsRefused() throws {
        var (pair, initiation) = try EndpointHandshakeAbuseTests.confirmedPair(seed: 81, configure: Self.busyResponder)
        let start = pair.now
        // 9,000 handshakes from 18 other initiators over ten minutes: more
        // than the 8,192 ephemeral keys the responder can remember, and far
        // longer than it remembers them.
        for batch in 0..<18 {
            let address = PeerAddress(ipv4: 198, 51, 100, UInt8(batch + 1), port: 9)
            for other in try Self.initiations(count: 500, seed: 0x9000 + UInt64(batch), to: pair, now: pair.now) {
                pair.server.deliver(other, from: address, now: pair.now)
            }
            _ = pair.server.drainTransmits(now: pair.now)
            pair.now += .milliseconds(33_400)
            pair.server.handleTimeout(now: pair.now)
            while pair.server.pollEvent() != nil {}
        }
        #expect(pair.now - start >= .seconds(600))
        #expect(pair.server.statistics.handshakesAccepted == 9_001)

        let tables = Self.stateTables(pair.server)
        let replayed = pair.server.statistics.drops.replayed
        pair.server.deliver(initiation, from: pair.clientAddress, now: pair.now)
        pair.server.deliver(initiation, from: Self.stranger, now: pair.now)
        let answers = pair.server.drainTransmits(now: pair.now)
        #expect(answers.isEmpty, "a replay got an answer")
        #expect(pair.server.statistics.drops.replayed == replayed + 2)
        #expect(pair.server.statistics.handshakesAccepted == 9_001, "a replay was accepted")
        #expect(Self.stateTables(pair.server) == tables, "a replay left state behind")
    }

    @Test func anInitiationOlderThanTheSamePeersLastIsRefused() throws {
        var pair = Pair(seed: 82)
        _ = try pair.connect()
        let older = try #require(pair.client.drainTransmits(now: pair.now).first?.bytes)
        pair.now += .seconds(5)
        _ = try pair.connect()
        // The first connection's retransmission goes out too: take the second's Initiation.
        let newer = try #require(pair.client.drainTransmits(now: pair.now)
            .first { Self.packetType($0.bytes) == 0x01 && $0.bytes != older }?.bytes)
        pair.server.deliver(newer, from: pair.clientAddress, now: pair.now)
        #expect(pair.server.drainTransmits(now: pair.now).map { Self.packetType($0.bytes) } == [0x02])

        let tables = Self.stateTables(pair.server)
        pair.server.deliver(older, from: pair.clientAddress, now: pair.now)
        #expect(pair.server.drainTransmits(now: pair.now).isEmpty, "the older Initiation was answered")
        #expect(pair.server.statistics.drops.replayed == 1)
        #expect(pair.server.statistics.handshakesAccepted == 1)
        #expect(Self.stateTables(pair.server) == tables)
    }

    /// Within the one-second reorder tolerance, two connections started
    /// together are both accepted whichever Initiation arrives first.
    @Test func initiationsStartedTogetherAreAcceptedInEitherOrder() throws {
        var pair = Pair(seed: 88)
        _ = try pair.connect()
        _ = try pair.connect()
        let both = pair.client.drainTransmits(now: pair.now).map(\.bytes)
        #expect(both.count == 2)
        for initiation in both.reversed() {
            pair.server.deliver(initiation, from: pair.clientAddress, now: pair.now)
        }
        #expect(pair.server.drainTransmits(now: pair.now).map { Self.packetType($0.bytes) } == [0x02, 0x02])
        #expect(pair.server.statistics.handshakesAccepted == 2)
        #expect(pair.server.statistics.drops.replayed == 0)
    }

    /// An initiator that restarts has a new ephemeral key and a newer wall
    /// clock: it connects again. Its monotonic time restarted with it, so
    /// without a wall-clock reading from its driver it would date its
    /// Initiation from the configured origin and be refused as a replay.
    @Test func aRestartedInitiatorConnectsAgain() throws {
        var (pair, _) = try EndpointHandshakeAbuseTests.confirmedPair(seed: 83)
        // A second connection a minute later: the responder's greatest
        // timestamp for this initiator is now a minute past the origin.
        pair.now += .seconds(60)
        pair.server.handleTimeout(now: pair.now)
        _ = try pair.connect()
        let second = try #require(pair.client.drainTransmits(now: pair.now).first { Self.packetType($0.bytes) == 0x01 }?.bytes)
        pair.server.deliver(second, from: pair.clientAddress, now: pair.now)
        _ = pair.server.drainTransmits(now: pair.now)
        #expect(pair.server.statistics.handshakesAccepted == 2)
        let configuration = pair.client.configuration
        let reboot = Timestamp.zero

        var forgetful = Endpoint(configuration: configuration, random: SeededRandom(seed: 831), now: reboot)
        _ = try forgetful.connect(to: pair.server.endpointID, at: pair.serverAddress, service: "test",
                                  protocol: "bytes", now: reboot)
        let undated = try #require(forgetful.drainTransmits(now: reboot).first?.bytes)
        pair.server.deliver(undated, from: pair.clientAddress, now: pair.now)
        #expect(pair.server.drainTransmits(now: pair.now).isEmpty, "dated before its last Initiation: refused")
        #expect(pair.server.statistics.drops.replayed == 1)

        // Rebooted with its clock right, half a minute later.
        pair.now += .seconds(30)
        var restarted = Endpoint(configuration: configuration, random: SeededRandom(seed: 832), now: reboot)
        restarted.handleWallClock(pair.server.wallClock(at: pair.now), now: reboot)
        _ = try restarted.connect(to: pair.server.endpointID, at: pair.serverAddress, service: "test",
                                  protocol: "bytes", now: reboot)
        let fresh = try #require(restarted.drainTransmits(now: reboot).first?.bytes)
        #expect(Array(fresh[43..<75]) != Array(undated[43..<75]), "a new ephemeral key")
        pair.server.deliver(fresh, from: pair.clientAddress, now: pair.now)
        let answers = pair.server.drainTransmits(now: pair.now)
        #expect(answers.map { Self.packetType($0.bytes) } == [0x02])
        #expect(pair.server.statistics.handshakesAccepted == 3)
        for answer in answers { restarted.deliver(answer.bytes, from: pair.serverAddress, now: reboot) }
        var connected = false
        while let event = restarted.pollEvent() {
            if case .connected = event { connected = true }
        }
        #expect(connected, "the restarted initiator did not connect")
    }

    @Test func anIdenticalRetransmissionBeforeConfirmationGetsTheSameResponse() throws {
        var pair = Pair(seed: 84)
        _ = try pair.connect()
        let initiation = try #require(pair.client.drainTransmits(now: pair.now).first?.bytes)
        pair.server.deliver(initiation, from: pair.clientAddress, now: pair.now)
        let first = pair.server.drainTransmits(now: pair.now)
        pair.now += .seconds(1)
        pair.server.deliver(initiation, from: pair.clientAddress, now: pair.now)
        let second = pair.server.drainTransmits(now: pair.now)
        #expect(first.count == 1 && second.count == 1)
        #expect(first.map(\.bytes) == second.map(\.bytes), "not the same Response")
        #expect(second.map(\.to) == [pair.clientAddress])
        #expect(pair.server.statistics.handshakesAccepted == 1 && pair.server.connectionCount == 1)
        #expect(pair.server.statistics.drops.replayed == 0)
    }

    /// An initiator punching a hole sends the same Initiation to several of
    /// the responder's addresses; the copies may arrive from different
    /// source addresses (different NAT mappings). Each is answered, to where
    /// it came from, with the same Response, and one connection results.
    @Test func theSameInitiationFromTwoAddressesIsAnsweredAtBoth() throws {
        var pair = Pair(seed: 85)
        _ = try pair.connect()
        let initiation = try #require(pair.client.drainTransmits(now: pair.now).first?.bytes)
        let punched = PeerAddress(ipv4: 192, 0, 2, 44, port: 50_000)
        pair.server.deliver(initiation, from: pair.clientAddress, now: pair.now)
        pair.server.deliver(initiation, from: punched, now: pair.now)
        let answers = pair.server.drainTransmits(now: pair.now)
        #expect(Set(answers.map(\.to)) == [pair.clientAddress, punched])
        #expect(answers.allSatisfy { Self.packetType($0.bytes) == 0x02 && $0.bytes == answers[0].bytes })
        #expect(answers.allSatisfy { $0.bytes.count <= 3 * initiation.count })
        #expect(pair.server.connectionCount == 1 && pair.server.statistics.handshakesAccepted == 1)

        // The Response that came through the punched hole completes the handshake.
        let viaPunched = try #require(answers.first { $0.to == punched })
        pair.client.deliver(viaPunched.bytes, from: pair.serverAddress, now: pair.now)
        #expect(pair.drive(timeout: .seconds(5)) { $0.connected(.responder) != nil })
    }

    /// With room for one initiator, a second evicts the first. The first's
    /// Initiation replayed inside the freshness window is still refused (the
    /// recent ephemeral keys hold it, for 240 s unless more than 8,192 other
    /// handshakes push it out, in which case it would cost a DH and a
    /// half-open connection); replayed after the window it is refused for
    /// its timestamp; a new Initiation of the first initiator is accepted.
    @Test func anEvictedPeerFallsBackToTheFreshnessWindow() throws {
        var (pair, initiation) = try EndpointHandshakeAbuseTests.confirmedPair(seed: 86) { configuration, side in
            if side == .responder { configuration.maxRememberedInitiators = 1 }
        }
        let firstKey = pair.client.configuration.identity.staticKey.publicKey.bytes
        #expect(pair.server.replayGuard.timestamps.greatest(from: firstKey) != nil)
        for other in try Self.initiations(count: 1, seed: 0x8601, to: pair, now: pair.now) {
            pair.server.deliver(other, from: Self.stranger, now: pair.now)
        }
        _ = pair.server.drainTransmits(now: pair.now)
        #expect(pair.server.statistics.handshakesAccepted == 2)
        #expect(pair.server.replayGuard.timestamps.greatest(from: firstKey) == nil, "the first initiator was not evicted")
        #expect(pair.server.tableSizes["initiationTimestamps"] == 1)

        // Inside the window: the recent ephemeral keys refuse it, before any DH.
        pair.now += .seconds(30)
        pair.server.handleTimeout(now: pair.now)
        pair.server.deliver(initiation, from: pair.clientAddress, now: pair.now)
        #expect(pair.server.drainTransmits(now: pair.now).isEmpty)
        #expect(pair.server.statistics.drops.replayed == 1)

        // After the window (and after the recent keys forgot it): its timestamp refuses it.
        pair.now += .seconds(270)
        pair.server.handleTimeout(now: pair.now)
        let tables = Self.stateTables(pair.server)
        pair.server.deliver(initiation, from: pair.clientAddress, now: pair.now)
        #expect(pair.server.drainTransmits(now: pair.now).isEmpty)
        #expect(pair.server.statistics.drops.replayed == 2)
        #expect(pair.server.statistics.handshakesAccepted == 2)
        #expect(Self.stateTables(pair.server) == tables)

        // The evicted initiator itself, with a fresh Initiation, is welcome.
        _ = try pair.connect()
        let fresh = try #require(pair.client.drainTransmits(now: pair.now).first { Self.packetType($0.bytes) == 0x01 }?.bytes)
        pair.server.deliver(fresh, from: pair.clientAddress, now: pair.now)
        #expect(pair.server.drainTransmits(now: pair.now).map { Self.packetType($0.bytes) } == [0x02])
        #expect(pair.server.statistics.handshakesAccepted == 3)
    }

    /// A peer never seen must be within ± 120 s of the responder's clock.
    @Test func aNewPeerOutsideTheFreshnessWindowIsRefused() throws {
        var pair = Pair(seed: 89)
        var random = SeededRandom(seed: 891)
        var skewed = Endpoint(configuration: EndpointConfiguration(identity: HostIdentity(using: &random)),
                              random: random, now: pair.now)
        skewed.handleWallClock(pair.server.wallClock(at: pair.now).advanced(by: .seconds(121)), now: pair.now)
        _ = try skewed.connect(to: pair.server.endpointID, at: pair.serverAddress, service: "test",
                               protocol: "bytes", now: pair.now)
        let outside = try #require(skewed.drainTransmits(now: pair.now).first?.bytes)
        pair.server.deliver(outside, from: Self.stranger, now: pair.now)
        #expect(pair.server.drainTransmits(now: pair.now).isEmpty)
        #expect(pair.server.statistics.drops.replayed == 1 && pair.server.connectionCount == 0)

        pair.client.handleWallClock(pair.server.wallClock(at: pair.now).advanced(by: .seconds(-119)), now: pair.now)
        _ = try pair.connect()
        let inside = try #require(pair.client.drainTransmits(now: pair.now).first?.bytes)
        pair.server.deliver(inside, from: pair.clientAddress, now: pair.now)
        #expect(pair.server.statistics.handshakesAccepted == 1, "119 s behind is inside the window")
    }

    @Test func alwaysRequireCookieAllocatesNothingBeforeTheCookie() throws {
        var pair = Pair(seed: 87) { configuration, side in
            if side == .responder { configuration.alwaysRequireCookie = true }
        }
        _ = try pair.connect()
        let initiation = try #require(pair.client.drainTransmits(now: pair.now).first?.bytes)
        let tables = pair.server.tableSizes
        pair.server.deliver(initiation, from: pair.clientAddress, now: pair.now)
        let answers = pair.server.drainTransmits(now: pair.now)
        #expect(answers.map { Self.packetType($0.bytes) } == [0x04], "a Cookie, and nothing else")
        #expect(pair.server.tableSizes == tables, "state allocated before the cookie round trip")
        #expect(pair.server.statistics.cookiesSent == 1 && pair.server.statistics.handshakesAccepted == 0)

        // The retry proving the address connects.
        pair.client.deliver(answers[0].bytes, from: pair.serverAddress, now: pair.now)
        pair.client.handleTimeout(now: pair.now)
        let proven = try #require(pair.client.drainTransmits(now: pair.now).first { Self.packetType($0.bytes) == 0x01 }?.bytes)
        pair.server.deliver(proven, from: pair.clientAddress, now: pair.now)
        let response = pair.server.drainTransmits(now: pair.now)
        #expect(response.map { Self.packetType($0.bytes) } == [0x02])
        for answer in response { pair.client.deliver(answer.bytes, from: pair.serverAddress, now: pair.now) }
        #expect(pair.drive(timeout: .seconds(5)) { $0.connected(.responder) != nil && $0.connected(.initiator) != nil })
        #expect(pair.server.statistics.handshakesAccepted == 1 && pair.server.statistics.cookiesSent == 1)
    }

    /// Versions 1 and 2 are retired: their packets get a negotiation answer naming version 3.
    @Test(arguments: [UInt8(0x01), 0x02])
    func aRetiredVersionInitiationGetsANegotiationAnswer(version: UInt8) throws {
        var pair = Pair(seed: 90)
        _ = try pair.connect()
        var initiation = try #require(pair.client.drainTransmits(now: pair.now).first?.bytes)
        #expect(initiation[0] == 0x03)
        initiation[0] = version
        pair.server.deliver(initiation, from: pair.clientAddress, now: pair.now)
        let answers = pair.server.drainTransmits(now: pair.now)
        let answer = try #require(answers.first?.bytes)
        #expect(answers.count == 1 && answer[0] == 0x00)
        #expect(Array(answer.suffix(2)) == [1, 0x03], "one version listed: 3")
        #expect(pair.server.statistics.drops.unknownVersion == 1 && pair.server.connectionCount == 0)
    }
}
