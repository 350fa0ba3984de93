// FuzzResponse: an initiator that has sent its Initiation, handed Response,
// Cookie and version-negotiation datagrams addressed to its connection id:
// arbitrary ones, and genuine Responses with bytes flipped.
#if FUZZ_PACKAGE
@_spi(Fuzzing) import SecureStreamsCore
#else
@testable @_spi(Fuzzing) public import SecureStreamsCore
#endif

public enum FuzzResponse {
    struct Snapshot {
        var client: Endpoint
        var cid: [UInt8]
        var response: [UInt8]
        /// The Initiation the client sent, which a forged Cookie answers.
        var initiation: [UInt8]
    }

    nonisolated(unsafe) static let snapshots: [Snapshot] = [makeSnapshot(knowingServer: true),
                                                            makeSnapshot(knowingServer: false)]

    static func makeSnapshot(knowingServer: Bool) -> Snapshot {
        var client = FuzzFixtures.client()
        var server = FuzzFixtures.server()
        let now = FuzzFixtures.start
        _ = try! client.connect(to: knowingServer ? FuzzFixtures.serverIdentity.endpointID : nil,
                                at: FuzzFixtures.serverAddress, service: FuzzFixtures.service,
                                protocol: FuzzFixtures.applicationProtocol, now: now)
        var buffer = [UInt8](repeating: 0, count: 2_048)
        let sent = buffer.withUnsafeMutableBytes { client.pollTransmit(now: now, into: $0) }!
        var initiation = Array(buffer[0..<sent.count])
        let cid = Array(initiation[3..<11])
        initiation.withUnsafeMutableBytes { server.handleDatagram($0, from: FuzzFixtures.clientAddress, now: now) }
        let reply = buffer.withUnsafeMutableBytes { server.pollTransmit(now: now, into: $0) }!
        return Snapshot(client: client, cid: cid, response: Array(buffer[0..<reply.count]), initiation: initiation)
    }

    /// Input: a byte choosing the IK or XX initiator, then up to six chunks,
    /// each a kind byte, a length byte and that many bytes. Kinds: Response
    /// (`01 02 CID` + bytes), Cookie (`01 04 CID` + bytes), version
    /// negotiation (`00` + bytes), the genuine Response with (position, xor)
    /// pairs applied, the genuine Response cut to a length, raw bytes. A kind
    /// byte of 0xF0 or more is a Cookie forged for the client's Initiation
    /// (the chunk's bytes are the cookie), from the server's address (even)
    /// or a stranger's (odd): a stranger's never counts, and Cookies make the
    /// client resend at most once per retransmission interval (§4.2).
    public static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzBytes(data)
        let snapshot = snapshots[Int(input.u8() & 1)]
        var client = snapshot.client
        var now = FuzzFixtures.start + .milliseconds(10)
        var buffer = [UInt8](repeating: 0, count: 2_048)
        var chunks = 0
        while !input.isEmpty && chunks < 6 {
            chunks += 1
            let kindByte = input.u8()
            let kind = kindByte % 6
            let body = input.bytes(Int(input.u8()))
            if kindByte >= 0xF0 {
                forgedCookie(body, fromStranger: kindByte & 1 == 1, snapshot: snapshot, to: &client, now: now)
                now = now + .milliseconds(Int64(input.u8()))
                client.handleTimeout(now: now)
                continue
            }
            var datagram: [UInt8]
            switch kind {
            case 0: datagram = [FuzzEntryPoints.protocolVersion, 0x02] + snapshot.cid + body
            case 1: datagram = [FuzzEntryPoints.protocolVersion, 0x04] + snapshot.cid + body
            case 2: datagram = [0x00] + body
            case 3:
                datagram = snapshot.response
                var index = 0
                while index + 2 < body.count {
                    let position = (Int(body[index]) << 8 | Int(body[index + 1])) % datagram.count
                    datagram[position] ^= body[index + 2]
                    index += 3
                }
            case 4:
                let cut = body.isEmpty ? snapshot.response.count : Int(body[0]) % (snapshot.response.count + 1)
                datagram = Array(snapshot.response[0..<cut])
            default: datagram = body
            }
            datagram.withUnsafeMutableBytes { client.handleDatagram($0, from: FuzzFixtures.serverAddress, now: now) }
            while buffer.withUnsafeMutableBytes({ client.pollTransmit(now: now, into: $0) }) != nil {}
            while client.pollEvent() != nil {}
            precondition(client.connectionCount <= 1)
            now = now + .milliseconds(Int64(input.u8()))
            client.handleTimeout(now: now)
        }
        now = now + .seconds(11)
        client.handleTimeout(now: now)
        while buffer.withUnsafeMutableBytes({ client.pollTransmit(now: now, into: $0) }) != nil {}
        while client.pollEvent() != nil {}
    }

    /// Delivers a Cookie forged for the snapshot's Initiation and checks what
    /// the client makes of it.
    static func forgedCookie(_ cookie: [UInt8], fromStranger: Bool, snapshot: Snapshot, to client: inout Endpoint,
                             now: Timestamp) {
        var packet = snapshot.initiation.withUnsafeBytes {
            FuzzEntryPoints.forgeCookiePacket(answering: $0, cookie: cookie,
                                              responder: FuzzFixtures.serverIdentity.endpointID)
        }
        let failures = client.statistics.drops.authenticationFailed
        let source = fromStranger ? FuzzFixtures.strangerAddress : FuzzFixtures.serverAddress
        packet.withUnsafeMutableBytes { client.handleDatagram($0, from: source, now: now) }
        if fromStranger {
            precondition(client.statistics.drops.authenticationFailed == failures + 1, "a stranger's Cookie counted")
        }
        var buffer = [UInt8](repeating: 0, count: 2_048)
        var initiations = 0
        while let transmit = buffer.withUnsafeMutableBytes({ client.pollTransmit(now: now, into: $0) }) {
            if transmit.count > 1, buffer[1] == 0x01 { initiations += 1 }
        }
        precondition(initiations <= 1, "a Cookie made the client send several Initiations at once")
        while client.pollEvent() != nil {}
    }

    public static func seeds() -> [(name: String, bytes: [UInt8])] {
        var seeds: [(name: String, bytes: [UInt8])] = []
        for (choice, label) in [(UInt8(0), "ik"), (UInt8(1), "xx")] {
            let snapshot = snapshots[Int(choice)]
            let body = Array(snapshot.response[10...].prefix(255))
            seeds.append(("genuine-\(label)", [choice, 0x04, 0]))
            seeds.append(("response-body-\(label)", [choice, 0x00, UInt8(body.count)] + body))
            seeds.append(("flipped-\(label)", [choice, 0x03, 3, 0x00, 0x20, 0x01]))
            seeds.append(("cut-\(label)", [choice, 0x04, 1, 40]))
            seeds.append(("cookie-then-genuine-\(label)",
                          [choice, 0x01, 56] + [UInt8](repeating: 0x33, count: 56) + [0x10, 0x04, 0]))
        }
        seeds.append(("version-negotiation", [0x00, 0x02, 3, 0x01, 0x01, 0x02]))
        for choice in [UInt8(0), 1] {
            seeds.append(("forged-cookies-\(choice)", [choice, 0xF1, 16] + [UInt8](repeating: 0x21, count: 16) + [0]
                + [0xF0, 16] + [UInt8](repeating: 0x22, count: 16) + [5] + [0xF0, 16] + [UInt8](repeating: 0x23, count: 16) + [0]))
        }
        return seeds
    }
}
