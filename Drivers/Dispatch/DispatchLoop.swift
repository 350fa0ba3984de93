// The loop thread of a DispatchDriver: its serial queue, three sources and a
// clock around the shared DriverLoop.
import Dispatch
import SecureStreams

/// What a ``DispatchDriver`` runs on its queue: the shared ``DriverLoop``
/// (which reads and writes the socket) and the Dispatch hooks it needs — a
/// read source, a write source resumed only while the socket would block, a
/// timer source and `queue.async` as the wake-up.
///
/// Confined to `queue` (hence `@unchecked Sendable`); other threads reach
/// only the loop's command queue and `closed`.
final class DispatchLoop: DriverLoopHooks, @unchecked Sendable {
    let queue: DispatchQueue
    let loop: DriverLoop
    /// Left once the descriptor is closed: what a shutdown from another thread waits for.
    let closed = DispatchGroup()

    private let socket: UDPSocket
    private var clock = MonotonicClock()
    private var readSource: (any DispatchSourceRead)?
    private var writeSource: (any DispatchSourceWrite)?
    private var timer: (any DispatchSourceTimer)?
    private var isWriteSourceResumed = false
    /// Sources on the descriptor whose cancel handler has not run yet.
    private var descriptorUsers = 2

    init(loop endpointLoop: EndpointLoop, socket: UDPSocket, factory: DispatchDriverFactory, queue: DispatchQueue) {
        self.socket = socket
        self.queue = queue
        loop = DriverLoop(endpointLoop, socket: DriverSocket(
            fd: socket.fd, family: socket.family, readsSocket: true, enableGSO: factory.enableGSO,
            enableGRO: factory.enableGRO, batchSize: factory.batchSize))
        loop.hooks = self
        closed.enter()
    }

    /// Creates and resumes the sources. Called once, before anything is queued.
    func start() {
        let read = DispatchSource.makeReadSource(fileDescriptor: socket.fd, queue: queue)
        let write = DispatchSource.makeWriteSource(fileDescriptor: socket.fd, queue: queue)
        let timer = DispatchSource.makeTimerSource(flags: [.strict], queue: queue)
        read.setEventHandler { [self] in readable() }
        write.setEventHandler { [self] in writable() }
        timer.setEventHandler { [self] in loop.timerFired() }
        read.setCancelHandler { [self] in descriptorReleased() }
        write.setCancelHandler { [self] in descriptorReleased() }
        timer.schedule(deadline: .distantFuture, repeating: .never, leeway: .nanoseconds(0))
        readSource = read
        writeSource = write
        self.timer = timer
        read.resume()
        timer.resume()
        queue.async { [self] in loop.start() }
    }

    private func readable() {
        // More may wait: read again after other work had its turn.
        if loop.readable() { queue.async { [self] in readable() } }
    }

    private func writable() {
        setWriteSourceResumed(false)
        loop.writable()
    }

    // MARK: - DriverLoopHooks

    func now() -> Timestamp { clock.now() }

    func armTimer(at deadline: Timestamp?) {
        let when = deadline.map { DispatchTime(uptimeNanoseconds: max($0.nanoseconds, 1)) } ?? .distantFuture
        timer?.schedule(deadline: when, repeating: .never, leeway: .nanoseconds(0))
    }

    func wake() {
        queue.async { [self] in
            if !loop.runCommands() { tearDown() }
        }
    }

    func waitForWritable() -> WritableWait {
        setWriteSourceResumed(true)
        return .retryOnInput
    }

    private func setWriteSourceResumed(_ resumed: Bool) {
        guard resumed != isWriteSourceResumed, let writeSource else { return }
        isWriteSourceResumed = resumed
        if resumed { writeSource.resume() } else { writeSource.suspend() }
    }

    // MARK: - Shutdown

    /// Closes the loop and cancels the sources; the descriptor closes when
    /// both of its sources' cancel handlers have run. Idempotent.
    func tearDown() {
        guard !loop.isClosed else { return }
        loop.close()
        readSource?.cancel()
        timer?.cancel()
        writeSource?.cancel()
        // A suspended source never runs its cancel handler (and must not be released suspended).
        setWriteSourceResumed(true)
    }

    private func descriptorReleased() {
        descriptorUsers -= 1
        guard descriptorUsers == 0 else { return }
        socket.closeDescriptor()
        readSource = nil
        writeSource = nil
        timer = nil
        closed.leave()
    }
}
