/// The Noise `SymmetricState` (specification section 5.2): the chaining key
/// `ck`, the handshake hash `h`, and a ``CipherState``.
struct SymmetricState: Sendable {
    static let hashCount = 64

    private(set) var cipher: CipherState
    private(set) var chainingKey: SecretBytes
    private(set) var handshakeHash: [UInt8]

    /// `InitializeSymmetric(protocol_name)`.
    init(protocolName: String, algorithm: AEADAlgorithm) {
        let name = Array(protocolName.utf8)
        if name.count <= Self.hashCount {
            handshakeHash = name + [UInt8](repeating: 0, count: Self.hashCount - name.count)
        } else {
            handshakeHash = BLAKE2b.hash(name)
        }
        chainingKey = SecretBytes(copying: handshakeHash)
        cipher = CipherState(algorithm: algorithm)
    }

    /// `MixKey(input_key_material)`.
    mutating func mixKey(_ inputKeyMaterial: some ContiguousBytes) {
        let outputs = derive(inputKeyMaterial, outputs: 2)
        chainingKey = outputs[0]
        cipher.initializeKey(Self.truncated(outputs[1]))
    }

    /// `MixHash(data)`: `h = HASH(h ‖ data)`.
    mutating func mixHash(_ data: some ContiguousBytes) {
        var hasher = BLAKE2b(outputCount: Self.hashCount)
        hasher.update(handshakeHash)
        hasher.update(data)
        handshakeHash.withUnsafeMutableBytes { hasher.finalize(into: $0) }
    }

    /// `MixKeyAndHash(input_key_material)`, used for psk tokens.
    mutating func mixKeyAndHash(_ inputKeyMaterial: some ContiguousBytes) {
        let outputs = derive(inputKeyMaterial, outputs: 3)
        chainingKey = outputs[0]
        mixHash(outputs[1])
        cipher.initializeKey(Self.truncated(outputs[2]))
    }

    /// `EncryptAndHash(plaintext)`.
    mutating func encryptAndHash(_ plaintext: some ContiguousBytes) throws(NoiseError) -> [UInt8] {
        let ciphertext = try cipher.encrypt(associatedData: handshakeHash, plaintext: plaintext)
        mixHash(ciphertext)
        return ciphertext
    }

    /// `DecryptAndHash(ciphertext)`.
    mutating func decryptAndHash(_ ciphertext: some ContiguousBytes) throws(NoiseError) -> [UInt8] {
        let plaintext = try cipher.decrypt(associatedData: handshakeHash, ciphertext: ciphertext)
        mixHash(ciphertext)
        return plaintext
    }

    /// `Split()`: the initiator-to-responder and responder-to-initiator ciphers.
    func split() -> (initiatorToResponder: CipherState, responderToInitiator: CipherState) {
        let outputs = derive([UInt8](), outputs: 2)
        var first = CipherState(algorithm: cipher.algorithm)
        first.initializeKey(Self.truncated(outputs[0]))
        var second = CipherState(algorithm: cipher.algorithm)
        second.initializeKey(Self.truncated(outputs[1]))
        return (first, second)
    }

    private func derive(_ inputKeyMaterial: some ContiguousBytes, outputs: Int) -> [SecretBytes] {
        chainingKey.withUnsafeBytes { ck in
            inputKeyMaterial.withUnsafeBytes { ikm in
                NoiseHKDF.derive(chainingKey: ck, inputKeyMaterial: ikm, outputs: outputs)
            }
        }
    }

    /// HASHLEN is 64, so keys are the first 32 bytes of an HKDF output (section 5.2).
    private static func truncated(_ output: SecretBytes) -> SecretBytes {
        output.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0[0..<32])) }
    }
}
