/// Why an OpenSSH key could not be read; thrown by ``OpenSSHKey``.
///
/// The cases a user can act on have their own constructor
/// (``encryptedKeysNotSupported``, ``unsupportedKeyType(_:)``, …); every
/// structural defect of a corrupt file is ``malformed(_:)`` with a short
/// reason. No error carries key bytes.
///
/// A struct around a private enum, so that new cases do not break clients'
/// exhaustive switches. Compare with the static members:
/// `error == .encryptedKeysNotSupported`.
public struct OpenSSHKeyError: Error, Equatable, Sendable {
    private enum Reason: Equatable, Sendable {
        case notAPrivateKey
        case notAPublicKey
        case invalidBase64
        case encryptedKeysNotSupported
        case unsupportedKeyType(String)
        case unsupportedKeyCount(Int)
        case checkMismatch
        case publicKeyMismatch
        case invalidPublicKey
        case malformed(String)
    }

    private let reason: Reason

    private init(_ reason: Reason) { self.reason = reason }

    /// The text has no `-----BEGIN OPENSSH PRIVATE KEY-----` line.
    public static let notAPrivateKey = Self(.notAPrivateKey)
    /// The text is not a line `ssh-ed25519 <base64> [comment]`.
    public static let notAPublicKey = Self(.notAPublicKey)
    /// The key's base64 is not valid.
    public static let invalidBase64 = Self(.invalidBase64)
    /// The private key is protected by a passphrase (its cipher is not `none`).
    public static let encryptedKeysNotSupported = Self(.encryptedKeysNotSupported)
    /// The key is not Ed25519 (`ssh-rsa`, `ecdsa-sha2-nistp256`, …).
    public static func unsupportedKeyType(_ name: String) -> Self { Self(.unsupportedKeyType(name)) }
    /// The file holds a number of keys other than one.
    public static func unsupportedKeyCount(_ count: Int) -> Self { Self(.unsupportedKeyCount(count)) }
    /// The two check numbers of the private section differ.
    public static let checkMismatch = Self(.checkMismatch)
    /// The copies of the public key in the file disagree with each other or
    /// with the key the seed gives.
    public static let publicKeyMismatch = Self(.publicKeyMismatch)
    /// The public key is not a valid Ed25519 point.
    public static let invalidPublicKey = Self(.invalidPublicKey)
    /// The structure is broken: truncated, a wrong length, bad padding, ….
    public static func malformed(_ reason: String) -> Self { Self(.malformed(reason)) }
}

extension OpenSSHKeyError: CustomStringConvertible {
    public var description: String {
        switch reason {
        case .notAPrivateKey:
            "not an OpenSSH private key (no `\(OpenSSHKey.privateKeyBeginLine)` line)"
        case .notAPublicKey:
            "not an OpenSSH public key (expected a line `ssh-ed25519 AAAA… comment`)"
        case .invalidBase64:
            "the OpenSSH key's base64 encoding is corrupt"
        case .encryptedKeysNotSupported:
            "encrypted (passphrase-protected) OpenSSH keys are not supported; decrypt a copy with "
                + "`cp KEY KEY.plain && ssh-keygen -p -N \"\" -f KEY.plain` and use the copy"
        case .unsupportedKeyType(let name):
            "unsupported OpenSSH key type \(name): only \(OpenSSHKey.ed25519KeyType) keys can be "
                + "SecureStreams identities"
        case .unsupportedKeyCount(let count):
            "the OpenSSH key file holds \(count) keys; exactly one is supported"
        case .checkMismatch:
            "the OpenSSH private key is corrupt (its check numbers differ)"
        case .publicKeyMismatch:
            "the OpenSSH private key is corrupt (its public key does not match its private key)"
        case .invalidPublicKey:
            "the OpenSSH public key is not a valid Ed25519 key"
        case .malformed(let reason):
            "malformed OpenSSH key: \(reason)"
        }
    }
}
