/// A host's long-term identity: an Ed25519 key pair, the X25519 key pair
/// derived from it for Noise, and the host's name, its ``EndpointID``.
///
/// One secret, the 32-byte Ed25519 seed of RFC 8032, determines everything:
///
/// - ``signingKey`` signs (and is what key files store, as its seed);
/// - ``staticKey`` is the Noise static key `s`: the X25519 conversion of the
///   signing key (the clamped first half of SHA-512(seed)), computed once
///   here so handshakes never repeat it;
/// - ``endpointID`` names the host; its ``EndpointID/noiseStaticKey`` equals
///   `staticKey.publicKey`, so a peer that knows the EID knows `rs` for `IK`.
///
/// Because the key is plain Ed25519, an OpenSSH `id_ed25519` key can serve
/// as an identity (``OpenSSHKey``). Making an identity does no I/O: the
/// randomness is injected and files are the `SecureStreams` module's job.
/// The secrets live in ``SecretBytes`` (zeroed when released); the
/// description never shows them.
public struct HostIdentity: Sendable {
    /// The Ed25519 private key; its `seed` is the identity's only secret.
    public let signingKey: Ed25519.PrivateKey
    /// The Noise static key pair (X25519), derived from ``signingKey``.
    public let staticKey: X25519.PrivateKey
    /// The host's name: its Ed25519 public key.
    public let endpointID: EndpointID

    /// A fresh identity with a seed drawn from `random` (the OS CSPRNG in
    /// production, a ``SeededRandom`` in tests and simulations).
    public init(using random: inout some RandomSource) {
        self.init(signingKey: Ed25519.PrivateKey(using: &random))
    }

    /// The identity whose Ed25519 seed is `seed`.
    /// - Throws: ``CryptoError/invalidLength(what:expected:actual:)`` unless
    ///   the seed has 32 bytes.
    public init(seed: SecretBytes) throws(CryptoError) {
        self.init(signingKey: try Ed25519.PrivateKey(seed: seed))
    }

    /// The identity whose Ed25519 seed is `seed` (copied into secret storage).
    /// - Throws: ``CryptoError/invalidLength(what:expected:actual:)`` unless
    ///   the seed has 32 bytes.
    public init(seed: some ContiguousBytes) throws(CryptoError) {
        self.init(signingKey: try Ed25519.PrivateKey(seed: seed))
    }

    /// The identity of an existing Ed25519 key.
    public init(signingKey: Ed25519.PrivateKey) {
        self.signingKey = signingKey
        self.staticKey = signingKey.x25519PrivateKey()
        self.endpointID = EndpointID(publicKey: signingKey.publicKey, noiseStaticKey: staticKey.publicKey)
    }
}

extension HostIdentity: CustomStringConvertible {
    /// The EID only; the secret is never printed.
    public var description: String { "HostIdentity(\(endpointID), private key redacted)" }
}
