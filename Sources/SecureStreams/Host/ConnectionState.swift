import SecureStreamsCore

/// The loop-side half of a ``Connection``: its streams, the continuations
/// waiting on it, and the producing ends of its public sequences.
final class ConnectionState {
    let object: Connection
    var streams: [StreamID: StreamState] = [:]
    var openers: [Opener] = []
    /// `streamLimitBlocked` was reported and no open succeeded since.
    var isBlockedOnStreamLimit = false
    var closeWaiters: [Reply<ConnectionError>] = []
    var endedWith: ConnectionError?
    let incoming: AsyncStream<Stream>.Continuation
    let events: AsyncStream<ConnectionEvent>.Continuation

    struct Opener {
        var priority: Int
        var token: WaitToken
        var continuation: Reply<Stream>
    }

    init(connection: Connection) {
        object = connection
        incoming = connection.incomingContinuation
        events = connection.eventsContinuation
    }

    var handle: ConnectionHandle { object.handle }

    /// The state of stream `id`, created on first sight (a stream the peer
    /// opened, or one we open).
    func stream(_ id: StreamID, runtime: Runtime?) -> StreamState? {
        if let existing = streams[id] { return existing }
        guard let runtime else { return nil }
        let state = StreamState(object: Stream(runtime: runtime, connection: object, id: id))
        streams[id] = state
        return state
    }

    /// Opens a stream now if the peer's limit allows, else parks the opener.
    func open(priority: Int, token: WaitToken, continuation: Reply<Stream>, loop: EndpointLoop) {
        if let endedWith {
            continuation.resume(throwing: HostError(.connectionClosed(endedWith)))
            return
        }
        openers.append(Opener(priority: priority, token: token, continuation: continuation))
        serveOpeners(loop: loop)
    }

    /// Serves parked openers in order while the peer's stream limit allows.
    func serveOpeners(loop: EndpointLoop) {
        while let opener = openers.first {
            let id: StreamID
            do {
                id = try loop.endpoint.openStream(on: handle, priority: opener.priority)
            } catch {
                // The limit: `streamsAvailable` (never dropped) brings us back.
                if error.kind == .streamLimitReached {
                    if !isBlockedOnStreamLimit { events.yield(.streamLimitBlocked) }
                    isBlockedOnStreamLimit = true
                    return
                }
                openers.removeFirst()
                opener.continuation.resume(throwing: HostError(error))
                continue
            }
            openers.removeFirst()
            isBlockedOnStreamLimit = false
            guard let state = stream(id, runtime: object.runtime) else { return }
            opener.continuation.resume(returning: state.object)
        }
    }

    func broadcast(_ event: ConnectionEvent, _ streamEvent: StreamEvent) {
        events.yield(event)
        for stream in streams.values { stream.events.yield(streamEvent) }
    }

    func cancel(_ token: WaitToken) -> Bool {
        if let index = openers.firstIndex(where: { $0.token === token }) {
            openers.remove(at: index).continuation.resume(throwing: CancellationError())
            return true
        }
        for stream in streams.values where stream.cancel(token) { return true }
        return false
    }

    /// The connection ended: every waiter fails with `error`, every sequence ends.
    func end(_ error: ConnectionError) {
        guard endedWith == nil else { return }
        endedWith = error
        object.ending.withLock { $0 = error }
        let failure = HostError(.connectionClosed(error))
        for opener in openers { opener.continuation.resume(throwing: failure) }
        openers = []
        for stream in streams.values { stream.end(failure) }
        streams = [:]
        incoming.finish()
        events.yield(.closed(error))
        events.finish()
        for waiter in closeWaiters { waiter.resume(returning: error) }
        closeWaiters = []
    }
}
