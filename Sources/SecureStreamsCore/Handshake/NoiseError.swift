/// Why a Noise handshake or transport message was refused.
///
/// Everything here can be caused by the peer or by a wrong configuration;
/// none of it traps. Descriptions never contain key material.
public enum NoiseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The protocol name is malformed or names a primitive the project lacks.
    case unsupportedProtocol(String)
    /// A handshake message is shorter than its tokens require.
    case messageTooShort(expectedAtLeast: Int, actual: Int)
    /// A message would exceed the Noise limit of 65535 bytes.
    case messageTooLong(Int)
    /// An AEAD tag did not verify: tampered message, wrong key, wrong psk,
    /// wrong remote static key, or a different prologue.
    case decryptionFailed
    /// A Diffie-Hellman with the peer's key gave the all-zero secret.
    case lowOrderKey
    /// `writeMessage` when it is the peer's turn, `readMessage` when it is ours,
    /// or either after the handshake finished.
    case outOfTurn
    /// The pattern needs a key the caller did not provide (`s`, `rs`, a psk).
    case missingKey(String)
    /// A pre-shared key that is not 32 bytes.
    case invalidPSK(length: Int)
    /// 2^64 − 1 messages were sent under one key (the spec reserves the last nonce).
    case nonceExhausted
    /// The peer's public key in a message does not have 32 bytes, or is invalid.
    case invalidRemoteKey

    public var description: String {
        switch self {
        case .unsupportedProtocol(let name): "unsupported Noise protocol '\(name)'"
        case .messageTooShort(let expected, let actual): "handshake message too short: need at least \(expected) bytes, got \(actual)"
        case .messageTooLong(let count): "Noise message of \(count) bytes exceeds 65535"
        case .decryptionFailed: "decryption failed (wrong key, psk, prologue, or a tampered message)"
        case .lowOrderKey: "peer public key is of low order"
        case .outOfTurn: "handshake message out of turn"
        case .missingKey(let what): "handshake needs \(what), which was not provided"
        case .invalidPSK(let length): "pre-shared key must be 32 bytes, got \(length)"
        case .nonceExhausted: "nonce space exhausted"
        case .invalidRemoteKey: "invalid remote public key"
        }
    }
}
