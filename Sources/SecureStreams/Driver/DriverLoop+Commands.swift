// The command queue of a DriverLoop, its lifecycle and its published
// counters: the only state shared between threads, under one lock.

extension DriverLoop {
    /// Where a driver is in its life.
    public enum Phase: Sendable {
        /// Bodies are queued and run.
        case running
        /// ``requestStop()`` was called: the loop thread is to ``close()``.
        case stopping
        /// ``close()`` ran: nothing wakes the loop any more.
        case closed
    }

    /// What other threads read or change, behind ``shared``.
    struct Shared {
        var phase = Phase.running
        var bodies: [Command] = []
        var statistics = DriverStatistics()
    }

    /// Any thread: queues `body` for the loop thread and wakes it (once per
    /// batch of bodies); after a stop, drops it and counts it. Bodies run in
    /// the order they were queued, each once.
    public func execute(_ body: @escaping Command) {
        let rejected = shared.withLock { shared -> Command? in
            guard shared.phase == .running else {
                shared.statistics.bodiesDropped += 1
                return body
            }
            shared.bodies.append(body)
            if shared.bodies.count == 1 { hooks?.wake() }
            return nil
        }
        _ = rejected  // released here, outside the lock: it may hold the last reference to a driver
    }

    /// Any thread: moves a running loop to `stopping`, drops the queued
    /// bodies and wakes the loop thread, which is to ``close()``. Returns
    /// `true` for the one call that stopped it.
    @discardableResult
    public func requestStop() -> Bool {
        var dropped: [Command] = []
        let first = shared.withLock { shared -> Bool in
            guard shared.phase == .running else { return false }
            shared.phase = .stopping
            swap(&dropped, &shared.bodies)
            shared.statistics.bodiesDropped += UInt64(dropped.count)
            hooks?.wake()
            return true
        }
        dropped.removeAll()  // outside the lock
        return first
    }

    /// Any thread: the lifecycle phase.
    public var phase: Phase { shared.withLock { $0.phase } }

    /// Any thread: whether a stop was requested.
    public var isStopped: Bool { phase != .running }

    /// Any thread: the counters as of the loop's last input.
    public var statistics: DriverStatistics { shared.withLock { $0.statistics } }

    /// Loop thread, on a wake-up: runs the queued bodies, then
    /// ``afterInput()``. Returns `false` when a stop was requested instead:
    /// the driver then closes. A body that stops the driver drops the rest.
    @discardableResult
    public func runCommands() -> Bool {
        guard !isClosed else { return true }
        let running = shared.withLock { shared -> Bool in
            guard shared.phase == .running else { return false }
            swap(&taken, &shared.bodies)
            return true
        }
        guard running else { return false }
        for (index, body) in taken.enumerated() {
            guard !isClosed, phase == .running, let hooks else {
                let rest = UInt64(taken.count - index)
                shared.withLock { $0.statistics.bodiesDropped += rest }
                break
            }
            endpointLoop.run(now: hooks.now()) { body($0) }
            counters.bodiesRun += 1
        }
        taken.removeAll(keepingCapacity: true)
        afterInput()
        return true
    }

    /// Loop thread: ends the loop. From now on nothing wakes it, queued
    /// bodies are dropped, every entry point does nothing; the counters are
    /// published one last time. The driver then closes its descriptors.
    /// Idempotent.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        var dropped: [Command] = []
        shared.withLock { shared in
            shared.phase = .closed
            swap(&dropped, &shared.bodies)
            shared.statistics.bodiesDropped += UInt64(dropped.count)
        }
        dropped.removeAll()  // outside the lock
        publish()
    }

    /// Loop thread: copies the live counters to the snapshot other threads read.
    func publish() {
        let snapshot = counters
        shared.withLock { shared in
            let dropped = shared.statistics.bodiesDropped  // counted there, by other threads
            shared.statistics = snapshot
            shared.statistics.bodiesDropped = dropped
        }
    }
}
