// What a driver hands the shared DriverLoop: its socket, and hooks for its
// clock, its one timer, its wake-up and its wait for writability.
public import SecureStreamsCore

/// The parts of a driver that depend on its event library, called by its
/// ``DriverLoop``. Everything else — draining transmits in batches, GSO,
/// would-block, re-arming the timer, counting, the command queue — is the
/// loop's.
///
/// The loop holds its hooks `unowned`: the object implementing them (the
/// driver's loop-side state) owns the loop and outlives every call.
///
/// ## Room for what comes next
/// - Handlers that run on the loop thread are ``DriverLoop/execute(_:)``
///   bodies and the ``EndpointLoop/eventHandler``; a loop-level handler API
///   adds its calls in ``DriverLoop/afterInput()``, which every input ends with.
/// - File descriptors that mirror stream readiness (a posix-like API) are
///   written from the `eventHandler`, on the loop thread, like any other
///   reaction to an event; a driver that must also watch such descriptors
///   adds them to its own wait (poll set, sources, handles) and calls
///   ``DriverLoop/execute(_:)`` or ``DriverLoop/afterInput()``.
/// - A byte-stream transport beside UDP is a second kind of ``DriverSocket``:
///   the loop's send side is one call (`SendBatcher.flush`) and its receive
///   side one call (``DriverLoop/readable()``), the two places a framed
///   stream would replace.
public protocol DriverLoopHooks: AnyObject, Sendable {
    /// The driver's monotonic clock, the one its timer is scheduled on.
    /// Never decreasing. Loop thread.
    func now() -> Timestamp

    /// Arms the driver's one-shot timer for `deadline`, replacing an earlier
    /// arming; `nil` stops it. When it fires the driver calls
    /// ``DriverLoop/timerFired()`` and counts it as disarmed. Early firing
    /// is harmless. Loop thread.
    func armTimer(at deadline: Timestamp?)

    /// Makes the loop thread call ``DriverLoop/runCommands()`` soon. Called
    /// from any thread with the loop's command lock held, and only while the
    /// driver runs (or by the one ``DriverLoop/requestStop()`` that ends
    /// that): it must not block or call into the loop.
    func wake()

    /// The socket would block. Arrange for ``DriverLoop/writable()`` to be
    /// called once it can take more, and say how the loop should behave
    /// meanwhile (``WritableWait``). Loop thread.
    func waitForWritable() -> WritableWait
}

/// What a driver arranged when its socket would block.
public enum WritableWait: Sendable {
    /// It watches writability, and the loop may also try again at any
    /// input meanwhile (a readiness watcher such as epoll or poll: a retry
    /// that succeeds early costs one spare writable event).
    case retryOnInput
    /// The loop sends nothing until ``DriverLoop/writable()``: the driver
    /// queued something of its own that must go first (libuv's `uv_udp_send`).
    case untilWritable
    /// Nothing could be arranged: the loop tries again at its next input.
    case notWaiting
}

/// The bound, non-blocking UDP socket a driver gives its ``DriverLoop``.
///
/// The loop sends on it (sendmmsg, UDP GSO where the kernel has it, clean
/// fallback where it refuses). With `readsSocket` it also reads it
/// (recvmmsg, UDP GRO) when the driver says it is ``DriverLoop/readable()``;
/// otherwise the driver's library reads and feeds ``DriverLoop/receive(_:from:)``.
/// The loop never closes the descriptor: the driver does, after
/// ``DriverLoop/close()``.
public struct DriverSocket: Sendable {
    /// The descriptor, bound and non-blocking.
    public var fd: Int32
    /// The family it was opened with: an IPv6 socket sends to IPv4 peers mapped.
    public var family: PeerAddress.Family
    /// Whether the loop reads the socket itself.
    public var readsSocket: Bool
    /// Send runs of equal-size datagrams to one peer as one UDP GSO message, where the kernel can.
    public var enableGSO: Bool
    /// Receive coalesced buffers with UDP GRO, where the kernel can (only with `readsSocket`).
    public var enableGRO: Bool
    /// Messages per sendmmsg / recvmmsg call, 1...1024: each costs 64 KiB of
    /// send area (and of receive buffers with `readsSocket`).
    public var batchSize: Int

    public init(fd: Int32, family: PeerAddress.Family, readsSocket: Bool, enableGSO: Bool = true,
                enableGRO: Bool = true, batchSize: Int = 32) {
        self.fd = fd
        self.family = family
        self.readsSocket = readsSocket
        self.enableGSO = enableGSO
        self.enableGRO = enableGRO
        self.batchSize = min(max(batchSize, 1), 1_024)
    }
}
