/// CLOSE (type `0x30`, PROTOCOL.md §6.4): ends the connection immediately;
/// "error code, frame type that caused it (0 if none), reason length, reason
/// (UTF-8)".
///
/// The reason is "a message for humans, not a data channel", at most 256
/// bytes (§9): a longer one is a `FRAME_ENCODING_ERROR`. Its bytes are taken
/// as they come (a slice of the payload, not checked as UTF-8): they are only
/// ever shown, through ``reasonText``, which repairs bad sequences.
package struct CloseFrame: WireFrame, Equatable {
    package var errorCode: ErrorCode
    /// The type of the frame that caused the close; `nil` (0 on the wire) if
    /// none did. A PADDING frame never causes one, so 0 is free to mean "none".
    package var offendingFrameType: UInt64?
    package var reason: UnsafeRawBufferPointer

    /// "CLOSE reason ≤ 256 bytes" (§9).
    package static let maxReasonCount = 256

    /// - Precondition: `reason` is at most 256 bytes; the caller truncates an
    ///   application's reason first.
    package init(errorCode: ErrorCode, offendingFrameType: UInt64? = nil, reason: UnsafeRawBufferPointer) {
        precondition(reason.count <= Self.maxReasonCount, "CLOSE reason longer than 256 bytes")
        self.errorCode = errorCode
        self.offendingFrameType = offendingFrameType == 0 ? nil : offendingFrameType
        self.reason = reason
    }

    /// The CLOSE that reports `error`, its static reason as the text: built
    /// without copying or allocating.
    package init(_ error: PeerError) {
        var reason = UnsafeRawBufferPointer(start: nil, count: 0)
        if error.reason.hasPointerRepresentation {
            reason = UnsafeRawBufferPointer(
                start: error.reason.utf8Start, count: min(error.reason.utf8CodeUnitCount, Self.maxReasonCount))
        }
        self.init(errorCode: error.code, offendingFrameType: error.frameType, reason: reason)
    }

    /// The reason as text, with invalid UTF-8 replaced by U+FFFD. Allocates:
    /// for logs and events, not the hot path.
    package var reasonText: String { String(decoding: reason, as: UTF8.self) }

    package var encodedFrameType: UInt64 { FrameKind.close.frameType }

    package var fieldsEncodedCount: Int {
        VarInt.encodedCount(errorCode.rawValue) + VarInt.encodedCount(offendingFrameType ?? 0)
            + VarInt.encodedCount(UInt64(reason.count)) + reason.count
    }

    package func encodeFields(into writer: inout WireWriter) {
        writer.writeVarInt(errorCode.rawValue)
        writer.writeVarInt(offendingFrameType ?? 0)
        writer.writeVarInt(UInt64(reason.count))
        writer.writeBytes(reason)
    }

    package static func decodeFields(from reader: inout WireReader, frameType: UInt64) throws(PeerError) -> Self {
        guard let code = reader.readVarInt(), let offending = reader.readVarInt(), let count = reader.readVarInt()
        else { throw .truncatedFrame(frameType) }
        guard count <= UInt64(maxReasonCount) else { throw .frameEncoding(frameType, "CLOSE reason longer than 256 bytes") }
        guard let reason = reader.readBytes(count: count) else { throw .truncatedFrame(frameType) }
        return Self(errorCode: ErrorCode(code), offendingFrameType: offending, reason: reason)
    }

    package static func == (a: Self, b: Self) -> Bool {
        a.errorCode == b.errorCode && a.offendingFrameType == b.offendingFrameType && bytesEqual(a.reason, b.reason)
    }
}
