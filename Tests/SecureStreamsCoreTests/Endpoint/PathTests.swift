import Testing
@testable import SecureStreamsCore

/// Paths, migration and connection ids (PROTOCOL.md §7), from an attacker's
/// view where one applies: the attacker sees every datagram and can race a
/// copy from another address (a rewritten source in ``Pair/tamper``) or
/// relay a datagram from elsewhere.
@Suite struct PathTests {
    static let victim = PeerAddress(ipv4: 192, 0, 2, 66, port: 4_444)
    static let attacker = PeerAddress(ipv4: 198, 51, 100, 7, port: 5_555)
    static let second = PeerAddress(ipv4: 10, 0, 0, 1, port: 40_001)

    /// The packet type (byte 1 of every packet but version negotiation).
    static func type(_ bytes: [UInt8]) -> UInt8 { bytes.count > 1 ? bytes[1] : 0 }
    static func isData(_ bytes: [UInt8]) -> Bool { type(bytes) == 0x10 || type(bytes) == 0x11 }
    /// The destination CID of a Data packet.
    static func destinationCID(_ bytes: [UInt8]) -> UInt64 { bytes[2..<10].reduce(0) { $0 << 8 | UInt64($1) } }

    static func hasPathChanged(_ events: [Event], to address: PeerAddress) -> Bool {
        events.contains { if case .pathChanged(_, address) = $0 { true } else { false } }
    }

