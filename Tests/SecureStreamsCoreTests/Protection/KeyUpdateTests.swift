import Testing
@testable import SecureStreamsCore

extension ProtectionTests {
    /// Key phases and key updates (PROTOCOL.md §5.3).
    @Suite struct KeyUpdateTests {
        static let every100 = ProtectionConfiguration(keyUpdatePackets: 100, initialPreviousKeyRetention: .seconds(3))

        private func expectOpened(
            _ protection: inout PacketProtection, _ packet: [UInt8], now: Timestamp = .zero,
            pn: UInt64, phase: KeyPhase, switching: Bool = false, sourceLocation: SourceLocation = #_sourceLocation
        ) {
            let (outcome, plaintext) = ProtectionTests.open(&protection, packet, now: now)
            guard case .opened(let opened) = outcome else {
                Issue.record("packet \(pn): \(outcome)", sourceLocation: sourceLocation)
                return
            }
            #expect(opened.packetNumber == PacketNumber(pn), sourceLocation: sourceLocation)
            #expect(opened.keyPhase == phase, sourceLocation: sourceLocation)
            #expect(opened.isFirstOfNewPhase == switching, sourceLocation: sourceLocation)
            #expect(plaintext == ProtectionTests.payload(pn), sourceLocation: sourceLocation)
        }

        @Test func nextKeyIsTheSpecifiedDerivation() throws {
            let k = ProtectionTests.transportKeys().k1
            let key = try TrafficKey(algorithm: .chaChaPoly, key: k)
            #expect(key.next().unprotectedBytes == ProtectionTests.nextKey(k.unprotectedBytes))
            #expect(key.next().next().unprotectedBytes == ProtectionTests.nextKey(ProtectionTests.nextKey(k.unprotectedBytes)))
        }

        @Test(arguments: ProtectionTests.algorithms)
        func senderUpdatesAfterNPacketsAndTheReceiverFollows(algorithm: AEADAlgorithm) throws {
            var (initiator, responder) = try ProtectionTests.pair(algorithm, configuration: Self.every100)
            for pn: UInt64 in 0..<100 {
                expectOpened(&responder, try ProtectionTests.seal(&initiator, pn: pn), pn: pn, phase: .zero)
            }
            initiator.onPacketAcked(PacketNumber(42))
            let first = try ProtectionTests.seal(&initiator, pn: 100)
            #expect(first[1] == 0x11)
            #expect(initiator.sendKeyPhase == .one)
            #expect(initiator.sendKeyUpdateCount == 1)

            // The packet is sealed under k1' exactly as §5.3 defines it.
            let k1 = ProtectionTests.transportKeys().k1.unprotectedBytes
            let aead = try AEADKey(algorithm: algorithm, key: ProtectionTests.nextKey(k1))
            // Header protection keeps the first key's mask across updates (§5.5).
            let clear = ProtectionTests.masked(first)
            #expect(try aead.open(nonce: AEADNonce(noiseCounter: 100, algorithm: algorithm),
                                  associatedData: Array(clear[0..<14]), ciphertext: Array(clear[14...]))
                    == ProtectionTests.payload(100))

