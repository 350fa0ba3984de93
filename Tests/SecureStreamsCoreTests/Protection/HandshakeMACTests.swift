import Testing
@testable import SecureStreamsCore

extension ProtectionTests {
    /// `mac1` and `mac2` of Initiations (PROTOCOL.md §3.1, §4.1).
    @Suite struct HandshakeMACTests {
        static func responderKey(seed: UInt64 = 9) -> X25519.PrivateKey {
            var random = SeededRandom(seed: seed)
            return X25519.PrivateKey(using: &random)
        }

        /// An Initiation with a 96-byte stand-in for Noise message 1 and empty MACs.
        static func initiation(seed: UInt64 = 1, messageCount: Int = 96) -> [UInt8] {
            var random = SeededRandom(seed: seed).fork(label: "initiation")
            var packet: [UInt8] = [ProtocolVersion.current.rawValue, 0x01, 0x01]
            packet += random.bytes(count: 8)
            packet += [UInt8](repeating: 0, count: 32)
            packet += random.bytes(count: messageCount)
            return packet
        }

        static func withMAC1(_ packet: [UInt8], _ macs: HandshakeMACs) -> [UInt8] {
            var packet = packet
            packet.withUnsafeMutableBytes { macs.writeMAC1(into: $0) }
            return packet
        }

        @Test func mac1IsTheSpecifiedHash() {
            let key = Self.responderKey().publicKey
            let packet = Self.withMAC1(Self.initiation(), HandshakeMACs(responderStaticKey: key))
            let k1 = BLAKE2b.hash(Array("sss-mac1-v1".utf8) + key.bytes.bytes, outputCount: 32)
            let expected = BLAKE2b.hash(Array(packet[0..<11] + packet[43...]), key: k1, outputCount: 16)
            #expect(Array(packet[11..<27]) == expected)

            let xx = Self.withMAC1(Self.initiation(), .xx)
            let k1xx = BLAKE2b.hash(Array("sss-mac1-v1-xx".utf8), outputCount: 32)
            #expect(Array(xx[11..<27]) == BLAKE2b.hash(Array(xx[0..<11] + xx[43...]), key: k1xx, outputCount: 16))
        }

        @Test func validMAC1IsAccepted() {
            let macs = HandshakeMACs(responderStaticKey: Self.responderKey().publicKey)
            for count in [0, 1, 96, 1_200] {
                let packet = Self.withMAC1(Self.initiation(messageCount: count), macs)
                #expect(packet.withUnsafeBytes { macs.verifyMAC1($0) }, "message of \(count) bytes")
            }
            let xx = Self.withMAC1(Self.initiation(), .xx)
            #expect(xx.withUnsafeBytes { HandshakeMACs.xx.verifyMAC1($0) })
        }

        @Test func everyFlippedBitOfTheCoveredBytesIsRejected() {
            let macs = HandshakeMACs(responderStaticKey: Self.responderKey().publicKey)
            let packet = Self.withMAC1(Self.initiation(), macs)
            for index in packet.indices {
                for bit in 0..<8 {
                    var tampered = packet
                    tampered[index] ^= 1 << UInt8(bit)
                    let accepted = tampered.withUnsafeBytes { macs.verifyMAC1($0) }
                    // mac2 (bytes 27..<43) is outside mac1 by design: the
                    // initiator fills it in after mac1, on a cookie.
                    #expect(accepted == (27..<43).contains(index), "byte \(index) bit \(bit)")
                }
            }
        }

        @Test func wrongResponderKeyIsRejected() {
            let packet = Self.withMAC1(Self.initiation(), HandshakeMACs(responderStaticKey: Self.responderKey(seed: 9).publicKey))
            let other = HandshakeMACs(responderStaticKey: Self.responderKey(seed: 10).publicKey)
            #expect(!packet.withUnsafeBytes { other.verifyMAC1($0) })
            #expect(!packet.withUnsafeBytes { HandshakeMACs.xx.verifyMAC1($0) })
            let xx = Self.withMAC1(Self.initiation(), .xx)
            #expect(!xx.withUnsafeBytes { other.verifyMAC1($0) })
        }

        @Test func shortPacketsAreRejected() {
            let macs = HandshakeMACs(responderStaticKey: Self.responderKey().publicKey)
            let packet = Self.withMAC1(Self.initiation(), macs)
            for length in 0..<43 {
                #expect(!packet[0..<length].withUnsafeBytes { macs.verifyMAC1($0) }, "length \(length)")
            }
            for length in 43..<packet.count {
                #expect(!packet[0..<length].withUnsafeBytes { macs.verifyMAC1($0) }, "length \(length)")
            }
        }

        @Test func mac2WithAndWithoutCookie() {
            let macs = HandshakeMACs(responderStaticKey: Self.responderKey().publicKey)
            let cookie = Cookie(Bytes16(Array(1...16 as ClosedRange<UInt8>))!)
            var packet = Self.withMAC1(Self.initiation(), macs)
            packet.withUnsafeMutableBytes { HandshakeMACs.writeMAC2(cookie: nil, into: $0) }
            #expect(Array(packet[27..<43]) == [UInt8](repeating: 0, count: 16))
            #expect(!packet.withUnsafeBytes { HandshakeMACs.verifyMAC2($0, cookie: cookie) })

            packet.withUnsafeMutableBytes { HandshakeMACs.writeMAC2(cookie: cookie, into: $0) }
            #expect(Array(packet[27..<43]) == BLAKE2b.hash(Array(packet[0..<27] + packet[43...]), key: cookie.bytes.bytes, outputCount: 16))
            #expect(packet.withUnsafeBytes { HandshakeMACs.verifyMAC2($0, cookie: cookie) })
            // mac1 is still valid: it does not cover mac2.
            #expect(packet.withUnsafeBytes { macs.verifyMAC1($0) })

            let otherCookie = Cookie(Bytes16(Array(2...17 as ClosedRange<UInt8>))!)
            #expect(!packet.withUnsafeBytes { HandshakeMACs.verifyMAC2($0, cookie: otherCookie) })
            for index in packet.indices where !(27..<43).contains(index) {
                var tampered = packet
                tampered[index] ^= 0x40
                #expect(!tampered.withUnsafeBytes { HandshakeMACs.verifyMAC2($0, cookie: cookie) }, "byte \(index)")
            }
        }

        @Test func bytes16ComparesByContent() {
            let a = Bytes16(Array(repeating: 1, count: 16) as [UInt8])!
            var bytes = [UInt8](repeating: 1, count: 16)
            #expect(a == Bytes16(bytes)!)
            for index in 0..<16 {
                bytes[index] = 0
                #expect(a != Bytes16(bytes)!)
                bytes[index] = 1
            }
            #expect(Bytes16([1, 2, 3] as [UInt8]) == nil)
            #expect(Bytes16().isZero && !a.isZero)
        }
    }
}
