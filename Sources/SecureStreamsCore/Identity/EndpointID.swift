/// An endpoint id (EID): the name of a host, which is its Ed25519 public key.
///
/// An EID is self-certifying: whoever knows it knows the host's public key,
/// so a handshake with the host proves that the peer holds the matching
/// private key, with no certificate authority in between. Its Noise static
/// key is the X25519 conversion of the Ed25519 key (``noiseStaticKey``).
///
/// ## Text form
///
/// 56 characters of lowercase, unpadded RFC 4648 base32 encoding 35 bytes:
///
///     eid      = base32(publicKey ‖ checksum)          32 + 3 bytes = 280 bits = 56 characters
///     checksum = BLAKE2b-256("SecureStreams EID v1" ‖ publicKey)[0..<3]
///
/// 280 bits are exactly 56 base32 characters, so no character carries
/// unused bits: every character change changes the decoded bytes. The 24-bit
/// checksum catches a mistyped character with probability 1 − 2⁻²⁴, and a
/// key part that survives it must still be a valid curve point.
/// ``init(parsing:)`` tells apart a wrong length, a character outside the
/// alphabet (with its position), a checksum mismatch (a typo) and a key that
/// is not a usable Ed25519 point. `docs/IDENTITY.md` has a worked example.
///
/// ## Invariant
///
/// Every `EndpointID` holds a public key that converts to X25519 (on the
/// curve, in the prime-order subgroup, not of small order), so
/// ``noiseStaticKey`` never fails.
///
/// ## One EID per key
///
/// Equality and hashing use ``noiseStaticKey``, the key the handshake
/// authenticates, not the Ed25519 bytes: the Ed25519 keys `A` and `−A`
/// (the same point with the sign bit flipped) convert to the same X25519 key,
/// so one host could otherwise present two EIDs and slip past a deny-list or
/// a per-peer limit. Their text forms differ; as values they are one EID
/// (PROTOCOL.md §5.7).
public struct EndpointID: Hashable, Sendable {
    /// The host's Ed25519 public key.
    public let publicKey: Ed25519.PublicKey
    /// The host's Noise static public key: the X25519 conversion of
    /// ``publicKey``, computed once when the id is made.
    public let noiseStaticKey: X25519.PublicKey

    /// The number of characters of the text form.
    public static let textCount = 56
    /// The number of checksum bytes after the key.
    static let checksumCount = 3
    /// The domain label hashed before the key (version 1 of the text form).
    static let checksumLabel: [UInt8] = Array("SecureStreams EID v1".utf8)

    /// The EID of `publicKey`.
    /// - Throws: ``CryptoError/invalidPublicKey`` when the key is not a valid
    ///   Ed25519 point that converts to X25519 (an attacker can send such
    ///   bytes; a key made from a seed is always valid).
    public init(publicKey: Ed25519.PublicKey) throws(CryptoError) {
        self.publicKey = publicKey
        self.noiseStaticKey = try publicKey.x25519PublicKey()
    }

    /// An EID whose conversion the caller has already done (``HostIdentity``
    /// takes the static key from its private key).
    init(publicKey: Ed25519.PublicKey, noiseStaticKey: X25519.PublicKey) {
        self.publicKey = publicKey
        self.noiseStaticKey = noiseStaticKey
    }

    /// Parses the text form, in either case, ignoring surrounding whitespace.
    /// - Throws: the first problem found, in this order: wrong length, a
    ///   character outside the alphabet, a checksum mismatch, a key that is
    ///   not a valid point. See ``EIDParseError``.
    public init(parsing text: some StringProtocol) throws(EIDParseError) {
        let trimmed = Self.trimmingWhitespace(text)
        let characters = Array(trimmed)
        guard characters.count == Self.textCount else {
            throw .wrongLength(expected: Self.textCount, actual: characters.count)
        }
        for (index, character) in characters.enumerated() {
            guard let ascii = character.asciiValue, Base32.value(of: ascii) != nil else {
                throw .invalidCharacter(character, position: index + 1)
            }
        }
        // 56 alphabet characters are 280 bits, exactly 35 bytes: decoding cannot fail.
        guard let decoded = Base32.decode(trimmed), decoded.count == Ed25519.publicKeyCount + Self.checksumCount,
              let keyBytes = Bytes32(decoded[0..<Ed25519.publicKeyCount])
        else {
            preconditionFailure("56 base32 characters must decode to 35 bytes")
        }
        let key = Ed25519.PublicKey(keyBytes)
        guard Self.checksum(of: key) == Array(decoded[Ed25519.publicKeyCount...]) else {
            throw .checksumMismatch
        }
        do {
            try self.init(publicKey: key)
        } catch {
            throw .invalidKey
        }
    }

    /// The first eight characters and an ellipsis, for logs and tables where
    /// the full id does not fit. Not unique: never parse it or compare by it.
    public var abbreviated: String {
        String(description.prefix(8)) + "…"
    }

    /// The three checksum bytes of `key`.
    static func checksum(of key: Ed25519.PublicKey) -> [UInt8] {
        var hasher = BLAKE2b(outputCount: 32)
        hasher.update(checksumLabel)
        hasher.update(key)
        return Array(hasher.finalize().prefix(checksumCount))
    }

    private static func trimmingWhitespace(_ text: some StringProtocol) -> Substring {
        let string = Substring(text)
        guard let first = string.firstIndex(where: { !$0.isWhitespace }),
              let last = string.lastIndex(where: { !$0.isWhitespace })
        else { return string[string.endIndex...] }
        return string[first...last]
    }
}

extension EndpointID {
    /// Same host: same Noise static key (see "One EID per key").
    public static func == (lhs: EndpointID, rhs: EndpointID) -> Bool {
        lhs.noiseStaticKey == rhs.noiseStaticKey
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(noiseStaticKey)
    }
}

extension EndpointID: CustomStringConvertible {
    /// The 56-character lowercase text form.
    public var description: String {
        var bytes = publicKey.bytes.bytes
        bytes.append(contentsOf: Self.checksum(of: publicKey))
        return Base32.encode(bytes)
    }
}

extension EndpointID: LosslessStringConvertible {
    /// Parses the text form; `nil` on any ``EIDParseError``. Use
    /// ``init(parsing:)`` to tell the user what is wrong.
    public init?(_ description: String) {
        do {
            try self.init(parsing: description)
        } catch {
            return nil
        }
    }
}
