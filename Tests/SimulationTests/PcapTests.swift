import SecureStreamsCore
import SecureStreamsSimulator
import Testing

@Suite struct PcapTests {
    private func le32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * $1) }
    }

    private func be16(_ bytes: [UInt8], _ at: Int) -> Int { Int(bytes[at]) << 8 | Int(bytes[at + 1]) }

    @Test func theInternetChecksumOfAKnownHeader() {
        // A common worked example: 192.168.0.1 -> 192.168.0.199, checksum 0xb861.
        let header: [UInt8] = [0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
                               0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7]
        #expect(PcapWriter.internetChecksum(header) == 0xb861)
        #expect(PcapWriter.internetChecksum([0x01]) == ~UInt16(0x0100))
    }

    @Test func aTinyRunMakesAWellFormedCapture() {
        let scenario = Scenarios.bulk(name: "pcap", bytes: 3_000, streams: 1)
        var writer = PcapWriter()
        var delivered: [DeliveredDatagram] = []
        let verdict = Simulation.run(scenario, seed: 5) { datagram in
            guard datagram.link == "client->internet" else { return }
            delivered.append(datagram)
            writer.add(datagram)
        }
        #expect(verdict.outcome == .success, "\(verdict)")
        #expect(!delivered.isEmpty && writer.packets == delivered.count && writer.skipped == 0)

        let bytes = writer.bytes
        // Global header: magic, version 2.4, zone 0, sigfigs 0, snaplen 65535, LINKTYPE_RAW.
        #expect(Array(bytes[0..<4]) == [0xd4, 0xc3, 0xb2, 0xa1])
        #expect(Array(bytes[4..<8]) == [2, 0, 4, 0])
        #expect(le32(bytes, 8) == 0 && le32(bytes, 12) == 0)
        #expect(le32(bytes, 16) == 65_535 && le32(bytes, 20) == 101)

        var offset = 24
        var previous: UInt64 = 0
        for datagram in delivered {
            let seconds = le32(bytes, offset), micros = le32(bytes, offset + 4)
            let captured = Int(le32(bytes, offset + 8)), original = Int(le32(bytes, offset + 12))
            #expect(micros < 1_000_000)
            let (wholeSeconds, attoseconds) = datagram.time.components
            #expect(UInt64(seconds) == UInt64(wholeSeconds) && UInt64(micros) == UInt64(attoseconds / 1_000_000_000_000))
            let stamp = UInt64(seconds) * 1_000_000 + UInt64(micros)
            #expect(stamp >= previous)
            previous = stamp
            #expect(captured == original && original == 28 + datagram.bytes.count)
            let packet = Array(bytes[(offset + 16)..<(offset + 16 + captured)])
            // IPv4: version 4, IHL 5, total length, TTL, UDP, a header that checksums to zero.
            #expect(packet[0] == 0x45 && be16(packet, 2) == packet.count && packet[9] == 17)
            #expect(PcapWriter.internetChecksum(packet[0..<20]) == 0)
            #expect(Array(packet[12..<16]) == datagram.source.ipBytes && Array(packet[16..<20]) == datagram.destination.ipBytes)
            // UDP: ports, length, checksum 0, then the datagram's bytes.
            #expect(be16(packet, 20) == Int(datagram.source.port) && be16(packet, 22) == Int(datagram.destination.port))
            #expect(be16(packet, 24) == 8 + datagram.bytes.count && be16(packet, 26) == 0)
            #expect(Array(packet[28...]) == datagram.bytes)
            offset += 16 + captured
        }
        #expect(offset == bytes.count)
    }

    @Test func observingARunDoesNotChangeIt() {
        let scenario = Scenarios.bulk(name: "observed", bytes: 50_000, streams: 2) { $0.loss = 0.05 }
        var count = 0
        let watched = Simulation.run(scenario, seed: 9) { _ in count += 1 }
        let plain = Simulation.run(scenario, seed: 9)
        #expect(count > 0)
        #expect(watched.statistics.traceHash == plain.statistics.traceHash)
        #expect(watched.statistics.events == plain.statistics.events && plain.statistics.events > 0)
    }
}
