/// A Data packet (types `0x10` and `0x11`, PROTOCOL.md §3.4), parsed in place:
///
/// ```
///  0        1        2                     10                 14
/// | ver=2  | 0x10|k | destination CID (8) | packet number (4)| AEAD(frames) ‖ tag (16) |
/// ```
///
/// "Associated data: bytes 0..<14 (the whole header)." The parser only splits
/// the datagram; the caller reconstructs the packet number
/// (``PacketNumber/decode(truncated:largestReceived:)``), opens the AEAD in
/// place and hands the plaintext to a ``FrameDecoder``.
package struct DataPacket {
    /// Which key protects the packet (§5.3).
    package var keyPhase: KeyPhase
    /// The receiver's CID: how it finds the connection (§2).
    package var destination: ConnectionID
    /// The low 32 bits of the packet number.
    package var truncatedPacketNumber: UInt32
    /// Bytes 0..<14: the AEAD's associated data.
    package var header: UnsafeRawBufferPointer
    /// The protected frames and the 16-byte tag, to the end of the datagram.
    package var ciphertext: UnsafeRawBufferPointer

    /// Bytes before the ciphertext; also where it starts in the datagram.
    package static let headerCount = 14
    /// The AEAD tag (ChaChaPoly and AESGCM alike).
    package static let tagCount = 16
    /// "The plaintext is a non-empty sequence of frames": at least one byte of
    /// frames and the tag. A shorter packet cannot be valid and is dropped
    /// before any decryption is spent on it.
    package static let minimumCiphertextCount = tagCount + 1
    /// "Overhead per packet: 14 header + 16 tag = 30 bytes."
    package static let overheadCount = headerCount + tagCount

    /// Writes the 14-byte header; the caller seals the frames after it.
    /// - Returns: false, writing nothing, when fewer than 14 bytes are left.
    package static func writeHeader(
        keyPhase: KeyPhase, destination: ConnectionID, packetNumber: PacketNumber, into writer: inout WireWriter
    ) -> Bool {
        guard writer.remaining >= headerCount else { return false }
        writer.writeUInt8(ProtocolVersion.current.rawValue)
        writer.writeUInt8(PacketType.data.rawValue | keyPhase.rawValue)
        writer.writeConnectionID(destination)
        writer.writeUInt32(packetNumber.truncated)
        return true
    }

    static func parse(afterType reader: inout WireReader, type: PacketType) -> Result<DataPacket, PacketDropReason> {
        let keyPhase: KeyPhase
        switch type {
        case .data: keyPhase = .zero
        case .dataKeyPhaseOne: keyPhase = .one
        case .initiation, .response, .finish, .cookie: preconditionFailure("not a Data packet type")
        }
        guard reader.remaining >= headerCount - 2 + minimumCiphertextCount else { return .failure(.tooShort) }
        let destination = reader.readConnectionID()!
        let truncated = reader.readUInt32()!
        let header = UnsafeRawBufferPointer(rebasing: reader.bytes[0..<headerCount])
        return .success(DataPacket(
            keyPhase: keyPhase, destination: destination, truncatedPacketNumber: truncated,
            header: header, ciphertext: reader.readRemainingBytes()))
    }
}
