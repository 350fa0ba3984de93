/// An Initiation packet (PROTOCOL.md §3.1), parsed in place:
///
/// ```
///  0        1        2        3                11               27               43
/// | ver=2  | 0x01   | suite  | sender CID (8) | mac1 (16)      | mac2 (16)      | Noise message 1 ... |
/// ```
///
/// The parser checks lengths and the suite byte only; `mac1`, `mac2` and the
/// Noise message are for the caller to verify, in that order (§4.1).
package struct InitiationPacket {
    /// The Noise protocol of this handshake.
    package var suite: Suite
    /// The initiator's CID: the destination of everything the responder sends.
    package var senderCID: ConnectionID
    package var mac1: Bytes16
    /// Sixteen zero bytes when the initiator holds no fresh cookie (§4.2).
    package var mac2: Bytes16
    /// Bytes 0..<43 of the packet, everything before the Noise message.
    package var header: UnsafeRawBufferPointer
    /// Noise message 1, to the end of the datagram.
    package var noiseMessage: UnsafeRawBufferPointer

    /// Where `mac1` starts; also the length of the Noise prologue suffix and of
    /// the header part `mac1` covers ("bytes 0..<11 followed by the Noise message").
    package static let mac1Offset = 11
    /// Where `mac2` starts; `mac2` covers "bytes 0..<27 and the Noise message".
    package static let mac2Offset = 27
    /// Bytes before the Noise message.
    package static let headerCount = 43
    /// Every Noise message 1 starts with the initiator's ephemeral key `e`
    /// (32 bytes, §5.1); under IK it also carries an encrypted static key and a
    /// tag, which the handshake checks.
    package static let minimumNoiseMessageCount = 32

    /// Bytes 0..<11: appended to `"SecureStreams/1"` they make the Noise
    /// prologue, and they start `mac1`'s input.
    package var prologueHeader: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: header[0..<Self.mac1Offset])
    }

    /// Bytes 0..<27: the header part of `mac2`'s input.
    package var mac2CoveredHeader: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: header[0..<Self.mac2Offset])
    }

    /// Writes bytes 0..<43. `mac1` and `mac2` cover the Noise message, which is
    /// written after this header, so callers usually write zeros here and fill
    /// them in with ``storeMACs(mac1:mac2:inPacket:)``.
    /// - Returns: false, writing nothing, when fewer than 43 bytes are left.
    package static func writeHeader(
        suite: Suite, senderCID: ConnectionID, mac1: Bytes16 = .zero, mac2: Bytes16 = .zero,
        into writer: inout WireWriter
    ) -> Bool {
        guard writer.remaining >= headerCount else { return false }
        writer.writeUInt8(ProtocolVersion.current.rawValue)
        writer.writeUInt8(PacketType.initiation.rawValue)
        writer.writeUInt8(suite.rawValue)
        writer.writeConnectionID(senderCID)
        writer.writeBytes(mac1)
        writer.writeBytes(mac2)
        return true
    }

    /// Overwrites the two MAC fields of an Initiation being built in `packet`
    /// (which starts at the packet's byte 0).
    /// - Precondition: `packet` holds at least the 43-byte header.
    package static func storeMACs(mac1: Bytes16, mac2: Bytes16, inPacket packet: UnsafeMutableRawBufferPointer) {
        precondition(packet.count >= headerCount, "not an Initiation header")
        mac1.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: packet[mac1Offset..<mac2Offset]).copyMemory(from: $0) }
        mac2.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: packet[mac2Offset..<headerCount]).copyMemory(from: $0) }
    }

    /// Parses what follows the type byte.
    static func parse(afterType reader: inout WireReader) -> Result<InitiationPacket, PacketDropReason> {
        guard reader.remaining >= headerCount - 2 + minimumNoiseMessageCount else { return .failure(.tooShort) }
        let suiteByte = reader.readUInt8()!
        guard let suite = Suite(rawValue: suiteByte) else { return .failure(.unsupportedSuite(suiteByte)) }
        let senderCID = reader.readConnectionID()!
        let mac1 = Bytes16(reader.readBytes(count: Bytes16.count)!)!
        let mac2 = Bytes16(reader.readBytes(count: Bytes16.count)!)!
        let header = UnsafeRawBufferPointer(rebasing: reader.bytes[0..<headerCount])
        return .success(InitiationPacket(
            suite: suite, senderCID: senderCID, mac1: mac1, mac2: mac2, header: header,
            noiseMessage: reader.readRemainingBytes()))
    }
}

