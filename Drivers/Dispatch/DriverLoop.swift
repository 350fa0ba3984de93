// The loop thread of a DispatchDriver: everything here runs on its serial queue.
import Dispatch
import SecureStreams

/// What a ``DispatchDriver`` runs on its queue: the endpoint loop, the
/// socket, the batches, the three sources, the clock.
///
/// Confined to `queue` (hence `@unchecked Sendable`: closures carry it onto
/// the queue and touch it nowhere else). The only state shared with other
/// threads is `shared`, behind a mutex.
final class DriverLoop: @unchecked Sendable {
    /// State other threads read or set: the shutdown flag and the published counters.
    struct Shared: Sendable {
        var isShutdown = false
        var statistics = DispatchDriverStatistics()
    }

    let queue: DispatchQueue
    let shared: Locked<Shared>
    /// Left once the descriptor is closed: what a shutdown from another thread waits for.
    let closed = DispatchGroup()

    private let loop: EndpointLoop
    private let socket: UDPSocket
    private var receiver: ReceiveBatch
    private var sender: SendBatcher
    private var statistics: DispatchDriverStatistics
    private var clock = MonotonicClock()
    private var readSource: (any DispatchSourceRead)?
    private var writeSource: (any DispatchSourceWrite)?
    private var timer: (any DispatchSourceTimer)?
    private var isWriteSourceResumed = false
    private var armedDeadline: Timestamp?
    private var isTornDown = false
    /// Sources on the descriptor whose cancel handler has not run yet.
    private var descriptorUsers = 2
    /// Receive batches per wake-up before other work gets a turn.
    private static let receiveBudget = 16

    init(loop: EndpointLoop, socket: UDPSocket, batchSize: Int, queue: DispatchQueue) {
        self.loop = loop
        self.socket = socket
        self.queue = queue
        receiver = ReceiveBatch(count: batchSize)
        sender = SendBatcher(batchSize: batchSize, usesGSO: socket.supportsGSO, socketFamily: socket.family)
        var statistics = DispatchDriverStatistics()
        statistics.isGSOActive = socket.supportsGSO
        statistics.isGROActive = socket.hasGRO
        statistics.receiveBufferBytes = socket.receiveBufferBytes
        statistics.sendBufferBytes = socket.sendBufferBytes
        self.statistics = statistics
        shared = Locked(Shared(statistics: statistics))
        closed.enter()
    }

    /// Creates and resumes the sources. Called once, before anything is queued.
    func start() {
        let read = DispatchSource.makeReadSource(fileDescriptor: socket.fd, queue: queue)
        let write = DispatchSource.makeWriteSource(fileDescriptor: socket.fd, queue: queue)
        let timer = DispatchSource.makeTimerSource(flags: [.strict], queue: queue)
        read.setEventHandler { [self] in readable() }
        write.setEventHandler { [self] in writable() }
        timer.setEventHandler { [self] in timerFired() }
        read.setCancelHandler { [self] in descriptorReleased() }
        write.setCancelHandler { [self] in descriptorReleased() }
        timer.schedule(deadline: .distantFuture, repeating: .never, leeway: .nanoseconds(0))
        readSource = read
        writeSource = write
        self.timer = timer
        read.resume()
        timer.resume()
        queue.async { [self] in afterInput() }  // the endpoint may already have work (a connect before start)
    }

    // MARK: - Inputs

    /// Runs an `execute` body, unless the driver is shut down.
    func run(_ body: (EndpointLoop) -> Void) {
        guard isRunning else {
            shared.withLock { $0.statistics.bodiesDropped += 1 }
            return
        }
        loop.run(now: clock.now()) { body($0) }
        afterInput()
    }

    private func readable() {
        for _ in 0..<Self.receiveBudget {
            guard isRunning else { return }
            let now = clock.now()
            let loop = self.loop
            switch receiver.receive(on: socket.fd, deliver: { loop.receive($0, from: $1, now: now) }) {
            case .wouldBlock:
                afterInput()
                return
            case .failed:
                statistics.receiveErrors += 1  // an ICMP report or the like: counted, ignored
                afterInput()
                return
            case .received(_, let datagrams, let coalesced, let errors):
                statistics.receiveBatches += 1
                statistics.datagramsReceived += UInt64(datagrams)
                statistics.coalescedReceives += UInt64(coalesced)
                statistics.receiveErrors += UInt64(errors)
                drainTransmits()  // acknowledgements go out between batches
            }
        }
        afterInput()
        queue.async { [self] in readable() }  // more may wait: read again after other work had its turn
    }

    private func writable() {
        guard isRunning else { return }
        afterInput()
    }

    private func timerFired() {
        guard isRunning else { return }
        armedDeadline = nil
        loop.timeout(now: clock.now())
        afterInput()
    }

    // MARK: - After every input

    /// Drains transmits, re-arms the timer, publishes the counters.
    private func afterInput() {
        guard isRunning else { return }
        drainTransmits()
        rearmTimer()
        let snapshot = statistics
        shared.withLock { shared in
            let dropped = shared.statistics.bodiesDropped  // counted there, by `run`
            shared.statistics = snapshot
            shared.statistics.bodiesDropped = dropped
        }
    }

    private func drainTransmits() {
        while true {
            if sender.hasPending {
                guard flush() == .sent else {
                    setWriteSourceResumed(true)
                    return
                }
            }
            let ranDry = sender.fill(from: &loop.endpoint, now: clock.now())
            guard sender.hasPending else { break }
            guard flush() == .sent else {
                setWriteSourceResumed(true)
                return
            }
            if ranDry { break }
        }
        setWriteSourceResumed(false)
    }

    /// One flush of the batcher, its counters folded into the statistics.
    private func flush() -> SendBatcher.Outcome {
        var counters = SendCounters()
        let outcome = sender.flush(on: socket.fd, counters: &counters)
        statistics.datagramsSent += counters.datagramsSent
        statistics.sendBatches += counters.sendBatches
        statistics.gsoSends += counters.gsoSends
        statistics.sendErrors += counters.sendErrors
        statistics.datagramsDropped += counters.datagramsDropped
        statistics.wouldBlock += counters.wouldBlock
        statistics.isGSOActive = sender.usesGSO
        return outcome
    }

    private func rearmTimer() {
        let deadline = loop.deadline
        guard deadline != armedDeadline, let timer else { return }
        armedDeadline = deadline
        let when = deadline.map { DispatchTime(uptimeNanoseconds: max($0.nanoseconds, 1)) } ?? .distantFuture
        timer.schedule(deadline: when, repeating: .never, leeway: .nanoseconds(0))
    }

    private func setWriteSourceResumed(_ resumed: Bool) {
        guard resumed != isWriteSourceResumed, let writeSource else { return }
        isWriteSourceResumed = resumed
        if resumed { writeSource.resume() } else { writeSource.suspend() }
    }

    // MARK: - Shutdown

    /// Cancels the sources; the descriptor closes when both of its sources'
    /// cancel handlers have run. Idempotent.
    func tearDown() {
        guard !isTornDown else { return }
        isTornDown = true
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

    private var isRunning: Bool { !isTornDown && !shared.withLock { $0.isShutdown } }
}
