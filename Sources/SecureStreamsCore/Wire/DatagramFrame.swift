/// DATAGRAM (type `0x22`, PROTOCOL.md §6, *roadmap*): one fragment of a
/// best-effort datagram; "datagram id, total length, offset, length, data".
/// ``data`` is a slice of the payload.
///
/// A fragment that reaches past the datagram's total length is a
/// `FRAME_ENCODING_ERROR`; how large a datagram a receiver reassembles is its
/// own limit, not the codec's.
package struct DatagramFrame: WireFrame, Equatable {
    /// Names the datagram the fragment belongs to.
    package var datagramID: UInt64
    /// Bytes in the whole datagram.
    package var totalCount: UInt64
    /// Where `data` starts in the datagram.
    package var offset: UInt64
    package var data: UnsafeRawBufferPointer

    /// - Precondition: `offset + data.count` ≤ `totalCount`.
    package init(datagramID: UInt64, totalCount: UInt64, offset: UInt64, data: UnsafeRawBufferPointer) {
        precondition(offset <= totalCount && UInt64(data.count) <= totalCount - offset,
                     "DATAGRAM fragment beyond the datagram")
        self.datagramID = datagramID
        self.totalCount = totalCount
        self.offset = offset
        self.data = data
    }

    package var encodedFrameType: UInt64 { FrameKind.datagram.frameType }

    package var fieldsEncodedCount: Int {
        VarInt.encodedCount(datagramID) + VarInt.encodedCount(totalCount) + VarInt.encodedCount(offset)
            + VarInt.encodedCount(UInt64(data.count)) + data.count
    }

    package func encodeFields(into writer: inout WireWriter) {
        writer.writeVarInt(datagramID)
        writer.writeVarInt(totalCount)
        writer.writeVarInt(offset)
        writer.writeVarInt(UInt64(data.count))
        writer.writeBytes(data)
    }

    package static func decodeFields(from reader: inout WireReader, frameType: UInt64) throws(PeerError) -> Self {
        guard let id = reader.readVarInt(), let total = reader.readVarInt(), let offset = reader.readVarInt(),
              let data = reader.readLengthPrefixedBytes()
        else { throw .truncatedFrame(frameType) }
        guard offset <= total, UInt64(data.count) <= total - offset else {
            throw .frameEncoding(frameType, "DATAGRAM fragment beyond the datagram")
        }
        return Self(datagramID: id, totalCount: total, offset: offset, data: data)
    }

    package static func == (a: Self, b: Self) -> Bool {
        a.datagramID == b.datagramID && a.totalCount == b.totalCount && a.offset == b.offset
            && bytesEqual(a.data, b.data)
    }
}
