// The one piece of driver state shared between threads: the command queue
// and the lifecycle phase, under a lock.
import SecureStreams

/// An `execute` body.
typealias LibUVBody = @Sendable (EndpointLoop) -> Void

/// The command queue and lifecycle of a driver, shared by every thread.
///
/// The rule that keeps `uv_async_send` safe: it is only ever called while
/// holding this lock in the `running` phase (or by the one `requestStop`
/// that leaves it), and the loop moves to `closed` under the same lock
/// before it closes the async handle — so no thread can wake a closed handle.
///
/// Bodies are never destroyed while the lock is held (a body may hold the
/// last reference to a driver, whose `deinit` shuts down and takes the lock).
final class LibUVControl: Sendable {
    enum Phase: Sendable { case running, stopping, closed }

    private struct State: Sendable {
        var phase = Phase.running
        var queue: [LibUVBody] = []
    }

    private let state = Locked(State())

    /// Queues `body` and calls `wake` (under the lock) if the driver runs;
    /// otherwise hands the body back to be dropped.
    func submit(_ body: @escaping LibUVBody, wake: () -> Void) -> LibUVBody? {
        state.withLock { state -> LibUVBody? in
            guard state.phase == .running else { return body }
            state.queue.append(body)
            wake()
            return nil
        }
    }

    /// Moves a running driver to `stopping`, taking its queued bodies out
    /// (returned, to be dropped outside the lock), and calls `wake` so the
    /// loop closes the handles. Does nothing in a later phase.
    func requestStop(wake: () -> Void) -> [LibUVBody] {
        state.withLock { state -> [LibUVBody] in
            guard state.phase == .running else { return [] }
            state.phase = .stopping
            var dropped: [LibUVBody] = []
            swap(&dropped, &state.queue)
            wake()
            return dropped
        }
    }

    /// Loop thread: swaps the queued bodies into `bodies` (empty on entry).
    /// Returns `false` when a stop was requested instead.
    func take(into bodies: inout [LibUVBody]) -> Bool {
        state.withLock { state in
            guard state.phase == .running else { return false }
            swap(&bodies, &state.queue)
            return true
        }
    }

    /// Loop thread, before closing the handles: from now on nothing wakes
    /// the loop and every body is dropped. Returns the bodies still queued.
    func markClosed() -> [LibUVBody] {
        state.withLock { state -> [LibUVBody] in
            state.phase = .closed
            var dropped: [LibUVBody] = []
            swap(&dropped, &state.queue)
            return dropped
        }
    }

    var phase: Phase { state.withLock { $0.phase } }
}
