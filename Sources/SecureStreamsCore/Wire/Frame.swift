/// One frame of a decrypted payload (PROTOCOL.md §6), decoded in place.
///
/// Frames that carry bytes (STREAM data, a DATAGRAM fragment, a CLOSE reason,
/// a STREAM_OPEN service tag) hold `UnsafeRawBufferPointer` slices into the
/// payload the ``FrameDecoder`` walks, valid exactly as long as that payload;
/// so a `Frame` is not `Sendable` and must not outlive the
/// `withUnsafeBytes` scope of its packet. Nothing is copied on the receive
/// path, and the only frame whose decoding allocates is HANDSHAKE (its
/// service and protocol strings, once per connection).
///
/// Equality compares byte fields by content.
///
/// On the send side each frame is written straight into the packet buffer:
/// check ``encodedCount`` against the space left, then ``encode(into:)``.
/// STREAM and ACK frames, which the sender builds from its own state, also
/// have static writers that take the fields directly
/// (``StreamFrame/encode(streamID:offset:data:isFin:endsRecord:hasLengthField:into:)``,
/// ``AckFrame/encode(ranges:ackDelayMicroseconds:into:)``).
package enum Frame: Equatable {
    /// A run of `count` zero bytes, consumed in one step.
    case padding(count: Int)
    /// Elicits an ACK.
    case ping
    case ack(AckFrame)
    case resetStream(ResetStreamFrame)
    case stopSending(StopSendingFrame)
    /// The connection's absolute credit: the sum of stream offsets the peer
    /// may send up to (§6.3).
    case maxData(maximumData: UInt64)
    case maxStreamData(MaxStreamDataFrame)
    /// The sender is blocked by the connection credit `dataLimit`.
    case dataBlocked(dataLimit: UInt64)
    case streamDataBlocked(StreamDataBlockedFrame)
    /// The count of streams the receiver of this frame may open in total.
    case maxStreams(maximumStreamCount: UInt64)
    /// The sender wants to open a stream but the receiver's MAX_STREAMS,
    /// `streamLimit`, forbids it (§6.2).
    case streamsBlocked(streamLimit: UInt64)
    case stream(StreamFrame)
    case streamOpen(StreamOpenFrame)
    case priority(PriorityFrame)
    case datagram(DatagramFrame)
    case listen(ListenFrame)
    case close(CloseFrame)
    case pathChallenge(PathToken)
    case pathResponse(PathToken)
    case newConnectionID(NewConnectionIDFrame)
    /// The receiver of this frame may stop routing its CID `sequenceNumber` (§7.3).
    case retireConnectionID(sequenceNumber: UInt64)
    case handshake(HandshakeFrame)

    /// Which row of §6's table this frame is.
    package var kind: FrameKind {
        switch self {
        case .padding: .padding
        case .ping: .ping
        case .ack: .ack
        case .resetStream: .resetStream
        case .stopSending: .stopSending
        case .maxData: .maxData
        case .maxStreamData: .maxStreamData
        case .dataBlocked: .dataBlocked
        case .streamDataBlocked: .streamDataBlocked
        case .maxStreams: .maxStreams
        case .streamsBlocked: .streamsBlocked
        case .stream: .stream
        case .streamOpen: .streamOpen
        case .priority: .priority
        case .datagram: .datagram
        case .listen: .listen
        case .close: .close
        case .pathChallenge: .pathChallenge
        case .pathResponse: .pathResponse
        case .newConnectionID: .newConnectionID
        case .retireConnectionID: .retireConnectionID
        case .handshake: .handshake
        }
    }

    /// Bytes ``encode(into:)`` writes, type included.
    package var encodedCount: Int {
        switch self {
        case .padding(let count): count
        case .ping: VarInt.encodedCount(FrameKind.ping.frameType)
        case .ack(let frame): frame.encodedCount
        case .resetStream(let frame): frame.encodedCount
        case .stopSending(let frame): frame.encodedCount
        case .maxData(let value): VarInt.encodedCount(FrameKind.maxData.frameType) + VarInt.encodedCount(value)
        case .dataBlocked(let value): VarInt.encodedCount(FrameKind.dataBlocked.frameType) + VarInt.encodedCount(value)
        case .maxStreams(let value): VarInt.encodedCount(FrameKind.maxStreams.frameType) + VarInt.encodedCount(value)
        case .streamsBlocked(let value):
            VarInt.encodedCount(FrameKind.streamsBlocked.frameType) + VarInt.encodedCount(value)
        case .maxStreamData(let frame): frame.encodedCount
        case .streamDataBlocked(let frame): frame.encodedCount
        case .stream(let frame): frame.encodedCount
        case .streamOpen(let frame): frame.encodedCount
        case .priority(let frame): frame.encodedCount
        case .datagram(let frame): frame.encodedCount
        case .listen(let frame): frame.encodedCount
        case .close(let frame): frame.encodedCount
        case .pathChallenge, .pathResponse: PathToken.encodedCount
        case .newConnectionID(let frame): frame.encodedCount
        case .retireConnectionID(let value):
            VarInt.encodedCount(FrameKind.retireConnectionID.frameType) + VarInt.encodedCount(value)
        case .handshake(let frame): frame.encodedCount
        }
    }

    /// Writes the frame, type first.
    /// - Returns: false, writing nothing, when ``encodedCount`` bytes do not fit.
    package func encode(into writer: inout WireWriter) -> Bool {
        switch self {
        case .padding(let count):
            precondition(count > 0, "a PADDING run is at least one byte")
            return writer.writeZeros(count: count)
        case .ping:
            return writer.writeVarInt(FrameKind.ping.frameType)
        case .ack(let frame): return frame.encode(into: &writer)
        case .resetStream(let frame): return frame.encode(into: &writer)
        case .stopSending(let frame): return frame.encode(into: &writer)
        case .maxData(let maximum): return Self.encodeSingleVarInt(.maxData, maximum, into: &writer)
        case .maxStreamData(let frame): return frame.encode(into: &writer)
        case .dataBlocked(let limit): return Self.encodeSingleVarInt(.dataBlocked, limit, into: &writer)
        case .streamDataBlocked(let frame): return frame.encode(into: &writer)
        case .maxStreams(let maximum):
            precondition(maximum <= StreamID.maximumStreamCount, "MAX_STREAMS beyond the stream id space")
            return Self.encodeSingleVarInt(.maxStreams, maximum, into: &writer)
        case .streamsBlocked(let limit):
            precondition(limit <= StreamID.maximumStreamCount, "STREAMS_BLOCKED beyond the stream id space")
            return Self.encodeSingleVarInt(.streamsBlocked, limit, into: &writer)
        case .stream(let frame): return frame.encode(into: &writer)
        case .streamOpen(let frame): return frame.encode(into: &writer)
        case .priority(let frame): return frame.encode(into: &writer)
        case .datagram(let frame): return frame.encode(into: &writer)
        case .listen(let frame): return frame.encode(into: &writer)
        case .close(let frame): return frame.encode(into: &writer)
        case .pathChallenge(let token): return token.encode(kind: .pathChallenge, into: &writer)
        case .pathResponse(let token): return token.encode(kind: .pathResponse, into: &writer)
        case .newConnectionID(let frame): return frame.encode(into: &writer)
        case .retireConnectionID(let sequence): return Self.encodeSingleVarInt(.retireConnectionID, sequence, into: &writer)
        case .handshake(let frame): return frame.encode(into: &writer)
        }
    }

    private static func encodeSingleVarInt(_ kind: FrameKind, _ value: UInt64, into writer: inout WireWriter) -> Bool {
        guard writer.remaining >= VarInt.encodedCount(kind.frameType) + VarInt.encodedCount(value) else { return false }
        writer.writeVarInt(kind.frameType)
        writer.writeVarInt(value)
        return true
    }
}

