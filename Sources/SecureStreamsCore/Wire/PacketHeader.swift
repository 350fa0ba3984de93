/// Packet headers (PROTOCOL.md §3): the first look at a datagram.
///
/// "Byte 0 is the version (`0x02`), byte 1 the packet type." Parsing is the
/// first of the stateless checks of §4.1 ("length and version, a byte
/// compare"): it costs a few comparisons, reads the datagram in place and
/// either names the packet, with its header fields and slices of the rest
/// (``ParsedPacket``), or says why it is dropped (``PacketDropReason``). It
/// verifies no MAC and decrypts nothing: the caller does that next, on the
/// slices it gets back.
///
/// Slices in a ``ParsedPacket`` point into the datagram and live exactly as
/// long as the buffer given to ``PacketHeader/parse(_:)``.
package enum PacketHeader {
    /// Parses one datagram (one datagram is one packet, §1).
    ///
    /// Order of checks: empty → ``PacketDropReason/tooShort``; byte 0 neither
    /// `0x00` nor a known version → ``PacketDropReason/unknownVersion(_:)``
    /// (answered with version negotiation, §3.5, whatever the length); then
    /// the type byte, then each kind's exact length rules.
    package static func parse(_ datagram: UnsafeRawBufferPointer) -> Result<ParsedPacket, PacketDropReason> {
        var reader = WireReader(datagram)
        guard let version = reader.readUInt8() else { return .failure(.tooShort) }
        if version == ProtocolVersion.negotiationMarker {
            return VersionNegotiationPacket.parse(afterMarker: &reader).map(ParsedPacket.versionNegotiation)
        }
        guard version == ProtocolVersion.current.rawValue else { return .failure(.unknownVersion(version)) }
        guard let typeByte = reader.readUInt8() else { return .failure(.tooShort) }
        guard let type = PacketType(rawValue: typeByte) else { return .failure(.unknownType(typeByte)) }
        switch type {
        case .initiation:
            return InitiationPacket.parse(afterType: &reader).map(ParsedPacket.initiation)
        case .response:
            return HandshakeMessagePacket.parse(afterType: &reader, type: type).map(ParsedPacket.response)
        case .finish:
            return HandshakeMessagePacket.parse(afterType: &reader, type: type).map(ParsedPacket.finish)
        case .cookie:
            return CookiePacket.parse(afterType: &reader).map(ParsedPacket.cookie)
        case .data, .dataKeyPhaseOne:
            return DataPacket.parse(afterType: &reader, type: type).map(ParsedPacket.data)
        }
    }
}

/// A datagram's packet, parsed in place (PROTOCOL.md §3). Not `Sendable`:
/// the slices it carries borrow the datagram.
package enum ParsedPacket {
    /// Type `0x01`, §3.1.
    case initiation(InitiationPacket)
    /// Type `0x02`, §3.2.
    case response(HandshakeMessagePacket)
    /// Type `0x03`, §3.3 (XX only).
    case finish(HandshakeMessagePacket)
    /// Type `0x04`, §4.2.
    case cookie(CookiePacket)
    /// Types `0x10` and `0x11`, §3.4.
    case data(DataPacket)
    /// Byte 0 is `0x00`, §3.5.
    case versionNegotiation(VersionNegotiationPacket)
}

/// Why a datagram was dropped before any cryptography (PROTOCOL.md §3, §4.1).
/// Each maps to a drop counter; none is ever answered except
/// ``unknownVersion(_:)`` (with version negotiation, §3.5).
package enum PacketDropReason: Error, Hashable, Sendable, CustomStringConvertible {
    /// Shorter than its kind's minimum (or empty).
    case tooShort
    /// Byte 0 names a version this endpoint does not speak.
    case unknownVersion(UInt8)
    /// "Any other type in a version-1 packet is dropped and counted as
    /// `malformed`" (§3): the type byte, for the trace.
    case unknownType(UInt8)
    /// An Initiation whose suite byte names no known suite (§3.1).
    case unsupportedSuite(UInt8)
    /// Well-formed start, wrong shape: a Cookie packet longer than 66 bytes,
    /// trailing bytes after a version list, a bad version-negotiation marker.
    case malformed

    /// The counter this drop is counted under (PROTOCOL.md names).
    package var counterName: StaticString {
        switch self {
        case .tooShort, .unknownType, .malformed: "malformed"
        case .unknownVersion: "unknownVersion"
        case .unsupportedSuite: "unsupportedSuite"
        }
    }

    package var description: String {
        switch self {
        case .tooShort: "too short"
        case .unknownVersion(let version): "unknown version 0x\(String(version, radix: 16))"
        case .unknownType(let type): "unknown packet type 0x\(String(type, radix: 16))"
        case .unsupportedSuite(let suite): "unsupported suite 0x\(String(suite, radix: 16))"
        case .malformed: "malformed"
        }
    }
}

/// A protocol version: byte 0 of every packet (PROTOCOL.md §1, §3).
package struct ProtocolVersion: Hashable, Sendable, CustomStringConvertible {
    package var rawValue: UInt8
    package init(_ rawValue: UInt8) { self.rawValue = rawValue }

    /// Version 1: no timestamp in the Initiation. Retired: a version-1
    /// packet is answered with version negotiation (§3.5, §11).
    package static let v1 = ProtocolVersion(0x01)
    /// Version 2: the IK Initiation carries a timestamp (§4.4). Retired: its
    /// Data packets show their packet numbers in clear (§11).
    package static let v2 = ProtocolVersion(0x02)
    /// Version 3, this document: the Data packet number is header-protected
    /// (§3.4, §5.5).
    package static let v3 = ProtocolVersion(0x03)
    /// The version this implementation writes.
    package static let current = ProtocolVersion.v3
    /// The versions this implementation speaks, in order of preference.
    package static let supported: [ProtocolVersion] = [.current]
    /// Byte 0 of a version-negotiation packet (§3.5); never a version.
    package static let negotiationMarker: UInt8 = 0x00

    package var description: String { "v\(rawValue)" }
}

/// Byte 1 of a packet of the current version (PROTOCOL.md §3).
package enum PacketType: UInt8, Sendable, CaseIterable {
    case initiation = 0x01
    case response = 0x02
    case finish = 0x03
    case cookie = 0x04
    /// Data, key phase 0.
    case data = 0x10
    /// Data, key phase 1.
    case dataKeyPhaseOne = 0x11
}

/// The key phase bit of a Data packet (PROTOCOL.md §5.3): which of the two
/// live keys of a direction protects it. Starts at ``zero``; each key update
/// flips it.
package enum KeyPhase: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case zero = 0
    case one = 1

    /// The other phase: what the next key update switches to.
    package var flipped: KeyPhase {
        switch self {
        case .zero: .one
        case .one: .zero
        }
    }

    package var description: String { "phase \(rawValue)" }
}
