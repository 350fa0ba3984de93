/// When packet protection updates its keys and how long it keeps an old one
/// (PROTOCOL.md §5.3).
public struct ProtectionConfiguration: Sendable, Equatable {
    /// A sender updates its key after this many packets under one key.
    ///
    /// Default 2^22: "below AES-GCM's confidentiality limit of 2^23 packets,
    /// RFC 9001 §6.6", leaving 2^22 packets' worth of time for the
    /// acknowledgement that must precede the update.
    public var keyUpdatePackets: UInt64

    /// A sender updates its key once the key is this old.
    ///
    /// Default 120 s, "as WireGuard rekeys every two minutes": it bounds how
    /// much traffic one key protects in time as well as in count.
    public var keyUpdateInterval: Duration

    /// How long a receiver keeps the previous key after the peer's key update,
    /// for packets reordered across the switch, until the connection sets
    /// ``PacketProtection/previousKeyRetention`` from its own PTO.
    ///
    /// PROTOCOL.md §5.3 says `3 × PTO`. The default, 3 s, is three times the
    /// first PTO a connection computes from the initial RTT of 333 ms
    /// (§8: `333 + 4 × 166.5 + 25` ms ≈ 1 s).
    public var initialPreviousKeyRetention: Duration

    /// Replaces the cipher's integrity limit (``AEADAlgorithm/integrityLimit``)
    /// when set: what tests use to reach the limit without 2^36 forgeries.
    var integrityLimitOverride: UInt64?

    public init(
        keyUpdatePackets: UInt64 = 1 << 22,
        keyUpdateInterval: Duration = .seconds(120),
        initialPreviousKeyRetention: Duration = .seconds(3)
    ) {
        precondition(keyUpdatePackets > 0, "keyUpdatePackets must be positive")
        precondition(keyUpdateInterval > .zero, "keyUpdateInterval must be positive")
        self.keyUpdatePackets = keyUpdatePackets
        self.keyUpdateInterval = keyUpdateInterval
        self.initialPreviousKeyRetention = initialPreviousKeyRetention
    }
}

/// The AEAD usage limits of RFC 9001 §6.6, which bound how much one key may
/// be used before the cipher's security margin is spent.
extension AEADAlgorithm {
    /// Packets one key may seal. AES-GCM: 2^23 (RFC 9001 §6.6, for packets of
    /// up to 2^16 bytes). ChaCha20-Poly1305: no limit below the 2^62 packet
    /// numbers ("greater than the number of possible packets").
    var confidentialityLimit: UInt64 {
        switch self {
        case .aesGCM: 1 << 23
        case .chaChaPoly: 1 << 62
        }
    }

    /// Forged packets a connection may see fail before it must stop
    /// (RFC 9001 §6.6): 2^52 for AES-GCM, 2^36 for ChaCha20-Poly1305.
    var integrityLimit: UInt64 {
        switch self {
        case .aesGCM: 1 << 52
        case .chaChaPoly: 1 << 36
        }
    }
}
