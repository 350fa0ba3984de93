/// A packet number: 0, 1, 2, … per direction, never reused (PROTOCOL.md §3.4).
public struct PacketNumber: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: PacketNumber, b: PacketNumber) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "#\(rawValue)" }
    /// The largest packet number the protocol allows (the varint range).
    public static let max = PacketNumber(VarInt.maxValue)
}

/// A stream id (PROTOCOL.md §6.2): the low bit names the side that opened the
/// stream (0 initiator, 1 responder); ids go up by 2 per opener.
public struct StreamID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    /// The `index`th stream opened by `side` (0-based).
    public init(opener side: Side, index: UInt64) {
        rawValue = index << 1 | (side == .initiator ? 0 : 1)
    }
    public var opener: Side { rawValue & 1 == 0 ? .initiator : .responder }
    public var index: UInt64 { rawValue >> 1 }
    public static func < (a: StreamID, b: StreamID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "stream \(rawValue)" }
}

/// A connection id: the 8 random bytes under which an end receives
/// (PROTOCOL.md §2). Held inline; hashable without allocating.
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    public static let count = 8
    public var rawValue: UInt64

    /// The 8 bytes, read big-endian.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Exactly 8 bytes; `nil` otherwise.
    public init?(_ bytes: some ContiguousBytes) {
        guard let value: UInt64 = bytes.withUnsafeBytes({ raw in
            guard raw.count == Self.count else { return nil }
            return raw.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }) else { return nil }
        rawValue = value
    }

    /// A fresh random CID.
    public init(using random: inout some RandomSource) {
        rawValue = random.next()
    }

    public var bytes: [UInt8] { withUnsafeBytes(of: rawValue.bigEndian) { Array($0) } }
    public var description: String { Hex.encode(bytes) }
}

/// A protocol error code carried by CLOSE and RESET frames (PROTOCOL.md §6.4).
public struct ErrorCode: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public static let noError = ErrorCode(0x0)
    public static let internalError = ErrorCode(0x1)
    public static let serviceRefused = ErrorCode(0x2)
    public static let flowControlError = ErrorCode(0x3)
    public static let streamLimitError = ErrorCode(0x4)
    public static let streamStateError = ErrorCode(0x5)
    public static let finalSizeError = ErrorCode(0x6)
    public static let frameEncodingError = ErrorCode(0x7)
    public static let protocolViolation = ErrorCode(0x8)
    public static let idleTimeout = ErrorCode(0x9)
    public static let keyUpdateError = ErrorCode(0xa)
    /// Too many packets failed authentication under this connection's keys
    /// (the AEAD integrity limit, PROTOCOL.md §5.6).
    public static let aeadLimitReached = ErrorCode(0xb)
    /// Codes from here on belong to the application.
    public static let firstApplicationCode: UInt64 = 0x100

    public var name: String {
        switch rawValue {
        case 0x0: "NO_ERROR"
        case 0x1: "INTERNAL_ERROR"
        case 0x2: "SERVICE_REFUSED"
        case 0x3: "FLOW_CONTROL_ERROR"
        case 0x4: "STREAM_LIMIT_ERROR"
        case 0x5: "STREAM_STATE_ERROR"
        case 0x6: "FINAL_SIZE_ERROR"
        case 0x7: "FRAME_ENCODING_ERROR"
        case 0x8: "PROTOCOL_VIOLATION"
        case 0x9: "IDLE_TIMEOUT"
        case 0xa: "KEY_UPDATE_ERROR"
        case 0xb: "AEAD_LIMIT_REACHED"
        default: rawValue >= Self.firstApplicationCode ? "APPLICATION(\(rawValue))" : "UNKNOWN(\(rawValue))"
        }
    }

    public var description: String { name }
}

/// The peer broke the protocol: what the connection closes with.
/// Cheap to build on the cold path: a static reason.
public struct PeerError: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: ErrorCode
    /// The frame type that caused it, when one did.
    public var frameType: UInt64?
    public var reason: StaticString

    @inline(never)
    public init(_ code: ErrorCode, frameType: UInt64? = nil, _ reason: StaticString) {
        self.code = code
        self.frameType = frameType
        self.reason = reason
    }

    public static func == (a: PeerError, b: PeerError) -> Bool {
        a.code == b.code && a.frameType == b.frameType && "\(a.reason)" == "\(b.reason)"
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(frameType)
    }

    public var description: String {
        "\(code.name)\(frameType.map { " in frame 0x\(String($0, radix: 16))" } ?? ""): \(reason)"
    }
}

/// A QUIC variable-length integer (RFC 9000 §16): values below 2^62.
public enum VarInt {
    public static let maxValue: UInt64 = (1 << 62) - 1

    /// Bytes needed to encode `value` in the shortest form.
    @inline(__always)
    public static func encodedCount(_ value: UInt64) -> Int {
        precondition(value <= maxValue, "varint value out of range")
        switch value {
        case 0..<(1 << 6): return 1
        case 0..<(1 << 14): return 2
        case 0..<(1 << 30): return 4
        default: return 8
        }
    }
}
