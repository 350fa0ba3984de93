/// What each end announces in its HANDSHAKE frame (PROTOCOL.md §6.15): the
/// initial flow-control credit and limits it grants the peer, its timers, and
/// (initiator only) the (service, protocol) it asks for.
///
/// Defaults are the table's; a parameter left at its default is not written
/// (the receiver assumes the default), so a typical HANDSHAKE frame is small.
///
/// On the wire each parameter is an (id varint, length varint, value) triple.
/// A receiver ignores ids it does not know ("unknown ids ignored"), checks
/// every value's length against the triple's length and that no known id
/// appears twice; any violation is a `FRAME_ENCODING_ERROR` naming the
/// HANDSHAKE frame. Whether the responder may send `service`/`protocol`
/// ("initiator only") is the handshake's check, not the codec's.
public struct TransportParameters: Hashable, Sendable {
    /// The service the initiator wants (UTF-8); `nil` when not sent.
    public var service: String?
    /// The application protocol the initiator wants (UTF-8); `nil` when not sent.
    public var applicationProtocol: String?
    /// The connection credit granted to the peer, in bytes (default 1 MiB).
    public var initialMaxData: UInt64
    /// Each stream's initial credit, in bytes (default 256 KiB).
    public var initialMaxStreamData: UInt64
    /// Streams the peer may open before the first MAX_STREAMS (default 1,024);
    /// at most ``StreamID/maximumStreamCount``.
    public var initialMaxStreams: UInt64
    /// The longest this end delays an ACK (default 25 ms).
    public var maxAckDelayMicroseconds: UInt64
    /// Silence after which this end forgets the connection (default 30 s).
    public var idleTimeoutMilliseconds: UInt64
    /// The largest datagram this end receives (default 1,350 bytes, §9).
    public var maxDatagramSize: UInt64
    /// Whether this end has hardware AES (§5.4), so a later connection may use AESGCM.
    public var hasHardwareAES: Bool
    /// The sender's Ed25519 public key (PROTOCOL.md §6.15, id 0x0a): Noise
    /// authenticates only the X25519 static key, and the X25519 → Ed25519
    /// direction is ambiguous, so the EID travels here and the receiver checks
    /// that its conversion is the Noise static key it authenticated.
    public var identity: Ed25519.PublicKey?
    /// The initiator's wall-clock time when it built its IK Initiation
    /// (PROTOCOL.md §4.4, §6.15, id 0x0b): required in an IK Initiation,
    /// absent everywhere else. The responder refuses one that is not newer
    /// than the greatest it accepted from the same static key.
    public var initiationTimestamp: WallClockTime?
    /// Spare connection ids this end keeps from its peer (PROTOCOL.md §6.15,
    /// §7.3, id 0x0c; default 0): a peer that announces none is sent no
    /// NEW_CONNECTION_ID, which keeps older peers, which do not know
    /// RETIRE_CONNECTION_ID, working.
    public var activeConnectionIDLimit: UInt64 = 0
    /// The largest record this end reads whole (PROTOCOL.md §6.3, §6.15, id
    /// 0x14): its stream window's cap, default 16 MiB (the default
    /// `maxStreamWindow`, also what a peer that leaves it out is assumed to
    /// read). A larger record would fill the window and never complete, so
    /// the writer refuses it at once.
    public var maxRecordSize: UInt64

    public init(
        service: String? = nil, applicationProtocol: String? = nil,
        initialMaxData: UInt64 = 1 << 20, initialMaxStreamData: UInt64 = 256 << 10,
        initialMaxStreams: UInt64 = 1_024, maxAckDelayMicroseconds: UInt64 = 25_000,
        idleTimeoutMilliseconds: UInt64 = 30_000, maxDatagramSize: UInt64 = 1_350, hasHardwareAES: Bool = false,
        maxRecordSize: UInt64 = 16 << 20
    ) {
        self.service = service
        self.applicationProtocol = applicationProtocol
        self.initialMaxData = initialMaxData
        self.initialMaxStreamData = initialMaxStreamData
        self.initialMaxStreams = initialMaxStreams
        self.maxAckDelayMicroseconds = maxAckDelayMicroseconds
        self.idleTimeoutMilliseconds = idleTimeoutMilliseconds
        self.maxDatagramSize = maxDatagramSize
        self.hasHardwareAES = hasHardwareAES
        self.identity = nil
        self.initiationTimestamp = nil
        self.maxRecordSize = maxRecordSize
    }

