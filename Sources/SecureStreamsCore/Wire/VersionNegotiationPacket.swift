/// A version-negotiation packet (PROTOCOL.md §3.5):
///
/// ```
/// | 0x00 | 0x56 | echo: bytes 1..<9 of the packet that prompted it (zero-padded, 8) | count (1) | versions (count bytes) |
/// ```
///
/// "The echo lets the sender match the answer to its attempt; the list names
/// every version the answerer speaks. A version-negotiation packet is never
/// answered." The packet must end right after the list: trailing bytes are
/// ``PacketDropReason/malformed``.
package struct VersionNegotiationPacket {
    /// Bytes 1..<9 of the prompting packet (for an Initiation: type, suite and
    /// the first six bytes of the sender CID), zero-padded.
    package var echo: UInt64
    /// The versions the answerer speaks, one byte each.
    package var versions: UnsafeRawBufferPointer

    /// Byte 1 of every version-negotiation packet.
    package static let marker: UInt8 = 0x56
    package static let echoCount = 8
    /// Bytes before the version list.
    package static let headerCount = 11

    /// True when the answerer lists `version`.
    package func lists(_ version: ProtocolVersion) -> Bool { versions.contains(version.rawValue) }

    /// The echo an answer to `datagram` carries: its bytes 1..<9, zero-padded.
    package static func echo(of datagram: UnsafeRawBufferPointer) -> UInt64 {
        var value: UInt64 = 0
        for index in 1..<(1 + echoCount) {
            value = value << 8 | UInt64(index < datagram.count ? datagram[index] : 0)
        }
        return value
    }

    /// Bytes an answer listing `versionCount` versions takes. An answer is
    /// never larger than the packet that prompted it (§3.5): the caller checks.
    package static func encodedCount(versionCount: Int) -> Int { headerCount + versionCount }

    /// Writes a whole answer to `datagram`, listing `versions`.
    /// - Precondition: at most 255 versions.
    /// - Returns: false, writing nothing, when it does not fit.
    package static func write(
        answering datagram: UnsafeRawBufferPointer, versions: some Collection<ProtocolVersion>,
        into writer: inout WireWriter
    ) -> Bool {
        write(echo: echo(of: datagram), versions: versions, into: &writer)
    }

    /// Writes a whole version-negotiation packet with the given echo.
    package static func write(
        echo: UInt64, versions: some Collection<ProtocolVersion>, into writer: inout WireWriter
    ) -> Bool {
        precondition(versions.count <= Int(UInt8.max), "a version list holds at most 255 versions")
        guard writer.remaining >= encodedCount(versionCount: versions.count) else { return false }
        writer.writeUInt8(ProtocolVersion.negotiationMarker)
        writer.writeUInt8(marker)
        writer.writeUInt64(echo)
        writer.writeUInt8(UInt8(versions.count))
        for version in versions { writer.writeUInt8(version.rawValue) }
        return true
    }

    static func parse(afterMarker reader: inout WireReader) -> Result<VersionNegotiationPacket, PacketDropReason> {
        guard reader.remaining >= headerCount - 1 else { return .failure(.tooShort) }
        guard reader.readUInt8()! == marker else { return .failure(.malformed) }
        let echo = reader.readUInt64()!
        let count = Int(reader.readUInt8()!)
        guard reader.remaining >= count else { return .failure(.tooShort) }
        guard reader.remaining == count else { return .failure(.malformed) }
        return .success(VersionNegotiationPacket(echo: echo, versions: reader.readBytes(count: count)!))
    }
}
