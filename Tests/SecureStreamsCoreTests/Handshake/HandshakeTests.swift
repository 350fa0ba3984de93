import Testing
@testable import SecureStreamsCore

/// Two ends of a handshake built from seeded keys, for the tests below.
struct HandshakePair {
    var initiator: HandshakeState
    var responder: HandshakeState
    var initiatorRandom: SeededRandom
    var responderRandom: SeededRandom
    let initiatorStatic: X25519.PrivateKey
    let responderStatic: X25519.PrivateKey

    init(_ name: String, seed: UInt64 = 1, psks: [SecretBytes] = [], responderPSKs: [SecretBytes]? = nil,
         remoteStatic: X25519.PublicKey? = nil, prologue: [UInt8] = Array("prologue".utf8)) throws {
        var keys = SeededRandom(seed: 0xC0FFEE)
        initiatorStatic = X25519.PrivateKey(using: &keys)
        responderStatic = X25519.PrivateKey(using: &keys)
        let proto = try NoiseProtocol(name: name)
        let knowsResponder = proto.pattern.base == .IK
        initiator = try HandshakeState(.init(
            noiseProtocol: proto, side: .initiator, prologue: prologue, localStatic: initiatorStatic,
            remoteStatic: knowsResponder ? (remoteStatic ?? responderStatic.publicKey) : nil, presharedKeys: psks))
        responder = try HandshakeState(.init(
            noiseProtocol: proto, side: .responder, prologue: prologue, localStatic: responderStatic,
            presharedKeys: responderPSKs ?? psks))
        let root = SeededRandom(seed: seed)
        initiatorRandom = root.fork(label: "initiator")
        responderRandom = root.fork(label: "responder")
    }

    /// Runs the whole handshake, returning every message written.
    mutating func run(payload: (Int) -> [UInt8] = { _ in [] }) throws -> [[UInt8]] {
        var messages: [[UInt8]] = []
        while let sender = initiator.nextSender {
            let index = messages.count
            if sender == .initiator {
                let message = try initiator.writeMessage(payload: payload(index), using: &initiatorRandom)
                #expect(try responder.readMessage(message) == payload(index))
                messages.append(message)
            } else {
                let message = try responder.writeMessage(payload: payload(index), using: &responderRandom)
                #expect(try initiator.readMessage(message) == payload(index))
                messages.append(message)
            }
        }
        #expect(responder.isComplete)
        return messages
    }
}

@Suite struct HandshakeTests {
    static let suites = ["Noise_IK_25519_ChaChaPoly_BLAKE2b", "Noise_IK_25519_AESGCM_BLAKE2b",
                         "Noise_XX_25519_ChaChaPoly_BLAKE2b", "Noise_XX_25519_AESGCM_BLAKE2b"]

    @Test(arguments: suites)
    func completesAndAgreesOnKeys(name: String) throws {
        var pair = try HandshakePair(name)
        let messages = try pair.run { Array("payload \($0)".utf8) }
        #expect(messages.count == (name.contains("_IK_") ? 2 : 3))
        #expect(pair.initiator.handshakeHash == pair.responder.handshakeHash)
        #expect(pair.initiator.handshakeHash.count == 64)
        #expect(pair.responder.remoteStatic == pair.initiatorStatic.publicKey)
        #expect(pair.initiator.remoteStatic == pair.responderStatic.publicKey)

        var (iSend, iReceive) = pair.initiator.split()
        var (rSend, rReceive) = pair.responder.split()
        for round in 0..<3 {
            let hello = Array("hello \(round)".utf8)
            let sealed = try iSend.encrypt(associatedData: [UInt8](), plaintext: hello)
            #expect(sealed.count == hello.count + 16)
            #expect(try rReceive.decrypt(associatedData: [UInt8](), ciphertext: sealed) == hello)
            let reply = try rSend.encrypt(associatedData: [UInt8](), plaintext: hello.reversed())
            #expect(try iReceive.decrypt(associatedData: [UInt8](), ciphertext: reply) == hello.reversed())
        }
        #expect(iSend.nonce == 3 && iReceive.nonce == 3)
    }

    @Test func ikFirstMessageCarriesData() throws {
        // 1-RTT: the initiator's first message already carries encrypted data,
        // and the responder's reply too.
        var pair = try HandshakePair("Noise_IK_25519_ChaChaPoly_BLAKE2b")
        let secret = Array("stream data in the first flight".utf8)
        let first = try pair.initiator.writeMessage(payload: secret, using: &pair.initiatorRandom)
        #expect(first.count == 32 + 48 + secret.count + 16)
        #expect(!first.windowContains(secret))
        #expect(try pair.responder.readMessage(first) == secret)
    }

