import CSodium

/// X25519 Diffie-Hellman (RFC 7748) through libsodium.
///
/// **Low-order points are rejected.** A peer public key of low order (or one
/// equivalent to it modulo p) makes every shared secret the all-zero string,
/// which would let an attacker force a known key. libsodium's
/// `crypto_scalarmult` refuses exactly those (it returns -1 for an all-zero
/// result), and ``sharedSecret(privateKey:publicKey:)`` turns that into
/// ``CryptoError/lowOrderPoint``. Noise permits either choice (specification
/// section 12.1); SecureStreams aborts the handshake. Public keys on the
/// twist and non-canonical encodings (the top bit, values ≥ p) are accepted
/// as RFC 7748 prescribes: the high bit is masked and the value reduced.
public enum X25519 {
    public static let keyCount = 32

    /// An X25519 public key (a u-coordinate), 32 bytes.
    public struct PublicKey: Hashable, Sendable, ContiguousBytes, CustomStringConvertible {
        public let bytes: Bytes32

        public init(_ bytes: Bytes32) { self.bytes = bytes }

        /// - Throws: ``CryptoError/invalidLength(what:expected:actual:)``.
        public init(rawRepresentation: some ContiguousBytes) throws(CryptoError) {
            guard let value = Bytes32(rawRepresentation) else {
                throw .invalidLength(what: "X25519 public key", expected: 32,
                                     actual: rawRepresentation.withUnsafeBytes { $0.count })
            }
            bytes = value
        }

        public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
            try bytes.withUnsafeBytes(body)
        }

        public var description: String { "X25519.PublicKey(\(bytes))" }
    }

    /// An X25519 private key (a scalar, clamped when used) and its public key.
    public struct PrivateKey: Sendable {
        public let secret: SecretBytes
        public let publicKey: PublicKey

        /// A fresh key from `random`.
        public init(using random: inout some RandomSource) {
            let secret = SecretBytes(randomCount: X25519.keyCount, using: &random)
            try! self.init(secret: secret)  // 32 bytes by construction
        }

        /// A key from its 32 secret bytes. Computes the public key.
        public init(rawRepresentation: some ContiguousBytes) throws(CryptoError) {
            try self.init(secret: SecretBytes(copying: rawRepresentation))
        }

        public init(secret: SecretBytes) throws(CryptoError) {
            guard secret.count == X25519.keyCount else {
                throw .invalidLength(what: "X25519 private key", expected: 32, actual: secret.count)
            }
            Sodium.ensureInitialized()
            self.secret = secret
            self.publicKey = PublicKey(Bytes32 { out in
                _ = crypto_scalarmult_base(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    secret.pointer.assumingMemoryBound(to: UInt8.self))
            })
        }
    }

    /// Computes `X25519(privateKey, publicKey)` into `output` (32 bytes).
    /// No allocation. - Throws: ``CryptoError/lowOrderPoint``.
    public static func sharedSecret(
        privateKey: PrivateKey, publicKey: PublicKey, into output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) {
        precondition(output.count >= keyCount, "X25519 output buffer too small")
        let status = publicKey.withUnsafeBytes { p in
            crypto_scalarmult(
                output.baseAddress!.assumingMemoryBound(to: UInt8.self),
                privateKey.secret.pointer.assumingMemoryBound(to: UInt8.self),
                p.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard status == 0 else {
            secureZero(UnsafeMutableRawBufferPointer(rebasing: output[0..<keyCount]))
            throw .lowOrderPoint
        }
    }

    /// Computes the shared secret into fresh secret storage.
    public static func sharedSecret(privateKey: PrivateKey, publicKey: PublicKey) throws(CryptoError) -> SecretBytes {
        try SecretBytes(count: keyCount) { (out) throws(CryptoError) in
            try sharedSecret(privateKey: privateKey, publicKey: publicKey, into: out)
        }
    }
}
