/// A cursor over borrowed bytes: the receive side of every codec in `Wire/`.
///
/// A `WireReader` never copies and never owns: it holds an
/// `UnsafeRawBufferPointer` to a datagram (or a decrypted payload) that the
/// caller keeps alive, typically for the duration of a `withUnsafeBytes`
/// call. Slices it hands out (``readBytes(count:)``) point into the same
/// memory and are valid exactly as long as it is. Nothing read through a
/// reader may escape that scope ("decode in place").
///
/// Every read checks what remains first and returns `nil` on short input,
/// leaving the cursor where it was; nothing here traps on peer-controlled
/// bytes. A composite read that fails half-way rewinds with ``mark()`` and
/// ``reset(to:)``, or more simply ``withRewindOnNil(_:)``.
///
/// Integers are big-endian and `varint` is the QUIC variable-length integer
/// (PROTOCOL.md, introduction; RFC 9000 §16). Decoders accept any valid
/// length, including non-shortest forms, as the spec requires.
package struct WireReader {
    /// All the bytes this reader walks; `offset` indexes into it.
    package let bytes: UnsafeRawBufferPointer
    /// How many bytes have been consumed.
    package private(set) var offset: Int

    /// A saved cursor position, to rewind a composite read.
    package struct Mark: Sendable, Equatable {
        fileprivate let offset: Int
    }

    /// A reader at the start of `bytes`.
    package init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.offset = 0
    }

    /// Bytes left to read.
    @inline(__always)
    package var remaining: Int { bytes.count - offset }

    /// True when every byte has been consumed.
    @inline(__always)
    package var isAtEnd: Bool { offset >= bytes.count }

    // MARK: Fixed-size integers

    /// The next byte without consuming it; `nil` at the end.
    @inline(__always)
    package func peekUInt8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        return bytes[offset]
    }

    @inline(__always)
    package mutating func readUInt8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    @inline(__always)
    package mutating func readUInt16() -> UInt16? { readBigEndian(UInt16.self) }

    @inline(__always)
    package mutating func readUInt32() -> UInt32? { readBigEndian(UInt32.self) }

    @inline(__always)
    package mutating func readUInt64() -> UInt64? { readBigEndian(UInt64.self) }

    // MARK: Variable-length integers

    /// A QUIC varint (RFC 9000 §16): the two high bits of the first byte give
    /// the length (1, 2, 4 or 8 bytes). Any length is accepted for any value.
    /// - Returns: the value (always ≤ 2^62 − 1), or `nil` if the input ends
    ///   inside the integer (the cursor does not move).
    @inline(__always)
    package mutating func readVarInt() -> UInt64? {
        guard let first = peekUInt8() else { return nil }
        let length = 1 << Int(first >> 6)
        guard remaining >= length else { return nil }
        var value = UInt64(first & 0x3f)
        for index in 1..<length {
            value = value << 8 | UInt64(bytes[offset + index])
        }
        offset += length
        return value
    }

    // MARK: Byte runs

    /// The next `count` bytes as a slice of the same memory (no copy).
    /// - Returns: `nil` if fewer than `count` bytes remain or `count` is negative.
    @inline(__always)
    package mutating func readBytes(count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, count <= remaining else { return nil }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }

    /// Like ``readBytes(count:)`` for a length that came off the wire as a varint.
    @inline(__always)
    package mutating func readBytes(count: UInt64) -> UnsafeRawBufferPointer? {
        guard count <= UInt64(remaining) else { return nil }
        return readBytes(count: Int(count))
    }

    /// A varint length followed by that many bytes; rewinds on short input.
    package mutating func readLengthPrefixedBytes() -> UnsafeRawBufferPointer? {
        withRewindOnNil { reader in
            guard let count = reader.readVarInt() else { return nil }
            return reader.readBytes(count: count)
        }
    }

    /// Everything that is left (possibly empty); the reader is then at its end.
    package mutating func readRemainingBytes() -> UnsafeRawBufferPointer {
        defer { offset = bytes.count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<bytes.count])
    }

    /// Skips `count` bytes. - Returns: false (and does not move) if fewer remain.
    package mutating func skip(count: Int) -> Bool {
        guard count >= 0, count <= remaining else { return false }
        offset += count
        return true
    }

    /// An 8-byte connection id (PROTOCOL.md §2).
    @inline(__always)
    package mutating func readConnectionID() -> ConnectionID? {
        readUInt64().map(ConnectionID.init(rawValue:))
    }

    // MARK: Rewinding

    /// The current position, to come back to with ``reset(to:)``.
    package func mark() -> Mark { Mark(offset: offset) }

    /// Moves the cursor back (or forward) to a position saved by ``mark()``
    /// on this reader.
    package mutating func reset(to mark: Mark) {
        precondition(mark.offset >= 0 && mark.offset <= bytes.count, "mark from another reader")
        offset = mark.offset
    }

    /// Runs a composite read; if it returns `nil`, the cursor goes back to
    /// where it was, so a caller can try something else or report the error
    /// at a well-defined position.
    @inline(__always)
    package mutating func withRewindOnNil<T>(_ body: (inout WireReader) -> T?) -> T? {
        let start = offset
        if let value = body(&self) { return value }
        offset = start
        return nil
    }

    // MARK: Private helpers

    @inline(__always)
    private mutating func readBigEndian<T: FixedWidthInteger>(_: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { return nil }
        defer { offset += size }
        return T(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
