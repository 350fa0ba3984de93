/// The frame types of PROTOCOL.md §6, one case per row of its table.
///
/// "A frame is a `varint` type followed by its fields. Unknown frame types
/// close the connection with `FRAME_ENCODING_ERROR` (there is no way to skip a
/// frame of unknown length)." STREAM is one kind covering sixteen type values
/// (`0x10`–`0x1f`), whose low four bits are flags (§6.2).
///
/// Switch over it exhaustively: a new frame kind must break the
/// build wherever frames are handled.
package enum FrameKind: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case padding
    case ping
    case ack
    case resetStream
    case stopSending
    case maxData
    case maxStreamData
    case dataBlocked
    case streamDataBlocked
    case maxStreams
    case streamsBlocked
    case stream
    case streamOpen
    case priority
    case datagram
    case listen
    case close
    case pathChallenge
    case pathResponse
    case newConnectionID
    case retireConnectionID
    case handshake

    /// The kind of a frame type read off the wire; `nil` for an unknown type.
    @inline(__always)
    package init?(frameType: UInt64) {
        switch frameType {
        case 0x00: self = .padding
        case 0x01: self = .ping
        case 0x02: self = .ack
        case 0x03: self = .resetStream
        case 0x04: self = .stopSending
        case 0x05: self = .maxData
        case 0x06: self = .maxStreamData
        case 0x07: self = .dataBlocked
        case 0x08: self = .streamDataBlocked
        case 0x09: self = .maxStreams
        case 0x0a: self = .streamsBlocked
        case 0x10...0x1f: self = .stream
        case 0x20: self = .streamOpen
        case 0x21: self = .priority
        case 0x22: self = .datagram
        case 0x23: self = .listen
        case 0x30: self = .close
        case 0x40: self = .pathChallenge
        case 0x41: self = .pathResponse
        case 0x42: self = .newConnectionID
        case 0x43: self = .retireConnectionID
        case 0x50: self = .handshake
        default: return nil
        }
    }

    /// The type value (for STREAM, the value with no flags set).
    package var frameType: UInt64 {
        switch self {
        case .padding: 0x00
        case .ping: 0x01
        case .ack: 0x02
        case .resetStream: 0x03
        case .stopSending: 0x04
        case .maxData: 0x05
        case .maxStreamData: 0x06
        case .dataBlocked: 0x07
        case .streamDataBlocked: 0x08
        case .maxStreams: 0x09
        case .streamsBlocked: 0x0a
        case .stream: 0x10
        case .streamOpen: 0x20
        case .priority: 0x21
        case .datagram: 0x22
        case .listen: 0x23
        case .close: 0x30
        case .pathChallenge: 0x40
        case .pathResponse: 0x41
        case .newConnectionID: 0x42
        case .retireConnectionID: 0x43
        case .handshake: 0x50
        }
    }

    /// Whether receiving it obliges the receiver to acknowledge the packet
    /// (§8, as RFC 9002 §2): everything but PADDING, ACK and CLOSE.
    package var isAckEliciting: Bool {
        switch self {
        case .padding, .ack, .close: false
        case .ping, .resetStream, .stopSending, .maxData, .maxStreamData, .dataBlocked, .streamDataBlocked,
             .maxStreams, .streamsBlocked, .stream, .streamOpen, .priority, .datagram, .listen, .pathChallenge, .pathResponse,
             .newConnectionID, .retireConnectionID, .handshake:
            true
        }
    }

    /// "HANDSHAKE: only inside Noise payloads" (§6): the one kind a Data
    /// packet may not carry. The frame decoder does not know where its payload
    /// came from; the connection checks this and closes with
    /// `PROTOCOL_VIOLATION`.
    package var isAllowedInDataPackets: Bool {
        switch self {
        case .handshake: false
        case .padding, .ping, .ack, .resetStream, .stopSending, .maxData, .maxStreamData, .dataBlocked,
             .streamDataBlocked, .maxStreams, .streamsBlocked, .stream, .streamOpen, .priority, .datagram, .listen, .close,
             .pathChallenge, .pathResponse, .newConnectionID, .retireConnectionID:
            true
        }
    }

    /// The name in PROTOCOL.md's table.
    package var description: String {
        switch self {
        case .padding: "PADDING"
        case .ping: "PING"
        case .ack: "ACK"
        case .resetStream: "RESET_STREAM"
        case .stopSending: "STOP_SENDING"
        case .maxData: "MAX_DATA"
        case .maxStreamData: "MAX_STREAM_DATA"
        case .dataBlocked: "DATA_BLOCKED"
        case .streamDataBlocked: "STREAM_DATA_BLOCKED"
        case .maxStreams: "MAX_STREAMS"
        case .streamsBlocked: "STREAMS_BLOCKED"
        case .stream: "STREAM"
        case .streamOpen: "STREAM_OPEN"
        case .priority: "PRIORITY"
        case .datagram: "DATAGRAM"
        case .listen: "LISTEN"
        case .close: "CLOSE"
        case .pathChallenge: "PATH_CHALLENGE"
        case .pathResponse: "PATH_RESPONSE"
        case .newConnectionID: "NEW_CONNECTION_ID"
        case .retireConnectionID: "RETIRE_CONNECTION_ID"
        case .handshake: "HANDSHAKE"
        }
    }
}
