import CSodium

/// Ed25519 signatures (RFC 8032) through libsodium, and the conversion of
/// Ed25519 keys to X25519 keys (so a host's signing identity is also its
/// Noise static key).
///
/// Verification is libsodium's: it rejects non-canonical `S`, small-order `R`
/// and public keys of small order, which is stricter than RFC 8032's
/// cofactored equation and matches Wycheproof's expectations.
public enum Ed25519 {
    public static let seedCount = 32
    public static let publicKeyCount = 32
    public static let signatureCount = 64

    /// An Ed25519 public key, 32 bytes.
    public struct PublicKey: Hashable, Sendable, ContiguousBytes, CustomStringConvertible {
        public let bytes: Bytes32

        public init(_ bytes: Bytes32) { self.bytes = bytes }

        public init(rawRepresentation: some ContiguousBytes) throws(CryptoError) {
            guard let value = Bytes32(rawRepresentation) else {
                throw .invalidLength(what: "Ed25519 public key", expected: 32,
                                     actual: rawRepresentation.withUnsafeBytes { $0.count })
            }
            bytes = value
        }

        public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
            try bytes.withUnsafeBytes(body)
        }

        /// True when `signature` is a valid signature of `message` under this key.
        public func isValidSignature(_ signature: some ContiguousBytes, for message: some ContiguousBytes) -> Bool {
            Sodium.ensureInitialized()
            return signature.withUnsafeBytes { s in
                guard s.count == Ed25519.signatureCount else { return false }
                return message.withUnsafeBytes { m in
                    bytes.withUnsafeBytes { pk in
                        crypto_sign_verify_detached(
                            s.baseAddress!.assumingMemoryBound(to: UInt8.self),
                            m.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(m.count),
                            pk.baseAddress!.assumingMemoryBound(to: UInt8.self)) == 0
                    }
                }
            }
        }

        /// The birationally equivalent X25519 public key (the Montgomery
        /// u-coordinate). - Throws: ``CryptoError/invalidPublicKey`` for a key
        /// that is not on the curve or of small order.
        public func x25519PublicKey() throws(CryptoError) -> X25519.PublicKey {
            Sodium.ensureInitialized()
            var status: Int32 = 0
            let converted = Bytes32 { out in
                bytes.withUnsafeBytes { pk in
                    status = crypto_sign_ed25519_pk_to_curve25519(
                        out.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        pk.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
            guard status == 0 else { throw .invalidPublicKey }
            return X25519.PublicKey(converted)
        }

        public var description: String { "Ed25519.PublicKey(\(bytes))" }
    }

    /// An Ed25519 private key: the 32-byte seed of RFC 8032, libsodium's
    /// expanded secret key (seed ‖ public key) and the public key.
    public struct PrivateKey: Sendable {
        /// The RFC 8032 private key. This is what key files store.
        public let seed: SecretBytes
        private let expanded: SecretBytes
        public let publicKey: PublicKey

        /// A fresh key from `random`.
        public init(using random: inout some RandomSource) {
            try! self.init(seed: SecretBytes(randomCount: Ed25519.seedCount, using: &random))
        }

        /// The key with this 32-byte seed.
        public init(seed: SecretBytes) throws(CryptoError) {
            guard seed.count == Ed25519.seedCount else {
                throw .invalidLength(what: "Ed25519 seed", expected: 32, actual: seed.count)
            }
            Sodium.ensureInitialized()
            var publicBytes = Bytes32()
            let expanded = SecretBytes(count: 64) { sk in
                publicBytes = Bytes32 { pk in
                    _ = crypto_sign_seed_keypair(
                        pk.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        sk.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        seed.pointer.assumingMemoryBound(to: UInt8.self))
                }
            }
            self.seed = seed
            self.expanded = expanded
            self.publicKey = PublicKey(publicBytes)
        }

        public init(seed: some ContiguousBytes) throws(CryptoError) {
            try self.init(seed: SecretBytes(copying: seed))
        }

        /// Signs `message` (deterministic, RFC 8032).
        public func signature(for message: some ContiguousBytes) -> [UInt8] {
            var signature = [UInt8](repeating: 0, count: Ed25519.signatureCount)
            message.withUnsafeBytes { m in
                signature.withUnsafeMutableBytes { s in
                    _ = crypto_sign_detached(
                        s.baseAddress!.assumingMemoryBound(to: UInt8.self), nil,
                        m.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(m.count),
                        expanded.pointer.assumingMemoryBound(to: UInt8.self))
                }
            }
            return signature
        }

        /// The X25519 private key whose public key is
        /// `publicKey.x25519PublicKey()`: the clamped first half of
        /// SHA-512(seed), as `crypto_sign_ed25519_sk_to_curve25519` computes it.
        public func x25519PrivateKey() -> X25519.PrivateKey {
            let scalar = SecretBytes(count: 32) { out in
                _ = crypto_sign_ed25519_sk_to_curve25519(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    expanded.pointer.assumingMemoryBound(to: UInt8.self))
            }
            return try! X25519.PrivateKey(secret: scalar)  // 32 bytes by construction
        }
    }
}