    /// Connects, then lets everything settle: both ends established, nothing in flight.
    static func connectedPair(seed: UInt64, knowingServer: Bool = true) throws -> (Pair, ConnectionHandle, ConnectionHandle) {
        var pair = Pair(seed: seed)
        let connection = try pair.connect(knowingServer: knowingServer)
        #expect(pair.drive(timeout: .seconds(5)) { $0.connected(.responder) != nil && $0.connected(.initiator) != nil })
        let settled = pair.settle()
        #expect(settled)
        return (pair, connection, try #require(pair.connected(.responder)))
    }

    /// Writes `count` bytes on a new client stream and flushes: the client's
    /// datagrams to the server, taken off the wire, oldest first.
    static func clientData(_ pair: inout Pair, _ connection: ConnectionHandle, count: Int) throws -> [Pair.InFlight] {
        let stream = try pair.client.openStream(on: connection)
        _ = try pair.client.write([UInt8](repeating: 7, count: count), to: stream, on: connection)
        pair.flush()
        return pair.takeInFlight(to: pair.serverAddress)
    }

    // MARK: - Issue 17 finding 3: handshake messages do not move the path

    @Test func aFinishFromAnotherAddressDoesNotMoveTheResponder() throws {
        var pair = Pair(seed: 301)
        let serverAddress = pair.serverAddress
        // The attacker races a copy of the XX Finish from the victim's address.
        pair.tamper = { datagram in
            if datagram.destination == serverAddress, Self.type(datagram.bytes) == 0x03 { datagram.source = Self.victim }
        }
        let connection = try pair.connect(knowingServer: false)
        var transfer = Transfer(streams: 1, bytesPerStream: 200_000)
        #expect(transfer.run(on: &pair, connection: connection, timeout: .seconds(30)))
        #expect(transfer.isIntact())
        #expect(pair.datagramsTo[Self.victim] == nil, "the responder sent \(pair.datagramsTo[Self.victim] ?? 0) datagrams to the victim")
        let server = try #require(pair.connected(.responder))
        #expect(pair.server.address(of: server) == pair.clientAddress)
    }

    @Test func aResponseFromAnotherAddressDoesNotMoveTheInitiator() throws {
        var pair = Pair(seed: 302)
        let clientAddress = pair.clientAddress
        // The attacker races a copy of the Response from the victim's address.
        pair.tamper = { datagram in
            if datagram.destination == clientAddress, Self.type(datagram.bytes) == 0x02 { datagram.source = Self.victim }
        }
        let connection = try pair.connect()
        var transfer = Transfer(streams: 1, bytesPerStream: 200_000)
        #expect(transfer.run(on: &pair, connection: connection, timeout: .seconds(30)))
        #expect(transfer.isIntact())
        #expect(pair.datagramsTo[Self.victim] == nil, "the initiator sent \(pair.datagramsTo[Self.victim] ?? 0) datagrams to the victim")
        #expect(pair.client.address(of: connection) == pair.serverAddress)
    }

    // MARK: - Issue 17 finding 5: path validation details

    @Test func aPathResponseCountsOnlyFromTheProbedAddress() throws {
        var (pair, connection, server) = try Self.connectedPair(seed: 303)
        pair.clientAliases = [Self.second]  // the client is reachable there too
        var data = try Self.clientData(&pair, connection, count: 100)
        try #require(data.count == 1)
        data[0].source = Self.second
        pair.deliver(data[0])
        pair.flush()
        let challenges = pair.takeInFlight(to: Self.second)
        try #require(challenges.count == 1)
        pair.deliver(challenges[0])
        pair.flush()
        // The answer is relayed to the server from the attacker's address.
        for var answer in pair.takeInFlight(to: pair.serverAddress) {
            answer.source = Self.attacker
            pair.deliver(answer)
        }
        pair.drainEvents()
        #expect(!Self.hasPathChanged(pair.serverEvents, to: Self.second))
        #expect(pair.server.address(of: server) == pair.clientAddress)
        #expect((pair.server.statistics(of: server)?.pathResponsesIgnored ?? 0) >= 1)
    }

    @Test func aThirdAddressDoesNotResetAProbeInProgress() throws {
        var (pair, connection, server) = try Self.connectedPair(seed: 304)
        pair.clientAddress = Self.second  // a genuine NAT rebinding
        var data = try Self.clientData(&pair, connection, count: 3_000)
        try #require(data.count >= 3)
        pair.deliver(data[0])  // the server starts validating the new address
        pair.flush()
        data[1].source = Self.attacker  // a racing copy from a third address
        pair.deliver(data[1])
        pair.deliver(data[2])
        for challenge in pair.takeInFlight(to: Self.second) { pair.deliver(challenge) }
        pair.flush()
        for answer in pair.takeInFlight(to: pair.serverAddress) { pair.deliver(answer) }
        pair.drainEvents()
        #expect(Self.hasPathChanged(pair.serverEvents, to: Self.second))
        #expect(pair.server.address(of: server) == Self.second)
        #expect(pair.datagramsTo[Self.attacker, default: 0] <= 1, "only challenges go to the third address")
    }

    @Test func noMoveWhileHigherNumberedPacketsArriveOnTheOldAddress() throws {
        var (pair, connection, server) = try Self.connectedPair(seed: 305)
        pair.clientAliases = [Self.second]
        var data = try Self.clientData(&pair, connection, count: 100)
        try #require(data.count == 1)
        data[0].source = Self.second
        pair.deliver(data[0])
        pair.flush()
        for challenge in pair.takeInFlight(to: Self.second) { pair.deliver(challenge) }
        pair.flush()
        let answered = pair.takeInFlight(to: pair.serverAddress)
        // The client goes on from its usual address, and those packets
        // (numbered above the answer) arrive before the answer does.
        let later = try Self.clientData(&pair, connection, count: 3_000)
        for datagram in answered + later where datagram.source == pair.clientAddress { pair.deliver(datagram) }
        for datagram in answered where datagram.source != pair.clientAddress { pair.deliver(datagram) }
        pair.drainEvents()
        #expect(!Self.hasPathChanged(pair.serverEvents, to: Self.second))
        #expect(pair.server.address(of: server) == pair.clientAddress)
    }

    @Test func pathResponsesStayWithinThreeTimesWhatArrived() throws {
        var (pair, connection, server) = try Self.connectedPair(seed: 307)
        let moved = PeerAddress(ipv4: 10, 0, 0, 9, port: 50_000)
        pair.clientAliases = [moved]
        // The client's challenge from its new address is copied by an attacker
        // that spoofs the victim's address, several times.
        #expect(try pair.client.migrate(connection, toLocalAddress: moved, now: pair.now))
        pair.flush()
        let challenges = pair.takeInFlight(to: pair.serverAddress)
        try #require(!challenges.isEmpty)
        // Only the first copy of each is processed (the rest are replays).
        let received = challenges.reduce(0) { $0 + $1.bytes.count }
        for _ in 0..<4 {
            for var challenge in challenges {
                challenge.source = Self.victim
                pair.deliver(challenge)
            }
        }
        pair.flush()
        #expect(pair.bytesTo[Self.victim, default: 0] > 0, "the challenge is answered")
        #expect(pair.bytesTo[Self.victim, default: 0] <= 3 * received)
        #expect(pair.server.address(of: server) == pair.clientAddress)
    }

    // MARK: - Active migration and connection ids

    @Test func activeMigrationMovesBothEndsAndChangesConnectionIDs() throws {
        var pair = Pair(seed: 306)
        let moved = PeerAddress(ipv4: 10, 0, 0, 9, port: 50_000)
        pair.clientAliases = [moved]
        final class Seen { var toServer: [PeerAddress: Set<UInt64>] = [:]; var toClient: [PeerAddress: Set<UInt64>] = [:] }
        let seen = Seen()
        let serverAddress = pair.serverAddress
        pair.tamper = { datagram in
            guard Self.isData(datagram.bytes) else { return }
            if datagram.destination == serverAddress {
                seen.toServer[datagram.source, default: []].insert(Self.destinationCID(datagram.bytes))
            } else {
                seen.toClient[datagram.destination, default: []].insert(Self.destinationCID(datagram.bytes))
            }
        }
        let connection = try pair.connect()
        var transfer = Transfer(streams: 1, bytesPerStream: 2_000_000)
        var migrated = false
        let done = transfer.run(on: &pair, connection: connection, timeout: .seconds(60)) { pair, received in
            if !migrated, received > 500_000 {
                migrated = (try? pair.client.migrate(connection, toLocalAddress: moved, now: pair.now)) == true
            }
        }
        #expect(migrated)
        #expect(done && transfer.isIntact())
        let server = try #require(pair.connected(.responder))
        #expect(pair.client.localAddress(of: connection) == moved)
        #expect(pair.server.address(of: server) == moved)
        #expect(Self.hasPathChanged(pair.clientEvents, to: pair.serverAddress))
        #expect(Self.hasPathChanged(pair.serverEvents, to: moved))
        let oldUp = seen.toServer[pair.clientAddress] ?? [], newUp = seen.toServer[moved] ?? []
        let oldDown = seen.toClient[pair.clientAddress] ?? [], newDown = seen.toClient[moved] ?? []
        #expect(!newUp.isEmpty && !newDown.isEmpty)
        #expect(oldUp.isDisjoint(with: newUp), "client → server CIDs shared across paths")
        #expect(oldDown.isDisjoint(with: newDown), "server → client CIDs shared across paths")
        // Each end routes its handshake CID and its spares, no more.
        #expect(pair.server.tableSizes["byCID"]! <= 1 + ConnectionIDPool.maxIssued)
        #expect(pair.client.tableSizes["byCID"]! <= 1 + ConnectionIDPool.maxIssued)
    }

    @Test func spareConnectionIDsAreRoutedAndFreedWithTheConnection() throws {
        var (pair, connection, _) = try Self.connectedPair(seed: 308)
        #expect(pair.server.tableSizes["byCID"] == 1 + ConnectionIDPool.maxIssued)
        #expect(pair.client.tableSizes["byCID"] == 1 + ConnectionIDPool.maxIssued)
        #expect(pair.client.connectionCount == 1 && pair.server.connectionCount == 1)
        pair.client.close(connection, now: pair.now)
        #expect(pair.drive(timeout: .seconds(30)) { $0.client.connectionCount == 0 && $0.server.connectionCount == 0 })
        #expect(pair.server.tableSizes["byCID"] == 0 && pair.client.tableSizes["byCID"] == 0)
    }

    @Test func theFuzzSeedForPathsMovesBytesEndToEnd() throws {
        let ops = Dictionary(uniqueKeysWithValues: FuzzEndpointOps.seeds().map { ($0.name, $0.bytes) })
        let paths = try #require(ops["paths"])
        #expect(paths.withUnsafeBytes { FuzzEndpointOps.run($0) } > 0)
    }
}

/// Header protection of the packet number (PROTOCOL.md §5.5).
@Suite struct HeaderProtectionTests {
    static func protections(seed: UInt64) throws -> (PacketProtection, PacketProtection) {
        var random = SeededRandom(seed: seed)
        let k1 = SecretBytes(randomCount: 32, using: &random), k2 = SecretBytes(randomCount: 32, using: &random)
        let now = Timestamp(nanoseconds: 0)
        return (try PacketProtection(initiatorToResponder: k1, responderToInitiator: k2, side: .initiator,
                                     algorithm: .chaChaPoly, now: now),
                try PacketProtection(initiatorToResponder: k1, responderToInitiator: k2, side: .responder,
                                     algorithm: .chaChaPoly, now: now))
    }

