// `sss flood`: a denial-of-service test load for this project's own hosts on
// loopback — junk datagrams and real handshake Initiations, as many as asked,
// at a server while it serves a transfer (scripts/flood.sh measures what that
// costs the server). Loopback only, bounded in count: it is a test tool.
import ArgumentParser
import Foundation
import SecureStreams

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct Flood: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send junk and handshake Initiations at a host on loopback (a DoS test load).",
        discussion: """
            Sends --count datagrams to EID@127.0.0.1:PORT: --initiations percent of them real Noise \
            Initiations for (--service, --protocol) from throwaway identities (they carry a valid mac1, \
            so the server must do Diffie-Hellman work for each unless it is under load and asks for a \
            cookie), the rest junk: random bytes of random length, and real Initiations with a few bytes changed. \
            Loopback addresses only.
            """)

    @Argument(help: "The target, EID@127.0.0.1:PORT.")
    var target: PeerSpec

    @Option(parsing: .unconditional, help: "Datagrams to send (at most 10,000,000).")
    var count: Int = 100_000

    @Option(parsing: .unconditional, help: "Percent of the datagrams that are handshake Initiations.")
    var initiations: Int = 20

    @Option(help: "Service named in the Initiations.")
    var service = "files"

    @Option(name: .customLong("protocol"), help: "Protocol named in the Initiations.")
    var proto = "v1"

    @Option(parsing: .unconditional, help: "Datagrams per second (0: as fast as possible).")
    var rate: Int = 0

    @Option(help: "Seed of the junk and the identities (the same seed sends the same bytes).")
    var seed: UInt64 = 1

    func validate() throws {
        guard target.address.ipBytes == [127, 0, 0, 1] || target.address.ipBytes == [UInt8](repeating: 0, count: 15) + [1] else {
            throw ValidationError("sss flood sends only to loopback (127.0.0.1 or [::1]), not \(target.address)")
        }
        guard target.endpointID != nil else { throw ValidationError("the target needs its EID: EID@127.0.0.1:PORT") }
        guard (1...10_000_000).contains(count) else { throw ValidationError("--count must be 1…10,000,000") }
        guard (0...100).contains(initiations) else { throw ValidationError("--initiations is a percentage, 0…100") }
        try checkRange(rate, 0...100_000_000, option: "--rate")
    }

    func run() async throws {
        let (fd, _) = try RawUDP.socket()
        defer { close(fd) }
        var random = SeededRandom(seed: seed)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2_048, alignment: 16)
        defer { buffer.deallocate() }
        var initiator = Endpoint(configuration: EndpointConfiguration(identity: HostIdentity(using: &random)),
                                 random: SeededRandom(seed: seed &+ 1), now: .zero)
        // The target judges IK Initiations by their timestamp (PROTOCOL.md §4.4).
        initiator.handleWallClock(SystemWallClock.read(), now: .zero)
        var made = 0
        var sentInitiations = 0
        var sentJunk = 0
        var lastInitiation: [UInt8]?
        let started = RawUDP.nanoseconds()
        for index in 0..<count {
            if rate > 0 {
                let due = started + UInt64(index) * 1_000_000_000 / UInt64(rate)
                while RawUDP.nanoseconds() < due { sched_yield() }
            }
            let length: Int
            if Int(random.next(upperBound: UInt64(100))) < initiations {
                // A fresh endpoint now and then keeps its table far from its limit.
                if made == 4_096 {
                    initiator = Endpoint(configuration: EndpointConfiguration(identity: HostIdentity(using: &random)),
                                         random: SeededRandom(seed: random.next()), now: .zero)
                    initiator.handleWallClock(SystemWallClock.read(), now: .zero)
                    made = 0
                }
                _ = try initiator.connect(to: target.endpointID, at: target.address, service: service, protocol: proto,
                                          now: .zero)
                made += 1
                guard let transmit = initiator.pollTransmit(now: .zero, into: buffer) else { continue }
                length = transmit.count
                sentInitiations += 1
                lastInitiation = Array(buffer[0..<length])
            } else if let template = lastInitiation, random.next(upperBound: UInt64(2)) == 0 {
                // A real Initiation with a few bytes changed: passes the header, fails mac1 or AEAD.
                length = template.count
                buffer.copyBytes(from: template)
                for _ in 0...random.next(upperBound: UInt64(3)) {
                    buffer[Int(random.next(upperBound: UInt64(length)))] ^= UInt8(1 + random.next(upperBound: UInt64(255)))
                }
                sentJunk += 1
            } else {
                length = 1 + Int(random.next(upperBound: UInt64(1_400)))
                random.fill(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length]))
                sentJunk += 1
            }
            _ = target.address.withSocketAddress { sendto(fd, buffer.baseAddress, length, 0, $0, $1) }
        }
        let seconds = Double(RawUDP.nanoseconds() - started) / 1e9
        print("sent \(sentJunk + sentInitiations) datagrams to \(target.address) in \(String(format: "%.2f", seconds)) s: "
              + "\(sentInitiations) handshake Initiations, \(sentJunk) junk")
    }
}
