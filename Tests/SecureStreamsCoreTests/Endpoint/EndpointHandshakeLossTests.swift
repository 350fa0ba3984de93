import Testing
@testable import SecureStreamsCore

/// Handshakes under heavy loss, their retransmission schedule and deadline,
/// and version-negotiation answers that must not end them (PROTOCOL.md §3.5, §10).
@Suite struct EndpointHandshakeLossTests {
    /// 50 handshakes, each over its own link losing 30 % of datagrams each
    /// way (IK on even seeds, XX on odd): every one completes on both sides
    /// within the 60 s deadline.
    @Test func handshakesCompleteOverThirtyPercentLossEachWay() throws {
        let filter = "handshakesCompleteOverThirtyPercentLossEachWay"
        let seeds = TestSeeds.seeds(Array(1_000..<1_050), filter: filter)
        var times: [Duration] = []
        for seed in seeds {
            var pair = Pair(seed: seed)
            pair.toServer.lossRate = 0.3
            pair.toClient.lossRate = 0.3
            pair.toServer.latency = .milliseconds(15)
            pair.toClient.latency = .milliseconds(15)
            let start = pair.now
            _ = try pair.connect(knowingServer: seed % 2 == 0)
            let done = pair.drive(timeout: .seconds(61)) {
                ($0.connected(.initiator) != nil && $0.connected(.responder) != nil)
                    || $0.closed(.initiator) != nil || $0.closed(.responder) != nil
            }
            let ok = done && pair.connected(.initiator) != nil && pair.connected(.responder) != nil
            #expect(ok, "handshake failed: \(String(describing: pair.closed(.initiator))), \(TestSeeds.replay(seed, filter: filter))")
            if ok { times.append(pair.now - start) }
        }
        let sorted = times.sorted()
        if !sorted.isEmpty {
            let total = sorted.reduce(Duration.zero, +)
            print("[figures] \(filter): \(sorted.count)/\(seeds.count) completed; both sides connected after "
                  + "mean \(total / sorted.count), median \(sorted[sorted.count / 2]), max \(sorted.last!)")
        }
    }

    /// The initiator resends on the RFC 9002 first-flight backoff, capped
    /// at 2 s, until its deadline, then says what it tried.
    @Test func initiationBacksOffToTwoSecondsUntilTheDeadline() throws {
        var pair = Pair(seed: 31) { configuration, _ in configuration.handshakeTimeout = .seconds(20) }
        let start = pair.now
        _ = try pair.connect()
        var sendTimes: [Duration] = []
        var now = pair.now
        var closed: ConnectionError?
        for _ in 0..<100 {
            pair.client.handleTimeout(now: now)
            for _ in pair.client.drainTransmits(now: now) { sendTimes.append(now - start) }
            while let event = pair.client.pollEvent() {
                if case .closed(_, let error) = event { closed = error }
            }
            guard closed == nil, let next = pair.client.nextDeadline() else { break }
            now = next
        }
        let gaps = zip(sendTimes.dropFirst(), sendTimes).map { $0 - $1 }
        #expect(gaps.first == .milliseconds(999))
        #expect(gaps.dropFirst().first == .milliseconds(1_998) || gaps.dropFirst().first == .seconds(2))
        #expect(gaps.allSatisfy { $0 <= .seconds(2) })
        // 0, 0.999, 2.997, then every 2 s until 20 s: 11 sends.
        #expect(sendTimes.count == 11)
        guard case .handshakeTimeout(let why)? = closed?.kind else {
            Issue.record("expected a handshake timeout, got \(String(describing: closed))")
            return
        }
        #expect(why == HandshakeTimeout(phase: .awaitingResponse, attempts: sendTimes.count, packetsHeard: 0))
    }

    /// The responder resends its Response on its own timer while the
    /// handshake is unconfirmed, never beyond 3× the bytes it received.
    @Test func responderResendsItsResponseWithinTheAmplificationLimit() throws {
        var pair = Pair(seed: 32)
        _ = try pair.connect()
        let initiation = try #require(pair.client.drainTransmits(now: pair.now).first)
        pair.server.deliver(initiation.bytes, from: pair.clientAddress, now: pair.now)
        var responses: [[UInt8]] = []
        var now = pair.now
        for _ in 0..<50 {
            pair.server.handleTimeout(now: now)
            responses += pair.server.drainTransmits(now: now).map(\.bytes)
            guard let next = pair.server.nextDeadline(), next < pair.now + .seconds(30) else { break }
            now = next
        }
        #expect(responses.count >= 2, "the Response was not resent on a timer")
        #expect(Set(responses).count == 1, "a resent Response differs from the first")
        #expect(responses.reduce(0) { $0 + $1.count } <= 3 * initiation.bytes.count)
    }