/// A Response (type `0x02`, PROTOCOL.md §3.2) or Finish (type `0x03`, §3.3)
/// packet: a destination CID and a Noise message.
///
/// ```
/// | ver=2  | 0x02 or 0x03 | destination CID (8) | Noise message ... |
/// ```
package struct HandshakeMessagePacket {
    /// Which of the two this is.
    package enum Kind: Sendable, Hashable {
        /// Noise message 2, from the responder; destination = initiator's CID.
        case response
        /// Noise message 3 (XX only), from the initiator; destination = responder's CID.
        case finish

        var packetType: PacketType {
            switch self {
            case .response: .response
            case .finish: .finish
            }
        }

        /// Message 2 is at least `e` (32) and an encrypted payload's tag (16)
        /// (IK); message 3 is at least an encrypted static key (32 + 16) and a
        /// payload tag (16) (XX).
        package var minimumNoiseMessageCount: Int {
            switch self {
            case .response: 48
            case .finish: 64
            }
        }
    }

    package var kind: Kind
    package var destination: ConnectionID
    /// The Noise message, to the end of the datagram.
    package var noiseMessage: UnsafeRawBufferPointer

    /// Bytes before the Noise message.
    package static let headerCount = 10

    /// Writes the 10-byte header; the Noise message follows.
    /// - Returns: false, writing nothing, when fewer than 10 bytes are left.
    package static func writeHeader(kind: Kind, destination: ConnectionID, into writer: inout WireWriter) -> Bool {
        guard writer.remaining >= headerCount else { return false }
        writer.writeUInt8(ProtocolVersion.current.rawValue)
        writer.writeUInt8(kind.packetType.rawValue)
        writer.writeConnectionID(destination)
        return true
    }

    static func parse(afterType reader: inout WireReader, type: PacketType) -> Result<Self, PacketDropReason> {
        let kind: Kind
        switch type {
        case .response: kind = .response
        case .finish: kind = .finish
        case .initiation, .cookie, .data, .dataKeyPhaseOne:
            preconditionFailure("not a Response or Finish type")
        }
        guard reader.remaining >= ConnectionID.count + kind.minimumNoiseMessageCount else { return .failure(.tooShort) }
        let destination = reader.readConnectionID()!
        return .success(HandshakeMessagePacket(kind: kind, destination: destination, noiseMessage: reader.readRemainingBytes()))
    }
}

/// A Cookie packet (type `0x04`, PROTOCOL.md §4.2): a responder under load
/// answers an Initiation with an encrypted cookie and keeps nothing.
///
/// ```
/// | ver=2 | 0x04 | initiator's sender CID (8) | nonce (24) | XChaCha20-Poly1305(cookie) (16 + 16) |
/// ```
///
/// Always exactly 66 bytes, "always smaller than the Initiation it answers, so
/// it amplifies nothing": a longer datagram is ``PacketDropReason/malformed``.
package struct CookiePacket {
    /// The initiator's sender CID, echoed from the Initiation.
    package var destination: ConnectionID
    /// The XChaCha20-Poly1305 nonce (24 bytes).
    package var nonce: UnsafeRawBufferPointer
    /// The sealed cookie: 16 bytes of ciphertext and a 16-byte tag.
    package var sealedCookie: UnsafeRawBufferPointer

    package static let nonceCount = 24
    package static let sealedCookieCount = 32
    /// The whole packet: 2 + 8 + 24 + 32.
    package static let packetCount = 66

    /// Writes the whole 66-byte packet.
    /// - Precondition: `nonce` is 24 bytes and `sealedCookie` 32.
    /// - Returns: false, writing nothing, when fewer than 66 bytes are left.
    package static func write(
        destination: ConnectionID, nonce: some ContiguousBytes, sealedCookie: some ContiguousBytes,
        into writer: inout WireWriter
    ) -> Bool {
        precondition(nonce.withUnsafeBytes { $0.count } == nonceCount, "a cookie nonce is 24 bytes")
        precondition(sealedCookie.withUnsafeBytes { $0.count } == sealedCookieCount, "a sealed cookie is 32 bytes")
        guard writer.remaining >= packetCount else { return false }
        writer.writeUInt8(ProtocolVersion.current.rawValue)
        writer.writeUInt8(PacketType.cookie.rawValue)
        writer.writeConnectionID(destination)
        writer.writeBytes(nonce)
        writer.writeBytes(sealedCookie)
        return true
    }

    static func parse(afterType reader: inout WireReader) -> Result<CookiePacket, PacketDropReason> {
        let bodyCount = packetCount - 2
        guard reader.remaining >= bodyCount else { return .failure(.tooShort) }
        guard reader.remaining == bodyCount else { return .failure(.malformed) }
        let destination = reader.readConnectionID()!
        let nonce = reader.readBytes(count: nonceCount)!
        let sealed = reader.readBytes(count: sealedCookieCount)!
        return .success(CookiePacket(destination: destination, nonce: nonce, sealedCookie: sealed))
    }
}
