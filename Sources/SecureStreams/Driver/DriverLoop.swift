// The loop every driver runs: the one place where transmits are drained and
// batched, the timer re-armed, would-block handled and counters published.
// A driver supplies a socket, a timer, a clock and a wake-up (DriverLoopHooks).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import SecureStreamsCore

/// The driver-neutral half of every driver: an ``EndpointLoop`` plus the
/// logic around its verbs.
///
/// ## Driving it
/// A driver creates one with its ``DriverSocket``, sets ``hooks``, calls
/// ``start()`` on its loop thread, and from then on calls, on that thread:
/// - ``readable()`` when the socket has datagrams (if the loop reads it), or
///   ``receive(_:from:)`` for each datagram its library read, then
///   ``afterInput()``;
/// - ``timerFired()`` when its timer fires;
/// - ``runCommands()`` when woken by ``DriverLoopHooks/wake()``;
/// - ``writable()`` when the socket can take more after a would-block.
/// Each input ends with ``afterInput()``: drain transmits in batches (until
/// the endpoint has nothing or the socket would block), re-arm the timer if
/// the deadline moved, publish ``statistics``.
///
/// From any thread: ``execute(_:)``, ``requestStop()``, ``isStopped``,
/// ``statistics``. A driver's shutdown is ``requestStop()``, then on the
/// loop thread ``close()``, then closing its descriptors.
///
/// Confined to the loop thread except where noted (hence `@unchecked
/// Sendable`); the state shared with other threads sits behind one lock.
public final class DriverLoop: @unchecked Sendable {
    /// An application command, run on the loop thread with the endpoint.
    public typealias Command = @Sendable (EndpointLoop) -> Void

    /// The most datagrams one transmit may carry: Linux's UDP_MAX_SEGMENTS,
    /// so one transmit is at most one GSO message. Every transmit is polled
    /// with it (``EndpointLoop/pollTransmit(now:into:maxDatagrams:)``).
    public static let maxDatagramsPerTransmit = SendBatcher.maxSegments

    /// Receive batches per ``readable()`` before other work gets a turn:
    /// 16 × `batchSize` datagrams, a few milliseconds of a busy socket.
    static let receiveBudget = 16

    /// The endpoint and its event hand-off.
    public let endpointLoop: EndpointLoop
    /// The driver's clock, timer, wake-up and writability wait. Set once,
    /// before ``start()`` and before the loop is shared with other threads.
    public unowned var hooks: (any DriverLoopHooks)?

    /// Live counters, loop thread only: a driver adds what only it sees
    /// (its library's receive errors, its queued copies). Published by
    /// ``afterInput()``.
    public var counters = DriverStatistics()

    let socket: DriverSocket
    var sender: SendBatcher
    var receiver: ReceiveBatch
    let shared = Locked(Shared())
    /// Bodies taken from the queue, reused.
    var taken: [Command] = []
    /// After ``close()``: every entry point does nothing.
    public internal(set) var isClosed = false
    private var armedDeadline: Timestamp?
    private var isWaitingForWritable = false

    /// Creates the loop for `socket`, probing GSO and switching GRO on as
    /// the socket asks and the kernel allows.
    public init(_ endpointLoop: EndpointLoop, socket: DriverSocket) {
        self.endpointLoop = endpointLoop
        self.socket = socket
        let usesGSO = socket.enableGSO && UDPOption.supportsGSO(on: socket.fd)
        sender = SendBatcher(batchSize: socket.batchSize, usesGSO: usesGSO, socketFamily: socket.family)
        // A loop that does not read gets one buffer, never used.
        receiver = ReceiveBatch(count: socket.readsSocket ? socket.batchSize : 1)
        counters.isGSOActive = usesGSO
        counters.isGROActive = socket.readsSocket && socket.enableGRO
            && Self.setOption(socket.fd, UDPOption.level, UDPOption.gro, 1)
        counters.receiveBufferBytes = Self.option(socket.fd, SOL_SOCKET, SO_RCVBUF)
        counters.sendBufferBytes = Self.option(socket.fd, SOL_SOCKET, SO_SNDBUF)
        shared.withLock { $0.statistics = counters }
    }

    /// Tests only: every `n`th message answers would-block without being sent (0: never).
    package var injectedWouldBlockEvery: Int {
        get { sender.injectedWouldBlockEvery }
        set { sender.injectedWouldBlockEvery = newValue }
    }

    // MARK: - Inputs (loop thread)

    /// The first turn: the endpoint may already have work (a connect before start).
    public func start() {
        if let hooks, !isClosed { endpointLoop.reportWallClock(now: hooks.now()) }
        afterInput()
    }

