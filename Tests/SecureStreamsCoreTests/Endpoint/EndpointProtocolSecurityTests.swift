import Testing
@testable import SecureStreamsCore

/// The protocol-security findings, each from an attacker's side: raw
/// datagrams built and forged by hand and fed to a real endpoint, which is
/// driven the way a driver drives it (drain transmits, then `handleTimeout`
/// only once ``Endpoint/nextDeadline()`` has passed).
@Suite struct EndpointProtocolSecurityTests {
    static let attacker = PeerAddress(ipv4: 198, 51, 100, 7, port: 9)
    static let stranger = PeerAddress(ipv4: 203, 0, 113, 9, port: 1)

    static func packetTypes(_ sent: [(to: PeerAddress, bytes: [UInt8])]) -> [UInt8] {
        sent.map { $0.bytes.count > 1 ? $0.bytes[1] : 0xff }
    }

    /// An XX Initiation with a valid (public) mac1 and junk after the
    /// ephemeral key: it costs its sender nothing.
    static func junkXXInitiation(using random: inout SeededRandom) -> [UInt8] {
        var bytes: [UInt8] = [ProtocolVersion.current.rawValue, 0x01, 0x03] + random.bytes(count: 8)
        bytes += [UInt8](repeating: 0, count: 32) + random.bytes(count: 32 + Int(random.next() % 64))
        bytes.withUnsafeMutableBytes { HandshakeMACs.xx.writeMAC1(into: $0) }
        return bytes
    }

    /// `initiation` with another ephemeral key (and so another handshake),
    /// its mac1 redone and, with a cookie, its mac2: what a host holding its
    /// cookie makes at the cost of a hash.
    static func variant(of initiation: [UInt8], ephemeral: [UInt8], cookie: Cookie?) -> [UInt8] {
        var bytes = initiation
        bytes.replaceSubrange(43..<75, with: ephemeral)
        bytes.withUnsafeMutableBytes {
            HandshakeMACs.xx.writeMAC1(into: $0)
            HandshakeMACs.writeMAC2(cookie: cookie, into: $0)
        }
        return bytes
    }

    /// A real XX Initiation for the pair's service, made by a throwaway endpoint.
    static func realXXInitiation(to server: PeerAddress, seed: UInt64, service: String = "test") throws -> [UInt8] {
        var keys = SeededRandom(seed: seed)
        var endpoint = Endpoint(configuration: EndpointConfiguration(identity: HostIdentity(using: &keys)),
                                random: SeededRandom(seed: seed &+ 1), now: .zero)
        _ = try endpoint.connect(to: nil, at: server, service: service, protocol: "bytes", now: .zero)
        return try #require(endpoint.drainTransmits(now: .zero).first?.bytes)
    }

    // MARK: - Finding 1: the cookie secret rotates under a flood

    /// Five minutes of XX junk (mac1 is public) at a responder with no
    /// connections keeps it under load with no connection timer; a driver
    /// calls `handleTimeout` only when the deadline passed. A legitimate
    /// initiator then gets a cookie, and its retry must be accepted.
    @Test func cookiesStillVerifyAfterAFloodLongerThanTheRotationPeriod() throws {
        var pair = Pair(seed: 1701) { configuration, side in
            if side == .responder { configuration.handshakeRateLimit = 1 }
        }
        var random = SeededRandom(seed: 1701)
        let end = pair.now + .seconds(300)
        while pair.now < end {
            pair.server.deliver(Self.junkXXInitiation(using: &random), from: Self.attacker, now: pair.now)
            _ = pair.server.drainTransmits(now: pair.now)
            if let deadline = pair.server.nextDeadline(), deadline <= pair.now { pair.server.handleTimeout(now: pair.now) }
            pair.now += .milliseconds(100)
        }
        #expect(pair.server.statistics.cookiesSent > 1_000)
        #expect(pair.server.connectionCount == 0)
        // The flood's last datagrams take the token of this instant.
        for _ in 0..<2 {
            pair.server.deliver(Self.junkXXInitiation(using: &random), from: Self.attacker, now: pair.now)
        }
        _ = pair.server.drainTransmits(now: pair.now)

        _ = try pair.connect()
        let first = pair.client.drainTransmits(now: pair.now)
        #expect(Self.packetTypes(first) == [0x01])
        pair.server.deliver(first[0].bytes, from: pair.clientAddress, now: pair.now)
        let cookie = pair.server.drainTransmits(now: pair.now)
        #expect(Self.packetTypes(cookie) == [0x04], "under load: a cookie")
        pair.client.deliver(cookie[0].bytes, from: pair.serverAddress, now: pair.now)
        if let deadline = pair.client.nextDeadline(), deadline <= pair.now { pair.client.handleTimeout(now: pair.now) }
        let retry = pair.client.drainTransmits(now: pair.now)
        #expect(Self.packetTypes(retry) == [0x01])
        pair.server.deliver(retry[0].bytes, from: pair.clientAddress, now: pair.now)
        let answer = pair.server.drainTransmits(now: pair.now)
        #expect(Self.packetTypes(answer) == [0x02], "the proven retry was answered with \(Self.packetTypes(answer))")
        #expect(pair.server.statistics.handshakesAccepted == 1)
    }

