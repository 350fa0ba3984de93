/// Base64 with the standard RFC 4648 section 4 alphabet and `=` padding: the
/// body of PEM-style armour (OpenSSH private keys) and of `.pub` lines.
///
/// The decoder skips ASCII whitespace anywhere (PEM bodies are wrapped at 70
/// columns), and is otherwise strict: padding is required and only at the
/// end, and the unused bits before the padding must be zero, so a byte string
/// has one accepted encoding (up to whitespace).
package enum Base64 {
    private static let alphabet: [UInt8] =
        Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let pad = UInt8(ascii: "=")

    /// Encodes `bytes` as one line of padded base64.
    package static func encode(_ bytes: some ContiguousBytes) -> String {
        bytes.withUnsafeBytes { raw in
            var out: [UInt8] = []
            out.reserveCapacity((raw.count + 2) / 3 * 4)
            var index = 0
            while index < raw.count {
                let available = min(3, raw.count - index)
                var group: UInt32 = 0
                for offset in 0..<3 {
                    group <<= 8
                    if offset < available { group |= UInt32(raw[index + offset]) }
                }
                for position in 0..<4 {
                    // `available` bytes fill `available + 1` characters; the rest is padding.
                    if position <= available {
                        out.append(alphabet[Int(group >> UInt32(18 - 6 * position) & 0x3f)])
                    } else {
                        out.append(pad)
                    }
                }
                index += available
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Decodes padded base64, ignoring ASCII whitespace.
    /// - Returns: the bytes, or `nil` for a character outside the alphabet, a
    ///   length (without whitespace) that is not a multiple of four, padding
    ///   anywhere but the end, or non-zero bits before the padding.
    package static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count / 4 * 3)
        var group: UInt32 = 0  // up to four 6-bit values
        var groupCount = 0  // characters in the current group of four
        var padCount = 0
        var isFinished = false  // a padded group ends the text
        for character in text.utf8 {
            if isWhitespace(character) { continue }
            guard !isFinished else { return nil }
            if character == pad {
                padCount += 1
                group <<= 6
            } else {
                guard padCount == 0, let value = value(of: character) else { return nil }
                group = group << 6 | UInt32(value)
            }
            groupCount += 1
            guard groupCount == 4 else { continue }
            guard padCount <= 2 else { return nil }
            // Each `=` leaves one byte out; the bits that byte would have used must be zero.
            let unusedMask: UInt32 = (1 << UInt32(8 * padCount)) - 1
            guard group & unusedMask == 0 else { return nil }
            for index in 0..<(3 - padCount) {
                out.append(UInt8(truncatingIfNeeded: group >> UInt32(16 - 8 * index)))
            }
            isFinished = padCount > 0
            groupCount = 0
            group = 0
        }
        guard groupCount == 0 else { return nil }
        return out
    }

    @inline(__always)
    private static func value(of character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): character - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): character - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }

    @inline(__always)
    private static func isWhitespace(_ character: UInt8) -> Bool {
        character == 0x20 || character == 0x09 || character == 0x0a || character == 0x0d
    }
}
