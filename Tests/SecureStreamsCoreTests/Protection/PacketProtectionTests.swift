import Testing
@testable import SecureStreamsCore

extension ProtectionTests {
    @Suite struct PacketProtectionTests {
        typealias Outcome = PacketProtection.OpenOutcome

        @Test(arguments: ProtectionTests.algorithms)
        func roundTripBothDirections(algorithm: AEADAlgorithm) throws {
            var (initiator, responder) = try ProtectionTests.pair(algorithm)
            for pn: UInt64 in 0..<20 {
                let packet = try ProtectionTests.seal(&initiator, pn: pn)
                let (outcome, plaintext) = ProtectionTests.open(&responder, packet)
                #expect(outcome == .opened(.init(packetNumber: PacketNumber(pn), plaintext: 14..<(14 + ProtectionTests.payload(pn).count),
                                                 keyPhase: .zero, isFirstOfNewPhase: false)))
                #expect(plaintext == ProtectionTests.payload(pn))

                let reply = try ProtectionTests.seal(&responder, pn: pn * 2, payload: Array("reply".utf8))
                let (replyOutcome, replyPlaintext) = ProtectionTests.open(&initiator, reply)
                guard case .opened(let opened) = replyOutcome else {
                    Issue.record("reply \(pn): \(replyOutcome)")
                    return
                }
                #expect(opened.packetNumber == PacketNumber(pn * 2))
                #expect(replyPlaintext == Array("reply".utf8))
            }
            #expect(responder.largestAuthenticated == PacketNumber(19))
            #expect(initiator.largestAuthenticated == PacketNumber(38))
        }

        @Test(arguments: ProtectionTests.algorithms)
        func wireFormatMatchesTheProtocol(algorithm: AEADAlgorithm) throws {
            // Header fields, length, and the nonce/AD construction checked
            // against a bare AEADKey (§3.4).
            var (initiator, _) = try ProtectionTests.pair(algorithm)
            let pn: UInt64 = 0x1_2345_6789
            let sealed = try ProtectionTests.seal(&initiator, pn: pn)
            // The packet number is header-protected (§5.5): unmasked, the packet is §3.4's.
            #expect(Array(sealed[10..<14]) != [0x23, 0x45, 0x67, 0x89])
            let packet = ProtectionTests.masked(sealed)
            let frames = ProtectionTests.payload(pn)
            #expect(packet.count == 14 + frames.count + 16)
            #expect(packet[0] == ProtocolVersion.current.rawValue)
            #expect(packet[1] == 0x10)
            #expect(Array(packet[2..<10]) == [1, 2, 3, 4, 5, 6, 7, 8])
            #expect(Array(packet[10..<14]) == [0x23, 0x45, 0x67, 0x89])
            #expect(Array(packet[14..<(14 + frames.count)]) != frames)

            let k1 = ProtectionTests.transportKeys().k1.unprotectedBytes
            let aead = try AEADKey(algorithm: algorithm, key: k1)
            let opened = try aead.open(nonce: AEADNonce(noiseCounter: pn, algorithm: algorithm),
                                       associatedData: Array(packet[0..<14]), ciphertext: Array(packet[14...]))
            #expect(opened == frames)
        }

        @Test(arguments: ProtectionTests.algorithms)
        func emptyPayloadIsSealedAndOpened(algorithm: AEADAlgorithm) throws {
            var (initiator, responder) = try ProtectionTests.pair(algorithm)
            let packet = try ProtectionTests.seal(&initiator, pn: 0, payload: [])
            #expect(packet.count == 30)
            let (outcome, plaintext) = ProtectionTests.open(&responder, packet)
            #expect(outcome == .opened(.init(packetNumber: PacketNumber(0), plaintext: 14..<14, keyPhase: .zero, isFirstOfNewPhase: false)))
            #expect(plaintext == [])
        }

        @Test(arguments: ProtectionTests.algorithms)
        func everyTamperedByteIsRejectedWithoutChangingState(algorithm: AEADAlgorithm) throws {
            var (initiator, responder) = try ProtectionTests.pair(algorithm)
            _ = ProtectionTests.open(&responder, try ProtectionTests.seal(&initiator, pn: 0))
            let packet = try ProtectionTests.seal(&initiator, pn: 1)
            for index in packet.indices {
                for bit in [0, 3, 7] {
                    var tampered = packet
                    tampered[index] ^= 1 << UInt8(bit)
                    let (outcome, _) = ProtectionTests.open(&responder, tampered)
                    let expected: Outcome
                    switch index {
                    case 0: expected = .dropped(.notDataPacket)
                    case 1 where bit != 0: expected = .dropped(.notDataPacket)
                    // Packet number 1 becomes 0, which was already received.
                    case 13 where bit == 0: expected = .dropped(.replayed)
                    default: expected = .dropped(.authenticationFailed)  // CID, pn, phase bit, ciphertext, tag
                    }
                    #expect(outcome == expected, "byte \(index) bit \(bit)")
                }
            }
            #expect(responder.largestAuthenticated == PacketNumber(0))
            #expect(responder.receiveKeyPhase == .zero)
            #expect(responder.receiveKeyUpdateCount == 0)
            #expect(responder.authenticationFailureCount > 0)
            // The genuine packet is still fresh: nothing forged consumed its number.
            let (outcome, plaintext) = ProtectionTests.open(&responder, packet)
            guard case .opened = outcome else { Issue.record("\(outcome)"); return }
            #expect(plaintext == ProtectionTests.payload(1))
        }

        @Test(arguments: ProtectionTests.algorithms)
        func replayedPacketIsDropped(algorithm: AEADAlgorithm) throws {
            var (initiator, responder) = try ProtectionTests.pair(algorithm)
            let packet = try ProtectionTests.seal(&initiator, pn: 0)
            guard case .opened = ProtectionTests.open(&responder, packet).outcome else {
                Issue.record("first delivery failed")
                return
            }
            #expect(ProtectionTests.open(&responder, packet).outcome == .dropped(.replayed))
            #expect(ProtectionTests.open(&responder, packet).outcome == .dropped(.replayed))
            #expect(responder.authenticationFailureCount == 0)
        }

        @Test func packetBehindTheWindowIsTooOld() throws {
            var (initiator, responder) = try ProtectionTests.pair(.chaChaPoly)
            let old = try ProtectionTests.seal(&initiator, pn: 0)
            _ = try ProtectionTests.seal(&initiator, pn: 4095)
            let edge = try ProtectionTests.seal(&initiator, pn: 4096)
            let ahead = try ProtectionTests.seal(&initiator, pn: 4097)
            guard case .opened = ProtectionTests.open(&responder, ahead).outcome else {
                Issue.record("in-order packet failed")
                return
            }
            #expect(ProtectionTests.open(&responder, old).outcome == .dropped(.tooOld))
            guard case .opened = ProtectionTests.open(&responder, edge).outcome else {
                Issue.record("packet inside the window failed")
                return
            }
        }

        @Test(arguments: ProtectionTests.algorithms)
        func everyTruncationIsRejected(algorithm: AEADAlgorithm) throws {
            var (initiator, responder) = try ProtectionTests.pair(algorithm)
            let packet = try ProtectionTests.seal(&initiator, pn: 0)
            for length in 0..<packet.count {
                let (outcome, _) = ProtectionTests.open(&responder, Array(packet[0..<length]))
                let expected: Outcome = length < 30 ? .dropped(.truncated) : .dropped(.authenticationFailed)
                #expect(outcome == expected, "length \(length)")
            }
            #expect(responder.largestAuthenticated == nil)
            guard case .opened = ProtectionTests.open(&responder, packet).outcome else {
                Issue.record("whole packet failed after its truncations")
                return
            }
        }

        @Test(arguments: ProtectionTests.algorithms)
        func ownPacketsDoNotOpenOnTheSameSide(algorithm: AEADAlgorithm) throws {
            // Directions have distinct keys: a reflected packet fails.
            var (initiator, _) = try ProtectionTests.pair(algorithm)
            let packet = try ProtectionTests.seal(&initiator, pn: 0)
            #expect(ProtectionTests.open(&initiator, packet).outcome == .dropped(.authenticationFailed))
        }

        @Test func otherVersionOrTypeIsNotAData() throws {
            var (initiator, responder) = try ProtectionTests.pair(.chaChaPoly)
            let packet = try ProtectionTests.seal(&initiator, pn: 0)
            for (index, value) in [(0, 0x01), (0, 0x02), (0, 0x00), (1, 0x01), (1, 0x12), (1, 0x04), (1, 0x90)] as [(Int, UInt8)] {
                var other = packet
                other[index] = value
                #expect(ProtectionTests.open(&responder, other).outcome == .dropped(.notDataPacket), "\(index)=\(value)")
            }
        }

        @Test func sealRefusesToRunPastTheLastPacketNumber() throws {
            var (initiator, _) = try ProtectionTests.pair(.chaChaPoly)
            let max = PacketNumber.max.rawValue
            let last = ProtectionTests.masked(try ProtectionTests.seal(&initiator, pn: max))
            #expect(Array(last[10..<14]) == [0xFF, 0xFF, 0xFF, 0xFF])
            #expect(throws: SealError.packetNumberExhausted) {
                _ = try ProtectionTests.seal(&initiator, pn: max + 1)
            }
            #expect(initiator.largestSealed == PacketNumber(max))
        }

        @Test func splitOfAHandshakeGivesMatchingProtection() throws {
            var handshake = try HandshakePair("Noise_IK_25519_ChaChaPoly_BLAKE2b")
            _ = try handshake.run()
            var initiator = try PacketProtection(split: handshake.initiator.split(), side: .initiator, now: .zero)
            var responder = try PacketProtection(split: handshake.responder.split(), side: .responder, now: .zero)
            let packet = try ProtectionTests.seal(&initiator, pn: 0)
            #expect(ProtectionTests.open(&responder, packet).plaintext == ProtectionTests.payload(0))
            let reply = try ProtectionTests.seal(&responder, pn: 0)
            #expect(ProtectionTests.open(&initiator, reply).plaintext == ProtectionTests.payload(0))
        }
    }
}
