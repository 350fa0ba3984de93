/// A cursor over bytes in the SSH wire encoding (RFC 4251 section 5):
/// `uint32` big-endian and `string` (a `uint32` length, then that many bytes).
///
/// Every read checks the remaining length first and returns `nil` on short
/// input, consuming nothing; it never traps and never allocates: strings come
/// back as slices of the input, so a length field can never size an
/// allocation. ``OpenSSHKey`` parses untrusted files with it.
struct SSHWireReader {
    /// The bytes not read yet.
    private(set) var remaining: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) {
        self.remaining = bytes
    }

    init(_ bytes: [UInt8]) {
        self.remaining = bytes[...]
    }

    /// True when every byte has been read.
    var isAtEnd: Bool { remaining.isEmpty }

    /// The next `count` bytes, or `nil` (nothing consumed) when fewer remain.
    mutating func readBytes(count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, count <= remaining.count else { return nil }
        let bytes = remaining.prefix(count)
        remaining = remaining.dropFirst(count)
        return bytes
    }

    /// A big-endian `uint32`, or `nil` when fewer than four bytes remain.
    mutating func readUInt32() -> UInt32? {
        guard let bytes = readBytes(count: 4) else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// A `string`: its length, then its bytes. `nil` (nothing consumed) when
    /// the length field or the bytes it announces run past the end.
    mutating func readString() -> ArraySlice<UInt8>? {
        let saved = remaining
        // The length is compared with what remains before anything is read.
        guard let length = readUInt32(), let count = Int(exactly: length), let bytes = readBytes(count: count) else {
            remaining = saved
            return nil
        }
        return bytes
    }
}
