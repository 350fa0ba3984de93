/// The 8 random bytes of a PATH_CHALLENGE (type `0x40`) and the PATH_RESPONSE
/// (type `0x41`) that echoes them (PROTOCOL.md §6, §7). Held inline, read
/// big-endian like a ``ConnectionID``.
package struct PathToken: Hashable, Sendable, CustomStringConvertible {
    package static let count = 8
    package var rawValue: UInt64

    package init(rawValue: UInt64) { self.rawValue = rawValue }

    /// A fresh unpredictable challenge.
    package init(using random: inout some RandomSource) { rawValue = random.next() }

    package var description: String { String(rawValue, radix: 16) }

    /// Bytes of a PATH_CHALLENGE or PATH_RESPONSE frame: a 2-byte type
    /// (`0x40` and `0x41` are above 63, so their varints take two bytes) and
    /// the 8 bytes.
    package static let encodedCount = VarInt.encodedCount(FrameKind.pathChallenge.frameType) + count

    /// Writes a PATH_CHALLENGE or PATH_RESPONSE carrying this token.
    /// - Precondition: `kind` is `.pathChallenge` or `.pathResponse`.
    /// - Returns: false, writing nothing, when its ``encodedCount`` bytes do not fit.
    package func encode(kind: FrameKind, into writer: inout WireWriter) -> Bool {
        precondition(kind == .pathChallenge || kind == .pathResponse, "not a path frame")
        guard writer.remaining >= Self.encodedCount else { return false }
        writer.writeVarInt(kind.frameType)
        writer.writeUInt64(rawValue)
        return true
    }

    /// Reads the 8 bytes after the type.
    package static func decodeFields(from reader: inout WireReader, frameType: UInt64) throws(PeerError) -> Self {
        guard let value = reader.readUInt64() else { throw .truncatedFrame(frameType) }
        return Self(rawValue: value)
    }
}

/// NEW_CONNECTION_ID (type `0x42`, PROTOCOL.md §2 and §6, *roadmap*): one more
/// CID the sender is willing to receive under; "sequence, CID (8)".
package struct NewConnectionIDFrame: WireFrame, Equatable, Sendable {
    /// Numbers the CIDs an end hands out, from 0 (the handshake's CID).
    package var sequenceNumber: UInt64
    package var connectionID: ConnectionID

    package init(sequenceNumber: UInt64, connectionID: ConnectionID) {
        self.sequenceNumber = sequenceNumber
        self.connectionID = connectionID
    }

    package var encodedFrameType: UInt64 { FrameKind.newConnectionID.frameType }

    package var fieldsEncodedCount: Int { VarInt.encodedCount(sequenceNumber) + ConnectionID.count }

    package func encodeFields(into writer: inout WireWriter) {
        writer.writeVarInt(sequenceNumber)
        writer.writeConnectionID(connectionID)
    }

    package static func decodeFields(from reader: inout WireReader, frameType: UInt64) throws(PeerError) -> Self {
        guard let sequence = reader.readVarInt(), let id = reader.readConnectionID() else {
            throw .truncatedFrame(frameType)
        }
        return Self(sequenceNumber: sequence, connectionID: id)
    }
}