    /// All defaults, no service or protocol.
    public static let defaults = TransportParameters()
}

/// The parameter ids of PROTOCOL.md §6.15.
package enum TransportParameterID: UInt64, Sendable, CaseIterable {
    case service = 0x01
    case applicationProtocol = 0x02
    case initialMaxData = 0x03
    case initialMaxStreamData = 0x04
    case initialMaxStreams = 0x05
    case maxAckDelay = 0x06
    case idleTimeout = 0x07
    case maxDatagramSize = 0x08
    case hardwareAES = 0x09
    case identity = 0x0a
    case initiationTimestamp = 0x0b
    case activeConnectionIDLimit = 0x0c
    case maxRecordSize = 0x14
}

extension TransportParameters {
    /// Bytes ``encode(into:)`` writes: the triples only, without the
    /// HANDSHAKE frame's length prefix.
    package var encodedCount: Int {
        var count = 0
        forEachEncodedParameter { id, valueCount, _ in
            count += VarInt.encodedCount(id.rawValue) + VarInt.encodedCount(UInt64(valueCount)) + valueCount
        }
        return count
    }

    /// Writes the parameters that differ from their defaults, plus `service`
    /// and `applicationProtocol` when set.
    /// - Precondition: every value is a valid varint and `initialMaxStreams`
    ///   ≤ ``StreamID/maximumStreamCount``.
    /// - Returns: false, writing nothing, when they do not fit.
    package func encode(into writer: inout WireWriter) -> Bool {
        guard writer.remaining >= encodedCount else { return false }
        forEachEncodedParameter { id, valueCount, writeValue in
            writer.writeVarInt(id.rawValue)
            writer.writeVarInt(UInt64(valueCount))
            writeValue(&writer)
        }
        return true
    }

    /// Decodes a run of triples that fills `bytes` exactly.
    /// - Throws: `FRAME_ENCODING_ERROR` (frame type HANDSHAKE) for a truncated
    ///   triple, a value of the wrong length or range, invalid UTF-8 in
    ///   `service`/`protocol`, or a known id given twice.
    package static func decode(_ bytes: UnsafeRawBufferPointer) throws(PeerError) -> TransportParameters {
        let frameType = FrameKind.handshake.frameType
        var parameters = TransportParameters()
        var reader = WireReader(bytes)
        var seen: UInt32 = 0
        while !reader.isAtEnd {
            guard let rawID = reader.readVarInt(), let value = reader.readLengthPrefixedBytes() else {
                throw .frameEncoding(frameType, "transport parameter truncated")
            }
            guard let id = TransportParameterID(rawValue: rawID) else { continue }
            let bit: UInt32 = 1 << UInt32(id.rawValue)
            guard seen & bit == 0 else { throw .frameEncoding(frameType, "transport parameter repeated") }
            seen |= bit
            try parameters.set(id, from: value)
        }
        return parameters
    }

    private mutating func set(_ id: TransportParameterID, from value: UnsafeRawBufferPointer) throws(PeerError) {
        switch id {
        case .service: service = try Self.utf8(value)
        case .applicationProtocol: applicationProtocol = try Self.utf8(value)
        case .initialMaxData: initialMaxData = try Self.varInt(value)
        case .initialMaxStreamData: initialMaxStreamData = try Self.varInt(value)
        case .initialMaxStreams:
            initialMaxStreams = try Self.varInt(value)
            guard initialMaxStreams <= StreamID.maximumStreamCount else {
                throw .frameEncoding(FrameKind.handshake.frameType, "initial max streams beyond the stream id space")
            }
        case .maxAckDelay: maxAckDelayMicroseconds = try Self.varInt(value)
        case .idleTimeout: idleTimeoutMilliseconds = try Self.varInt(value)
        case .maxDatagramSize: maxDatagramSize = try Self.varInt(value)
        case .hardwareAES:
            let flag = try Self.varInt(value)
            guard flag <= 1 else { throw .frameEncoding(FrameKind.handshake.frameType, "hardware AES is neither 0 nor 1") }
            hasHardwareAES = flag == 1
        case .identity:
            guard let key = try? Ed25519.PublicKey(rawRepresentation: value) else {
                throw .frameEncoding(FrameKind.handshake.frameType, "identity is not a 32-byte key")
            }
            identity = key
        case .initiationTimestamp:
            guard let timestamp = WallClockTime.decode(value) else {
                throw .frameEncoding(FrameKind.handshake.frameType, "initiation timestamp is not 12 bytes of seconds and nanoseconds")
            }
            initiationTimestamp = timestamp
        case .activeConnectionIDLimit: activeConnectionIDLimit = try Self.varInt(value)
        case .maxRecordSize: maxRecordSize = try Self.varInt(value)
        }
    }

