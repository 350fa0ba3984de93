import Testing
@testable import SecureStreamsCore

@Suite struct EndpointLifecycleTests {
    @Test func idleConnectionsEndOnBothSides() throws {
        var pair = Pair(seed: 21) { configuration, _ in configuration.idleTimeout = .seconds(5) }
        _ = try pair.connect()
        #expect(pair.drive(timeout: .seconds(2)) { $0.connected(.responder) != nil })
        let start = pair.now
        #expect(pair.drive(timeout: .seconds(30)) { $0.closed(.initiator) != nil && $0.closed(.responder) != nil })
        #expect(pair.closed(.initiator) == ConnectionError(.idleTimeout))
        #expect(pair.closed(.responder) == ConnectionError(.idleTimeout))
        #expect(pair.now - start >= .seconds(5) && pair.now - start < .seconds(7))
        #expect(pair.client.connectionCount == 0 && pair.server.connectionCount == 0)
    }

    @Test func keepAliveHoldsAnIdleConnectionOpen() throws {
        var pair = Pair(seed: 22) { configuration, side in
            configuration.idleTimeout = .seconds(5)
            if side == .initiator { configuration.keepAliveInterval = .seconds(2) }
        }
        _ = try pair.connect()
        #expect(pair.drive(timeout: .seconds(2)) { $0.connected(.responder) != nil })
        _ = pair.drive(timeout: .seconds(60)) { _ in false }
        #expect(pair.closed(.initiator) == nil && pair.closed(.responder) == nil)
        #expect(pair.server.connectionCount == 1)
    }

    @Test func closeTellsThePeerTheCodeAndReason() throws {
        var pair = Pair(seed: 23)
        let connection = try pair.connect()
        #expect(pair.drive(timeout: .seconds(2)) { $0.connected(.responder) != nil })
        pair.client.close(connection, code: ErrorCode(0x105), reason: "done here", now: pair.now)
        #expect(pair.drive(timeout: .seconds(2)) { $0.closed(.responder) != nil })
        #expect(pair.closed(.responder) == ConnectionError(.closedByPeer(code: ErrorCode(0x105), reason: "done here")))
        #expect(pair.closed(.initiator) == ConnectionError(.closedLocally(code: ErrorCode(0x105), reason: "done here")))
        _ = pair.drive(timeout: .seconds(10)) { _ in false }
        #expect(pair.client.connectionCount == 0 && pair.server.connectionCount == 0)
    }

    @Test func unknownServiceIsRefusedWithACode() throws {
        var pair = Pair(seed: 24)
        _ = try pair.client.connect(to: pair.server.endpointID, at: pair.serverAddress,
                                    service: "nobody", protocol: "home", now: pair.now)
        #expect(pair.drive(timeout: .seconds(5)) { $0.closed(.initiator) != nil })
        #expect(pair.closed(.initiator) == ConnectionError(.serviceRefused(service: "nobody", protocol: "home")))
        #expect(pair.server.connectionCount == 0)
    }

    @Test func wrongServerKeyNeverConnects() throws {
        var pair = Pair(seed: 25) { configuration, _ in configuration.handshakeTimeout = .seconds(3) }
        var random = SeededRandom(seed: 99)
        let stranger = HostIdentity(using: &random).endpointID
        _ = try pair.client.connect(to: stranger, at: pair.serverAddress, service: "test", protocol: "bytes", now: pair.now)
        #expect(pair.drive(timeout: .seconds(10)) { $0.closed(.initiator) != nil })
        // Initiations at 0, 1 and 3 s (§10) until the 3 s deadline; the
        // server drops each one, so nothing came back.
        guard case .handshakeTimeout(let why)? = pair.closed(.initiator)?.kind else {
            Issue.record("expected a handshake timeout, got \(String(describing: pair.closed(.initiator)))")
            return
        }
        #expect(why.phase == .awaitingResponse && why.packetsHeard == 0)
        #expect(why.attempts >= 2 && why.attempts <= 3)
        #expect(pair.server.statistics.drops.authenticationFailed > 0)
        #expect(pair.server.connectionCount == 0)
    }

    @Test func handshakeSurvivesLossOfFirstFlights() throws {
        var pair = Pair(seed: 26)
        pair.toServer.isDown = true
        pair.toClient.isDown = true
        _ = try pair.connect()
        _ = pair.drive(timeout: .milliseconds(2_500)) { _ in false }
        pair.toServer.isDown = false
        pair.toClient.isDown = false
        #expect(pair.drive(timeout: .seconds(8)) { $0.connected(.initiator) != nil && $0.connected(.responder) != nil })
    }

