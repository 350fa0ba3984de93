/// The life of a stream's sending half, modelled on RFC 9000 §3.1.
///
/// ```
///        open (local, or implicitly by the peer)
///             |
///             v
///        +---------+  reset / STOP_SENDING
///        |  ready  |--------------------------+
///        +---------+                          |
///             | first STREAM frame sent       |
///             v                               |
///        +---------+  reset / STOP_SENDING    |
///        |  send   |------------------------->|
///        +---------+                          |
///             | STREAM frame with FIN sent    |
///             v                               v
///        +---------+  reset / STOP_SENDING +-----------+
///        |dataSent |---------------------->| resetSent |
///        +---------+                       +-----------+
///             | every byte and the FIN     | RESET_STREAM
///             | acknowledged               | acknowledged
///             v                            v
///        +---------+                       +------------+
///        |dataRecvd|                       | resetRecvd |
///        +---------+                       +------------+
/// ```
///
/// `dataRecvd` and `resetRecvd` are terminal. Every stream is bidirectional,
/// so nothing the peer sends about our sending half is a state violation
/// here: STOP_SENDING is answered with a reset when there is something to
/// reset and ignored otherwise; MAX_STREAM_DATA is accepted in any state.
/// (A frame for a stream we never opened is caught by ``StreamTable``.)
enum SendState: Hashable, Sendable {
    /// Opened; nothing sent yet.
    case ready
    /// Some data sent; more may follow.
    case send
    /// The FIN went out; waiting for acknowledgements.
    case dataSent
    /// Everything, FIN included, was acknowledged. Terminal.
    case dataRecvd
    /// A RESET_STREAM with this code went out and is not yet acknowledged.
    case resetSent(ErrorCode)
    /// The RESET_STREAM was acknowledged. Terminal.
    case resetRecvd(ErrorCode)

    /// Whether nothing more will ever be sent or awaited on this half.
    var isTerminal: Bool {
        switch self {
        case .dataRecvd, .resetRecvd: true
        case .ready, .send, .dataSent, .resetSent: false
        }
    }

    /// Whether STREAM frames may still go out (new data or retransmissions).
    var isSendingData: Bool {
        switch self {
        case .ready, .send, .dataSent: true
        case .dataRecvd, .resetSent, .resetRecvd: false
        }
    }

    /// A STREAM frame went out; `fin` if it carried the FIN.
    /// - Returns: `.accept` when the frame belongs to the stream's data
    ///   (ready/send/dataSent); `.ignore` once the half is done or reset.
    mutating func onStreamFrameSent(fin: Bool) -> StreamTransition {
        switch self {
        case .ready, .send:
            self = fin ? .dataSent : .send
            return .accept
        case .dataSent:
            return .accept
        case .dataRecvd, .resetSent, .resetRecvd:
            return .ignore
        }
    }

    /// The peer acknowledged every byte and the FIN.
    /// - Returns: `.accept` moving dataSent → dataRecvd, else `.ignore`.
    mutating func onAllAcknowledged() -> StreamTransition {
        switch self {
        case .dataSent:
            self = .dataRecvd
            return .accept
        case .ready, .send, .dataRecvd, .resetSent, .resetRecvd:
            return .ignore
        }
    }

    /// The application resets the stream with `code`.
    /// - Returns: `.accept` when a RESET_STREAM must be sent (from ready,
    ///   send or dataSent); `.ignore` when everything was already delivered
    ///   or a reset is already under way.
    mutating func reset(_ code: ErrorCode) -> StreamTransition {
        switch self {
        case .ready, .send, .dataSent:
            self = .resetSent(code)
            return .accept
        case .dataRecvd, .resetSent, .resetRecvd:
            return .ignore
        }
    }

    /// The peer sent STOP_SENDING with `code`: RFC 9000 §3.5, "An endpoint
    /// that receives a STOP_SENDING frame MUST send a RESET_STREAM frame if
    /// the stream is in the Ready or Send state", and we also answer in
    /// dataSent, where unacknowledged data may still need retransmission.
    /// - Returns: `.accept`: send RESET_STREAM with `code`; `.ignore` otherwise.
    mutating func onStopSending(_ code: ErrorCode) -> StreamTransition {
        reset(code)
    }

    /// The peer acknowledged our RESET_STREAM.
    mutating func onResetAcknowledged() -> StreamTransition {
        switch self {
        case .resetSent(let code):
            self = .resetRecvd(code)
            return .accept
        case .ready, .send, .dataSent, .dataRecvd, .resetRecvd:
            return .ignore
        }
    }

    /// Our RESET_STREAM was lost.
    /// - Returns: `.accept` when it must be sent again (still resetSent).
    func onResetLost() -> StreamTransition {
        switch self {
        case .resetSent: .accept
        case .ready, .send, .dataSent, .dataRecvd, .resetRecvd: .ignore
        }
    }
}