    @Test func sameSeedSameBytesOtherSeedOtherBytes() throws {
        var a = try HandshakePair("Noise_XX_25519_ChaChaPoly_BLAKE2b", seed: 7)
        var b = try HandshakePair("Noise_XX_25519_ChaChaPoly_BLAKE2b", seed: 7)
        var c = try HandshakePair("Noise_XX_25519_ChaChaPoly_BLAKE2b", seed: 8)
        let ma = try a.run(), mb = try b.run(), mc = try c.run()
        #expect(ma == mb)
        #expect(a.initiator.handshakeHash == b.initiator.handshakeHash)
        #expect(ma[0] != mc[0])
        #expect(a.initiator.handshakeHash != c.initiator.handshakeHash)
    }

    @Test(arguments: suites)
    func everyTruncationIsRejectedAndHarmless(name: String) throws {
        var pair = try HandshakePair(name)
        var first = try pair.initiator.writeMessage(payload: Array("data".utf8), using: &pair.initiatorRandom)
        var reader = pair.responder
        if name.contains("_XX_") {
            // XX's first message is the plaintext ephemeral key and payload:
            // only a prefix shorter than the key is malformed.
            for length in 0..<32 {
                #expect(throws: NoiseError.messageTooShort(expectedAtLeast: 32, actual: length)) {
                    try pair.responder.readMessage(first[0..<length])
                }
            }
            _ = try pair.responder.readMessage(first)
            first = try pair.responder.writeMessage(payload: Array("data".utf8), using: &pair.responderRandom)
            reader = pair.initiator
        }
        for length in 0..<first.count {
            #expect(throws: NoiseError.self) { try reader.readMessage(first[0..<length]) }
        }
        // The failed reads left the reader untouched: the real message still works.
        #expect(try reader.readMessage(first) == Array("data".utf8))
    }

    @Test(arguments: suites)
    func everyFlippedBitIsRejected(name: String) throws {
        var pair = try HandshakePair(name)
        let first = try pair.initiator.writeMessage(payload: Array("data".utf8), using: &pair.initiatorRandom)
        let second = try { () throws -> [UInt8] in
            _ = try pair.responder.readMessage(first)
            return try pair.responder.writeMessage(payload: Array("reply".utf8), using: &pair.responderRandom)
        }()
        // XX's first message has no key yet, so it is unauthenticated plaintext
        // (the ephemeral key and payload); its tampering is caught by message 2.
        let authenticated = name.contains("_IK_") ? first : second
        for index in stride(from: 0, to: authenticated.count, by: 3) {
            var tampered = authenticated
            tampered[index] ^= 0x01 << UInt8(index % 8)
            var fresh = try HandshakePair(name)
            var random = fresh.initiatorRandom
            let genuineFirst = try fresh.initiator.writeMessage(payload: Array("data".utf8), using: &random)
            #expect(genuineFirst == first)
            if name.contains("_IK_") {
                #expect(throws: NoiseError.self) { try fresh.responder.readMessage(tampered) }
            } else {
                _ = try fresh.responder.readMessage(genuineFirst)
                #expect(throws: NoiseError.self) { try fresh.initiator.readMessage(tampered) }
            }
        }
    }

    @Test func wrongPresharedKeyFailsAtThePSKMessage() throws {
        let psk = SecretBytes(copying: [UInt8](repeating: 7, count: 32))
        let other = SecretBytes(copying: [UInt8](repeating: 8, count: 32))
        // IKpsk2: the psk is mixed at the end of message 2, so the responder
        // reads message 1 and the initiator refuses message 2.
        var pair = try HandshakePair("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b", psks: [psk], responderPSKs: [other])
        let first = try pair.initiator.writeMessage(payload: [UInt8](), using: &pair.initiatorRandom)
        _ = try pair.responder.readMessage(first)
        let second = try pair.responder.writeMessage(payload: [UInt8](), using: &pair.responderRandom)
        #expect(throws: NoiseError.decryptionFailed) { try pair.initiator.readMessage(second) }

        // IKpsk1: mixed in message 1, which the responder refuses.
        var early = try HandshakePair("Noise_IKpsk1_25519_ChaChaPoly_BLAKE2b", psks: [psk], responderPSKs: [other])
        let message = try early.initiator.writeMessage(payload: [UInt8](), using: &early.initiatorRandom)
        #expect(throws: NoiseError.decryptionFailed) { try early.responder.readMessage(message) }

        // XXpsk3 with matching keys completes.
        var good = try HandshakePair("Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b", psks: [psk])
        _ = try good.run()
    }

    @Test func wrongRemoteStaticKeyIsRefused() throws {
        var random = SeededRandom(seed: 99)
        let stranger = X25519.PrivateKey(using: &random).publicKey
        var pair = try HandshakePair("Noise_IK_25519_ChaChaPoly_BLAKE2b", remoteStatic: stranger)
        let first = try pair.initiator.writeMessage(payload: [UInt8](), using: &pair.initiatorRandom)
        #expect(throws: NoiseError.decryptionFailed) { try pair.responder.readMessage(first) }
    }

    @Test func differentProloguesDoNotMeet() throws {
        var pair = try HandshakePair("Noise_XX_25519_ChaChaPoly_BLAKE2b")
        var other = try HandshakePair("Noise_XX_25519_ChaChaPoly_BLAKE2b", prologue: Array("other".utf8))
        let first = try pair.initiator.writeMessage(payload: [UInt8](), using: &pair.initiatorRandom)
        _ = try other.responder.readMessage(first)
        let second = try other.responder.writeMessage(payload: [UInt8](), using: &other.responderRandom)
        #expect(throws: NoiseError.decryptionFailed) { try pair.initiator.readMessage(second) }
    }

    @Test func tamperedTransportMessageIsRefusedAndNonceKept() throws {
        var pair = try HandshakePair("Noise_IK_25519_ChaChaPoly_BLAKE2b")
        _ = try pair.run()
        var (send, _) = pair.initiator.split()
        var (_, receive) = pair.responder.split()
        let sealed = try send.encrypt(associatedData: [UInt8](), plaintext: Array("transfer".utf8))
        var tampered = sealed
        tampered[3] ^= 0x80
        #expect(throws: NoiseError.decryptionFailed) { try receive.decrypt(associatedData: [UInt8](), ciphertext: tampered) }
        #expect(throws: NoiseError.decryptionFailed) { try receive.decrypt(associatedData: [1], ciphertext: sealed) }
        #expect(receive.nonce == 0)
        #expect(try receive.decrypt(associatedData: [UInt8](), ciphertext: sealed) == Array("transfer".utf8))
        #expect(receive.nonce == 1)
    }

    @Test func lowOrderEphemeralIsRefused() throws {
        var pair = try HandshakePair("Noise_IK_25519_ChaChaPoly_BLAKE2b")
        var first = try pair.initiator.writeMessage(payload: [UInt8](), using: &pair.initiatorRandom)
        for i in 0..<32 { first[i] = 0 }  // the identity point, of order 1
        #expect(throws: NoiseError.lowOrderKey) { try pair.responder.readMessage(first) }
    }

    @Test func outOfTurnAndAfterCompletion() throws {
        var pair = try HandshakePair("Noise_IK_25519_ChaChaPoly_BLAKE2b")
        #expect(throws: NoiseError.outOfTurn) { try pair.responder.writeMessage(payload: [UInt8](), using: &pair.responderRandom) }
        #expect(throws: NoiseError.outOfTurn) { try pair.initiator.readMessage([UInt8](repeating: 0, count: 100)) }
        _ = try pair.run()
        #expect(throws: NoiseError.outOfTurn) { try pair.initiator.writeMessage(payload: [UInt8](), using: &pair.initiatorRandom) }
        #expect(throws: NoiseError.outOfTurn) { try pair.responder.readMessage([UInt8](repeating: 0, count: 100)) }
    }

    @Test func missingKeysAreReportedAtInit() throws {
        let ik = try NoiseProtocol(name: "Noise_IK_25519_ChaChaPoly_BLAKE2b")
        var random = SeededRandom(seed: 1)
        let key = X25519.PrivateKey(using: &random)
        #expect(throws: NoiseError.self) { try HandshakeState(.init(noiseProtocol: ik, side: .initiator, localStatic: key)) }
        #expect(throws: NoiseError.self) { try HandshakeState(.init(noiseProtocol: ik, side: .responder)) }
        let psk = try NoiseProtocol(name: "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b")
        #expect(throws: NoiseError.self) { try HandshakeState(.init(noiseProtocol: psk, side: .initiator, localStatic: key)) }
        #expect(throws: NoiseError.invalidPSK(length: 5)) {
            try HandshakeState(.init(noiseProtocol: psk, side: .initiator, localStatic: key,
                                     presharedKeys: [SecretBytes(copying: [UInt8](repeating: 1, count: 5))]))
        }
    }

    @Test func oversizedPayloadIsRefused() throws {
        var pair = try HandshakePair("Noise_IK_25519_ChaChaPoly_BLAKE2b")
        let big = [UInt8](repeating: 0x55, count: 65535)
        #expect(throws: NoiseError.messageTooLong(32 + 48 + 65535 + 16)) {
            try pair.initiator.writeMessage(payload: big, using: &pair.initiatorRandom)
        }
        #expect(pair.initiator.nextSender == .initiator)
        #expect(throws: NoiseError.messageTooLong(70000)) { try pair.responder.readMessage([UInt8](repeating: 0, count: 70000)) }
    }

    @Test func rekeyKeepsBothEndsInStep() throws {
        var pair = try HandshakePair("Noise_XX_25519_AESGCM_BLAKE2b")
        _ = try pair.run()
        var (send, _) = pair.initiator.split()
        var (_, receive) = pair.responder.split()
        let before = try send.encrypt(associatedData: [UInt8](), plaintext: [1, 2, 3])
        _ = try receive.decrypt(associatedData: [UInt8](), ciphertext: before)
        send.rekey()
        let after = try send.encrypt(associatedData: [UInt8](), plaintext: [1, 2, 3])
        #expect(throws: NoiseError.decryptionFailed) { var copy = receive; _ = try copy.decrypt(associatedData: [UInt8](), ciphertext: after) }
        receive.rekey()
        #expect(try receive.decrypt(associatedData: [UInt8](), ciphertext: after) == [1, 2, 3])
        #expect(send.rawKey != nil && send.nonce == 2)
    }
}

