/// RESET_STREAM (type `0x03`, PROTOCOL.md §6): the sender abandons a stream;
/// "stream id, error code, final size".
package struct ResetStreamFrame: WireFrame, Equatable, Sendable {
    package var streamID: StreamID
    package var errorCode: ErrorCode
    /// The stream's final size: bytes the sender had sent, in stream offsets.
    package var finalSize: UInt64

    package init(streamID: StreamID, errorCode: ErrorCode, finalSize: UInt64) {
        self.streamID = streamID
        self.errorCode = errorCode
        self.finalSize = finalSize
    }

    package var encodedFrameType: UInt64 { FrameKind.resetStream.frameType }

    package var fieldsEncodedCount: Int {
        VarInt.encodedCount(streamID.rawValue) + VarInt.encodedCount(errorCode.rawValue)
            + VarInt.encodedCount(finalSize)
    }

    package func encodeFields(into writer: inout WireWriter) {
        writer.writeVarInt(streamID.rawValue)
        writer.writeVarInt(errorCode.rawValue)
        writer.writeVarInt(finalSize)
    }

    package static func decodeFields(from reader: inout WireReader, frameType: UInt64) throws(PeerError) -> Self {
        guard let id = reader.readVarInt(), let code = reader.readVarInt(), let size = reader.readVarInt() else {
            throw .truncatedFrame(frameType)
        }
        return Self(streamID: StreamID(id), errorCode: ErrorCode(code), finalSize: size)
    }
}

/// STOP_SENDING (type `0x04`, PROTOCOL.md §6): the receiver asks the sender to
/// stop a stream; "stream id, error code".
package struct StopSendingFrame: WireFrame, Equatable, Sendable {
    package var streamID: StreamID
    package var errorCode: ErrorCode

    package init(streamID: StreamID, errorCode: ErrorCode) {
        self.streamID = streamID
        self.errorCode = errorCode
    }

    package var encodedFrameType: UInt64 { FrameKind.stopSending.frameType }

    package var fieldsEncodedCount: Int {
        VarInt.encodedCount(streamID.rawValue) + VarInt.encodedCount(errorCode.rawValue)
    }

    package func encodeFields(into writer: inout WireWriter) {
        writer.writeVarInt(streamID.rawValue)
        writer.writeVarInt(errorCode.rawValue)
    }

    package static func decodeFields(from reader: inout WireReader, frameType: UInt64) throws(PeerError) -> Self {
        guard let id = reader.readVarInt(), let code = reader.readVarInt() else { throw .truncatedFrame(frameType) }
        return Self(streamID: StreamID(id), errorCode: ErrorCode(code))
    }
}

/// MAX_STREAM_DATA (type `0x06`, PROTOCOL.md §6.3): a stream's absolute
/// credit; "stream id, maximum".
package struct MaxStreamDataFrame: WireFrame, Equatable, Sendable {
    package var streamID: StreamID
    /// The stream offset the peer may send up to.
    package var maximumData: UInt64

    package init(streamID: StreamID, maximumData: UInt64) {
        self.streamID = streamID
        self.maximumData = maximumData
    }

    package var encodedFrameType: UInt64 { FrameKind.maxStreamData.frameType }

    package var fieldsEncodedCount: Int {
        VarInt.encodedCount(streamID.rawValue) + VarInt.encodedCount(maximumData)
    }

    package func encodeFields(into writer: inout WireWriter) {
        writer.writeVarInt(streamID.rawValue)
        writer.writeVarInt(maximumData)
    }

    package static func decodeFields(from reader: inout WireReader, frameType: UInt64) throws(PeerError) -> Self {
        guard let id = reader.readVarInt(), let maximum = reader.readVarInt() else { throw .truncatedFrame(frameType) }
        return Self(streamID: StreamID(id), maximumData: maximum)
    }
}

/// STREAM_DATA_BLOCKED (type `0x08`, PROTOCOL.md §6.3): the sender has data
/// for a stream but no credit; "stream id, limit".
package struct StreamDataBlockedFrame: WireFrame, Equatable, Sendable {
    package var streamID: StreamID
    /// The stream credit the sender is blocked at.
    package var dataLimit: UInt64

    package init(streamID: StreamID, dataLimit: UInt64) {
        self.streamID = streamID
        self.dataLimit = dataLimit
    }

    package var encodedFrameType: UInt64 { FrameKind.streamDataBlocked.frameType }

    package var fieldsEncodedCount: Int {
        VarInt.encodedCount(streamID.rawValue) + VarInt.encodedCount(dataLimit)
    }

    package func encodeFields(into writer: inout WireWriter) {
        writer.writeVarInt(streamID.rawValue)
        writer.writeVarInt(dataLimit)
    }

    package static func decodeFields(from reader: inout WireReader, frameType: UInt64) throws(PeerError) -> Self {
        guard let id = reader.readVarInt(), let limit = reader.readVarInt() else { throw .truncatedFrame(frameType) }
        return Self(streamID: StreamID(id), dataLimit: limit)
    }
}
