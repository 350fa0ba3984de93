// SecureStreamsLibUV: uv_udp_t and uv_timer_t.
import CLibUV
public import SecureStreams
public import SecureStreamsCore

/// A UDP socket running an ``EndpointLoop`` on a libuv loop: a `uv_udp_t`
/// (recvmmsg; the shared `DriverLoop` sends on its fd with sendmmsg and GSO),
/// one `uv_timer_t` for the endpoint's deadline and a `uv_async_t` that
/// wakes the loop for ``execute(_:)`` and ``shutdown()``. Made by
/// ``LibUVDriverFactory``.
///
/// ## Threads
/// - ``execute(_:)``, ``shutdown()``, ``statistics`` and ``localAddress``
///   may be used from any thread.
/// - Bodies, the endpoint and its `eventHandler` run on the loop thread only.
/// - ``shutdown()`` from the loop thread of an own loop (inside a body or an
///   event handler) closes the handles at once and returns; the thread ends
///   by itself. From any other thread it hands the close to the loop and
///   joins the thread. With a caller's loop it never blocks: the handles
///   close on the loop's next turn, which the caller must let happen
///   (keep running the loop) before `uv_loop_close`.
/// - Dropping the last reference shuts the driver down.
public final class LibUVDriver: Driver {
    /// The address the socket is bound to (with the port the kernel chose).
    public let localAddress: PeerAddress
    /// Whether libuv reads with `recvmmsg(2)` (`uv_udp_using_recvmmsg`).
    public let usesRecvmmsg: Bool

    private let session: LibUVSession
    private let loop: DriverLoop
    /// Own-loop mode only.
    private let loopThread: LibUVLoopThread?

    init(session: LibUVSession, loop: DriverLoop, loopThread: LibUVLoopThread?) {
        self.session = session
        self.loop = loop
        self.loopThread = loopThread
        localAddress = session.localAddress
        usesRecvmmsg = session.usesRecvmmsg
    }

    deinit { shutdown() }

    /// The driver's clock (`uv_hrtime`, monotonic nanoseconds): the `now` to
    /// create the endpoint with and to pass to commands inside bodies.
    public static func now() -> Timestamp { Timestamp(nanoseconds: uv_hrtime()) }

    /// Runs `body` on the loop thread, then sends what became sendable,
    /// delivers the events it caused and re-arms the timer. Returns at once;
    /// bodies run in the order they were submitted, each exactly once, or
    /// never if ``shutdown()`` came first.
    public func execute(_ body: @escaping @Sendable (EndpointLoop) -> Void) { loop.execute(body) }

    /// Closes the socket, the timer and the wake-up; drops pending bodies.
    /// Idempotent, from any thread (see the thread rules above).
    public func shutdown() {
        if let loopThread, loopThread.isCurrent {
            session.closeHandles()
            return
        }
        loop.requestStop()
        loopThread?.join()
    }

    /// The driver's counters now.
    public var statistics: LibUVDriverStatistics { loop.statistics }

    /// Whether ``shutdown()`` has been requested.
    public var isShutDown: Bool { loop.isStopped }

    /// Own-loop mode, after ``shutdown()`` returned: `uv_loop_close`'s status
    /// (`0` means every handle was closed). `nil` with a caller's loop.
    public var loopCloseStatus: Int32? { loopThread?.closeStatus }
}

/// The statistics of a ``LibUVDriver``: the shared driver counters.
public typealias LibUVDriverStatistics = DriverStatistics