    @Test func keyUpdatesInTheMiddleOfATransfer() throws {
        var pair = Pair(seed: 27) { configuration, _ in configuration.keyUpdatePackets = 300 }
        pair.toServer.reorderRate = 0.05
        pair.toClient.reorderRate = 0.05
        let connection = try pair.connect()
        var transfer = Transfer(streams: 2, bytesPerStream: 2_000_000)
        #expect(transfer.run(on: &pair, connection: connection, timeout: .seconds(120)))
        #expect(transfer.isIntact())
        let client = try #require(pair.client.statistics(of: connection))
        #expect(client.keyUpdates >= 4, "key updates: \(client.keyUpdates)")
        #expect(client.drops.authenticationFailed == 0)
    }

    @Test func connectionFollowsTheClientToANewAddress() throws {
        var pair = Pair(seed: 28)
        let connection = try pair.connect()
        var transfer = Transfer(streams: 1, bytesPerStream: 3_000_000)
        var moved = false
        let done = transfer.run(on: &pair, connection: connection, timeout: .seconds(120)) { pair, received in
            // A NAT rebinding halfway: the client's packets now come from a new port.
            if !moved, received > 1_000_000 {
                pair.clientAddress = PeerAddress(ipv4: 10, 0, 0, 1, port: 40_001)
                moved = true
            }
        }
        #expect(moved)
        #expect(done && transfer.isIntact())
        let newAddress = PeerAddress(ipv4: 10, 0, 0, 1, port: 40_001)
        #expect(pair.serverEvents.contains { if case .pathChanged(_, newAddress) = $0 { true } else { false } })
        let server = try #require(pair.connected(.responder))
        #expect(pair.server.address(of: server) == newAddress)
    }

    @Test func unknownVersionGetsANegotiationAnswer() throws {
        var pair = Pair(seed: 29)
        var probe = [UInt8](repeating: 0x42, count: 60)
        probe[0] = 0x07
        probe.withUnsafeMutableBytes { pair.server.handleDatagram($0, from: pair.clientAddress, now: pair.now) }
        var buffer = [UInt8](repeating: 0, count: 1_500)
        let transmit = try #require(buffer.withUnsafeMutableBytes { pair.server.pollTransmit(now: pair.now, into: $0) })
        #expect(transmit.destination == pair.clientAddress)
        #expect(buffer[0] == 0x00 && buffer[1] == 0x56)
        #expect(Array(buffer[2..<10]) == Array(probe[1..<9]))
        #expect(Array(buffer[10..<transmit.count]) == [1, ProtocolVersion.current.rawValue])
        #expect(transmit.count <= probe.count)
        #expect(pair.server.statistics.drops.unknownVersion == 1)
    }
}

@Suite struct EndpointLinkTests {
    @Test func blackholeStallsTheLinkAndItComesBackUp() throws {
        var pair = Pair(seed: 51)
        let connection = try pair.connect()
        var transfer = Transfer(streams: 1, bytesPerStream: 2_000_000)
        var holeStart: Timestamp?
        let done = transfer.run(on: &pair, connection: connection, timeout: .seconds(120)) { pair, received in
            if holeStart == nil, received > 500_000 {
                holeStart = pair.now
                pair.toServer.isDown = true
                pair.toClient.isDown = true
            }
            if let start = holeStart, pair.now - start >= .seconds(2), pair.toServer.isDown {
                pair.toServer.isDown = false
                pair.toClient.isDown = false
            }
        }
        #expect(done && transfer.isIntact())
        let linkEvents = pair.clientEvents.compactMap { event -> String? in
            switch event {
            case .linkStalled: "stalled"
            case .linkDown: "down"
            case .linkUp: "up"
            default: nil
            }
        }
        #expect(linkEvents.first == "stalled", "link events: \(linkEvents)")
        #expect(linkEvents.last == "up", "link events: \(linkEvents)")
    }

    @Test func responderNeverSendsMoreThanThreeTimesWhatAnUnvalidatedAddressSent() throws {
        var pair = Pair(seed: 52)
        _ = try pair.connect()
        // Let exactly the first Initiation through, then cut the client off:
        // the responder has one unvalidated address and must not amplify.
        #expect(pair.drive(timeout: .seconds(1)) { $0.server.statistics.datagramsReceived >= 1 })
        pair.toServer.isDown = true
        _ = pair.drive(timeout: .seconds(20)) { _ in false }
        let stats = pair.server.statistics
        #expect(stats.bytesSent > 0)
        #expect(stats.bytesSent <= 3 * stats.bytesReceived, "sent \(stats.bytesSent) for \(stats.bytesReceived) received")
    }
}
