// Text that came from a peer (file names, reasons, error messages) or from
// an argument is untrusted: it reaches a terminal or a log only escaped.

/// `text` with every character that could move the cursor, change colours,
/// start a new line or reorder what follows written as `\u{XX}`: C0 and C1
/// controls (ESC, CR, LF, TAB …), DEL, the bidirectional marks, embeddings,
/// overrides and isolates (U+061C, U+200E, U+200F, U+202A–U+202E,
/// U+2066–U+2069) and the line and paragraph separators (U+2028, U+2029).
func escaped(_ text: some StringProtocol) -> String {
    var result = ""
    result.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        if isUnsafeForDisplay(scalar) {
            result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        } else {
            result.unicodeScalars.append(scalar)
        }
    }
    return result
}

/// Whether `scalar` must not reach a terminal raw (see ``escaped(_:)``).
func isUnsafeForDisplay(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x00...0x1F, 0x7F...0x9F: true
    case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
    case 0x2028, 0x2029: true
    default: false
    }
}