    /// The rotation is a deadline of its own once cookies are in use, even
    /// with no connection at all.
    @Test func cookieRotationIsADeadlineOfItsOwn() throws {
        var pair = Pair(seed: 1702) { configuration, side in
            if side == .responder { configuration.alwaysRequireCookie = true }
        }
        #expect(pair.server.nextDeadline() == nil)
        var random = SeededRandom(seed: 1702)
        pair.server.deliver(Self.junkXXInitiation(using: &random), from: Self.attacker, now: pair.now)
        #expect(Self.packetTypes(pair.server.drainTransmits(now: pair.now)) == [0x04])
        let deadline = try #require(pair.server.nextDeadline())
        #expect(deadline == pair.server.cookies.nextRotation)
        pair.server.handleTimeout(now: deadline)
        #expect(pair.server.cookies.nextRotation > deadline, "the secret was replaced at its deadline")
        // One more rotation erases the used secret; then nothing is armed.
        let second = try #require(pair.server.nextDeadline())
        pair.server.handleTimeout(now: second)
        #expect(pair.server.nextDeadline() == nil)
    }

    // MARK: - Finding 2: a cookie lifts the load limit, not the per-prefix one

    /// A host holding its cookie sends 200 XX Initiations with fresh
    /// ephemeral keys in one instant, under load: its /24 gets its share
    /// (20), the rest is dropped before any DH, and a legitimate initiator
    /// from another prefix still connects.
    @Test func aCookieHolderGetsItsPrefixShareAndNoMore() throws {
        var pair = Pair(seed: 1703) { configuration, side in
            if side == .responder { configuration.handshakeRateLimit = 1 }
        }
        let initiation = try Self.realXXInitiation(to: pair.serverAddress, seed: 1703)
        // Its cookie, as a cookie round trip from its real address gives it.
        let cookie = pair.server.cookies.cookie(for: Self.attacker.canonicalBytes)
        var random = SeededRandom(seed: 1703)
        for _ in 0..<200 {
            let forged = Self.variant(of: initiation, ephemeral: random.bytes(count: 32), cookie: cookie)
            pair.server.deliver(forged, from: Self.attacker, now: pair.now)
        }
        _ = pair.server.drainTransmits(now: pair.now)
        let share = Int(SourcePrefixLimiter.defaultRatePerSecond)
        #expect(pair.server.connectionCount <= share + 1, "\(pair.server.connectionCount) half-open handshakes")
        #expect(pair.server.statistics.drops.refused >= 200 - share - 1)

        _ = try pair.connect()
        #expect(pair.drive(timeout: .seconds(10)) { $0.connected(.initiator) != nil })
    }

    /// However many cookies: no more half-open handshakes than the hard cap.
    @Test func halfOpenHandshakesHaveACapNoCookieLifts() throws {
        var pair = Pair(seed: 1704) { configuration, side in
            if side == .responder { configuration.maxHalfOpenHandshakes = 8 }
        }
        let initiation = try Self.realXXInitiation(to: pair.serverAddress, seed: 1704)
        var random = SeededRandom(seed: 1704)
        for index in 0..<20 {
            let source = PeerAddress(ipv4: 198, 51, UInt8(index), 7, port: 9)
            let cookie = pair.server.cookies.cookie(for: source.canonicalBytes)
            let forged = Self.variant(of: initiation, ephemeral: random.bytes(count: 32), cookie: cookie)
            pair.server.deliver(forged, from: source, now: pair.now)
        }
        #expect(pair.server.connectionCount == 8)
        #expect(pair.server.statistics.drops.refused == 12)
    }