    /// A version-negotiation answer that lists the version in use cannot
    /// have answered our Initiation: forged, or answering a corrupted copy.
    @Test func versionNegotiationListingOurVersionIsIgnored() throws {
        var pair = Pair(seed: 33)
        _ = try pair.connect()
        let initiation = try #require(pair.client.drainTransmits(now: pair.now).first)
        let echo = initiation.bytes.withUnsafeBytes { VersionNegotiationPacket.echo(of: $0) }
        pair.client.deliver(Self.versionNegotiation(echo: echo, versions: [.current, ProtocolVersion(0x7E)]),
                            from: pair.serverAddress, now: pair.now)
        pair.server.deliver(initiation.bytes, from: pair.clientAddress, now: pair.now)
        #expect(pair.drive(timeout: .seconds(5)) { $0.connected(.initiator) != nil && $0.connected(.responder) != nil })
        #expect(pair.closed(.initiator) == nil)
    }

    /// One that names our connection but does not echo our Initiation's
    /// bytes is ignored too, even at the deadline: the handshake goes on.
    @Test func versionNegotiationWithoutOurEchoIsIgnored() throws {
        var pair = Pair(seed: 34)
        _ = try pair.connect()
        let initiation = try #require(pair.client.drainTransmits(now: pair.now).first)
        let echo = initiation.bytes.withUnsafeBytes { VersionNegotiationPacket.echo(of: $0) }
        // Same CID prefix (the index finds the connection), another suite byte.
        let wrongEcho = echo ^ 0x00FF_0000_0000_0000
        pair.client.deliver(Self.versionNegotiation(echo: wrongEcho, versions: [ProtocolVersion(0x7E)]),
                            from: pair.serverAddress, now: pair.now)
        // The Initiation is lost; the handshake carries on with its next one.
        #expect(pair.drive(timeout: .seconds(10)) { $0.connected(.initiator) != nil && $0.connected(.responder) != nil })
        #expect(pair.closed(.initiator) == nil)
    }

    /// A real mismatch (our echo, our version absent) is reported only at
    /// the deadline, and a valid Response arriving before then wins.
    @Test func realVersionMismatchWaitsForTheDeadline() throws {
        var pair = Pair(seed: 35) { configuration, _ in configuration.handshakeTimeout = .seconds(5) }
        _ = try pair.connect()
        let initiation = try #require(pair.client.drainTransmits(now: pair.now).first)
        let echo = initiation.bytes.withUnsafeBytes { VersionNegotiationPacket.echo(of: $0) }
        pair.client.deliver(Self.versionNegotiation(echo: echo, versions: [ProtocolVersion(0x7E)]),
                            from: pair.serverAddress, now: pair.now)
        #expect(pair.client.pollEvent() == nil)
        pair.toServer.isDown = true
        #expect(pair.drive(timeout: .seconds(10)) { $0.closed(.initiator) != nil })
        #expect(pair.closed(.initiator) == ConnectionError(.noCommonVersion(ours: [ProtocolVersion.current.rawValue], theirs: [0x7E])))

        // Same answer, but the peer's Response gets through: connected.
        var second = Pair(seed: 36) { configuration, _ in configuration.handshakeTimeout = .seconds(5) }
        _ = try second.connect()
        let first = try #require(second.client.drainTransmits(now: second.now).first)
        let secondEcho = first.bytes.withUnsafeBytes { VersionNegotiationPacket.echo(of: $0) }
        second.client.deliver(Self.versionNegotiation(echo: secondEcho, versions: [ProtocolVersion(0x7E)]),
                              from: second.serverAddress, now: second.now)
        #expect(second.drive(timeout: .seconds(5)) { $0.connected(.initiator) != nil && $0.connected(.responder) != nil })
        #expect(second.closed(.initiator) == nil)
    }

    static func versionNegotiation(echo: UInt64, versions: [ProtocolVersion]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: VersionNegotiationPacket.encodedCount(versionCount: versions.count))
        bytes.withUnsafeMutableBytes { buffer in
            var writer = WireWriter(buffer)
            _ = VersionNegotiationPacket.write(echo: echo, versions: versions, into: &writer)
        }
        return bytes
    }
}