    /// A varint that fills the value exactly.
    private static func varInt(_ value: UnsafeRawBufferPointer) throws(PeerError) -> UInt64 {
        var reader = WireReader(value)
        guard let number = reader.readVarInt(), reader.isAtEnd else {
            throw .frameEncoding(FrameKind.handshake.frameType, "transport parameter length does not match its varint")
        }
        return number
    }

    private static func utf8(_ value: UnsafeRawBufferPointer) throws(PeerError) -> String {
        guard let text = String(validating: value, as: UTF8.self) else {
            throw .frameEncoding(FrameKind.handshake.frameType, "service or protocol is not UTF-8")
        }
        return text
    }

    /// Calls `body` for each parameter to write, in id order: its id, its
    /// value's length, and a function that writes the value.
    private func forEachEncodedParameter(
        _ body: (TransportParameterID, Int, (inout WireWriter) -> Void) -> Void
    ) {
        let defaults = TransportParameters.defaults
        for id in TransportParameterID.allCases {
            switch id {
            case .service:
                if let service { Self.visit(text: service, id: id, body) }
            case .applicationProtocol:
                if let applicationProtocol { Self.visit(text: applicationProtocol, id: id, body) }
            case .initialMaxData:
                Self.visit(initialMaxData, default: defaults.initialMaxData, id: id, body)
            case .initialMaxStreamData:
                Self.visit(initialMaxStreamData, default: defaults.initialMaxStreamData, id: id, body)
            case .initialMaxStreams:
                precondition(initialMaxStreams <= StreamID.maximumStreamCount, "initial max streams out of range")
                Self.visit(initialMaxStreams, default: defaults.initialMaxStreams, id: id, body)
            case .maxAckDelay:
                Self.visit(maxAckDelayMicroseconds, default: defaults.maxAckDelayMicroseconds, id: id, body)
            case .idleTimeout:
                Self.visit(idleTimeoutMilliseconds, default: defaults.idleTimeoutMilliseconds, id: id, body)
            case .maxDatagramSize:
                Self.visit(maxDatagramSize, default: defaults.maxDatagramSize, id: id, body)
            case .hardwareAES:
                Self.visit(hasHardwareAES ? 1 : 0, default: defaults.hasHardwareAES ? 1 : 0, id: id, body)
            case .identity:
                if let identity {
                    body(id, Ed25519.publicKeyCount) { writer in identity.withUnsafeBytes { _ = writer.writeBytes($0) } }
                }
            case .initiationTimestamp:
                if let initiationTimestamp {
                    body(id, WallClockTime.encodedCount) { writer in _ = initiationTimestamp.encode(into: &writer) }
                }
            case .activeConnectionIDLimit:
                Self.visit(activeConnectionIDLimit, default: defaults.activeConnectionIDLimit, id: id, body)
            case .maxRecordSize:
                Self.visit(maxRecordSize, default: defaults.maxRecordSize, id: id, body)
            }
        }
    }

    private static func visit(
        _ value: UInt64, default defaultValue: UInt64, id: TransportParameterID,
        _ body: (TransportParameterID, Int, (inout WireWriter) -> Void) -> Void
    ) {
        guard value != defaultValue else { return }
        body(id, VarInt.encodedCount(value)) { $0.writeVarInt(value) }
    }

    private static func visit(
        text: String, id: TransportParameterID, _ body: (TransportParameterID, Int, (inout WireWriter) -> Void) -> Void
    ) {
        body(id, text.utf8.count) { writer in
            for byte in text.utf8 { writer.writeUInt8(byte) }
        }
    }
}
