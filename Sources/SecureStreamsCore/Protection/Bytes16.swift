/// Sixteen bytes held inline: handshake MACs and cookies (PROTOCOL.md §3.1,
/// §4.2). A value type with no heap storage. Equality is constant-time,
/// because these values are compared against attacker-supplied bytes.
struct Bytes16: Sendable, ContiguousBytes, Equatable, CustomStringConvertible {
    static let count = 16
    private var storage: (UInt64, UInt64) = (0, 0)

    /// All zero.
    init() {}

    /// Copies exactly 16 bytes; `nil` for any other length.
    init?(_ bytes: some ContiguousBytes) {
        let ok: Bool = bytes.withUnsafeBytes { source in
            guard source.count == Self.count else { return false }
            Swift.withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: source) }
            return true
        }
        if !ok { return nil }
    }

    /// Lets `body` write the 16 bytes.
    init(initializingWith body: (UnsafeMutableRawBufferPointer) -> Void) {
        Swift.withUnsafeMutableBytes(of: &storage) { body($0) }
    }

    func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        var copy = storage
        return try Swift.withUnsafeBytes(of: &copy) { (buffer) throws(E) in try body(buffer) }
    }

    var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// True when all sixteen bytes are zero (an absent `mac2`).
    var isZero: Bool { storage.0 | storage.1 == 0 }

    /// Constant-time: the comparison takes the same time wherever the values differ.
    static func == (lhs: Bytes16, rhs: Bytes16) -> Bool {
        (lhs.storage.0 ^ rhs.storage.0) | (lhs.storage.1 ^ rhs.storage.1) == 0
    }

    var description: String { Hex.encode(self) }
}
