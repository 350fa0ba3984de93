import Testing
@testable import SecureStreamsCore

@Suite struct WirePacketHeaderTests {
    static let cid = ConnectionID(rawValue: 0x0102_0304_0506_0708)

    // MARK: Builders of minimal valid packets

    static func initiation(suite: Suite = .ikChaChaPoly, noise: [UInt8] = Array(repeating: 0x5a, count: 32),
                           mac1: Bytes16 = Bytes16(Array(1...16))!, mac2: Bytes16 = .zero) -> [UInt8] {
        build {
            #expect(InitiationPacket.writeHeader(suite: suite, senderCID: cid, mac1: mac1, mac2: mac2, into: &$0))
            $0.writeBytes(noise)
        }
    }

    static func handshakeMessage(_ kind: HandshakeMessagePacket.Kind, noiseCount: Int? = nil) -> [UInt8] {
        build {
            #expect(HandshakeMessagePacket.writeHeader(kind: kind, destination: cid, into: &$0))
            $0.writeZeros(count: noiseCount ?? kind.minimumNoiseMessageCount)
        }
    }

    static func cookie() -> [UInt8] {
        build {
            #expect(CookiePacket.write(
                destination: cid, nonce: [UInt8](repeating: 0x11, count: 24),
                sealedCookie: [UInt8](repeating: 0x22, count: 32), into: &$0))
        }
    }

    static func data(phase: KeyPhase = .one, packetNumber: PacketNumber = PacketNumber(0x1_2345_6789),
                     ciphertextCount: Int = DataPacket.minimumCiphertextCount) -> [UInt8] {
        build {
            #expect(DataPacket.writeHeader(keyPhase: phase, destination: cid, packetNumber: packetNumber, into: &$0))
            $0.writeBytes([UInt8](repeating: 0x77, count: ciphertextCount))
        }
    }

    static func versionNegotiation(echo: UInt64 = 0x0203_0405_0607_0809) -> [UInt8] {
        build { #expect(VersionNegotiationPacket.write(echo: echo, versions: [.v1, ProtocolVersion(7)], into: &$0)) }
    }

    static func minimalPackets() -> [(String, [UInt8])] {
        [("initiation", initiation()), ("response", handshakeMessage(.response)),
         ("finish", handshakeMessage(.finish)), ("cookie", cookie()), ("data", data()),
         ("version negotiation", versionNegotiation())]
    }

    // MARK: Round trips

    @Test(arguments: Suite.allCases)
    func initiationRoundTrips(suite: Suite) {
        let noise = (0..<100).map { UInt8($0) }
        let packet = Self.initiation(suite: suite, noise: noise, mac2: Bytes16(Array(repeating: 9, count: 16))!)
        #expect(packet.count == InitiationPacket.headerCount + 100)
        withBytes(packet) { raw in
            guard case .success(.initiation(let parsed)) = PacketHeader.parse(raw) else {
                Issue.record("not an Initiation"); return
            }
            #expect(parsed.suite == suite)
            #expect(parsed.senderCID == Self.cid)
            #expect(parsed.mac1 == Bytes16(Array(1...16))!)
            #expect(parsed.mac2 == Bytes16(Array(repeating: 9, count: 16))!)
            #expect(Array(parsed.noiseMessage) == noise)
            #expect(Array(parsed.prologueHeader) == Array(packet[0..<11]))
            #expect(Array(parsed.mac2CoveredHeader) == Array(packet[0..<27]))
            #expect(parsed.header.count == 43)
        }
    }

    @Test func initiationMACsCanBeStoredAfterTheNoiseMessage() {
        var packet = Self.initiation(mac1: .zero)
        let mac1 = Bytes16(Array(repeating: 0xa1, count: 16))!
        let mac2 = Bytes16(Array(repeating: 0xb2, count: 16))!
        packet.withUnsafeMutableBytes { InitiationPacket.storeMACs(mac1: mac1, mac2: mac2, inPacket: $0) }
        withBytes(packet) { raw in
            guard case .success(.initiation(let parsed)) = PacketHeader.parse(raw) else {
                Issue.record("not an Initiation"); return
            }
            #expect(parsed.mac1 == mac1 && parsed.mac2 == mac2)
        }
    }

    @Test func suiteNamesItsNoiseProtocol() throws {
        #expect(Suite.ikChaChaPoly.noiseProtocol.name == "Noise_IK_25519_ChaChaPoly_BLAKE2b")
        #expect(Suite.ikAESGCM.noiseProtocol.name == "Noise_IK_25519_AESGCM_BLAKE2b")
        #expect(Suite.xxChaChaPoly.noiseProtocol.name == "Noise_XX_25519_ChaChaPoly_BLAKE2b")
        #expect(Suite.xxAESGCM.noiseProtocol.name == "Noise_XX_25519_AESGCM_BLAKE2b")
        for suite in Suite.allCases { #expect(Suite(suite.noiseProtocol) == suite) }
        #expect(Suite(try NoiseProtocol(name: "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b")) == nil)
    }

    @Test(arguments: [UInt8(0x00), 0x05, 0x80, 0xff])
    func unknownSuiteIsUnsupported(byte: UInt8) {
        var packet = Self.initiation()
        packet[2] = byte
        withBytes(packet) { #expect(PacketHeader.parse($0).failure == .unsupportedSuite(byte)) }
    }

    @Test(arguments: [HandshakeMessagePacket.Kind.response, .finish])
    func handshakeMessagesRoundTrip(kind: HandshakeMessagePacket.Kind) {
        let packet = Self.handshakeMessage(kind, noiseCount: 80)
        withBytes(packet) { raw in
            let parsed: HandshakeMessagePacket
            switch (PacketHeader.parse(raw), kind) {
            case (.success(.response(let p)), .response), (.success(.finish(let p)), .finish): parsed = p
            default: Issue.record("wrong parse for \(kind)"); return
            }
            #expect(parsed.kind == kind)
            #expect(parsed.destination == Self.cid)
            #expect(parsed.noiseMessage.count == 80)
            #expect(parsed.noiseMessage.baseAddress == raw.baseAddress! + 10)
        }
    }

    @Test func cookieRoundTripsAndIsExactly66Bytes() {
        let packet = Self.cookie()
        #expect(packet.count == 66)
        withBytes(packet) { raw in
            guard case .success(.cookie(let parsed)) = PacketHeader.parse(raw) else { Issue.record("not a Cookie"); return }
            #expect(parsed.destination == Self.cid)
            #expect(Array(parsed.nonce) == [UInt8](repeating: 0x11, count: 24))
            #expect(Array(parsed.sealedCookie) == [UInt8](repeating: 0x22, count: 32))
        }
        withBytes(packet + [0]) { #expect(PacketHeader.parse($0).failure == .malformed) }
    }

    @Test(arguments: KeyPhase.allCases)
    func dataRoundTrips(phase: KeyPhase) {
        let number = PacketNumber(0x7_dead_beef)
        let packet = Self.data(phase: phase, packetNumber: number, ciphertextCount: 100)
        withBytes(packet) { raw in
            guard case .success(.data(let parsed)) = PacketHeader.parse(raw) else { Issue.record("not Data"); return }
            #expect(parsed.keyPhase == phase)
            #expect(parsed.destination == Self.cid)
            #expect(parsed.truncatedPacketNumber == 0xdead_beef)
            #expect(PacketNumber.decode(truncated: parsed.truncatedPacketNumber,
                                        largestReceived: PacketNumber(0x7_dead_0000)) == number)
            #expect(Array(parsed.header) == Array(packet[0..<14]))
            #expect(parsed.ciphertext.count == 100)
        }
        #expect(packet[1] == 0x10 | phase.rawValue)
    }

    @Test func versionNegotiationRoundTripsAndEchoesThePrompt() {
        let prompt: [UInt8] = [0x09, 1, 2, 3, 4]  // an unknown version, shorter than the echo
        let packet = build { writer in
            withBytes(prompt) { #expect(VersionNegotiationPacket.write(answering: $0, versions: ProtocolVersion.supported, into: &writer)) }
        }
        #expect(packet == [0x00, 0x56, 1, 2, 3, 4, 0, 0, 0, 0, 1, 0x03])
        withBytes(packet) { raw in
            guard case .success(.versionNegotiation(let parsed)) = PacketHeader.parse(raw) else {
                Issue.record("not version negotiation"); return
            }
            #expect(parsed.echo == 0x0102_0304_0000_0000)
            #expect(parsed.lists(.v3))
            #expect(!parsed.lists(.v1) && !parsed.lists(.v2), "versions 1 and 2 are retired")
        }
        withBytes(Self.versionNegotiation() + [1]) { #expect(PacketHeader.parse($0).failure == .malformed) }
        var badMarker = Self.versionNegotiation()
        badMarker[1] = 0x57
        withBytes(badMarker) { #expect(PacketHeader.parse($0).failure == .malformed) }
    }

    // MARK: Drops

    @Test(arguments: [UInt8(0x01), 0x02, 0x04, 0x10, 0x56, 0xff])
    func unknownVersionIsReportedWhateverTheLength(version: UInt8) {
        withBytes([version]) { #expect(PacketHeader.parse($0).failure == .unknownVersion(version)) }
        var packet = Self.data()
        packet[0] = version
        withBytes(packet) { #expect(PacketHeader.parse($0).failure == .unknownVersion(version)) }
    }

    @Test(arguments: [UInt8(0x00), 0x05, 0x0f, 0x12, 0x20, 0xff])
    func unknownTypeIsDropped(type: UInt8) {
        var packet = Self.data()
        packet[1] = type
        withBytes(packet) { #expect(PacketHeader.parse($0).failure == .unknownType(type)) }
        #expect(PacketDropReason.unknownType(type).counterName.description == "malformed")
    }

    @Test func everyStrictPrefixOfAMinimalPacketIsDropped() {
        for (name, packet) in Self.minimalPackets() {
            withBytes(packet) { #expect(PacketHeader.parse($0).failure == nil, "\(name) itself parses") }
            for count in 0..<packet.count {
                withBytes(Array(packet[0..<count])) { raw in
                    let failure = PacketHeader.parse(raw).failure
                    #expect(failure == .tooShort, "\(name) prefix of \(count) bytes gave \(String(describing: failure))")
                }
            }
        }
    }

    @Test func dataPacketWithAnEmptyPlaintextIsTooShort() {
        withBytes(Self.data(ciphertextCount: 16)) { #expect(PacketHeader.parse($0).failure == .tooShort) }
        #expect(Self.data().count == 31)
        #expect(DataPacket.overheadCount == 30)
    }

    @Test func writersRefuseWhenOutOfSpace() {
        var small = [UInt8](repeating: 0, count: 13)
        small.withUnsafeMutableBytes { buffer in
            var writer = WireWriter(buffer)
            #expect(!DataPacket.writeHeader(keyPhase: .zero, destination: Self.cid, packetNumber: PacketNumber(1), into: &writer))
            #expect(!InitiationPacket.writeHeader(suite: .xxAESGCM, senderCID: Self.cid, into: &writer))
            #expect(!CookiePacket.write(destination: Self.cid, nonce: [UInt8](repeating: 0, count: 24),
                                        sealedCookie: [UInt8](repeating: 0, count: 32), into: &writer))
            #expect(!VersionNegotiationPacket.write(echo: 0, versions: [.v1, .v1, .v1], into: &writer))
            #expect(writer.offset == 0)
            #expect(HandshakeMessagePacket.writeHeader(kind: .finish, destination: Self.cid, into: &writer))
        }
    }

    // MARK: Packet number reconstruction (RFC 9000 appendix A.3, 32-bit window)

    @Test func packetNumberReconstructionAtTheBoundaries() {
        func decode(_ truncated: UInt32, _ largest: UInt64?) -> UInt64 {
            PacketNumber.decode(truncated: truncated, largestReceived: largest.map(PacketNumber.init)).rawValue
        }
        // Appendix A.3's example, widened: same low bits, 32-bit truncation.
        #expect(decode(0xa82f_9b32, 0x1_a82f_30ea) == 0x1_a82f_9b32)
        // Nothing received yet: expected 0.
        #expect(decode(0, nil) == 0)
        #expect(decode(0xffff_ffff, nil) == 0xffff_ffff)
        // Never below zero.
        #expect(decode(0xffff_fff0, 5) == 0xffff_fff0)
        // Wrapping forwards and backwards over a 2^32 boundary.
        #expect(decode(0x0000_0005, 0xffff_fff0) == 0x1_0000_0005)
        #expect(decode(0xffff_fff0, 0x1_0000_0005) == 0xffff_fff0)
        #expect(decode(0x0000_0000, 0xffff_ffff) == 0x1_0000_0000)
        // The window is (expected − 2^31, expected + 2^31]; expected = 0x2_0000_0001.
        #expect(decode(0x8000_0001, 0x2_0000_0000) == 0x2_8000_0001)
        #expect(decode(0x8000_0002, 0x2_0000_0000) == 0x1_8000_0002)
        #expect(decode(0x0000_0001, 0x2_0000_0000) == 0x2_0000_0001)
        // The top of the varint range.
        let max = VarInt.maxValue
        #expect(decode(UInt32(truncatingIfNeeded: max), max - 1) == max)
        #expect(decode(5, max) == max - 0xffff_ffff + 5)
        #expect(decode(UInt32(truncatingIfNeeded: max), max) == max)
        #expect(PacketNumber(0x1_2345_6789).truncated == 0x2345_6789)
    }

    @Test(arguments: WireSeeds.list)
    func packetNumberReconstructionWithinTheWindow(seed: UInt64) {
        var random = SeededRandom(seed: seed).fork(label: "packet numbers")
        for iteration in 0..<20_000 {
            let largest = random.bool() ? UInt64.random(in: 0...(1 << 40), using: &random)
                : UInt64.random(in: 0..<VarInt.maxValue, using: &random)
            let expected = largest + 1
            let delta = Int64.random(in: -(1 << 31) + 1...(1 << 31), using: &random)
            let actual = delta >= 0 ? expected + UInt64(delta) : expected &- UInt64(-delta)
            guard actual <= VarInt.maxValue, delta >= 0 || UInt64(-delta) <= expected else { continue }
            let decoded = PacketNumber.decode(truncated: PacketNumber(actual).truncated, largestReceived: PacketNumber(largest))
            #expect(decoded.rawValue == actual, "\(WireSeeds.replay(seed)) iteration \(iteration): largest \(largest)")
            if decoded.rawValue != actual { return }
        }
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