@Suite struct NoiseProtocolNameTests {
    @Test(arguments: [
        "Noise_IK_25519_ChaChaPoly_BLAKE2b", "Noise_XX_25519_AESGCM_BLAKE2b", "Noise_IKpsk1_25519_ChaChaPoly_BLAKE2b",
        "Noise_IKpsk2_25519_AESGCM_BLAKE2b", "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b", "Noise_XXpsk0+psk3_25519_ChaChaPoly_BLAKE2b",
    ])
    func parsesAndPrintsBack(name: String) throws {
        #expect(try NoiseProtocol(name: name).name == name)
    }

    @Test(arguments: [
        "", "Noise", "Noise_NN_25519_ChaChaPoly_BLAKE2b", "Noise_IK_448_ChaChaPoly_BLAKE2b", "Noise_IK_25519_ChaChaPoly_SHA256",
        "Noise_IK_25519_AESGCM_BLAKE2s", "Noise_IKpsk3_25519_ChaChaPoly_BLAKE2b", "Noise_XXpsk4_25519_ChaChaPoly_BLAKE2b",
        "Noise_XXpsk1+psk1_25519_ChaChaPoly_BLAKE2b", "Noise_XXpsk_25519_ChaChaPoly_BLAKE2b", "Noise_XXpsk01_25519_ChaChaPoly_BLAKE2b",
        "Noise_IK_25519_ChaChaPoly_BLAKE2b_extra", "noise_IK_25519_ChaChaPoly_BLAKE2b", "Noise_XX+psk1_25519_ChaChaPoly_BLAKE2b",
    ])
    func refusesWhatItDoesNotImplement(name: String) {
        #expect(throws: NoiseError.unsupportedProtocol(name)) { try NoiseProtocol(name: name) }
    }

    @Test func pskTokensArePlacedPerSection9() throws {
        let pattern = try #require(HandshakePattern(name: "XXpsk0+psk3"))
        #expect(pattern.messages[0] == [.psk, .e])
        #expect(pattern.messages[2] == [.s, .se, .psk])
        #expect(HandshakePattern(name: "IKpsk2")?.messages[1] == [.e, .ee, .se, .psk])
    }
}

extension Array where Element == UInt8 {
    /// True when `needle` occurs as a contiguous run.
    func windowContains(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { Array(self[$0..<($0 + needle.count)]) == needle }
    }
}
