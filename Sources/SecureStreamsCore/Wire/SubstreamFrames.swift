/// Zig-zag encoding of signed stream priorities (PROTOCOL.md §6, STREAM_OPEN
/// and PRIORITY): 0, −1, 1, −2, 2, … map to 0, 1, 2, 3, 4, …, so small
/// priorities of either sign take one varint byte.
package enum ZigZag {
    /// Priorities whose zig-zag form fits a varint (< 2^62): −2^61 … 2^61 − 1.
    package static let priorityRange: ClosedRange<Int64> = -(1 << 61)...((1 << 61) - 1)

    @inline(__always)
    package static func encode(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    @inline(__always)
    package static func decode(_ value: UInt64) -> Int64 {
        Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
    }
}

/// STREAM_OPEN (type `0x20`, PROTOCOL.md §6, *roadmap: substreams*): opens a
/// stream explicitly, with a parent, a priority and a service tag; "stream
/// id, parent stream id + 1 (0 = top level), priority (varint, zig-zag
/// signed), service tag length + bytes". ``serviceTag`` is a slice of the payload.
package struct StreamOpenFrame: WireFrame, Equatable {
    package var streamID: StreamID
    /// The parent stream, or `nil` for a top-level stream.
    package var parent: StreamID?
    /// Higher is more urgent; within ``ZigZag/priorityRange``.
    package var priority: Int64
    /// Which service the stream is for, as the application names it.
    package var serviceTag: UnsafeRawBufferPointer

    /// - Precondition: `priority` is within ``ZigZag/priorityRange`` and
    ///   `parent` below 2^62 − 1 (its wire form is the id plus one).
    package init(streamID: StreamID, parent: StreamID?, priority: Int64, serviceTag: UnsafeRawBufferPointer) {
        precondition(ZigZag.priorityRange.contains(priority), "priority out of the varint range")
        precondition(parent.map { $0.rawValue < VarInt.maxValue } ?? true, "parent stream id out of range")
        self.streamID = streamID
        self.parent = parent
        self.priority = priority
        self.serviceTag = serviceTag
    }

    private var encodedParent: UInt64 { parent.map { $0.rawValue + 1 } ?? 0 }

    package var encodedFrameType: UInt64 { FrameKind.streamOpen.frameType }

    package var fieldsEncodedCount: Int {
        VarInt.encodedCount(streamID.rawValue) + VarInt.encodedCount(encodedParent)
            + VarInt.encodedCount(ZigZag.encode(priority)) + VarInt.encodedCount(UInt64(serviceTag.count))
            + serviceTag.count
    }

    package func encodeFields(into writer: inout WireWriter) {
        writer.writeVarInt(streamID.rawValue)
        writer.writeVarInt(encodedParent)
        writer.writeVarInt(ZigZag.encode(priority))
        writer.writeVarInt(UInt64(serviceTag.count))
        writer.writeBytes(serviceTag)
    }

    package static func decodeFields(from reader: inout WireReader, frameType: UInt64) throws(PeerError) -> Self {
        guard let id = reader.readVarInt(), let parentPlusOne = reader.readVarInt(),
              let priority = reader.readVarInt(), let tag = reader.readLengthPrefixedBytes()
        else { throw .truncatedFrame(frameType) }
        return Self(
            streamID: StreamID(id), parent: parentPlusOne == 0 ? nil : StreamID(parentPlusOne - 1),
            priority: ZigZag.decode(priority), serviceTag: tag)
    }

    package static func == (a: Self, b: Self) -> Bool {
        a.streamID == b.streamID && a.parent == b.parent && a.priority == b.priority
            && bytesEqual(a.serviceTag, b.serviceTag)
    }
}

/// PRIORITY (type `0x21`, PROTOCOL.md §6, *roadmap*): changes a stream's
/// priority; "stream id, priority (zig-zag)".
package struct PriorityFrame: WireFrame, Equatable, Sendable {
    package var streamID: StreamID
    /// Higher is more urgent; within ``ZigZag/priorityRange``.
    package var priority: Int64

    /// - Precondition: `priority` is within ``ZigZag/priorityRange``.
    package init(streamID: StreamID, priority: Int64) {
        precondition(ZigZag.priorityRange.contains(priority), "priority out of the varint range")
        self.streamID = streamID
        self.priority = priority
    }

    package var encodedFrameType: UInt64 { FrameKind.priority.frameType }

    package var fieldsEncodedCount: Int {
        VarInt.encodedCount(streamID.rawValue) + VarInt.encodedCount(ZigZag.encode(priority))
    }

    package func encodeFields(into writer: inout WireWriter) {
        writer.writeVarInt(streamID.rawValue)
        writer.writeVarInt(ZigZag.encode(priority))
    }

    package static func decodeFields(from reader: inout WireReader, frameType: UInt64) throws(PeerError) -> Self {
        guard let id = reader.readVarInt(), let priority = reader.readVarInt() else { throw .truncatedFrame(frameType) }
        return Self(streamID: StreamID(id), priority: ZigZag.decode(priority))
    }
}

/// LISTEN (type `0x23`, PROTOCOL.md §6, *roadmap*): whether the sender accepts
/// substreams of a stream; "parent stream id, 0/1 (stop/start accepting
/// substreams)". Any other value than 0 or 1 is a `FRAME_ENCODING_ERROR`.
package struct ListenFrame: WireFrame, Equatable, Sendable {
    package var parent: StreamID
    package var isAccepting: Bool

    package init(parent: StreamID, isAccepting: Bool) {
        self.parent = parent
        self.isAccepting = isAccepting
    }

    package var encodedFrameType: UInt64 { FrameKind.listen.frameType }

    package var fieldsEncodedCount: Int { VarInt.encodedCount(parent.rawValue) + 1 }

    package func encodeFields(into writer: inout WireWriter) {
        writer.writeVarInt(parent.rawValue)
        writer.writeVarInt(isAccepting ? 1 : 0)
    }

    package static func decodeFields(from reader: inout WireReader, frameType: UInt64) throws(PeerError) -> Self {
        guard let id = reader.readVarInt(), let flag = reader.readVarInt() else { throw .truncatedFrame(frameType) }
        guard flag <= 1 else { throw .frameEncoding(frameType, "LISTEN flag is neither 0 nor 1") }
        return Self(parent: StreamID(id), isAccepting: flag == 1)
    }
}
