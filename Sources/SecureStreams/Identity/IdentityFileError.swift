#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a key file could not be loaded or saved; thrown by ``IdentityFile``.
///
/// Every error names the path it is about, and its ``description`` is one
/// line meant for the user (`sss` prints it as is). No error carries key
/// bytes. A struct around a private enum, so that new cases do not break
/// clients; compare with the static constructors
/// (`error == .alreadyExists(path: p)`).
public struct IdentityFileError: Error, Equatable, Sendable {
    private enum Reason: Equatable, Sendable {
        case notFound
        case permissionsTooOpen(mode: UInt32)
        case notARegularFile
        case notADirectory
        case tooLarge(limit: Int)
        case unrecognizedFormat
        case unsupportedPrivateKeyFormat
        case invalidKeyFile(KeyFileError)
        case invalidOpenSSHKey(OpenSSHKeyError)
        case invalidEndpointID(EIDParseError)
        case publicKeyOnly
        case alreadyExists
        case systemCallFailed(operation: String, code: Int32)
    }

    private let reason: Reason
    /// The file (or directory) the error is about.
    public let path: String

    private init(_ reason: Reason, path: String) {
        self.reason = reason
        self.path = path
    }

    /// Nothing exists at `path`.
    public static func notFound(path: String) -> Self { Self(.notFound, path: path) }
    /// A private key file grants permissions to the group or others (`mode`: its permission bits).
    public static func permissionsTooOpen(path: String, mode: UInt32) -> Self {
        Self(.permissionsTooOpen(mode: mode), path: path)
    }
    /// `path` is a directory, a device, a FIFO, ….
    public static func notARegularFile(path: String) -> Self { Self(.notARegularFile, path: path) }
    /// A component of the directory of a key is not a directory.
    public static func notADirectory(path: String) -> Self { Self(.notADirectory, path: path) }
    /// The file is larger than any key file.
    public static func tooLarge(path: String, limit: Int) -> Self { Self(.tooLarge(limit: limit), path: path) }
    /// The content is none of the recognised forms.
    public static func unrecognizedFormat(path: String) -> Self { Self(.unrecognizedFormat, path: path) }
    /// A PEM private key other than OpenSSH's own format (PKCS#1, PKCS#8, …).
    public static func unsupportedPrivateKeyFormat(path: String) -> Self {
        Self(.unsupportedPrivateKeyFormat, path: path)
    }
    /// A SecureStreams key file that does not decode.
    public static func invalidKeyFile(path: String, _ error: KeyFileError) -> Self {
        Self(.invalidKeyFile(error), path: path)
    }
    /// An OpenSSH key that does not decode or is not supported.
    public static func invalidOpenSSHKey(path: String, _ error: OpenSSHKeyError) -> Self {
        Self(.invalidOpenSSHKey(error), path: path)
    }
    /// A one-line file that is not a valid endpoint id.
    public static func invalidEndpointID(path: String, _ error: EIDParseError) -> Self {
        Self(.invalidEndpointID(error), path: path)
    }
    /// A private key was needed but the file holds only a public key.
    public static func publicKeyOnly(path: String) -> Self { Self(.publicKeyOnly, path: path) }
    /// Saving without `overwrite` found an existing file.
    public static func alreadyExists(path: String) -> Self { Self(.alreadyExists, path: path) }
    /// A system call failed: `operation` is a verb (`"open"`, `"write"`, …)
    /// and `code` the `errno` value.
    public static func systemCallFailed(path: String, _ operation: String, _ code: Int32) -> Self {
        Self(.systemCallFailed(operation: operation, code: code), path: path)
    }
}

extension IdentityFileError: CustomStringConvertible {
    public var description: String {
        switch reason {
        case .notFound:
            "no key file at '\(path)'"
        case .permissionsTooOpen(let mode):
            "permissions \(Self.octal(mode)) for '\(path)' are too open: a private key must be readable "
                + "by its owner only (chmod 600 \(path))"
        case .notARegularFile:
            "'\(path)' is not a regular file"
        case .notADirectory:
            "'\(path)' is not a directory"
        case .tooLarge(let limit):
            "'\(path)' is larger than \(limit) bytes, so it is not a key file"
        case .unrecognizedFormat:
            "'\(path)' is not a key: expected a SecureStreams identity, an OpenSSH private key, "
                + "an OpenSSH public key line or an endpoint id"
        case .unsupportedPrivateKeyFormat:
            "'\(path)' is a PEM private key, not an OpenSSH one; only SecureStreams identities and "
                + "OpenSSH Ed25519 keys are supported"
        case .invalidKeyFile(let error):
            "invalid key file '\(path)', \(error)"
        case .invalidOpenSSHKey(let error):
            "'\(path)': \(error)"
        case .invalidEndpointID(let error):
            "'\(path)': \(error)"
        case .publicKeyOnly:
            "'\(path)' holds only a public key; a private key is needed"
        case .alreadyExists:
            "'\(path)' already exists"
        case .systemCallFailed(let operation, let code):
            "could not \(operation) '\(path)': \(String(cString: strerror(code)))"
        }
    }

    /// Four octal digits, as `ls` and `chmod` spell a mode (`0644`).
    private static func octal(_ mode: UInt32) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