/// The shape every frame struct shares: a type (a varint), then fields whose
/// size is known before writing, so a packet builder can check for space
/// first ("each frame type has a size bound").
package protocol WireFrame {
    /// The type value this frame is written with (for STREAM, with its flags).
    var encodedFrameType: UInt64 { get }
    /// Bytes of the fields after the type.
    var fieldsEncodedCount: Int { get }
    /// Writes the fields after the type. Called only when they fit.
    func encodeFields(into writer: inout WireWriter)
    /// Reads the fields after the type `frameType`.
    /// - Throws: `FRAME_ENCODING_ERROR` naming `frameType` for a truncated or
    ///   invalid frame.
    static func decodeFields(from reader: inout WireReader, frameType: UInt64) throws(PeerError) -> Self
}

extension WireFrame {
    /// Bytes ``encode(into:)`` writes, type included.
    package var encodedCount: Int { VarInt.encodedCount(encodedFrameType) + fieldsEncodedCount }

    /// Writes the frame, type first.
    /// - Returns: false, writing nothing, when ``encodedCount`` bytes do not fit.
    package func encode(into writer: inout WireWriter) -> Bool {
        let count = encodedCount
        guard writer.remaining >= count else { return false }
        let start = writer.offset
        writer.writeVarInt(encodedFrameType)
        encodeFields(into: &writer)
        assert(writer.offset - start == count, "encodedCount disagrees with encode")
        return true
    }
}

extension PeerError {
    /// `FRAME_ENCODING_ERROR` for a frame of type `frameType` (§6: "a
    /// malformed or unknown frame").
    @inline(never)
    package static func frameEncoding(_ frameType: UInt64, _ reason: StaticString) -> PeerError {
        PeerError(.frameEncodingError, frameType: frameType, reason)
    }

    /// The frame ended before its fields did.
    @inline(never)
    package static func truncatedFrame(_ frameType: UInt64) -> PeerError {
        PeerError(.frameEncodingError, frameType: frameType, "frame truncated")
    }
}

extension StreamID {
    /// The most streams one side can ever open: ids are below 2^62 and each
    /// opener uses every other one (§6.2), so 2^61. A MAX_STREAMS or initial
    /// max streams above it is a `FRAME_ENCODING_ERROR`.
    package static let maximumStreamCount: UInt64 = 1 << 61
}

/// Content equality for byte slices that borrow a payload.
@inline(__always)
func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    a.count == b.count && a.elementsEqual(b)
}
