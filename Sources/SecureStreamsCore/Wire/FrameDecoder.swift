/// Walks the frames of a decrypted payload (PROTOCOL.md §6), in place.
///
/// ```swift
/// var frames = FrameDecoder(payload)
/// while let frame = try frames.next() { … }   // throws(PeerError)
/// ```
///
/// Each call to ``next()`` decodes one frame, whose byte fields are slices of
/// `payload`. A malformed frame or an unknown type throws a ``PeerError``
/// (`FRAME_ENCODING_ERROR`, naming the frame type when it was readable); after
/// that the decoder yields nothing more, so the rest of the packet is dropped
/// and the connection closes with the error ("drops the rest of
/// a packet after the first corrupt frame"). Every length and count is
/// checked against what remains of the payload before it is used, and no
/// frame's decoding allocates except HANDSHAKE's strings.
///
/// A run of PADDING bytes comes back as one ``Frame/padding(count:)`` (a zero
/// type written in a longer varint form starts a new run).
/// The decoder does not know which packet the payload came from: the
/// connection checks ``FrameKind/isAllowedInDataPackets`` and that the
/// payload was not empty (§3.4) via ``frameCount``.
package struct FrameDecoder {
    private var reader: WireReader
    private var hasFailed = false
    /// Frames yielded so far (a PADDING run counts once).
    package private(set) var frameCount = 0

    /// A decoder over a decrypted payload that the caller keeps alive.
    package init(_ payload: UnsafeRawBufferPointer) {
        reader = WireReader(payload)
    }

    /// Bytes not yet decoded.
    package var remaining: Int { reader.remaining }

    /// The next frame, or `nil` at the end of the payload or after an error.
    /// - Throws: ``PeerError`` with `FRAME_ENCODING_ERROR` for a malformed
    ///   or unknown frame; later calls then return `nil`.
    package mutating func next() throws(PeerError) -> Frame? {
        guard !hasFailed, !reader.isAtEnd else { return nil }
        do {
            let frame = try decodeOne()
            frameCount += 1
            return frame
        } catch {
            hasFailed = true
            throw error
        }
    }

    private mutating func decodeOne() throws(PeerError) -> Frame {
        if reader.peekUInt8() == 0 { return .padding(count: consumePadding()) }
        let start = reader.offset
        guard let type = reader.readVarInt() else {
            throw PeerError(.frameEncodingError, "frame type truncated")
        }
        guard let kind = FrameKind(frameType: type) else { throw .frameEncoding(type, "unknown frame type") }
        switch kind {
        case .padding:
            // A zero type written in a longer varint form: one PADDING byte's worth.
            return .padding(count: reader.offset - start + consumePadding())
        case .ping: return .ping
        case .ack: return .ack(try decode(AckFrame.self, type))
        case .resetStream: return .resetStream(try decode(ResetStreamFrame.self, type))
        case .stopSending: return .stopSending(try decode(StopSendingFrame.self, type))
        case .maxData: return .maxData(maximumData: try readVarInt(type))
        case .maxStreamData: return .maxStreamData(try decode(MaxStreamDataFrame.self, type))
        case .dataBlocked: return .dataBlocked(dataLimit: try readVarInt(type))
        case .streamDataBlocked: return .streamDataBlocked(try decode(StreamDataBlockedFrame.self, type))
        case .maxStreams:
            let maximum = try readVarInt(type)
            guard maximum <= StreamID.maximumStreamCount else {
                throw .frameEncoding(type, "MAX_STREAMS beyond the stream id space")
            }
            return .maxStreams(maximumStreamCount: maximum)
        case .streamsBlocked:
            let limit = try readVarInt(type)
            guard limit <= StreamID.maximumStreamCount else {
                throw .frameEncoding(type, "STREAMS_BLOCKED beyond the stream id space")
            }
            return .streamsBlocked(streamLimit: limit)
        case .stream: return .stream(try decode(StreamFrame.self, type))
        case .streamOpen: return .streamOpen(try decode(StreamOpenFrame.self, type))
        case .priority: return .priority(try decode(PriorityFrame.self, type))
        case .datagram: return .datagram(try decode(DatagramFrame.self, type))
        case .listen: return .listen(try decode(ListenFrame.self, type))
        case .close: return .close(try decode(CloseFrame.self, type))
        case .pathChallenge: return .pathChallenge(try PathToken.decodeFields(from: &reader, frameType: type))
        case .pathResponse: return .pathResponse(try PathToken.decodeFields(from: &reader, frameType: type))
        case .newConnectionID: return .newConnectionID(try decode(NewConnectionIDFrame.self, type))
        case .retireConnectionID: return .retireConnectionID(sequenceNumber: try readVarInt(type))
        case .handshake: return .handshake(try decode(HandshakeFrame.self, type))
        }
    }

    @inline(__always)
    private mutating func decode<F: WireFrame>(_: F.Type, _ type: UInt64) throws(PeerError) -> F {
        try F.decodeFields(from: &reader, frameType: type)
    }

    @inline(__always)
    private mutating func readVarInt(_ type: UInt64) throws(PeerError) -> UInt64 {
        guard let value = reader.readVarInt() else { throw .truncatedFrame(type) }
        return value
    }

    /// Consumes consecutive zero bytes; returns how many.
    private mutating func consumePadding() -> Int {
        var count = 0
        while reader.peekUInt8() == 0 {
            _ = reader.readUInt8()
            count += 1
        }
        return count
    }
}
