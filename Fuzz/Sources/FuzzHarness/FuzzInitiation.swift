// FuzzInitiation: a listening responder (fixed identity) handed one first
// handshake message. Half the inputs are framed as an Initiation with a correct
// mac1, so they get past the one-hash filter into Noise and the cookie logic.
#if FUZZ_PACKAGE
@_spi(Fuzzing) import SecureStreamsCore
#else
@testable @_spi(Fuzzing) import SecureStreamsCore
#endif

public enum FuzzInitiation {
    nonisolated(unsafe) static let responder = FuzzFixtures.server()

    /// Input: a mode byte, then either the raw datagram (mode bit 0 clear) or
    /// suite selector, sender CID (8 bytes) and Noise message, which the
    /// harness frames as an Initiation and signs with mac1. Mode bit 1 hands
    /// the same datagram over a second time (a retransmitted Initiation).
    public static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzBytes(data)
        let mode = input.u8()
        let datagram = mode & 1 == 1 ? framed(&input) : input.rest()
        var endpoint = responder
        let source = mode & 4 == 0 ? FuzzFixtures.clientAddress : FuzzFixtures.strangerAddress
        var now = FuzzFixtures.start
        var buffer = [UInt8](repeating: 0, count: 2_048)
        for _ in 0..<(mode & 2 == 0 ? 1 : 2) {
            var copy = datagram
            copy.withUnsafeMutableBytes { endpoint.handleDatagram($0, from: source, now: now) }
            while let transmit = buffer.withUnsafeMutableBytes({ endpoint.pollTransmit(now: now, into: $0) }) {
                precondition(transmit.count <= buffer.count)
                // Anti-amplification: nothing above 3× what arrived (§4).
                precondition(transmit.count <= 3 * datagram.count + 64, "reply larger than 3x the Initiation")
            }
            while endpoint.pollEvent() != nil {}
            precondition(endpoint.connectionCount <= 1)
            now = now + .milliseconds(1)
        }
        now = now + .seconds(11)
        endpoint.handleTimeout(now: now)
        while buffer.withUnsafeMutableBytes({ endpoint.pollTransmit(now: now, into: $0) }) != nil {}
        while endpoint.pollEvent() != nil {}
    }

    static func framed(_ input: inout FuzzBytes) -> [UInt8] {
        let suites = Suite.allCases
        let suite = suites[Int(input.u8()) % suites.count]
        var cid = input.bytes(8)
        cid += [UInt8](repeating: 0, count: 8 - cid.count)
        var packet: [UInt8] = [0x01, 0x01, suite.rawValue] + cid + [UInt8](repeating: 0, count: 32)
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
        }
        seeds.append(("framed-junk", [0x01, 0x00] + [UInt8](repeating: 0x41, count: 80)))
        return seeds
    }
}
