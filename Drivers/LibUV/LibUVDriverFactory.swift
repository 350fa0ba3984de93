// Makes LibUVDrivers: on a loop and thread of their own, or on the caller's loop.
public import CLibUV
public import SecureStreams
public import SecureStreamsCore

/// Starts ``LibUVDriver``s, in one of two modes.
///
/// - **Own loop** (``init()``): every driver gets a fresh `uv_loop_t` and a
///   thread running it. ``LibUVDriver/shutdown()`` closes the handles, lets
///   the loop run until their close callbacks ran, joins the thread and
///   closes the loop.
/// - **Embedding** (``init(loop:)-(UnsafeMutablePointer<uv_loop_t>)``): the
///   drivers live on the caller's loop, which the caller runs on its own
///   thread. Thread rule: call ``start(_:binding:)`` on that loop's thread
///   (from one of its callbacks) or while no thread runs the loop — libuv
///   handles cannot be created from another thread. Run the loop on one
///   thread at a time. ``LibUVDriver/shutdown()`` closes only the driver's
///   handles, on the loop's next turn, and leaves the loop running; keep
///   running it until they are closed before `uv_loop_close` (which
///   otherwise answers `UV_EBUSY`).
public struct LibUVDriverFactory: DriverFactory {
    /// Requested kernel send and receive buffer size in bytes (the kernel
    /// may grant less; see `net.core.rmem_max`). `0` leaves the defaults.
    public var socketBufferSize: Int32 = 4 << 20
    /// Datagrams read per `recvmmsg` call: the receive area is this many
    /// 64 KiB slots (libuv reads at most 20 per call).
    public var receiveBatch: Int = 16

    /// Tests only: every `n`th message of a sendmmsg batch (which then runs
    /// without GSO) answers would-block without being sent (0: never), to
    /// exercise the slow path, which loopback — whose packets never wait in
    /// the sender's buffer — cannot reach.
    var injectedWouldBlockEvery = 0

    private let loop: LoopReference?

    /// A caller's loop pointer; only ever used on that loop's thread.
    private struct LoopReference: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<uv_loop_t>
    }

    /// Own-loop mode: each driver runs on a loop and thread of its own.
    public init() { loop = nil }

    /// Embedding mode: drivers run on `loop`, which the caller runs.
    public init(loop: UnsafeMutablePointer<uv_loop_t>) { self.loop = LoopReference(pointer: loop) }

    /// Embedding mode with the loop as an opaque `uv_loop_t *`.
    public init(loop: OpaquePointer) { self.init(loop: UnsafeMutablePointer<uv_loop_t>(loop)) }

    /// Binds a UDP socket to `address` (port 0: any; an IPv6 address binds
    /// dual-stack) and starts running `loop` on it.
    public func start(_ loop: EndpointLoop, binding address: PeerAddress) throws -> any Driver {
        try startDriver(loop, binding: address)
    }

    /// ``start(_:binding:)`` with the concrete driver type (for its statistics).
    public func startDriver(_ endpointLoop: EndpointLoop, binding address: PeerAddress) throws(LibUVError) -> LibUVDriver {
        if let loop {
            let session = LibUVSession(loop: loop.pointer, endpointLoop: endpointLoop, family: address.family,
                                       receiveBatch: receiveBatch, ownsLoop: false)
            session.injectedWouldBlockEvery = injectedWouldBlockEvery
            try session.open(binding: address, socketBufferSize: socketBufferSize)
            return LibUVDriver(session: session, loop: session.driverLoop!, loopThread: nil)
        }
        let thread = try LibUVLoopThread()
        let session = LibUVSession(loop: thread.loop, endpointLoop: endpointLoop, family: address.family,
                                   receiveBatch: receiveBatch, ownsLoop: true)
        session.injectedWouldBlockEvery = injectedWouldBlockEvery
        try session.open(binding: address, socketBufferSize: socketBufferSize)
        do {
            try thread.start()
        } catch {
            session.closeHandles()
            throw error
        }
        return LibUVDriver(session: session, loop: session.driverLoop!, loopThread: thread)
    }
}
