// SecureStreamsDispatch: UDP on a DispatchSource (epoll on Linux).
import Dispatch
public import SecureStreams

/// A ``Driver`` on Dispatch: one non-blocking UDP socket, one serial queue
/// as the loop thread, a read source (recvmmsg batches, GRO), a write source
/// (resumed only while the socket would block), and one timer re-armed from
/// the endpoint's deadline after every input — around the shared
/// `DriverLoop`.
///
/// Started by ``DispatchDriverFactory/start(_:binding:)``. Thread-safe:
/// ``execute(_:)``, ``shutdown()`` and ``statistics`` may be used from any
/// thread, the loop's own included.
///
/// Time is `DispatchTime`'s uptime (see ``currentTime()``): create the
/// loop's `Endpoint` with `now: DispatchDriver.currentTime()` (or an earlier
/// value) so time never goes backwards for it.
public final class DispatchDriver: Driver {
    public let localAddress: PeerAddress
    private let state: DispatchLoop
    private let key: DispatchSpecificKey<ObjectIdentifier>
    private let identity: ObjectIdentifier

    init(state: DispatchLoop, localAddress: PeerAddress, key: DispatchSpecificKey<ObjectIdentifier>) {
        self.state = state
        self.localAddress = localAddress
        self.key = key
        identity = ObjectIdentifier(state)
    }

    deinit { shutdown(waiting: false) }

    /// The driver's clock (monotonic nanoseconds), for creating the endpoint.
    public static func currentTime() -> Timestamp { Timestamp(nanoseconds: DispatchTime.now().uptimeNanoseconds) }

    /// Counters and socket facts, as of the loop's last wake-up.
    public var statistics: DispatchDriverStatistics { state.loop.statistics }

    public func execute(_ body: @escaping @Sendable (EndpointLoop) -> Void) { state.loop.execute(body) }

    /// Stops the loop and closes the socket. From another thread it returns
    /// once the descriptor is closed; from the loop thread (an event handler,
    /// an `execute` body) it returns at once and the close follows when the
    /// current work ends. Idempotent.
    public func shutdown() { shutdown(waiting: true) }

    private func shutdown(waiting: Bool) {
        let state = self.state
        let first = state.loop.requestStop()
        if DispatchQueue.getSpecific(key: key) == identity {
            if first { state.tearDown() }
        } else if waiting {
            if first { state.queue.sync { state.tearDown() } }
            state.closed.wait()
        } else if first {
            state.queue.async { state.tearDown() }
        }
    }
}

/// The statistics of a ``DispatchDriver``: the shared driver counters.
public typealias DispatchDriverStatistics = DriverStatistics
