import CSodiumBaseline
import SecureStreamsCore

/// Complete Noise IK handshakes, both sides in one process, against the
/// bound set by the X25519 operations a handshake cannot avoid.
///
/// One pair: the initiator writes message 1, the responder reads it and
/// writes message 2, the initiator reads it, and both split. Static keys are
/// made once beforehand; each side draws a fresh ephemeral from one
/// ``SeededRandom`` (deterministic ChaCha20 stream; production uses
/// ``SystemRandom``, whose getrandom(2) call is not what is measured here).
/// Payloads and prologue are empty.
///
/// A pair costs ten X25519 operations: two ephemeral key generations
/// (`crypto_scalarmult_base`) and eight Diffie-Hellmans (`crypto_scalarmult`:
/// es and ss on each side for message 1, ee and se on each side for message 2).
enum HandshakeBenchmark {
    static let protocolName = "Noise_IK_25519_ChaChaPoly_BLAKE2b"
    static let scalarMultiplicationsPerPair = 8
    static let baseMultiplicationsPerPair = 2

    struct Parties {
        let noiseProtocol: NoiseProtocol
        let initiatorStatic: X25519.PrivateKey
        let responderStatic: X25519.PrivateKey
    }

    static func parties() -> Parties {
        let noiseProtocol: NoiseProtocol
        do {
            noiseProtocol = try NoiseProtocol(name: protocolName)
        } catch {
            fatalError("\(protocolName): \(error)")
        }
        var random = SeededRandom(seed: 0x5EC0_57A7)
        return Parties(
            noiseProtocol: noiseProtocol,
            initiatorStatic: X25519.PrivateKey(using: &random),
            responderStatic: X25519.PrivateKey(using: &random))
    }

    /// The outcome of one pair, for checking and checksums.
    struct Outcome {
        var initiator: (send: CipherState, receive: CipherState)
        var responder: (send: CipherState, receive: CipherState)
        var initiatorHash: [UInt8]
        var responderHash: [UInt8]
        var lastMessage: [UInt8]

        /// Both ends agree on the handshake hash and on both transport keys.
        var isConsistent: Bool {
            initiatorHash == responderHash
                && initiator.send.rawKey == responder.receive.rawKey
                && initiator.receive.rawKey == responder.send.rawKey
                && initiator.send.rawKey != initiator.receive.rawKey
        }
    }

    @inline(__always)
    static func handshakePair(_ parties: Parties, random: inout SeededRandom) throws(NoiseError) -> Outcome {
        let empty: [UInt8] = []
        var initiator = try HandshakeState(.init(
            noiseProtocol: parties.noiseProtocol, side: .initiator,
            localStatic: parties.initiatorStatic, remoteStatic: parties.responderStatic.publicKey))
        var responder = try HandshakeState(.init(
            noiseProtocol: parties.noiseProtocol, side: .responder, localStatic: parties.responderStatic))
        let first = try initiator.writeMessage(payload: empty, using: &random)
        _ = try responder.readMessage(first)
        let second = try responder.writeMessage(payload: empty, using: &random)
        _ = try initiator.readMessage(second)
        return Outcome(
            initiator: initiator.split(), responder: responder.split(),
            initiatorHash: initiator.handshakeHash, responderHash: responder.handshakeHash,
            lastMessage: second)
    }

    /// Complete handshake pairs through `HandshakeState`.
    static func handshakes(_ parties: Parties) -> Kernel {
        var random = SeededRandom(seed: 0xE9E3_E8A1)
        return Kernel(name: "Noise IK handshake pair") { iterations in
            var checksum: UInt64 = 0
            for _ in 0..<iterations {
                do {
                    let outcome = try handshakePair(parties, random: &random)
                    checksum &+= UInt64(outcome.lastMessage[outcome.lastMessage.count - 1])
                    checksum &+= outcome.initiator.send.rawKey!.withUnsafeBytes { UInt64($0[0]) }
                } catch {
                    fatalError("handshake failed: \(error)")
                }
            }
            return checksum
        }
    }

    /// Raw `crypto_scalarmult`, each output the next input point.
    static func scalarMultiplication(_ parties: Parties) -> Kernel {
        let scalar = UnsafeMutablePointer<UInt8>.allocate(capacity: 32)
        parties.initiatorStatic.secret.withUnsafeBytes { scalar.initialize(from: $0.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 32) }
        let point = UnsafeMutablePointer<UInt8>.allocate(capacity: 32)
        parties.responderStatic.publicKey.withUnsafeBytes { point.initialize(from: $0.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 32) }
        let output = UnsafeMutablePointer<UInt8>.allocate(capacity: 32)
        return Kernel(name: "crypto_scalarmult") { iterations in
            var checksum: UInt64 = 0
            for _ in 0..<iterations {
                guard crypto_scalarmult(output, scalar, point) == 0 else { fatalError("crypto_scalarmult failed") }
                point.update(from: output, count: 32)
                checksum &+= UInt64(output[0])
            }
            return checksum
        }
    }

    /// Raw `crypto_scalarmult_base` (a key generation), each output the next scalar.
    static func baseMultiplication(_ parties: Parties) -> Kernel {
        let scalar = UnsafeMutablePointer<UInt8>.allocate(capacity: 32)
        parties.responderStatic.secret.withUnsafeBytes { scalar.initialize(from: $0.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 32) }
        let output = UnsafeMutablePointer<UInt8>.allocate(capacity: 32)
        return Kernel(name: "crypto_scalarmult_base") { iterations in
            var checksum: UInt64 = 0
            for _ in 0..<iterations {
                guard crypto_scalarmult_base(output, scalar) == 0 else { fatalError("crypto_scalarmult_base failed") }
                scalar.update(from: output, count: 32)
                checksum &+= UInt64(output[0])
            }
            return checksum
        }
    }
}