    /// The socket has datagrams (only with `readsSocket`): receives batches
    /// until it would block or ``receiveBudget`` batches went by, sending
    /// between batches (acknowledgements go out early). Returns `true` when
    /// the budget ran out and more may wait: call again after other work.
    @discardableResult
    public func readable() -> Bool {
        precondition(socket.readsSocket, "readable() on a loop whose driver reads the socket")
        for _ in 0..<Self.receiveBudget {
            guard !isClosed, let hooks else { return false }
            let now = hooks.now()
            let endpointLoop = self.endpointLoop
            switch receiver.receive(on: socket.fd, deliver: { endpointLoop.receive($0, from: $1, now: now) }) {
            case .wouldBlock:
                afterInput()
                return false
            case .failed:
                counters.receiveErrors += 1  // an ICMP report or the like: counted, ignored
                afterInput()
                return false
            case .received(_, let datagrams, let bytes, let coalesced, let errors):
                counters.receiveBatches += 1
                counters.datagramsReceived += UInt64(datagrams)
                counters.bytesReceived += UInt64(bytes)
                counters.coalescedReceives += UInt64(coalesced)
                counters.receiveErrors += UInt64(errors)
                drainTransmits()
            }
        }
        afterInput()
        return true
    }

    /// One datagram the driver's library read (decrypted in place). Call
    /// ``afterInput()`` after it, or after the last of a batch.
    public func receive(_ datagram: UnsafeMutableRawBufferPointer, from address: PeerAddress) {
        guard !isClosed, let hooks else { return }
        counters.datagramsReceived += 1
        counters.bytesReceived += UInt64(datagram.count)
        endpointLoop.receive(datagram, from: address, now: hooks.now())
    }

    /// The driver's timer fired (it is now disarmed).
    public func timerFired() {
        guard !isClosed, let hooks else { return }
        armedDeadline = nil
        let now = hooks.now()
        if endpointLoop.isWallClockReportDue(now: now) { endpointLoop.reportWallClock(now: now) }
        endpointLoop.timeout(now: now)
        afterInput()
    }

    /// The socket can take more after ``DriverLoopHooks/waitForWritable()``.
    public func writable() {
        isWaitingForWritable = false
        afterInput()
    }

    /// Ends every input: drains transmits, re-arms the timer, publishes the counters.
    public func afterInput() {
        guard !isClosed else { return }
        drainTransmits()
        rearmTimer()
        publish()
    }

    /// Hands the first unsent datagram to `body` and counts it as sent by
    /// other means: for a driver whose ``DriverLoopHooks/waitForWritable()``
    /// queues a copy with its library. The bytes are valid only during
    /// `body`. Returns `false` when none is waiting.
    public func takeFirstPending(_ body: (PeerAddress, UnsafeRawBufferPointer) -> Void) -> Bool {
        sender.takeFirstPending(body)
    }

    // MARK: - Sending

    /// Polls the endpoint into the send area and flushes it, until the
    /// endpoint has nothing or the socket would block.
    private func drainTransmits() {
        guard !isWaitingForWritable, let hooks else { return }
        let now = hooks.now()
        let endpointLoop = self.endpointLoop
        let space = endpointLoop.endpoint.configuration.maxDatagramSize
        while true {
            if sender.hasPending {
                guard flush() else { return blocked() }
            }
            let ranDry = sender.fill(minimumSpace: space) {
                endpointLoop.pollTransmit(now: now, into: $0, maxDatagrams: Self.maxDatagramsPerTransmit)
            }
            guard sender.hasPending else { return }
            guard flush() else { return blocked() }
            if ranDry { return }
        }
    }

    /// One flush: returns `false` when the socket would block.
    private func flush() -> Bool {
        var sent = SendCounters()
        let outcome = sender.flush(on: socket.fd, counters: &sent)
        counters.datagramsSent += sent.datagramsSent
        counters.bytesSent += sent.bytesSent
        counters.sendBatches += sent.sendBatches
        counters.gsoSends += sent.gsoSends
        counters.sendErrors += sent.sendErrors
        counters.datagramsDropped += sent.datagramsDropped
        counters.wouldBlock += sent.wouldBlock
        counters.isGSOActive = sender.usesGSO
        return outcome == .sent
    }

    private func blocked() {
        switch hooks?.waitForWritable() {
        case .untilWritable: isWaitingForWritable = true
        case .retryOnInput, .notWaiting, nil: isWaitingForWritable = false
        }
    }

    private func rearmTimer() {
        let deadline = endpointLoop.deadline
        guard deadline != armedDeadline else { return }
        armedDeadline = deadline
        hooks?.armTimer(at: deadline)
    }

    // MARK: - Socket options

    private static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) -> Bool {
        var value = value
        return setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0
    }

    private static func option(_ fd: Int32, _ level: Int32, _ name: Int32) -> Int {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, level, name, &value, &length) == 0 ? Int(value) : 0
    }
}
