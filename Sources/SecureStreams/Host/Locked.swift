// A value behind a pthread mutex, for the host layer, the drivers and their tests.
import Glibc

/// `value` guarded by a `pthread_mutex_t`.
///
/// Used instead of `Synchronization.Mutex`, which on Linux waits on raw
/// futexes that ThreadSanitizer cannot see: every access under it, and every
/// value handed from one thread to another through it, would be reported as a
/// race. A pthread mutex is intercepted, so `make test-tsan` checks the
/// locking instead of flagging it.
package final class Locked<Value>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var value: Value

    /// - Precondition: `Value` has a size. A zero-sized value (`Void`, an
    ///   empty struct) would sit at the address just past this object, and
    ///   ThreadSanitizer would pin its accesses on the neighbouring object;
    ///   lock something real instead (a count of uses will do).
    package init(_ value: Value) {
        precondition(MemoryLayout<Value>.size > 0, "Locked needs a value with a size; see init(_:)")
        self.value = value
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value. Not reentrant.
    package func withLock<Result, Failure: Error>(
        _ body: (inout Value) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
