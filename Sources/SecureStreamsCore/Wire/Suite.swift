/// The `suite` byte of an Initiation (PROTOCOL.md §3.1): which Noise protocol
/// the handshake runs, which the responder must know before it can process
/// message 1.
///
/// Version 1 uses no pre-shared keys (§5.1), so each suite is a plain `IK` or
/// `XX` pattern with DH 25519 and hash BLAKE2b. "Any other value, or AESGCM at
/// a responder without hardware AES, is dropped and counted as
/// `unsupportedSuite`": the first half is ``PacketDropReason/unsupportedSuite(_:)``,
/// the second is the endpoint's decision.
public enum Suite: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// `Noise_IK_25519_ChaChaPoly_BLAKE2b`: the initiator knows the responder's key.
    case ikChaChaPoly = 0x01
    /// `Noise_IK_25519_AESGCM_BLAKE2b`.
    case ikAESGCM = 0x02
    /// `Noise_XX_25519_ChaChaPoly_BLAKE2b`: the initiator knows only an address.
    case xxChaChaPoly = 0x03
    /// `Noise_XX_25519_AESGCM_BLAKE2b`.
    case xxAESGCM = 0x04

    /// The suite of a psk-free IK or XX protocol; `nil` for anything version 1
    /// cannot announce (psk modifiers included).
    public init?(_ noiseProtocol: NoiseProtocol) {
        guard !noiseProtocol.pattern.usesPSK else { return nil }
        switch (noiseProtocol.pattern.base, noiseProtocol.cipher) {
        case (.IK, .chaChaPoly): self = .ikChaChaPoly
        case (.IK, .aesGCM): self = .ikAESGCM
        case (.XX, .chaChaPoly): self = .xxChaChaPoly
        case (.XX, .aesGCM): self = .xxAESGCM
        }
    }

    /// The Noise protocol this byte names.
    public var noiseProtocol: NoiseProtocol {
        NoiseProtocol(pattern: HandshakePattern(base: patternBase), cipher: cipher)
    }

    public var patternBase: HandshakePattern.Base {
        switch self {
        case .ikChaChaPoly, .ikAESGCM: .IK
        case .xxChaChaPoly, .xxAESGCM: .XX
        }
    }

    public var cipher: AEADAlgorithm {
        switch self {
        case .ikChaChaPoly, .xxChaChaPoly: .chaChaPoly
        case .ikAESGCM, .xxAESGCM: .aesGCM
        }
    }

    public var description: String { noiseProtocol.name }
}