    @Test func sourcePrefixesAreSlash24AndSlash64AndTheTableIsBounded() {
        var limiter = SourcePrefixLimiter(ratePerSecond: 2, capacity: 2)
        let now = Timestamp.zero
        let v6 = PeerAddress(ipBytes: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1] + [UInt8](repeating: 9, count: 8), port: 1)!
        var verdicts: [Bool] = []
        verdicts.append(limiter.admit(PeerAddress(ipv4: 10, 1, 2, 3, port: 1), now: now))
        verdicts.append(limiter.admit(PeerAddress(ipv4: 10, 1, 2, 200, port: 7), now: now))  // same /24
        verdicts.append(limiter.admit(PeerAddress(ipv4: 10, 1, 2, 4, port: 1), now: now))  // out of tokens
        verdicts.append(limiter.admit(v6, now: now))
        verdicts.append(limiter.admit(PeerAddress(ipv4: 10, 9, 9, 9, port: 1), now: now))  // table full
        #expect(verdicts == [true, true, false, true, false])
        #expect(limiter.count == 2)
        // A second later both buckets are full again and forgotten on demand.
        let later = [limiter.admit(PeerAddress(ipv4: 10, 9, 9, 9, port: 1), now: now + .seconds(1)),
                     limiter.admit(PeerAddress(ipv4: 10, 1, 2, 3, port: 1), now: now + .seconds(1))]
        #expect(later == [true, true])
    }

    // MARK: - Finding 4: IK-only responders; XX refuses nothing it reveals

    @Test func anIKOnlyResponderAnswersNoXXInitiation() throws {
        var pair = Pair(seed: 1705) { configuration, side in
            if side == .responder { configuration.answersXX = false }
        }
        let initiation = try Self.realXXInitiation(to: pair.serverAddress, seed: 1705)
        pair.server.deliver(initiation, from: Self.attacker, now: pair.now)
        #expect(pair.server.drainTransmits(now: pair.now).isEmpty, "an XX scan learned something")
        #expect(pair.server.statistics.drops.refused == 1 && pair.server.connectionCount == 0)
        // IK still works.
        _ = try pair.connect()
        #expect(pair.drive(timeout: .seconds(10)) { $0.connected(.responder) != nil })
    }

    /// An XX Initiation for a service nobody listens for gets no answer: a
    /// refusal would carry the responder's key and tell offered services
    /// from the rest.
    @Test func anXXInitiationForAnUnlistenedServiceIsDroppedSilently() throws {
        var pair = Pair(seed: 1706)
        let initiation = try Self.realXXInitiation(to: pair.serverAddress, seed: 1706, service: "nobody")
        pair.server.deliver(initiation, from: Self.attacker, now: pair.now)
        #expect(pair.server.drainTransmits(now: pair.now).isEmpty, "the refusal revealed the responder")
        #expect(pair.server.statistics.drops.refused == 1 && pair.server.connectionCount == 0)
    }

    // MARK: - Finding 6: a repeat is the whole Initiation

    /// Same ephemeral key, other bytes (mac1 is public under XX): no repeat,
    /// so neither a resend to the half-open address nor a copy elsewhere.
    @Test func aVariantOfAHalfOpenInitiationIsNotARepeat() throws {
        var pair = Pair(seed: 1707)
        let initiation = try Self.realXXInitiation(to: pair.serverAddress, seed: 1707)
        let victim = PeerAddress(ipv4: 192, 0, 2, 44, port: 4_000)
        pair.server.deliver(initiation, from: victim, now: pair.now)
        #expect(Self.packetTypes(pair.server.drainTransmits(now: pair.now)) == [0x02])
        // The same ephemeral key, padded with 1,000 bytes: from the victim's
        // address (spoofed) and from the attacker's own.
        var padded = initiation + [UInt8](repeating: 0, count: 1_000)
        padded.withUnsafeMutableBytes { HandshakeMACs.xx.writeMAC1(into: $0) }
        pair.server.deliver(padded, from: victim, now: pair.now)
        pair.server.deliver(padded, from: Self.attacker, now: pair.now)
        #expect(pair.server.drainTransmits(now: pair.now).isEmpty, "a variant made the responder send")
        #expect(pair.server.statistics.drops.replayed == 2)
        // The identical Initiation is still a repeat.
        pair.server.deliver(initiation, from: victim, now: pair.now)
        #expect(Self.packetTypes(pair.server.drainTransmits(now: pair.now)) == [0x02])
    }

    // MARK: - Finding 7: cookies only from the responder, one resend per interval

    @Test func forgedCookiesMoveTheInitiatorAtMostOncePerInterval() throws {
        var pair = Pair(seed: 1708)
        _ = try pair.connect()
        let initiation = try #require(pair.client.drainTransmits(now: pair.now).first?.bytes)
        let macs = HandshakeMACs(responderStaticKey: pair.server.endpointID.noiseStaticKey)
        var random = SeededRandom(seed: 1708)
        func forgedCookie() -> [UInt8] {
            var packet = [UInt8](repeating: 0, count: CookiePacket.packetCount)
            let cid = initiation.withUnsafeBytes { ConnectionID(UnsafeRawBufferPointer(rebasing: $0[3..<11]))! }
            let mac1 = initiation.withUnsafeBytes { HandshakeMACs.mac1Field(of: $0) }
            _ = packet.withUnsafeMutableBytes {
                CookieSealing.seal(cookie: Cookie(Bytes16(random.bytes(count: 16))!), initiatorCID: cid,
                                   initiationMAC1: mac1, macs: macs, using: &random, into: $0)
            }
            return packet
        }
        func resends() -> Int {
            if let deadline = pair.client.nextDeadline(), deadline <= pair.now { pair.client.handleTimeout(now: pair.now) }
            return Self.packetTypes(pair.client.drainTransmits(now: pair.now)).filter { $0 == 0x01 }.count
        }
        let failuresBefore = pair.client.statistics.drops.authenticationFailed
        pair.client.deliver(forgedCookie(), from: Self.stranger, now: pair.now)
        #expect(resends() == 0, "a Cookie from a stranger made the initiator resend")
        #expect(pair.client.statistics.drops.authenticationFailed == failuresBefore + 1)
        var total = 0
        for _ in 0..<5 {
            pair.client.deliver(forgedCookie(), from: pair.serverAddress, now: pair.now)
            total += resends()
            pair.now += .milliseconds(10)
        }
        #expect(total == 1, "\(total) cookie-triggered resends inside one retransmission interval")
    }

    // MARK: - Finding 10: the HANDSHAKE frame's CID is the header's

    @Test func anInitiationWhoseHandshakeFrameNamesAnotherCIDIsDropped() throws {
        var pair = Pair(seed: 1709)
        var initiation = try Self.realXXInitiation(to: pair.serverAddress, seed: 1709)
        initiation[10] ^= 0x01  // the header's sender CID; the frame's stays
        initiation.withUnsafeMutableBytes { HandshakeMACs.xx.writeMAC1(into: $0) }
        pair.server.deliver(initiation, from: Self.attacker, now: pair.now)
        #expect(pair.server.drainTransmits(now: pair.now).isEmpty)
        #expect(pair.server.statistics.drops.malformed == 1 && pair.server.connectionCount == 0)
    }
}

