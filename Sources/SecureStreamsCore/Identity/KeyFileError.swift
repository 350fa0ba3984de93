/// Why text is not a valid SecureStreams key file; thrown by
/// ``KeyFile/decode(_:)``.
///
/// Every error names the 1-based line it is about and, in its
/// ``description``, what was expected there. No error carries or prints
/// secret bytes: the seed line is described, never quoted, and other values
/// are quoted only when they are short printable ASCII.
///
/// A struct around a private enum, so that new cases (a future format
/// version) do not break clients' exhaustive switches. Compare with the
/// static constructors: `error == .eidMismatch(line: 4)`.
public struct KeyFileError: Error, Equatable, Sendable {
    private enum Reason: Equatable, Sendable {
        case expected(what: String)
        case unexpectedEnd(expected: String)
        case unsupportedVersion(String?)
        case unsupportedType(String?)
        case invalidEID(EIDParseError)
        case invalidSeed
        case eidMismatch
        case trailingContent
    }

    private let reason: Reason
    /// The 1-based number of the offending line.
    public let line: Int

    private init(_ reason: Reason, line: Int) {
        self.reason = reason
        self.line = line
    }

    /// The line is not what the format has at this point.
    public static func expected(line: Int, what: String) -> Self { Self(.expected(what: what), line: line) }
    /// The text ends where the format expects more.
    public static func unexpectedEnd(line: Int, expected: String) -> Self {
        Self(.unexpectedEnd(expected: expected), line: line)
    }
    /// The `version` is not one this build reads (`nil`: not shown).
    public static func unsupportedVersion(line: Int, version: String?) -> Self {
        Self(.unsupportedVersion(version), line: line)
    }
    /// The `type` is not `ed25519` (`nil`: not shown).
    public static func unsupportedType(line: Int, type: String?) -> Self {
        Self(.unsupportedType(type), line: line)
    }
    /// The `eid` field is not an endpoint id.
    public static func invalidEID(line: Int, _ error: EIDParseError) -> Self { Self(.invalidEID(error), line: line) }
    /// The `seed` field is not 64 hexadecimal digits.
    public static func invalidSeed(line: Int) -> Self { Self(.invalidSeed, line: line) }
    /// The seed's key is not the one the `eid` field names.
    public static func eidMismatch(line: Int) -> Self { Self(.eidMismatch, line: line) }
    /// Something other than blank or comment lines follows the armour.
    public static func trailingContent(line: Int) -> Self { Self(.trailingContent, line: line) }
}

extension KeyFileError: CustomStringConvertible {
    public var description: String {
        "line \(line): " + detail
    }

    private var detail: String {
        switch reason {
        case .expected(let what):
            "expected \(what)"
        case .unexpectedEnd(let expected):
            "the key file ends early: expected \(expected)"
        case .unsupportedVersion(let version):
            "unsupported key file version\(version.map { " '\($0)'" } ?? ""): "
                + "this build reads version \(KeyFile.version)"
        case .unsupportedType(let type):
            "unsupported key type\(type.map { " '\($0)'" } ?? ""): expected `type: \(KeyFile.keyType)`"
        case .invalidEID(let error):
            "the eid field is not a valid endpoint id: \(error)"
        case .invalidSeed:
            "the seed must be 64 hexadecimal digits (32 bytes)"
        case .eidMismatch:
            "eid does not match key: the seed gives a different endpoint id (the file is corrupt or was edited)"
        case .trailingContent:
            "unexpected content after `\(KeyFile.endLine)` (only blank and # comment lines may follow)"
        }
    }
}
