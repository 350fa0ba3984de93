/// A cursor that writes into a buffer the caller owns: the send side of every
/// codec in `Wire/`.
///
/// The core never allocates an outgoing packet: the driver lends one buffer
/// ("write into the caller's preallocated buffer") and the
/// packet builder fills it through a `WireWriter`, then reports how many
/// bytes it wrote (``offset``). Before writing a frame the builder checks that
/// it fits, using the frame's `encodedCount`; the frame encoders check again
/// and write nothing when it does not.
///
/// Every write returns `false` and leaves the buffer and the cursor untouched
/// when there is not enough space, so a failed write never leaves half a
/// field behind. The results are discardable because the frame encoders check
/// the whole frame's size once, up front; code that writes fields one by one
/// without such a check must look at them.
package struct WireWriter {
    /// The whole buffer being filled.
    package let buffer: UnsafeMutableRawBufferPointer
    /// Bytes written so far, from the start of ``buffer``.
    package private(set) var offset: Int

    /// A writer at the start of `buffer`.
    package init(_ buffer: UnsafeMutableRawBufferPointer) {
        self.buffer = buffer
        self.offset = 0
    }

    /// Space left.
    @inline(__always)
    package var remaining: Int { buffer.count - offset }

    /// The bytes written so far, as a read-only view of the same memory.
    package var writtenBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[0..<offset])
    }

    // MARK: Fixed-size integers

    @discardableResult @inline(__always)
    package mutating func writeUInt8(_ value: UInt8) -> Bool {
        guard remaining >= 1 else { return false }
        buffer[offset] = value
        offset += 1
        return true
    }

    @discardableResult @inline(__always)
    package mutating func writeUInt16(_ value: UInt16) -> Bool { writeBigEndian(value) }

    @discardableResult @inline(__always)
    package mutating func writeUInt32(_ value: UInt32) -> Bool { writeBigEndian(value) }

    @discardableResult @inline(__always)
    package mutating func writeUInt64(_ value: UInt64) -> Bool { writeBigEndian(value) }

    // MARK: Variable-length integers

    /// Writes `value` as a QUIC varint in its shortest form
    /// (PROTOCOL.md: "Encoders write the shortest form").
    /// - Precondition: `value` ≤ 2^62 − 1 (``VarInt/maxValue``): a larger
    ///   value is a bug of the caller, never something the peer chose.
    @discardableResult @inline(__always)
    package mutating func writeVarInt(_ value: UInt64) -> Bool {
        writeVarInt(value, byteCount: VarInt.encodedCount(value))
    }

    /// Writes `value` as a varint of exactly `byteCount` bytes (1, 2, 4 or 8),
    /// which may be longer than needed: for a length field reserved before the
    /// length is known, and for tests of non-shortest decoding.
    /// - Precondition: `byteCount` is 1, 2, 4 or 8 and `value` fits in it.
    @discardableResult
    package mutating func writeVarInt(_ value: UInt64, byteCount: Int) -> Bool {
        let prefix: UInt64
        switch byteCount {
        case 1: prefix = 0
        case 2: prefix = 1
        case 4: prefix = 2
        case 8: prefix = 3
        default: preconditionFailure("a varint is 1, 2, 4 or 8 bytes long")
        }
        precondition(value < UInt64(1) << (8 * byteCount - 2), "varint value does not fit in its length")
        guard remaining >= byteCount else { return false }
        let encoded = value | prefix << (8 * byteCount - 2)
        for index in 0..<byteCount {
            buffer[offset + index] = UInt8(truncatingIfNeeded: encoded >> (8 * (byteCount - 1 - index)))
        }
        offset += byteCount
        return true
    }

    // MARK: Byte runs

    /// Copies `bytes` in.
    @discardableResult @inline(__always)
    package mutating func writeBytes(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard remaining >= bytes.count else { return false }
        if bytes.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(offset + bytes.count)]).copyMemory(from: bytes)
        }
        offset += bytes.count
        return true
    }

    /// Copies any contiguous bytes in (arrays, ``Bytes16``, ``Bytes32``, …).
    @discardableResult
    package mutating func writeBytes(_ bytes: some ContiguousBytes) -> Bool {
        bytes.withUnsafeBytes { raw in writeBytes(raw) }
    }

    /// Writes `count` zero bytes (PADDING, placeholder MACs).
    @discardableResult
    /// Advances past `count` bytes and returns them for the caller to fill
    /// (stream data is copied straight from the send buffer this way, with no
    /// intermediate copy); `nil`, advancing nothing, when they do not fit.
    package mutating func reserve(_ count: Int) -> UnsafeMutableRawBufferPointer? {
        guard count >= 0, count <= remaining else { return nil }
        let region = UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
        offset += count
        return region
    }

    package mutating func writeZeros(count: Int) -> Bool {
        precondition(count >= 0, "negative byte count")
        guard remaining >= count else { return false }
        if count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
                .initializeMemory(as: UInt8.self, repeating: 0)
        }
        offset += count
        return true
    }

    /// An 8-byte connection id (PROTOCOL.md §2), big-endian.
    @discardableResult @inline(__always)
    package mutating func writeConnectionID(_ id: ConnectionID) -> Bool { writeUInt64(id.rawValue) }

    // MARK: Private helpers

    @inline(__always)
    private mutating func writeBigEndian<T: FixedWidthInteger>(_ value: T) -> Bool {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { return false }
        buffer.storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
        offset += size
        return true
    }
}
