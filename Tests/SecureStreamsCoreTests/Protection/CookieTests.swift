import Testing
@testable import SecureStreamsCore

extension ProtectionTests {
    /// Cookies, their rotation and the Cookie packet (PROTOCOL.md §4.2).
    @Suite struct CookieTests {
        typealias MACTests = HandshakeMACTests

        /// 192.0.2.1:4433 and 198.51.100.7:4433 as IP bytes ‖ port.
        static let address: [UInt8] = [192, 0, 2, 1, 0x11, 0x51]
        static let otherAddress: [UInt8] = [198, 51, 100, 7, 0x11, 0x51]
        static let otherPort: [UInt8] = [192, 0, 2, 1, 0x11, 0x52]

        static func generator(seed: UInt64 = 5, now: Timestamp = .zero) -> (CookieGenerator, SeededRandom) {
            var random = SeededRandom(seed: seed)
            let generator = CookieGenerator(now: now, using: &random)
            return (generator, random)
        }

        /// An Initiation carrying `mac1` and, when given, `mac2` under `cookie`.
        static func initiation(macs: HandshakeMACs, cookie: Cookie?) -> [UInt8] {
            var packet = MACTests.withMAC1(MACTests.initiation(), macs)
            packet.withUnsafeMutableBytes { HandshakeMACs.writeMAC2(cookie: cookie, into: $0) }
            return packet
        }

        static func verify(_ generator: CookieGenerator, _ packet: [UInt8], from address: [UInt8], at now: Timestamp) -> Bool {
            packet.withUnsafeBytes { p in address.withUnsafeBytes { a in generator.verifyMAC2(p, address: a, now: now) } }
        }

        @Test func cookieIsTheKeyedHashOfTheAddress() {
            let (generator, _) = Self.generator(seed: 5)
            var same = SeededRandom(seed: 5)
            let secret = same.bytes(count: 32)
            #expect(generator.cookie(for: Self.address).bytes.bytes == BLAKE2b.hash(Self.address, key: secret, outputCount: 16))
            #expect(generator.cookie(for: Self.address) == generator.cookie(for: Self.address))
            #expect(generator.cookie(for: Self.address) != generator.cookie(for: Self.otherAddress))
            #expect(generator.cookie(for: Self.address) != generator.cookie(for: Self.otherPort))
            let (otherGenerator, _) = Self.generator(seed: 6)
            #expect(generator.cookie(for: Self.address) != otherGenerator.cookie(for: Self.address))
        }

        @Test func cookieRoundTripIsBoundToTheAddress() {
            let (generator, _) = Self.generator()
            let macs = HandshakeMACs(responderStaticKey: MACTests.responderKey().publicKey)
            let packet = Self.initiation(macs: macs, cookie: generator.cookie(for: Self.address))
            #expect(Self.verify(generator, packet, from: Self.address, at: .zero))
            #expect(!Self.verify(generator, packet, from: Self.otherAddress, at: .zero))
            #expect(!Self.verify(generator, packet, from: Self.otherPort, at: .zero))
            // No cookie at all.
            #expect(!Self.verify(generator, Self.initiation(macs: macs, cookie: nil), from: Self.address, at: .zero))
        }

        @Test func previousSecretIsAcceptedForOnePeriodThenRejected() {
            var (generator, random) = Self.generator()
            let macs = HandshakeMACs.xx
            let original = generator.cookie(for: Self.address)
            let first = Self.initiation(macs: macs, cookie: original)

            generator.rotateIfDue(now: ProtectionTests.milliseconds(119_999), using: &random)
            #expect(generator.nextRotation == ProtectionTests.seconds(120))
            #expect(generator.cookie(for: Self.address) == original)

            generator.rotateIfDue(now: ProtectionTests.seconds(120), using: &random)
            #expect(generator.nextRotation == ProtectionTests.seconds(240))
            #expect(generator.cookie(for: Self.address) != original)
            #expect(Self.verify(generator, first, from: Self.address, at: ProtectionTests.seconds(120)))
            #expect(Self.verify(generator, first, from: Self.address, at: ProtectionTests.milliseconds(239_999)))
            let second = Self.initiation(macs: macs, cookie: generator.cookie(for: Self.address))
            #expect(Self.verify(generator, second, from: Self.address, at: ProtectionTests.seconds(120)))

            // Two periods after it was drawn, the first secret is gone, even
            // before the next rotation is called.
            #expect(!Self.verify(generator, first, from: Self.address, at: ProtectionTests.seconds(240)))
            generator.rotateIfDue(now: ProtectionTests.seconds(240), using: &random)
            #expect(!Self.verify(generator, first, from: Self.address, at: ProtectionTests.seconds(240)))
            #expect(Self.verify(generator, second, from: Self.address, at: ProtectionTests.seconds(240)))
            #expect(!Self.verify(generator, second, from: Self.address, at: ProtectionTests.seconds(360)))
        }

