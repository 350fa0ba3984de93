/// The SecureStreams private key file: text, one field per line, armoured.
///
///     # comments and blank lines are allowed before and after the armour
///     -----BEGIN SECURESTREAMS IDENTITY-----
///     version: 1
///     type: ed25519
///     eid: <the 56-character endpoint id>
///     seed: <the 32-byte Ed25519 seed, 64 hexadecimal digits>
///     -----END SECURESTREAMS IDENTITY-----
///
/// Inside the armour the four fields come in this order, one per line, as
/// `name: value` (spaces after the colon and trailing whitespace are
/// ignored; lines may end in CRLF). The `eid` line is redundant on purpose:
/// it lets a person (or `grep`) see whose key this is, and ``decode(_:)``
/// refuses a file whose seed does not give that EID, which catches a
/// corrupted seed or a pasted EID of another key. `docs/IDENTITY.md` is the
/// format's reference.
///
/// Encoding and decoding are pure; reading and writing the file (mode 0600,
/// atomic replace) is the `SecureStreams` module's `IdentityFile`. Swift
/// strings cannot be wiped, so the text form of a key outlives the call in
/// released memory; the decoded seed itself is held in ``SecretBytes``.
public enum KeyFile {
    /// The armour's first line.
    public static let beginLine = "-----BEGIN SECURESTREAMS IDENTITY-----"
    /// The armour's last line.
    public static let endLine = "-----END SECURESTREAMS IDENTITY-----"
    /// The only format version this build reads and writes.
    public static let version = "1"
    /// The only key type of version 1.
    public static let keyType = "ed25519"

    /// The key file text of `identity`, ending in a newline.
    public static func encode(_ identity: HostIdentity) -> String {
        """
        \(beginLine)
        version: \(version)
        type: \(keyType)
        eid: \(identity.endpointID)
        seed: \(Hex.encode(identity.signingKey.seed))
        \(endLine)

        """
    }

    /// True when `text` has the armour's first line, so it is meant to be a
    /// SecureStreams key file (whether or not it is a valid one).
    public static func looksLikeKeyFile(_ text: some StringProtocol) -> Bool {
        text.contains(beginLine)
    }

    /// Parses key file text into the identity it holds.
    /// - Throws: ``KeyFileError`` naming the 1-based line and what was
    ///   expected there. Errors never quote the seed.
    public static func decode(_ text: some StringProtocol) throws(KeyFileError) -> HostIdentity {
        var lines = Lines(text)
        try lines.skipComments(expecting: "the line `\(beginLine)`")
        try lines.expect(beginLine)
        let version = try lines.field("version", placeholder: Self.version)
        guard version == Self.version else {
            throw .unsupportedVersion(line: lines.number, version: printable(version, limit: 16))
        }
        let type = try lines.field("type", placeholder: keyType)
        guard type == keyType else {
            throw .unsupportedType(line: lines.number, type: printable(type, limit: 32))
        }
        let eidText = try lines.field("eid", placeholder: "<endpoint id>")
        let eidLine = lines.number
        let endpointID: EndpointID
        do {
            endpointID = try EndpointID(parsing: eidText)
        } catch {
            throw .invalidEID(line: eidLine, error)
        }
        let identity = try decodeSeed(try lines.field("seed", placeholder: "<64 hex digits>"), line: lines.number)
        try lines.expect(endLine)
        if lines.hasContentBeforeEnd() {
            throw .trailingContent(line: lines.number)
        }
        guard identity.endpointID == endpointID else {
            throw .eidMismatch(line: eidLine)
        }
        return identity
    }

    /// Decodes the seed field into an identity, wiping the temporary copy.
    private static func decodeSeed(_ hex: Substring, line: Int) throws(KeyFileError) -> HostIdentity {
        guard hex.utf8.count == 2 * Ed25519.seedCount, var seed = Hex.decode(hex) else {
            throw .invalidSeed(line: line)
        }
        defer { seed.withUnsafeMutableBytes { secureZero($0) } }
        do {
            return try HostIdentity(seed: seed)
        } catch {
            throw .invalidSeed(line: line)  // unreachable: the length is checked above
        }
    }

    /// `value` when it is short printable ASCII, else `nil`: error messages
    /// quote what they found only when that cannot be a pasted secret or noise.
    private static func printable(_ value: Substring, limit: Int) -> String? {
        guard value.utf8.count <= limit,
              value.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7e })
        else { return nil }
        return String(value)
    }
}

/// A cursor over the lines of a key file that knows its 1-based line number.
private struct Lines {
    private let lines: [Substring]
    private var index = 0
    /// The number of the line most recently returned by ``next()`` (or of the
    /// line after the last one, at the end).
    private(set) var number = 0

    init(_ text: some StringProtocol) {
        // "\r\n" is one Character, so it is a separator of its own.
        var lines = Substring(text).split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        for i in lines.indices {  // CRLF line ends and trailing blanks are not content
            while let last = lines[i].last, last.isWhitespace { lines[i] = lines[i].dropLast() }
        }
        if lines.last?.isEmpty == true { lines.removeLast() }  // the final newline ends a line
        self.lines = lines
    }

    /// The next line, or `nil` at the end of the text.
    mutating func next() -> Substring? {
        number = index + 1
        guard index < lines.count else { return nil }
        defer { index += 1 }
        return lines[index]
    }

    /// Moves past blank and comment lines.
    /// - Throws: ``KeyFileError`` (unexpected end) when nothing else follows.
    mutating func skipComments(expecting what: String) throws(KeyFileError) {
        while index < lines.count, Self.isBlankOrComment(lines[index]) { index += 1 }
        if index == lines.count { throw .unexpectedEnd(line: index + 1, expected: what) }
    }

    /// Reads a line that must be exactly `expected`.
    mutating func expect(_ expected: String) throws(KeyFileError) {
        let what = "the line `\(expected)`"
        guard let line = next() else { throw .unexpectedEnd(line: number, expected: what) }
        guard line == expected else { throw .expected(line: number, what: what) }
    }

    /// Reads the line `name: value` and returns `value` (without the blanks
    /// around it).
    mutating func field(_ name: String, placeholder: String) throws(KeyFileError) -> Substring {
        let what = "`\(name): \(placeholder)`"
        guard let line = next() else { throw .unexpectedEnd(line: number, expected: what) }
        let prefix = name + ":"
        guard line.hasPrefix(prefix) else { throw .expected(line: number, what: what) }
        return line.dropFirst(prefix.count).drop(while: { $0 == " " || $0 == "\t" })
    }

    /// True when a line other than blanks and comments follows; ``number``
    /// then names it.
    mutating func hasContentBeforeEnd() -> Bool {
        while let line = next() {
            if !Self.isBlankOrComment(line) { return true }
        }
        return false
    }

    private static func isBlankOrComment(_ line: Substring) -> Bool {
        let content = line.drop(while: { $0 == " " || $0 == "\t" })
        return content.isEmpty || content.first == "#"
    }
}
