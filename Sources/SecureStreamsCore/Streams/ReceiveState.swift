/// The life of a stream's receiving half, modelled on RFC 9000 §3.2.
///
/// ```
///        open (local, or implicitly by the peer's first frame)
///             |
///             v
///        +---------+  RESET_STREAM
///        |  recv   |---------------------------+
///        +---------+                           |
///             | STREAM frame with FIN          |
///             v                                |
///        +-----------+  RESET_STREAM           v
///        | sizeKnown |------------------->+------------+
///        +-----------+                    | resetRecvd |
///             | every byte arrived        +------------+
///             v                                | app told of the reset
///        +-----------+                         v
///        | dataRecvd |                    +------------+
///        +-----------+                    | resetRead  |
///             | app read every byte       +------------+
///             v
///        +-----------+
///        | dataRead  |
///        +-----------+
/// ```
///
/// Each state past `recv` carries the final size, so the state machine
/// itself rejects what contradicts it (RFC 9000 §4.5), with
/// `FINAL_SIZE_ERROR`: a FIN or RESET_STREAM giving another final size, data
/// beyond it, or a final size below data already received. A RESET_STREAM
/// that arrives in `dataRecvd` is checked and ignored: every byte is here, so
/// the application still gets them (RFC 9000 allows either choice).
/// `dataRead` and `resetRead` are terminal.
enum ReceiveState: Hashable, Sendable {
    /// Receiving; the final size is not known yet.
    case recv
    /// The FIN arrived: the final size is known; bytes are still missing.
    case sizeKnown(finalSize: UInt64)
    /// Every byte up to the final size arrived; the application is reading.
    case dataRecvd(finalSize: UInt64)
    /// The application read everything. Terminal.
    case dataRead(finalSize: UInt64)
    /// The peer reset the stream; the application has not been told yet.
    case resetRecvd(finalSize: UInt64, ErrorCode)
    /// The application was told of the reset. Terminal.
    case resetRead(finalSize: UInt64, ErrorCode)

    /// The final size, once known.
    var finalSize: UInt64? {
        switch self {
        case .recv: nil
        case .sizeKnown(let size), .dataRecvd(let size), .dataRead(let size),
             .resetRecvd(let size, _), .resetRead(let size, _): size
        }
    }

    /// The code of the peer's reset, once one arrived.
    var resetCode: ErrorCode? {
        switch self {
        case .resetRecvd(_, let code), .resetRead(_, let code): code
        case .recv, .sizeKnown, .dataRecvd, .dataRead: nil
        }
    }

    /// Whether nothing more will be delivered or awaited on this half.
    var isTerminal: Bool {
        switch self {
        case .dataRead, .resetRead: true
        case .recv, .sizeKnown, .dataRecvd, .resetRecvd: false
        }
    }

    /// Whether the peer may still need more credit (MAX_STREAM_DATA) and a
    /// STOP_SENDING still makes sense: bytes are still expected.
    var isExpectingData: Bool {
        switch self {
        case .recv, .sizeKnown: true
        case .dataRecvd, .dataRead, .resetRecvd, .resetRead: false
        }
    }

    /// A STREAM frame arrived whose data ends at `end`, with `fin` set or not;
    /// `highestReceived` is the furthest offset received before it.
    /// - Returns: `.accept` (store the data), `.ignore` (data no longer
    ///   needed, but the frame was consistent), or `.violation(FINAL_SIZE_ERROR)`.
    mutating func onStreamFrame(end: UInt64, fin: Bool, highestReceived: UInt64) -> StreamTransition {
        switch self {
        case .recv:
            guard fin else { return .accept }
            if end < highestReceived {
                return .violation(PeerError(.finalSizeError, frameType: 0x11, "FIN below data already received"))
            }
            self = .sizeKnown(finalSize: end)
            return .accept
        case .sizeKnown(let size):
            return Self.check(end: end, fin: fin, against: size) ?? .accept
        case .dataRecvd(let size), .dataRead(let size), .resetRecvd(let size, _), .resetRead(let size, _):
            return Self.check(end: end, fin: fin, against: size) ?? .ignore
        }
    }

    /// Every byte up to the final size arrived.
    /// - Returns: `.accept` moving sizeKnown → dataRecvd, else `.ignore`.
    mutating func onAllDataReceived() -> StreamTransition {
        switch self {
        case .sizeKnown(let size):
            self = .dataRecvd(finalSize: size)
            return .accept
        case .recv, .dataRecvd, .dataRead, .resetRecvd, .resetRead:
            return .ignore
        }
    }

    /// A RESET_STREAM arrived with `code` and `finalSize`.
    /// - Returns: `.accept` (discard the data, tell the application),
    ///   `.ignore` (all data already here, or a duplicate reset), or
    ///   `.violation(FINAL_SIZE_ERROR)`.
    mutating func onReset(_ code: ErrorCode, finalSize: UInt64, highestReceived: UInt64) -> StreamTransition {
        switch self {
        case .recv:
            if finalSize < highestReceived {
                return .violation(PeerError(.finalSizeError, frameType: 0x03, "reset final size below data received"))
            }
            self = .resetRecvd(finalSize: finalSize, code)
            return .accept
        case .sizeKnown(let size):
            if let error = Self.resetMismatch(finalSize, size) { return error }
            self = .resetRecvd(finalSize: size, code)
            return .accept
        case .dataRecvd(let size), .dataRead(let size), .resetRecvd(let size, _), .resetRead(let size, _):
            return Self.resetMismatch(finalSize, size) ?? .ignore
        }
    }

    /// The application read every byte.
    /// - Returns: `.accept` moving dataRecvd → dataRead, else `.ignore`.
    mutating func onAllDataRead() -> StreamTransition {
        switch self {
        case .dataRecvd(let size):
            self = .dataRead(finalSize: size)
            return .accept
        case .recv, .sizeKnown, .dataRead, .resetRecvd, .resetRead:
            return .ignore
        }
    }

    /// The application was told of the reset.
    /// - Returns: `.accept` moving resetRecvd → resetRead, else `.ignore`.
    mutating func onResetRead() -> StreamTransition {
        switch self {
        case .resetRecvd(let size, let code):
            self = .resetRead(finalSize: size, code)
            return .accept
        case .recv, .sizeKnown, .dataRecvd, .dataRead, .resetRead:
            return .ignore
        }
    }

    /// The application no longer wants the data (it will send STOP_SENDING).
    /// - Returns: `.accept` when a STOP_SENDING makes sense (bytes are still
    ///   expected), `.ignore` otherwise. The state does not change: the peer
    ///   answers with a RESET_STREAM, which moves it.
    func stopSending() -> StreamTransition {
        isExpectingData ? .accept : .ignore
    }

    private static func check(end: UInt64, fin: Bool, against size: UInt64) -> StreamTransition? {
        if fin && end != size {
            return .violation(PeerError(.finalSizeError, frameType: 0x11, "FIN changes the final size"))
        }
        if end > size {
            return .violation(PeerError(.finalSizeError, frameType: 0x10, "data beyond the final size"))
        }
        return nil
    }

    private static func resetMismatch(_ given: UInt64, _ known: UInt64) -> StreamTransition? {
        given == known ? nil
            : .violation(PeerError(.finalSizeError, frameType: 0x03, "reset final size differs from the known one"))
    }
}
