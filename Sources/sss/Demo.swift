import ArgumentParser
import SecureStreams

/// `sss demo`: two identities in memory, a Noise IK handshake between them,
/// and one encrypted message each way. It grows into the two-process demo
/// once the drivers exist.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a handshake between two in-memory hosts and one message each way."
    )

    @Option(help: "Seed for the demo's random source (the run is reproducible by seed); omit for fresh keys.")
    var seed: UInt64?

    @Option(help: "Cipher: ChaChaPoly or AESGCM (default: AESGCM where the CPU has hardware AES).")
    var cipher: String?

    func run() throws {
        var random: any RandomSource = seed.map { SeededRandom(seed: $0) } ?? SystemRandom()
        let alice = HostIdentity(using: &random)
        let bob = HostIdentity(using: &random)
        print("alice  \(alice.endpointID)")
        print("bob    \(bob.endpointID)")

        let algorithm: AEADAlgorithm
        if let cipher {
            guard let chosen = AEADAlgorithm(rawValue: cipher) else {
                throw ValidationError("unknown cipher '\(cipher)': use ChaChaPoly or AESGCM")
            }
            guard chosen.isHardwareAccelerated else {
                throw ValidationError("AESGCM needs hardware AES, which this CPU lacks")
            }
            algorithm = chosen
        } else {
            algorithm = AEADAlgorithm.aesGCM.isHardwareAccelerated ? .aesGCM : .chaChaPoly
        }
        let suite = NoiseProtocol(pattern: HandshakePattern(base: .IK), cipher: algorithm)
        print("suite  \(suite)")

        // Alice knows Bob's EID, so she uses IK: her first message already
        // carries data, and Bob's reply completes the handshake.
        let prologue = Array("SecureStreams demo".utf8)
        var initiator = try HandshakeState(.init(
            noiseProtocol: suite, side: .initiator, prologue: prologue,
            localStatic: alice.staticKey, remoteStatic: bob.endpointID.noiseStaticKey))
        var responder = try HandshakeState(.init(
            noiseProtocol: suite, side: .responder, prologue: prologue, localStatic: bob.staticKey))

        let first = try initiator.writeMessage(payload: Array("hello from alice".utf8), using: &random)
        let greeting = try responder.readMessage(first)
        guard let remote = responder.remoteStatic else { throw ValidationError("responder learned no static key") }
        let caller = remote == alice.endpointID.noiseStaticKey ? "alice" : "an unknown host"
        print("→ alice sends \(first.count) bytes (IK message 1): bob reads \"\(String(decoding: greeting, as: UTF8.self))\" from \(caller)")

        let second = try responder.writeMessage(payload: Array("hello from bob".utf8), using: &random)
        let answer = try initiator.readMessage(second)
        print("← bob sends \(second.count) bytes (IK message 2): alice reads \"\(String(decoding: answer, as: UTF8.self))\"")

        precondition(initiator.handshakeHash == responder.handshakeHash, "handshake hashes differ")
        print("handshake hash  \(Hex.encode(initiator.handshakeHash))")

        var (aliceSend, aliceReceive) = initiator.split()
        var (bobSend, bobReceive) = responder.split()
        let toBob = try aliceSend.encrypt(associatedData: [UInt8](), plaintext: Array("a secret for bob".utf8))
        print("→ transport \(toBob.count) bytes: bob decrypts \"\(String(decoding: try bobReceive.decrypt(associatedData: [UInt8](), ciphertext: toBob), as: UTF8.self))\"")
        let toAlice = try bobSend.encrypt(associatedData: [UInt8](), plaintext: Array("a secret for alice".utf8))
        print("← transport \(toAlice.count) bytes: alice decrypts \"\(String(decoding: try aliceReceive.decrypt(associatedData: [UInt8](), ciphertext: toAlice), as: UTF8.self))\"")
    }
}
