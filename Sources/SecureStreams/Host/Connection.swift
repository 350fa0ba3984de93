public import SecureStreamsCore

/// What happens to a connection, as ``Connection/events`` reports it.
public enum ConnectionEvent: Sendable, Equatable {
    /// Acknowledgements flow (again) after a stall.
    case linkUp
    /// Several probe timeouts passed without an acknowledgement.
    case linkStalled
    /// Liveness lost; the connection lasts until its idle timeout.
    case linkDown
    /// The peer moved to a new, validated address (NAT rebinding, roaming).
    case pathChanged(PeerAddress)
    /// Opening a stream waits: the peer's stream limit is reached (it has
    /// been told, with STREAMS_BLOCKED). Opens resume when it raises the limit.
    case streamLimitBlocked
    /// The connection ended, with why; the sequence ends after this.
    case closed(ConnectionError)
}

/// An authenticated connection to one peer, carrying many streams.
public final class Connection: Sendable {
    /// The peer's authenticated EID.
    public let peer: EndpointID
    public let service: String
    public let `protocol`: String
    /// Whether this end started the connection.
    public let side: Side
    /// The streams the peer opens, in the order they appear.
    public let incomingStreams: IncomingStreams
    /// Link and lifecycle events (the newest 256 are kept when nobody reads).
    public let events: AsyncStream<ConnectionEvent>
    /// The largest record the peer reads whole (its announced record limit,
    /// 16 MiB by default): ``Stream/writeRecord(_:)`` refuses a larger one
    /// at once with ``HostError`` `.recordTooLarge`.
    public let peerMaxRecordSize: UInt64

    let runtime: Runtime
    let handle: ConnectionHandle
    /// Why the connection ended, once it did (set on the loop).
    let ending = Locked<ConnectionError?>(nil)
    let incomingContinuation: AsyncStream<Stream>.Continuation
    let eventsContinuation: AsyncStream<ConnectionEvent>.Continuation

    init(runtime: Runtime, handle: ConnectionHandle, peer: EndpointID, service: String, protocol proto: String,
         side: Side, peerMaxRecordSize: UInt64) {
        self.runtime = runtime
        self.handle = handle
        self.peer = peer
        self.service = service
        self.protocol = proto
        self.side = side
        self.peerMaxRecordSize = peerMaxRecordSize
        let (incoming, incomingContinuation) = AsyncStream<Stream>.makeStream()
        self.incomingStreams = IncomingStreams(stream: incoming)
        self.incomingContinuation = incomingContinuation
        let (events, eventsContinuation) = AsyncStream<ConnectionEvent>.makeStream(bufferingPolicy: .bufferingNewest(256))
        self.events = events
        self.eventsContinuation = eventsContinuation
    }

    /// Opens a stream (no round trip: the peer learns of it from its first
    /// bytes). Suspends while the peer's stream limit is reached.
    /// - Throws: ``HostError`` `.connectionClosed`, or `CancellationError`.
    public func openStream(priority: Int = 0) async throws -> Stream {
        let handle = self.handle
        return try await runtime.cancellableCall { loop, core, token, continuation in
            guard let state = core.connections[handle] else {
                let error = self.ending.withLock { $0 }
                    ?? ConnectionError(.closedLocally(code: .noError, reason: "the connection is gone"))
                return continuation.resume(throwing: HostError(.connectionClosed(error)))
            }
            state.open(priority: priority, token: token, continuation: continuation, loop: loop)
        }
    }

    /// The connection's statistics now, or `nil` once it ended.
    public func statistics() async -> ConnectionStatistics? {
        let handle = self.handle
        return try? await runtime.call { loop, _, done in done.resume(returning: loop.endpoint.statistics(of: handle)) }
    }

    /// The peer's current address, or `nil` once the connection ended.
    public func address() async -> PeerAddress? {
        let handle = self.handle
        return try? await runtime.call { loop, _, done in done.resume(returning: loop.endpoint.address(of: handle)) }
    }

    /// Closes the connection; the peer learns `code` and `reason`. Waiting
    /// calls fail with ``HostError`` `.connectionClosed`.
    public func close(code: ErrorCode = .noError, reason: String = "") async {
        let handle = self.handle
        let _: Void? = try? await runtime.call { loop, _, done in
            loop.endpoint.close(handle, code: code, reason: reason, now: loop.now)
            done.resume()
        }
    }

    /// Suspends until the connection ends and returns why.
    public func waitUntilClosed() async -> ConnectionError {
        if let error = ending.withLock({ $0 }) { return error }
        let handle = self.handle
        let gone = ConnectionError(.closedLocally(code: .noError, reason: "host shut down"))
        let result: ConnectionError? = try? await runtime.call { _, core, done in
            guard let state = core.connections[handle] else {
                return done.resume(returning: self.ending.withLock { $0 } ?? gone)
            }
            if let error = state.endedWith { return done.resume(returning: error) }
            state.closeWaiters.append(done)
        }
        return result ?? gone
    }
}

/// The streams a peer opens on a ``Connection``.
public struct IncomingStreams: AsyncSequence, Sendable {
    public typealias Element = Stream
    let stream: AsyncStream<Stream>

    public func makeAsyncIterator() -> AsyncStream<Stream>.Iterator { stream.makeAsyncIterator() }
}