/// Finding 10, §5.4: what the endpoint knows of a peer's AES is forgotten
/// when a handshake to it times out, so the next attempt uses ChaChaPoly.
@Suite struct CipherFallbackTests {
    @Test func aHandshakeTimeoutForgetsThatThePeerHasAES() throws {
        guard AEADAlgorithm.aesGCM.isHardwareAccelerated else { return }
        // A handshake deadline shorter than the idle timeout, so the attempt's
        // timeout is the first `closed` the initiator hears.
        var pair = Pair(seed: 1710) { configuration, _ in configuration.handshakeTimeout = .seconds(10) }
        _ = try pair.connect()
        #expect(pair.drive(timeout: .seconds(5)) { $0.connected(.initiator) != nil })
        // Now known to have AES: the next Initiation offers the IK AES-GCM suite.
        _ = try pair.connect()
        let second = try #require(pair.client.drainTransmits(now: pair.now).first?.bytes)
        #expect(second[2] == 0x02, "suite \(second[2])")
        // That attempt goes unanswered until it times out.
        pair.toServer.isDown = true
        #expect(pair.drive(timeout: .seconds(30)) { pair in
            if case .handshakeTimeout = pair.closed(.initiator)?.kind { true } else { false }
        })
        _ = try pair.connect()
        let third = try #require(pair.client.drainTransmits(now: pair.now).first?.bytes)
        #expect(third[2] == 0x01, "after the timeout the initiator still offers suite \(third[2])")
    }
}

/// The fuzz targets reach the new checks: forged Cookie packets at an
/// initiator (from the server's address and a stranger's), and a cookie
/// holder's burst at a loaded responder. Their preconditions are the checks.
@Suite struct SecurityFuzzSeedTests {
    @Test func theForgedCookieAndCookieHolderSeedsReachTheirChecks() {
        let forged = FuzzResponse.seeds().filter { $0.name.hasPrefix("forged-cookies") }
        #expect(forged.count == 2)
        for seed in forged { seed.bytes.withUnsafeBytes { FuzzResponse.run($0) } }
        let holders = FuzzInitiation.seeds().filter { $0.name.hasSuffix("cookie-holder") }
        #expect(holders.count == 2)
        for seed in holders {
            let outcome = seed.bytes.withUnsafeBytes { FuzzInitiation.run($0) }
            #expect(outcome.retriedWithCookie, "\(seed.name) never proved a cookie")
        }
    }
}
