/// HANDSHAKE (type `0x50`, PROTOCOL.md §6.15): the payload of Noise messages 1
/// and 2, "only inside Noise payloads"; "CID (8), then parameters".
///
/// Wire layout: the sender's CID (8 bytes), the length of the parameters
/// (varint), then that many bytes of (id, length, value) triples
/// (``TransportParameters``). The length lets other frames follow the
/// HANDSHAKE frame in the same payload (§3.2: a Response's payload is a
/// HANDSHAKE frame "optionally followed by other frames").
///
/// In an Initiation the CID repeats the header's sender CID (so the payload
/// is bound by the handshake hash); in a Response it is the responder's CID.
/// Decoding allocates the `service` and `protocol` strings: once per
/// connection, never on the data path.
package struct HandshakeFrame: WireFrame, Equatable, Sendable {
    /// The CID the sender of this frame receives under (§2).
    package var connectionID: ConnectionID
    package var parameters: TransportParameters

    package init(connectionID: ConnectionID, parameters: TransportParameters) {
        self.connectionID = connectionID
        self.parameters = parameters
    }

    package var encodedFrameType: UInt64 { FrameKind.handshake.frameType }

    package var fieldsEncodedCount: Int {
        let parametersCount = parameters.encodedCount
        return ConnectionID.count + VarInt.encodedCount(UInt64(parametersCount)) + parametersCount
    }

    package func encodeFields(into writer: inout WireWriter) {
        writer.writeConnectionID(connectionID)
        writer.writeVarInt(UInt64(parameters.encodedCount))
        let written = parameters.encode(into: &writer)
        assert(written, "space was checked for the whole frame")
    }

    package static func decodeFields(from reader: inout WireReader, frameType: UInt64) throws(PeerError) -> Self {
        guard let id = reader.readConnectionID(), let encodedParameters = reader.readLengthPrefixedBytes() else {
            throw .truncatedFrame(frameType)
        }
        return Self(connectionID: id, parameters: try TransportParameters.decode(encodedParameters))
    }
}