            expectOpened(&responder, first, now: ProtectionTests.seconds(1), pn: 100, phase: .one, switching: true)
            #expect(responder.receiveKeyPhase == .one)
            #expect(responder.receiveKeyUpdateCount == 1)
            #expect(responder.discardDeadline == ProtectionTests.seconds(4))
            for pn: UInt64 in 101..<150 {
                expectOpened(&responder, try ProtectionTests.seal(&initiator, pn: pn), pn: pn, phase: .one)
            }
            // The other direction never updated.
            #expect(responder.sendKeyPhase == .zero)
            #expect(initiator.receiveKeyPhase == .zero)
        }

        @Test func noUpdateUntilAPacketOfTheCurrentPhaseIsAcknowledged() throws {
            var (initiator, responder) = try ProtectionTests.pair(.chaChaPoly, configuration: Self.every100)
            // 100 packets served, but nothing acknowledged: the key stays.
            for pn: UInt64 in 0..<250 {
                expectOpened(&responder, try ProtectionTests.seal(&initiator, pn: pn), pn: pn, phase: .zero)
            }
            #expect(initiator.sendKeyUpdateCount == 0)
            #expect(initiator.packetsUnderCurrentSendKey == 250)

            initiator.onPacketAcked(PacketNumber(7))
            expectOpened(&responder, try ProtectionTests.seal(&initiator, pn: 250), pn: 250, phase: .one, switching: true)

            // Phase 1 served its 100 packets; acks of phase-0 packets do not
            // count, so no second update.
            for pn: UInt64 in 251..<400 {
                initiator.onPacketAcked(PacketNumber(pn - 150))  // 101…249: all phase 0
                expectOpened(&responder, try ProtectionTests.seal(&initiator, pn: pn), pn: pn, phase: .one)
            }
            #expect(initiator.sendKeyUpdateCount == 1)

            // An ack of a phase-1 packet allows the second update, back to phase 0 under k''.
            initiator.onPacketAcked(PacketNumber(250))
            expectOpened(&responder, try ProtectionTests.seal(&initiator, pn: 400), now: ProtectionTests.seconds(10),
                         pn: 400, phase: .zero, switching: true)
            #expect(initiator.sendKeyUpdateCount == 2)
            #expect(responder.receiveKeyUpdateCount == 2)
        }

        @Test(arguments: ProtectionTests.algorithms)
        func reorderedOldPhasePacketsOpenDuringTheGracePeriodOnly(algorithm: AEADAlgorithm) throws {
            var (initiator, responder) = try ProtectionTests.pair(algorithm, configuration: Self.every100)
            var held: [UInt64: [UInt8]] = [:]
            for pn: UInt64 in 0..<100 {
                let packet = try ProtectionTests.seal(&initiator, pn: pn)
                if pn >= 90 { held[pn] = packet } else { expectOpened(&responder, packet, pn: pn, phase: .zero) }
            }
            initiator.onPacketAcked(PacketNumber(0))
            let switchTime = ProtectionTests.seconds(5)
            responder.previousKeyRetention = .seconds(2)
            // 100 is the first packet of phase 1 but arrives after 101, so the
            // switch point is 101; 100 still opens under the current key.
            let hundred = try ProtectionTests.seal(&initiator, pn: 100)
            expectOpened(&responder, try ProtectionTests.seal(&initiator, pn: 101), now: switchTime,
                         pn: 101, phase: .one, switching: true)
            #expect(responder.discardDeadline == switchTime + .seconds(2))
            expectOpened(&responder, hundred, now: switchTime, pn: 100, phase: .one)

            // Reordered phase-0 packets still open with the previous key.
            for pn: UInt64 in 90..<95 {
                expectOpened(&responder, held[pn]!, now: switchTime + .milliseconds(1_999), pn: pn, phase: .zero)
            }
            #expect(responder.hasPreviousReceiveKey)

            // At the deadline the previous key is erased; the rest are refused
            // without an AEAD attempt and without state change.
            responder.handleTimeout(now: switchTime + .milliseconds(1_999))
            #expect(responder.hasPreviousReceiveKey)
            responder.handleTimeout(now: switchTime + .seconds(2))
            #expect(!responder.hasPreviousReceiveKey)
            #expect(responder.discardDeadline == nil)
            let failuresBefore = responder.authenticationFailureCount
            for pn: UInt64 in 95..<100 {
                #expect(ProtectionTests.open(&responder, held[pn]!, now: switchTime + .seconds(2)).outcome
                        == .dropped(.keyPhaseUnknown))
            }
            #expect(responder.authenticationFailureCount == failuresBefore)
            expectOpened(&responder, try ProtectionTests.seal(&initiator, pn: 102), now: switchTime + .seconds(3),
                         pn: 102, phase: .one)
        }

        @Test func openDiscardsAnExpiredPreviousKeyWithoutATimerCall() throws {
            var (initiator, responder) = try ProtectionTests.pair(.chaChaPoly, configuration: Self.every100)
            var held: [UInt8] = []
            for pn: UInt64 in 0..<100 {
                let packet = try ProtectionTests.seal(&initiator, pn: pn)
                if pn == 99 { held = packet } else { expectOpened(&responder, packet, pn: pn, phase: .zero) }
            }
            initiator.onPacketAcked(PacketNumber(1))
            expectOpened(&responder, try ProtectionTests.seal(&initiator, pn: 100), now: .zero, pn: 100, phase: .one, switching: true)
            #expect(ProtectionTests.open(&responder, held, now: ProtectionTests.seconds(3)).outcome == .dropped(.keyPhaseUnknown))
        }

        @Test(arguments: ProtectionTests.algorithms)
        func timeBasedUpdate(algorithm: AEADAlgorithm) throws {
            let configuration = ProtectionConfiguration(keyUpdateInterval: .seconds(120))
            var (initiator, responder) = try ProtectionTests.pair(algorithm, configuration: configuration)
            expectOpened(&responder, try ProtectionTests.seal(&initiator, pn: 0, now: .zero), pn: 0, phase: .zero)
            initiator.onPacketAcked(PacketNumber(0))
            let before = try ProtectionTests.seal(&initiator, pn: 1, now: ProtectionTests.milliseconds(119_999))
            #expect(before[1] == 0x10)
            expectOpened(&responder, before, pn: 1, phase: .zero)
            let after = try ProtectionTests.seal(&initiator, pn: 2, now: ProtectionTests.seconds(120))
            #expect(after[1] == 0x11)
            expectOpened(&responder, after, now: ProtectionTests.seconds(120), pn: 2, phase: .one, switching: true)
            // The new key's interval starts at its installation: unacknowledged,
            // and then not yet old enough.
            _ = try ProtectionTests.seal(&initiator, pn: 3, now: ProtectionTests.seconds(300))
            #expect(initiator.sendKeyPhase == .one)
            initiator.onPacketAcked(PacketNumber(3))
            _ = try ProtectionTests.seal(&initiator, pn: 4, now: ProtectionTests.seconds(239))
            #expect(initiator.sendKeyPhase == .one)
            _ = try ProtectionTests.seal(&initiator, pn: 5, now: ProtectionTests.seconds(240))
            #expect(initiator.sendKeyPhase == .zero)
        }

        @Test func forgedOtherPhasePacketChangesNothing() throws {
            var (initiator, responder) = try ProtectionTests.pair(.chaChaPoly)
            expectOpened(&responder, try ProtectionTests.seal(&initiator, pn: 0), pn: 0, phase: .zero)
            // Phase bit set, wrong key: tried under k', fails, dropped.
            let forged = try ProtectionTests.forge(key: [UInt8](repeating: 7, count: 32), algorithm: .chaChaPoly,
                                                   phase: 1, pn: 5, payload: [1, 2, 3])
            #expect(ProtectionTests.open(&responder, forged).outcome == .dropped(.authenticationFailed))
            #expect(responder.receiveKeyPhase == .zero)
            #expect(responder.receiveKeyUpdateCount == 0)
            #expect(responder.largestAuthenticated == PacketNumber(0))
            expectOpened(&responder, try ProtectionTests.seal(&initiator, pn: 5), pn: 5, phase: .zero)
        }

        @Test func keyUpdateBelowAReceivedPacketNumberClosesTheConnection() throws {
            // Only a broken or malicious peer sends a new phase below a number
            // it already used in the old one: KEY_UPDATE_ERROR.
            let algorithm = AEADAlgorithm.chaChaPoly
            var (initiator, responder) = try ProtectionTests.pair(algorithm)
            for pn: UInt64 in [0, 1, 2, 3, 4, 5, 6, 7, 9, 10] {  // 8 skipped
                expectOpened(&responder, try ProtectionTests.seal(&initiator, pn: pn), pn: pn, phase: .zero)
            }
            let k1Next = ProtectionTests.nextKey(ProtectionTests.transportKeys().k1.unprotectedBytes)
            let early = try ProtectionTests.forge(key: k1Next, algorithm: algorithm, phase: 1, pn: 8, payload: [1])
            // 8 was never received, so it passes the window, authenticates under k' ...
            guard case .closeConnection(let error) = ProtectionTests.open(&responder, early).outcome else {
                Issue.record("expected KEY_UPDATE_ERROR")
                return
            }
            #expect(error.code == .keyUpdateError)
            #expect(responder.receiveKeyPhase == .zero)
        }

        @Test func keyThatCannotBeReplacedIsRetiredAtItsLimit() throws {
            // AES-GCM's 2^23 packets would take too long here; the rule is the
            // same with a lower limit: a key due for update but never
            // acknowledged stops sealing at the limit.
            #expect(AEADAlgorithm.aesGCM.confidentialityLimit == 1 << 23)
            #expect(AEADAlgorithm.chaChaPoly.confidentialityLimit == 1 << 62)
            var sealer = PacketSealer(key: try TrafficKey(algorithm: .chaChaPoly, key: ProtectionTests.transportKeys().k1),
                                      configuration: ProtectionConfiguration(keyUpdatePackets: 3), now: .zero,
                                      confidentialityLimit: 5)
            var buffer = [UInt8](repeating: 0, count: 31)
            func seal(_ pn: UInt64) throws -> UInt8 {
                try buffer.withUnsafeMutableBytes { raw in
                    _ = try sealer.seal(buffer: raw, payloadCount: 1, packetNumber: PacketNumber(pn), now: .zero)
                    return raw[1]
                }
            }
            for pn: UInt64 in 0..<5 { #expect(try seal(pn) == 0x10) }
            #expect(sealer.isKeyUpdateDue(now: .zero) == false)
            #expect(throws: SealError.keyExhausted) { _ = try seal(5) }
            #expect(sealer.largestSealed == PacketNumber(4))
            sealer.onPacketAcked(PacketNumber(0))
            #expect(sealer.isKeyUpdateDue(now: .zero))
            #expect(try seal(6) == 0x11)
            #expect(sealer.packetsUnderCurrentKey == 1)
        }
    }
}
