/// Why a string is not an endpoint id; thrown by ``EndpointID/init(parsing:)``.
///
/// The four cases follow the four checks of the version 1 text form and
/// cover every way a string can fail them, so the set is closed: a future
/// text form would get its own type.
public enum EIDParseError: Error, Equatable, Sendable {
    /// The text (without surrounding whitespace) does not have 56 characters.
    case wrongLength(expected: Int, actual: Int)
    /// A character outside the base32 alphabet (`a`–`z`, `2`–`7`, either
    /// case), at a 1-based position.
    case invalidCharacter(Character, position: Int)
    /// The checksum does not match the key: almost always a typo.
    case checksumMismatch
    /// The checksum matches but the key is not a usable Ed25519 point (not
    /// on the curve, of small order, or outside the prime-order subgroup).
    case invalidKey
}

extension EIDParseError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .wrongLength(let expected, let actual):
            "an endpoint id has \(expected) characters, got \(actual)"
        case .invalidCharacter(let character, let position):
            "invalid character \(Self.quoted(character)) at position \(position) of the endpoint id: "
                + "endpoint ids use the letters a–z and the digits 2–7" + Self.hint(for: character)
        case .checksumMismatch:
            "endpoint id checksum mismatch: the id has a typo"
        case .invalidKey:
            "the endpoint id's checksum is right but its key is not a valid Ed25519 public key"
        }
    }

    /// Suggests the letter that a digit outside the alphabet is usually
    /// mistaken for.
    private static func hint(for character: Character) -> String {
        switch character {
        case "0": " (did you mean the letter 'o'?)"
        case "1": " (did you mean the letter 'l' or 'i'?)"
        case "8": " (did you mean the letter 'b'?)"
        case "9": " (did you mean the letter 'g'?)"
        default: ""
        }
    }

    /// The character in quotes, or its code points when it is invisible.
    private static func quoted(_ character: Character) -> String {
        let visible = character.unicodeScalars.allSatisfy { scalar in
            !scalar.properties.isWhitespace && scalar.properties.generalCategory != .control
                && scalar.properties.generalCategory != .format
        }
        if visible { return "'\(character)'" }
        return character.unicodeScalars.map { "U+" + hex4($0.value) }.joined(separator: " ")
    }

    private static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
