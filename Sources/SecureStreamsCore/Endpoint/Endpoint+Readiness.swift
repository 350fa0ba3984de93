/// Readiness as state (docs/CORE.md, "Events and readiness"): what the
/// application waits on can always be re-read, whatever it polled or missed.
///
/// The events of ``Endpoint/pollEvent()`` that announce readiness are never
/// dropped (``EventQueue``); these queries let an application (or a layer
/// such as the async `Host`) check a condition again at any time, for
/// instance before it parks a waiter, instead of trusting an earlier event.
extension Endpoint {
    /// Whether another connection fits: connections held plus closed ones
    /// whose `closed` event the application has not polled yet stay below
    /// ``EndpointConfiguration/maxConnections``. A closed connection keeps
    /// its place until the application has seen it close, so the closes
    /// waiting to be polled are bounded too.
    public var hasRoomForConnection: Bool {
        connectionCount + events.unreportedCloses < configuration.maxConnections
    }

    /// Closed connections whose `closed` event waits in ``pollEvent()``.
    public var unreportedCloseCount: Int { events.unreportedCloses }

    /// Why the connection behind `handle` ended, once it did and until the
    /// application polled its `closed` event; `nil` while it lives (or once
    /// forgotten).
    public func closeReason(of handle: ConnectionHandle) -> ConnectionError? {
        commandError(for: handle).connectionError
    }

    /// Whether a read on the stream would return something now: bytes, a
    /// whole record, the end of the stream, or the peer's reset.
    /// - Throws: ``CommandError`` when the connection is not established
    ///   or the stream is not open (a stream read to its end and forgotten
    ///   is `unknownStream`).
    public func isReadable(_ stream: StreamID, on connection: ConnectionHandle) throws(CommandError) -> Bool {
        guard let c = established(connection) else { throw commandError(for: connection) }
        guard let entry = c.streams.entry(stream) else { throw .unknownStream(stream) }
        return entry.receive.readableCount > 0 || entry.receive.isFullyRead || entry.state.receive.resetCode != nil
    }

    /// Whether a write on the stream would take at least one byte now (or
    /// fail at once, for a finished or reset stream: that too ends a wait).
    /// - Throws: ``CommandError`` as ``isReadable(_:on:)``.
    public func isWritable(_ stream: StreamID, on connection: ConnectionHandle) throws(CommandError) -> Bool {
        guard let c = established(connection) else { throw commandError(for: connection) }
        guard let entry = c.streams.entry(stream) else { throw .unknownStream(stream) }
        switch entry.state.send {
        case .resetSent, .resetRecvd, .dataSent, .dataRecvd: return true
        case .ready, .send: return entry.send.isFinished || entry.send.availableSpace > 0
        }
    }
}
