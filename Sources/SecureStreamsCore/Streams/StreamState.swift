/// What a stream state machine decided about an event (its
/// operations return what should happen; the caller acts on it).
enum StreamTransition: Hashable, Sendable {
    /// The event is valid here; act on it (store data, send a frame, …).
    case accept
    /// The event is valid but changes nothing: drop it silently.
    case ignore
    /// The peer broke the protocol: close the connection with this error.
    case violation(PeerError)
}

/// Both halves of one bidirectional stream's life: ``SendState`` and
/// ``ReceiveState``. The halves move independently, which is what makes
/// half-close work: after our FIN the receiving half still runs, and after
/// the peer's FIN we may still send. The stream is finished, and can be
/// forgotten, when both halves are terminal.
struct StreamState: Hashable, Sendable {
    var send: SendState = .ready
    var receive: ReceiveState = .recv

    init() {}

    /// Both halves are over: the table may drop the stream.
    var isClosed: Bool { send.isTerminal && receive.isTerminal }
}
