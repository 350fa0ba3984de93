/// Sixteen bytes held inline: handshake MACs and cookies (PROTOCOL.md §3.1,
/// §4.2) and other 128-bit wire values.
///
/// Like ``Bytes32``, a value type with no heap storage, so
/// parsing a header that carries two MACs allocates nothing. Equality is
/// constant-time, because these values are compared against bytes an
/// attacker chose.
public struct Bytes16: Hashable, Sendable, ContiguousBytes, CustomStringConvertible {
    public static let count = 16
    private var storage: (UInt64, UInt64) = (0, 0)

    /// All zero: the `mac2` of an initiator that holds no cookie.
    public init() {}

    public static let zero = Bytes16()

    /// Exactly 16 bytes; `nil` otherwise.
    public init?(_ bytes: some ContiguousBytes) {
        let ok: Bool = bytes.withUnsafeBytes { source in
            guard source.count == Self.count else { return false }
            Swift.withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: source) }
            return true
        }
        if !ok { return nil }
    }

    /// Lets `body` write the 16 bytes.
    public init(initializingWith body: (UnsafeMutableRawBufferPointer) -> Void) {
        Swift.withUnsafeMutableBytes(of: &storage) { body($0) }
    }

    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        var copy = storage
        return try Swift.withUnsafeBytes(of: &copy) { (buffer) throws(E) in try body(buffer) }
    }

    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// True when all sixteen bytes are zero (an absent `mac2`).
    public var isZero: Bool { storage.0 | storage.1 == 0 }

    /// Constant-time: the comparison takes the same time wherever the values differ.
    public static func == (lhs: Bytes16, rhs: Bytes16) -> Bool {
        (lhs.storage.0 ^ rhs.storage.0) | (lhs.storage.1 ^ rhs.storage.1) == 0
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.0)
        hasher.combine(storage.1)
    }

    public var description: String { Hex.encode(self) }
}
