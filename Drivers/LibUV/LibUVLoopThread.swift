// Own-loop mode: a uv_loop_t and the pthread that runs it.
import CLibUV
import SecureStreams
import Glibc

/// A libuv loop of the driver's own and the thread running it.
///
/// The thread runs `uv_run` until the loop is stopped or has nothing left,
/// closes anything still open, runs the loop until every close callback
/// ran, then `uv_loop_close`s it. ``join()`` waits for all of that.
final class LibUVLoopThread: @unchecked Sendable {
    let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)

    private struct State {
        var thread: pthread_t?
        /// The running thread's own id, recorded by itself.
        var running: pthread_t?
        /// Joined or detached: nobody may join it again.
        var released = false
        /// `uv_loop_close`'s status once the thread finished.
        var closeStatus: Int32?
    }

    private let state = Locked(State())
    /// Serialises joiners: the second waits for the first to finish joining.
    /// It counts the joins because `Locked` needs a value with a size.
    private let joinGate = Locked<Int>(0)

    init() throws(LibUVError) {
        let status = uv_loop_init(loop)
        if status < 0 {
            loop.deallocate()
            throw LibUVError("uv_loop_init", code: status)
        }
    }

    deinit {
        let (started, released) = state.withLock { ($0.thread != nil, $0.released) }
        if !started {
            // Never ran: finish what `open` may have started closing, then close.
            while uv_run(loop, UV_RUN_DEFAULT) != 0 {}
            uv_loop_close(loop)
        } else if !released, let thread = state.withLock({ $0.thread }) {
            pthread_detach(thread)
        }
        loop.deallocate()
    }

    /// Starts the thread (the loop must be fully set up: libuv is not
    /// thread-safe, and `pthread_create` orders everything before it).
    func start() throws(LibUVError) {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { context in
            let loopThread = Unmanaged<LibUVLoopThread>.fromOpaque(context!).takeRetainedValue()
            loopThread.run()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<LibUVLoopThread>.fromOpaque(context).release()
            throw LibUVError("pthread_create", code: -status)
        }
        state.withLock { $0.thread = thread }
    }

    /// Whether the caller is this loop's thread.
    var isCurrent: Bool {
        state.withLock { $0.running.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
    }

    /// Waits until the thread has closed the loop and ended. Idempotent and
    /// callable from several threads; never from the loop thread itself.
    func join() {
        joinGate.withLock { joins in
            joins += 1
            let thread = state.withLock { state -> pthread_t? in state.released ? nil : state.thread }
            guard let thread else { return }
            pthread_join(thread, nil)
            state.withLock { $0.released = true }
        }
    }

    /// `uv_loop_close`'s status after the thread ended (`0`: every handle was closed).
    var closeStatus: Int32? { state.withLock { $0.closeStatus } }

    private func run() {
        state.withLock { $0.running = pthread_self() }
        uv_run(loop, UV_RUN_DEFAULT)
        uv_walk(loop, { handle, _ in
            if let handle, uv_is_closing(handle) == 0 { uv_close(handle, nil) }
        }, nil)
        while uv_run(loop, UV_RUN_DEFAULT) != 0 {}
        let status = uv_loop_close(loop)
        state.withLock { $0.closeStatus = status }
    }
}
