// The loop-side half of a driver: the libuv handles and everything only the
// loop thread touches.
import CLibUV
import Glibc
import SecureStreams
import SecureStreamsCore

/// A socket, a timer and a wake-up on one libuv loop: the hooks of the
/// shared `DriverLoop`, which sends on the socket's fd (sendmmsg, GSO) and
/// does everything else that is not libuv's.
///
/// ## Threads
/// Everything mutable here is confined to the loop thread (hence
/// `@unchecked Sendable`): the callbacks run there, and the driver calls in
/// only through the `DriverLoop`'s command queue and `uv_async_send`, or —
/// in own-loop mode, from the loop thread itself — ``closeHandles()``. ``open(binding:socketBufferSize:)``
/// runs before the loop can call back (before its thread starts, or on it).
///
/// ## Memory
/// Each handle is its own allocation whose `data` holds one retain of the
/// session (`Unmanaged.passRetained`). Its `uv_close` callback frees the
/// handle memory and then drops that retain, so the session — with the
/// receive area libuv may still be reading into — outlives every handle, and
/// nothing is released twice or touched after free.
final class LibUVSession: @unchecked Sendable {
    let loop: UnsafeMutablePointer<uv_loop_t>
    let udp = UnsafeMutablePointer<uv_udp_t>.allocate(capacity: 1)
    let timer = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
    let async = UnsafeMutablePointer<uv_async_t>.allocate(capacity: 1)
    let endpointLoop: EndpointLoop
    /// The shared loop, created by `open` once the socket exists.
    private(set) var driverLoop: DriverLoop?
    /// Own-loop mode: closing the handles also stops the loop.
    let ownsLoop: Bool
    /// The one receive area libuv reads into: `receiveBatch` slots of 64 KiB,
    /// so `recvmmsg` fills up to that many datagrams per call.
    let receiveArea: UnsafeMutableRawBufferPointer
    let addresses: LibUVAddressCache
    let isIPv6: Bool

    /// Set by `open`, constant afterwards.
    private(set) var localAddress = PeerAddress.any()
    private(set) var usesRecvmmsg = false

    // Loop-confined state.
    /// The last `uv_hrtime` reading handed out (the clock never goes back).
    var lastTime: UInt64 = 0
    /// The handles are closing (or closed): do nothing more.
    private(set) var closing = false
    /// Datagrams of a `recvmmsg` batch were fed; transmit at the batch's end.
    var batchPending = false
    /// Datagrams handed to `uv_udp_send` and not completed yet.
    var pendingSends = 0
    /// Tests only (see `LibUVDriverFactory.injectedWouldBlockEvery`).
    var injectedWouldBlockEvery = 0
    /// Handles that went through `uv_*_init` (they are freed by `uv_close`).
    private var initialised: [UnsafeMutablePointer<uv_handle_t>] = []

    /// The largest datagram libuv reads into one `recvmmsg` slot.
    static let slotSize = 64 * 1024
    /// Messages per sendmmsg call, as the Dispatch driver's default.
    static let sendBatchSize = 32

    init(loop: UnsafeMutablePointer<uv_loop_t>, endpointLoop: EndpointLoop, family: PeerAddress.Family,
         receiveBatch: Int, ownsLoop: Bool) {
        self.loop = loop
        self.endpointLoop = endpointLoop
        self.ownsLoop = ownsLoop
        isIPv6 = family == .ipv6
        addresses = LibUVAddressCache(mapsToIPv6: family == .ipv6)
        receiveArea = .allocate(byteCount: max(1, receiveBatch) * Self.slotSize, alignment: 64)
    }

    deinit {
        // Handles that were initialised were freed by their close callbacks
        // (each held a retain, so we only get here after the last of them).
        let freed = Set(initialised.map { UnsafeMutableRawPointer($0) })
        for handle in [UnsafeMutableRawPointer(udp), UnsafeMutableRawPointer(timer), UnsafeMutableRawPointer(async)]
        where !freed.contains(handle) {
            handle.deallocate()
        }
        receiveArea.deallocate()
    }

    /// The session a handle belongs to.
    static func owner(of handle: UnsafeMutableRawPointer) -> LibUVSession {
        let data = handle.assumingMemoryBound(to: uv_handle_t.self).pointee.data!
        return Unmanaged<LibUVSession>.fromOpaque(data).takeUnretainedValue()
    }

