
/// A cancellation flag shared by a suspended call and the loop that will
/// resume it. The caller's cancellation handler sets it before asking the
/// loop to cancel, so whichever runs first, the waiter is resumed exactly
/// once: the loop checks the flag before parking a waiter, and a cancel that
/// arrives later finds the parked waiter by identity.
final class WaitToken: Sendable {
    private let cancelled = Locked(false)

    var isCancelled: Bool { cancelled.withLock { $0 } }

    func cancel() { cancelled.withLock { $0 = true } }
}
