/// Thirty-two bytes held inline: public keys and digests that are not secret.
///
/// A value type with no heap storage, `Hashable` by content, so it can key
/// tables without allocating. Secret 32-byte values use ``SecretBytes``.
public struct Bytes32: Hashable, Sendable, ContiguousBytes {
    public static let count = 32
    private var storage: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// All zero.
    public init() {}

    /// Copies exactly 32 bytes; `nil` for any other length.
    public init?(_ bytes: some ContiguousBytes) {
        let ok: Bool = bytes.withUnsafeBytes { source in
            guard source.count == Self.count else { return false }
            Swift.withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: source) }
            return true
        }
        if !ok { return nil }
    }

    /// Lets `body` write the 32 bytes.
    public init<E: Error>(initializingWith body: (UnsafeMutableRawBufferPointer) throws(E) -> Void) throws(E) {
        try Swift.withUnsafeMutableBytes(of: &storage) { (buffer) throws(E) in try body(buffer) }
    }

    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        var copy = storage
        return try Swift.withUnsafeBytes(of: &copy) { (buffer) throws(E) in try body(buffer) }
    }

    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    public static func == (lhs: Bytes32, rhs: Bytes32) -> Bool {
        lhs.storage.0 == rhs.storage.0 && lhs.storage.1 == rhs.storage.1
            && lhs.storage.2 == rhs.storage.2 && lhs.storage.3 == rhs.storage.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.0)
        hasher.combine(storage.1)
        hasher.combine(storage.2)
        hasher.combine(storage.3)
    }
}

extension Bytes32: CustomStringConvertible {
    public var description: String { Hex.encode(self) }
}

/// Lowercase hexadecimal, for logs, tests and text formats.
public enum Hex {
    public static func encode(_ bytes: some ContiguousBytes) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        return bytes.withUnsafeBytes { raw in
            var out: [UInt8] = []
            out.reserveCapacity(raw.count * 2)
            for byte in raw {
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0x0f)])
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Decodes hexadecimal (either case); `nil` on an odd length or a non-hex character.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