    /// Seals `payload` as packet `number` and returns the datagram.
    static func seal(_ protection: inout PacketProtection, number: UInt64, payload: [UInt8]) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: DataPacketLayout.overhead + payload.count)
        let total = try buffer.withUnsafeMutableBytes { raw in
            var header = WireWriter(UnsafeMutableRawBufferPointer(rebasing: raw[0..<DataPacketLayout.headerCount]))
            _ = DataPacket.writeHeader(keyPhase: .zero, destination: ConnectionID(rawValue: 9),
                                       packetNumber: PacketNumber(number), into: &header)
            raw.baseAddress!.advanced(by: DataPacketLayout.headerCount).copyMemory(from: payload, byteCount: payload.count)
            return try protection.seal(buffer: raw, payloadCount: payload.count, packetNumber: PacketNumber(number),
                                       now: Timestamp(nanoseconds: 0))
        }
        return Array(buffer[0..<total])
    }

    @Test func packetNumbersAreNotInClearAndStillOpen() throws {
        var (sender, receiver) = try Self.protections(seed: 41)
        var masked = 0
        for number in UInt64(0)..<64 {
            var datagram = try Self.seal(&sender, number: number, payload: [0x01, 0x00, 0x00])
            let clear: [UInt8] = [0, 0, UInt8(number >> 8), UInt8(number & 0xff)]
            if Array(datagram[10..<14]) != clear { masked += 1 }
            let outcome = datagram.withUnsafeMutableBytes { receiver.open($0, count: $0.count, now: Timestamp(nanoseconds: 0)) }
            guard case .opened(let opened) = outcome else { Issue.record("packet \(number) did not open"); continue }
            #expect(opened.packetNumber == PacketNumber(number))
        }
        #expect(masked >= 63, "packet numbers in clear: \(64 - masked) of 64")
    }

    @Test func theSamePacketNumberShowsDifferentBytesUnderDifferentKeys() throws {
        var (first, _) = try Self.protections(seed: 42)
        var (second, _) = try Self.protections(seed: 43)
        let a = try Self.seal(&first, number: 7, payload: [0x01, 0x00, 0x00])
        let b = try Self.seal(&second, number: 7, payload: [0x01, 0x00, 0x00])
        #expect(Array(a[10..<14]) != Array(b[10..<14]))
        // And under one key, the same number with another payload.
        var (third, _) = try Self.protections(seed: 42)
        let c = try Self.seal(&third, number: 7, payload: [0x01, 0x01, 0x00])
        #expect(Array(a[10..<14]) != Array(c[10..<14]))
    }
}
