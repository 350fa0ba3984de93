import SecureStreamsCore

/// Everything a `Host` knows about its connections and streams, confined to
/// the driver's loop thread: only `Driver.execute` bodies and the endpoint's
/// event handler touch it, so it needs no lock.
///
/// It turns the endpoint's events into resumed continuations (connects,
/// reads, writes, opens) and into elements of the public async sequences.
///
/// Every waiter is resumed by a readiness event the core never drops
/// (`connected`, `streamOpened`, `streamReadable`, `streamWritable`,
/// `streamReset`, `streamStopped`, `streamsAvailable`, `closed`: see
/// docs/CORE.md, "Events and readiness"). The droppable notices (link, path,
/// receive blocked) only feed the `events` sequences, which nobody waits on
/// for progress.
final class HostCore: @unchecked Sendable {
    /// Set by the first `execute` body after the driver started; cleared at
    /// shutdown (it closes the cycle runtime → core → runtime).
    var runtime: Runtime?
    var isShutDown = false

    var connections: [ConnectionHandle: ConnectionState] = [:]
    var pendingConnects: [ConnectionHandle: PendingConnect] = [:]
    var listeners: [ListenKey: Listening] = [:]

    struct ListenKey: Hashable {
        var service: String
        var applicationProtocol: String
    }

    /// A listener's sequences (accepted, refused) and the peers it admits.
    struct Listening {
        var continuation: AsyncStream<Connection>.Continuation
        var refusals: AsyncStream<RefusedPeer>.Continuation
        var trust: PeerTrust
    }

    struct PendingConnect {
        var address: PeerAddress
        var token: WaitToken
        var continuation: Reply<Connection>
    }

    // MARK: - Events

    func handle(_ event: Event, loop: EndpointLoop) {
        switch event {
        case .connected(let handle, let peer, let service, let proto, let side):
            connected(handle, peer: peer, service: service, protocol: proto, side: side, loop: loop)
        case .streamOpened(let handle, let id):
            guard let connection = connections[handle] else { return }
            let state = connection.stream(id, runtime: runtime)
            if let state { connection.incoming.yield(state.object) }
        case .streamReadable(let handle, let id):
            connections[handle]?.streams[id]?.serveReaders(loop: loop)
        case .streamWritable(let handle, let id):
            connections[handle]?.streams[id]?.serveWriters(loop: loop)
        case .streamReset(let handle, let id, let code):
            guard let stream = connections[handle]?.streams[id] else { return }
            stream.resetByPeer = code
            stream.events.yield(.reset(code))
            stream.serveReaders(loop: loop)
        case .streamStopped(let handle, let id, let code):
            guard let stream = connections[handle]?.streams[id] else { return }
            stream.stoppedByPeer = code
            stream.events.yield(.stopped(code))
            stream.failWriters(HostError(.streamStopped(id, code)))
        case .receiveBlocked(let handle, let id):
            guard let connection = connections[handle] else { return }
            if let id { connection.streams[id]?.events.yield(.receiveBlocked) }
        case .streamsAvailable(let handle):
            connections[handle]?.serveOpeners(loop: loop)
        case .linkUp(let handle):
            connections[handle]?.broadcast(.linkUp, .linkUp)
        case .linkStalled(let handle):
            connections[handle]?.broadcast(.linkStalled, .linkStalled)
        case .linkDown(let handle):
            connections[handle]?.broadcast(.linkDown, .linkDown)
        case .pathChanged(let handle, let address):
            connections[handle]?.events.yield(.pathChanged(address))
        case .closed(let handle, let error):
            if let pending = pendingConnects.removeValue(forKey: handle) {
                pending.continuation.resume(throwing: HostError(.connectionFailed(address: pending.address, error)))
            }
            if let connection = connections.removeValue(forKey: handle) {
                connection.end(error)
            }
        }
    }

    private func connected(
        _ handle: ConnectionHandle, peer: EndpointID, service: String, protocol proto: String, side: Side,
        loop: EndpointLoop
    ) {
        guard let runtime else { return }
        let connection = Connection(
            runtime: runtime, handle: handle, peer: peer, service: service, protocol: proto, side: side,
            peerMaxRecordSize: loop.endpoint.peerMaxRecordSize(of: handle) ?? TransportParameters.defaults.maxRecordSize)
        let state = ConnectionState(connection: connection)
        switch side {
        case .initiator:
            guard let pending = pendingConnects.removeValue(forKey: handle) else {
                loop.endpoint.close(handle, reason: "nobody waits for this connection", now: loop.now)
                return
            }
            connections[handle] = state
            pending.continuation.resume(returning: connection)
        case .responder:
            guard let listener = listeners[ListenKey(service: service, applicationProtocol: proto)] else {
                loop.endpoint.close(handle, code: .serviceRefused, reason: "no longer listening", now: loop.now)
                return
            }
            guard listener.trust.admits(peer) else {
                let address = loop.endpoint.address(of: handle)
                loop.endpoint.close(handle, code: .serviceRefused, reason: PeerTrust.refusalReason, now: loop.now)
                listener.refusals.yield(RefusedPeer(peer: peer, address: address, service: service, protocol: proto))
                return
            }
            connections[handle] = state
            listener.continuation.yield(connection)
        }
    }

    // MARK: - Cancellation and shutdown

    /// Resumes the waiter holding `token` with `CancellationError`, wherever it waits.
    func cancel(_ token: WaitToken, loop: EndpointLoop) {
        for (handle, pending) in pendingConnects where pending.token === token {
            pendingConnects[handle] = nil
            loop.endpoint.close(handle, reason: "connect cancelled", now: loop.now)
            pending.continuation.resume(throwing: CancellationError())
            return
        }
        for connection in connections.values where connection.cancel(token) { return }
    }

    /// Closes every connection, fails every waiter, ends every sequence.
    func shutDown(loop: EndpointLoop) {
        isShutDown = true
        for (handle, pending) in pendingConnects {
            loop.endpoint.close(handle, reason: "host shut down", now: loop.now)
            pending.continuation.resume(throwing: HostError(.shutDown))
        }
        pendingConnects = [:]
        for (handle, connection) in connections {
            loop.endpoint.close(handle, reason: "host shut down", now: loop.now)
            connection.end(ConnectionError(.closedLocally(code: .noError, reason: "host shut down")))
        }
        connections = [:]
        for listener in listeners.values {
            listener.continuation.finish()
            listener.refusals.finish()
        }
        listeners = [:]
        runtime = nil
    }
}
