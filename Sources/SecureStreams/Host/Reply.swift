// How an answer gets from the loop back to the task that asked for it.

/// The continuation of a call waiting for the loop (``Runtime/call(_:)``),
/// resumed on the loop with the answer.
///
/// Resuming first passes through the runtime's ``Handoff``, and the waiting
/// task passes through it again once it is resumed. The concurrency runtime
/// already orders the two sides, but with atomics that ThreadSanitizer does
/// not see: when the loop resumes a task that is still suspending, the task
/// goes on without any step TSan knows as synchronisation, and everything the
/// loop built for the answer (a `Stream`, a `Connection`) reads as a race on
/// first use. The handoff is an uncontended lock taken on each side, a few
/// tens of nanoseconds per call, so `make test-tsan` checks the host's own
/// locking instead.
struct Reply<T: Sendable>: Sendable {
    private let continuation: CheckedContinuation<T, any Error>
    private let handoff: Handoff

    init(_ continuation: CheckedContinuation<T, any Error>, handoff: Handoff) {
        self.continuation = continuation
        self.handoff = handoff
    }

    func resume(returning value: T) {
        handoff.pass()
        continuation.resume(returning: value)
    }

    func resume(throwing error: any Error) {
        handoff.pass()
        continuation.resume(throwing: error)
    }

    func resume() where T == Void { resume(returning: ()) }
}

/// A lock whose only job is to order a resume before the resumed task's next
/// step, for ThreadSanitizer (see ``Reply``).
/// It counts the passes because `Locked` needs a value with a size.
final class Handoff: Sendable {
    private let passes = Locked<UInt64>(0)

    func pass() { passes.withLock { $0 &+= 1 } }
}