        @Test func lateRotationDropsASecretThatServedItsTwoPeriods() {
            var (generator, random) = Self.generator()
            let first = Self.initiation(macs: .xx, cookie: generator.cookie(for: Self.address))
            // Nobody rotated for 250 s: the first secret is past both periods.
            generator.rotateIfDue(now: ProtectionTests.seconds(250), using: &random)
            #expect(!Self.verify(generator, first, from: Self.address, at: ProtectionTests.seconds(250)))
            #expect(generator.nextRotation == ProtectionTests.seconds(370))

            // Rotation 60 s late: the replaced secret keeps its remaining 60 s.
            let second = Self.initiation(macs: .xx, cookie: generator.cookie(for: Self.address))
            generator.rotateIfDue(now: ProtectionTests.seconds(430), using: &random)
            #expect(Self.verify(generator, second, from: Self.address, at: ProtectionTests.seconds(430)))
            #expect(Self.verify(generator, second, from: Self.address, at: ProtectionTests.milliseconds(489_999)))
            #expect(!Self.verify(generator, second, from: Self.address, at: ProtectionTests.seconds(490)))
        }

        @Test(arguments: [false, true])
        func cookiePacketRoundTrip(xx: Bool) {
            var (generator, random) = Self.generator()
            let macs = xx ? HandshakeMACs.xx : HandshakeMACs(responderStaticKey: MACTests.responderKey().publicKey)
            let initiation = Self.initiation(macs: macs, cookie: nil)
            var reply = [UInt8](repeating: 0, count: 80)
            let count = initiation.withUnsafeBytes { i in
                Self.address.withUnsafeBytes { a in
                    reply.withUnsafeMutableBytes { generator.writeCookiePacket(answering: i, from: a, macs: macs, using: &random, into: $0) }
                }
            }
            #expect(count == 66)
            let packet = Array(reply[0..<count])
            #expect(packet[0] == ProtocolVersion.current.rawValue && packet[1] == 0x04)
            #expect(Array(packet[2..<10]) == Array(initiation[3..<11]))
            #expect(packet.count < initiation.count)
            #expect(packet.withUnsafeBytes { CookieSealing.destinationCID(of: $0) } == ConnectionID(initiation[3..<11]))

            // The sealing key is the specified derivation.
            let label = Array("sss-cookie-v1".utf8)
            let key = BLAKE2b.hash(xx ? label : label + MACTests.responderKey().publicKey.bytes.bytes, outputCount: 32)
            #expect(macs.cookiePacketKey.bytes == key)

            // The initiator opens it with its Initiation's mac1 and retries with mac2.
            let mac1 = Bytes16(Array(initiation[11..<27]))!
            guard let cookie = packet.withUnsafeBytes({ CookieSealing.open($0, initiationMAC1: mac1, macs: macs) }) else {
                Issue.record("cookie packet did not open")
                return
            }
            #expect(cookie == generator.cookie(for: Self.address))
            var retry = initiation
            retry.withUnsafeMutableBytes { HandshakeMACs.writeMAC2(cookie: cookie, into: $0) }
            #expect(retry.withUnsafeBytes { macs.verifyMAC1($0) })
            #expect(Self.verify(generator, retry, from: Self.address, at: .zero))
        }

        @Test func cookiePacketTamperingIsRejected() {
            var (generator, random) = Self.generator()
            let macs = HandshakeMACs(responderStaticKey: MACTests.responderKey().publicKey)
            let initiation = Self.initiation(macs: macs, cookie: nil)
            var packet = [UInt8](repeating: 0, count: 66)
            _ = initiation.withUnsafeBytes { i in
                Self.address.withUnsafeBytes { a in
                    packet.withUnsafeMutableBytes { generator.writeCookiePacket(answering: i, from: a, macs: macs, using: &random, into: $0) }
                }
            }
            let mac1 = Bytes16(Array(initiation[11..<27]))!
            func open(_ bytes: [UInt8], mac1: Bytes16 = mac1, macs: HandshakeMACs = macs) -> Cookie? {
                bytes.withUnsafeBytes { CookieSealing.open($0, initiationMAC1: mac1, macs: macs) }
            }
            #expect(open(packet) != nil)
            for index in packet.indices where !(2..<10).contains(index) {
                var tampered = packet
                tampered[index] ^= 0x01
                #expect(open(tampered) == nil, "byte \(index)")
            }
            // Another Initiation's mac1, another responder's key, wrong lengths.
            #expect(open(packet, mac1: Bytes16(Array(repeating: 0xAB, count: 16) as [UInt8])!) == nil)
            #expect(open(packet, macs: HandshakeMACs(responderStaticKey: MACTests.responderKey(seed: 10).publicKey)) == nil)
            #expect(open(packet, macs: .xx) == nil)
            #expect(open(Array(packet[0..<65])) == nil)
            #expect(open(packet + [0]) == nil)
            // Two replies to the same Initiation use fresh nonces.
            var again = [UInt8](repeating: 0, count: 66)
            _ = initiation.withUnsafeBytes { i in
                Self.address.withUnsafeBytes { a in
                    again.withUnsafeMutableBytes { generator.writeCookiePacket(answering: i, from: a, macs: macs, using: &random, into: $0) }
                }
            }
            #expect(Array(again[10..<34]) != Array(packet[10..<34]))
            #expect(open(again) == open(packet))
        }
    }
}