    /// Creates, binds and starts the handles. On failure the handles that
    /// exist are closed (their callbacks run on the loop's next turn).
    func open(binding address: PeerAddress, socketBufferSize: Int32) throws(LibUVError) {
        do {
            let domain = UInt32(isIPv6 ? AF_INET6 : AF_INET)
            try LibUVError.check(uv_udp_init_ex(loop, udp, domain | UV_UDP_RECVMMSG.rawValue), "uv_udp_init_ex")
            adopt(udp)
            if isIPv6 { try allowIPv4() }
            let bound = address.withSocketAddress { pointer, _ in uv_udp_bind(udp, pointer, 0) }
            try LibUVError.check(bound, "uv_udp_bind")
            setBufferSizes(socketBufferSize)
            localAddress = try boundAddress()
            try startDriverLoop()
            try LibUVError.check(uv_timer_init(loop, timer), "uv_timer_init")
            adopt(timer)
            try LibUVError.check(uv_async_init(loop, async) { LibUVTrampolines.wake($0) }, "uv_async_init")
            adopt(async)
            try LibUVError.check(
                uv_udp_recv_start(udp, { LibUVTrampolines.allocate($0, $1, $2) },
                                  { LibUVTrampolines.receive($0, $1, $2, $3, $4) }),
                "uv_udp_recv_start")
            usesRecvmmsg = uv_udp_using_recvmmsg(udp) != 0
            driverLoop?.start()  // the endpoint may already have work (a connect before start)
        } catch {
            driverLoop?.close()
            closing = true
            closeInitialisedHandles()
            throw error
        }
    }

    /// Gives an initialised handle its retain of the session.
    private func adopt<Handle>(_ handle: UnsafeMutablePointer<Handle>) {
        let generic = UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)
        generic.pointee.data = Unmanaged.passRetained(self).toOpaque()
        initialised.append(generic)
    }

    /// Dual stack: IPv4 peers reach an IPv6 socket (whatever the sysctl default).
    private func allowIPv4() throws(LibUVError) {
        var fd: uv_os_fd_t = -1
        try LibUVError.check(uv_fileno(UnsafeMutableRawPointer(udp).assumingMemoryBound(to: uv_handle_t.self), &fd),
                             "uv_fileno")
        var off: Int32 = 0
        if setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            throw LibUVError("setsockopt(IPV6_V6ONLY)", code: -errno)
        }
    }

    /// Creates the shared loop on the handle's fd: it sends there itself
    /// (sendmmsg, and GSO where the kernel knows UDP_SEGMENT; libuv does not
    /// mind, it only watches the fd). With an injected would-block (tests),
    /// GSO stays off so each datagram is one message.
    private func startDriverLoop() throws(LibUVError) {
        var fd: uv_os_fd_t = -1
        try LibUVError.check(uv_fileno(UnsafeMutableRawPointer(udp).assumingMemoryBound(to: uv_handle_t.self), &fd),
                             "uv_fileno")
        let driverLoop = DriverLoop(endpointLoop, socket: DriverSocket(
            fd: fd, family: isIPv6 ? .ipv6 : .ipv4, readsSocket: false, enableGSO: injectedWouldBlockEvery == 0,
            batchSize: Self.sendBatchSize))
        driverLoop.injectedWouldBlockEvery = injectedWouldBlockEvery
        driverLoop.hooks = self
        self.driverLoop = driverLoop
    }

    /// Asks for large kernel buffers; the kernel may grant less
    /// (`net.core.rmem_max` / `wmem_max`), which is not an error.
    private func setBufferSizes(_ size: Int32) {
        guard size > 0 else { return }
        let handle = UnsafeMutableRawPointer(udp).assumingMemoryBound(to: uv_handle_t.self)
        var send = size
        _ = uv_send_buffer_size(handle, &send)
        var receive = size
        _ = uv_recv_buffer_size(handle, &receive)
    }

    private func boundAddress() throws(LibUVError) -> PeerAddress {
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { uv_udp_getsockname(udp, $0, &length) }
        }
        try LibUVError.check(status, "uv_udp_getsockname")
        let address = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { PeerAddress(socketAddress: $0) }
        }
        guard let address else { throw LibUVError("uv_udp_getsockname", code: UV_EAFNOSUPPORT.rawValue) }
        return address
    }

    // MARK: - Commands and shutdown (loop thread)

    /// The async callback: a stop request, or `execute` bodies to run.
    func asyncFired() {
        guard !closing, let driverLoop else { return }
        if !driverLoop.runCommands() { closeHandles() }
    }

    /// Closes every handle (idempotent). Own-loop mode also stops the loop;
    /// its thread then runs it until the close callbacks ran.
    func closeHandles() {
        guard !closing else { return }
        closing = true
        driverLoop?.close()
        uv_udp_recv_stop(udp)
        uv_timer_stop(timer)
        closeInitialisedHandles()
        if ownsLoop { uv_stop(loop) }
    }

    private func closeInitialisedHandles() {
        for handle in initialised where uv_is_closing(handle) == 0 {
            uv_close(handle) { LibUVTrampolines.closed($0) }
        }
    }
}
