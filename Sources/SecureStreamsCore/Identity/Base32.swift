/// Base32 with the RFC 4648 section 6 alphabet (`a`–`z`, `2`–`7`), written
/// in lowercase and without padding: the text form of endpoint ids.
///
/// Five bytes make eight characters. The encoder writes lowercase; the
/// decoder accepts either case but is otherwise strict: no padding, no
/// whitespace, no length that no byte string encodes to, and the unused low
/// bits of the last character must be zero, so every byte string has exactly
/// one accepted text form.
package enum Base32 {
    /// The RFC 4648 alphabet in lowercase, indexed by 5-bit value.
    package static let alphabet: [UInt8] = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    /// Encodes `bytes` as lowercase, unpadded base32.
    package static func encode(_ bytes: some ContiguousBytes) -> String {
        bytes.withUnsafeBytes { raw in
            var out: [UInt8] = []
            out.reserveCapacity(encodedCount(forByteCount: raw.count))
            var buffer: UInt32 = 0  // at most 12 pending bits
            var bitCount = 0
            for byte in raw {
                buffer = buffer << 8 | UInt32(byte)
                bitCount += 8
                while bitCount >= 5 {
                    bitCount -= 5
                    out.append(alphabet[Int(buffer >> UInt32(bitCount) & 0x1f)])
                }
                buffer &= (1 << UInt32(bitCount)) - 1
            }
            if bitCount > 0 {
                out.append(alphabet[Int(buffer << UInt32(5 - bitCount) & 0x1f)])
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Decodes unpadded base32 in either case.
    /// - Returns: the bytes, or `nil` for a character outside the alphabet,
    ///   an impossible length (1, 3 or 6 modulo 8) or non-zero trailing bits.
    package static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let characters = Array(text.utf8)
        guard isPossibleEncodedCount(characters.count) else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(characters.count * 5 / 8)
        var buffer: UInt32 = 0  // at most 12 pending bits
        var bitCount = 0
        for character in characters {
            guard let value = value(of: character) else { return nil }
            buffer = buffer << 5 | UInt32(value)
            bitCount += 5
            if bitCount >= 8 {
                bitCount -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bitCount)))
                buffer &= (1 << UInt32(bitCount)) - 1
            }
        }
        guard buffer == 0 else { return nil }  // non-canonical trailing bits
        return out
    }

    /// The 5-bit value of one ASCII character of either case, or `nil` when it
    /// is not in the alphabet (notably `0`, `1`, `8`, `9` and padding `=`).
    @inline(__always)
    package static func value(of character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "a")...UInt8(ascii: "z"): character - UInt8(ascii: "a")
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): character - UInt8(ascii: "A")
        case UInt8(ascii: "2")...UInt8(ascii: "7"): character - UInt8(ascii: "2") + 26
        default: nil
        }
    }

    /// The number of characters that encode `byteCount` bytes: ⌈8n/5⌉.
    package static func encodedCount(forByteCount byteCount: Int) -> Int {
        (byteCount * 8 + 4) / 5
    }

    /// Unpadded base32 never ends with a group of 1, 3 or 6 characters: those
    /// would carry fewer bits than a whole byte beyond the previous one.
    private static func isPossibleEncodedCount(_ count: Int) -> Bool {
        switch count % 8 {
        case 1, 3, 6: false
        default: true
        }
    }
}
