/// A STREAM frame (types `0x10`–`0x1f`, PROTOCOL.md §6.2): a run of a
/// stream's bytes, decoded in place (``data`` is a slice of the payload).
///
/// The low four bits of the type are flags: `0x8` RECORD, `0x4` OFF, `0x2`
/// LEN, `0x1` FIN; then the stream id, the offset if OFF, the length if LEN,
/// and the data.
///
/// - "`OFF` absent means offset 0; `LEN` absent means the data runs to the end
///   of the packet." An encoder omits OFF for offset 0, and omits LEN only for
///   the last frame of a packet (``hasLengthField``).
/// - "`RECORD` says that the frame's last byte ends a record"; "`FIN` says the
///   frame's end is the stream's final size".
/// - "Limits: offset + length < 2^62": a frame that ends beyond is a
///   `FRAME_ENCODING_ERROR` (flow control and final size are the stream's
///   checks, not the codec's).
package struct StreamFrame: WireFrame, Equatable {
    package var streamID: StreamID
    /// Where `data` starts in the stream.
    package var offset: UInt64
    package var data: UnsafeRawBufferPointer
    /// FIN: `offset + data.count` is the stream's final size.
    package var isFin: Bool
    /// RECORD: the last byte of `data` ends a record.
    package var endsRecord: Bool
    /// Whether the frame carries LEN; without it the data runs to the end of
    /// the packet, so only the last frame of a packet may omit it.
    package var hasLengthField: Bool

    package init(
        streamID: StreamID, offset: UInt64, data: UnsafeRawBufferPointer, isFin: Bool = false,
        endsRecord: Bool = false, hasLengthField: Bool = true
    ) {
        self.streamID = streamID
        self.offset = offset
        self.data = data
        self.isFin = isFin
        self.endsRecord = endsRecord
        self.hasLengthField = hasLengthField
    }

    /// The stream offset just past the data.
    package var endOffset: UInt64 { offset + UInt64(data.count) }

    package static let recordFlag: UInt64 = 0x8
    package static let offsetFlag: UInt64 = 0x4
    package static let lengthFlag: UInt64 = 0x2
    package static let finFlag: UInt64 = 0x1
    /// Types `0x10`–`0x1f` are one-byte varints.
    private static let typeCount = 1

    // MARK: The send side

    /// Bytes before the data: type, stream id, offset and length fields.
    package static func headerCount(streamID: StreamID, offset: UInt64, dataCount: Int, hasLengthField: Bool) -> Int {
        typeCount + VarInt.encodedCount(streamID.rawValue) + (offset == 0 ? 0 : VarInt.encodedCount(offset))
            + (hasLengthField ? VarInt.encodedCount(UInt64(dataCount)) : 0)
    }

    /// Bytes ``encode(streamID:offset:data:isFin:endsRecord:hasLengthField:into:)`` writes.
    package static func encodedCount(streamID: StreamID, offset: UInt64, dataCount: Int, hasLengthField: Bool) -> Int {
        headerCount(streamID: streamID, offset: offset, dataCount: dataCount, hasLengthField: hasLengthField) + dataCount
    }

    /// The most data bytes a STREAM frame for `streamID` at `offset` can carry
    /// in `space` bytes, or `nil` if not even an empty frame fits.
    package static func maximumDataCount(
        streamID: StreamID, offset: UInt64, hasLengthField: Bool, fitting space: Int
    ) -> Int? {
        let fixed = typeCount + VarInt.encodedCount(streamID.rawValue) + (offset == 0 ? 0 : VarInt.encodedCount(offset))
        let available = space - fixed
        guard hasLengthField else { return available >= 0 ? available : nil }
        // The length field grows with the data (1 byte up to 63, 2 up to
        // 16,383, 4 up to 2^30 − 1): take the best of the four sizes, since
        // near a boundary the smaller field with capped data can carry more.
        let oneByte = min(available - 1, 63)
        let twoBytes = min(available - 2, 16_383)
        let fourBytes = min(available - 4, (1 << 30) - 1)
        let best = max(oneByte, twoBytes, fourBytes, available - 8)
        return best >= 0 ? best : nil
    }

    /// Writes a STREAM frame straight from the sender's buffers.
    /// - Precondition: `offset + data.count` < 2^62.
    /// - Returns: false, writing nothing, when the frame does not fit.
    package static func encode(
        streamID: StreamID, offset: UInt64, data: UnsafeRawBufferPointer, isFin: Bool, endsRecord: Bool,
        hasLengthField: Bool, into writer: inout WireWriter
    ) -> Bool {
        StreamFrame(
            streamID: streamID, offset: offset, data: data, isFin: isFin, endsRecord: endsRecord,
            hasLengthField: hasLengthField
        ).encode(into: &writer)
    }

    // MARK: WireFrame

    package var encodedFrameType: UInt64 {
        FrameKind.stream.frameType | (endsRecord ? Self.recordFlag : 0) | (offset != 0 ? Self.offsetFlag : 0)
            | (hasLengthField ? Self.lengthFlag : 0) | (isFin ? Self.finFlag : 0)
    }

    package var fieldsEncodedCount: Int {
        Self.encodedCount(streamID: streamID, offset: offset, dataCount: data.count, hasLengthField: hasLengthField) - Self.typeCount
    }

    package func encodeFields(into writer: inout WireWriter) {
        precondition(UInt64(data.count) <= VarInt.maxValue - offset, "STREAM frame ends beyond 2^62")
        writer.writeVarInt(streamID.rawValue)
        if offset != 0 { writer.writeVarInt(offset) }
        if hasLengthField { writer.writeVarInt(UInt64(data.count)) }
        writer.writeBytes(data)
    }

    package static func decodeFields(from reader: inout WireReader, frameType: UInt64) throws(PeerError) -> StreamFrame {
        guard let id = reader.readVarInt() else { throw .truncatedFrame(frameType) }
        var offset: UInt64 = 0
        if frameType & offsetFlag != 0 {
            guard let value = reader.readVarInt() else { throw .truncatedFrame(frameType) }
            offset = value
        }
        let data: UnsafeRawBufferPointer
        let hasLength = frameType & lengthFlag != 0
        if hasLength {
            guard let length = reader.readVarInt() else { throw .truncatedFrame(frameType) }
            guard let bytes = reader.readBytes(count: length) else { throw .truncatedFrame(frameType) }
            data = bytes
        } else {
            data = reader.readRemainingBytes()
        }
        guard UInt64(data.count) <= VarInt.maxValue - offset else {
            throw .frameEncoding(frameType, "STREAM frame ends beyond 2^62")
        }
        return StreamFrame(
            streamID: StreamID(id), offset: offset, data: data, isFin: frameType & finFlag != 0,
            endsRecord: frameType & recordFlag != 0, hasLengthField: hasLength)
    }

    package static func == (a: StreamFrame, b: StreamFrame) -> Bool {
        a.streamID == b.streamID && a.offset == b.offset && a.isFin == b.isFin && a.endsRecord == b.endsRecord
            && a.hasLengthField == b.hasLengthField && bytesEqual(a.data, b.data)
    }
}
