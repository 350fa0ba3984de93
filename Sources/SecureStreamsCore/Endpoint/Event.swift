/// A connection of an ``Endpoint``: an index into its table and a generation,
/// so a stale handle never reaches a newer connection in the same slot.
public struct ConnectionHandle: Hashable, Sendable, CustomStringConvertible {
    let index: UInt32
    let generation: UInt32

    public var description: String { "connection \(index).\(generation)" }
}

/// What the core tells the application, drained with ``Endpoint/pollEvent()``.
///
/// Two kinds (docs/CORE.md, "Events and readiness"). **Readiness** —
/// `connected`, `streamOpened`, `streamReadable`, `streamWritable`,
/// `streamsAvailable`, `streamReset`, `streamStopped`, `closed` — is never
/// dropped: it is kept as coalesced per-connection and per-stream flags until
/// polled (the same condition set twice before a poll is reported once).
/// **Notices** — `receiveBlocked`, `linkUp`, `linkStalled`, `linkDown`,
/// `pathChanged` — are information only: when more than
/// ``EndpointConfiguration/maxQueuedEvents`` wait, the newest is dropped and
/// counted in ``EndpointStatistics/eventsDropped``; never wait on one.
public enum Event: Sendable, Equatable {
    /// The handshake completed: the peer is authenticated and streams flow.
    /// `peer` is the peer's EID (for an XX connection, the one to pin).
    case connected(ConnectionHandle, peer: EndpointID, service: String, protocol: String, side: Side)
    /// The peer opened a stream.
    case streamOpened(ConnectionHandle, StreamID)
    /// A stream has bytes (or a whole record, or its end) to read.
    case streamReadable(ConnectionHandle, StreamID)
    /// A stream that refused a write has room again.
    case streamWritable(ConnectionHandle, StreamID)
    /// The peer raised its limit on our streams: `openStream` that failed
    /// for the limit may succeed now.
    case streamsAvailable(ConnectionHandle)
    /// The peer reset its sending side of a stream.
    case streamReset(ConnectionHandle, StreamID, ErrorCode)
    /// The peer asked us to stop sending on a stream (we reset it in answer).
    case streamStopped(ConnectionHandle, StreamID, ErrorCode)
    /// The peer cannot send more: our receive window for it is exhausted.
    case receiveBlocked(ConnectionHandle, StreamID?)
    /// Acknowledgements flow (again).
    case linkUp(ConnectionHandle)
    /// Several probe timeouts passed without an acknowledgement.
    case linkStalled(ConnectionHandle)
    /// Liveness lost: no acknowledgement for long enough that the path is
    /// presumed dead (the connection stays until its idle timeout).
    case linkDown(ConnectionHandle)
    /// Traffic moved to a new, validated peer address.
    case pathChanged(ConnectionHandle, PeerAddress)
    /// The connection ended; the handle is no longer valid. Until this event
    /// is polled the connection keeps its place against `maxConnections`
    /// and commands on it fail with ``CommandError`` `closed(reason)`.
    case closed(ConnectionHandle, ConnectionError)
}
