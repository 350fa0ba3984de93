import SecureStreamsCore

/// What every public object of a host shares: the driver that runs the loop
/// and the loop-confined state. Calls hop onto the loop through `perform`.
///
/// Once the host is shut down no body reaches the driver any more (a driver
/// drops bodies after its own shutdown, which would strand their
/// continuations): `perform` runs `orElse` instead, on the calling thread.
final class Runtime: Sendable {
    let core: HostCore
    let driver: any Driver
    private let closed = Locked(false)
    private let handoff = Handoff()

    init(core: HostCore, driver: any Driver) {
        self.core = core
        self.driver = driver
    }

    /// Runs `body` on the loop, or `orElse` here when the host is shut down.
    func perform(_ body: @escaping @Sendable (EndpointLoop, HostCore) -> Void, orElse: () -> Void = {}) {
        let core = self.core
        let accepted = closed.withLock { isClosed -> Bool in
            guard !isClosed else { return false }
            driver.execute { loop in body(loop, core) }
            return true
        }
        if !accepted { orElse() }
    }

    /// Stops accepting bodies; runs `last` on the loop after every body
    /// accepted before (execute is first in, first out).
    func close(last: @escaping @Sendable (EndpointLoop, HostCore) -> Void) -> Bool {
        let core = self.core
        return closed.withLock { isClosed -> Bool in
            guard !isClosed else { return false }
            isClosed = true
            driver.execute { loop in last(loop, core) }
            return true
        }
    }

    /// Suspends until `body` resumes the continuation on the loop.
    func call<T: Sendable>(_ body: @escaping @Sendable (EndpointLoop, HostCore, Reply<T>) -> Void)
        async throws -> T
    {
        let handoff = self.handoff
        defer { handoff.pass() }
        return try await withCheckedThrowingContinuation { continuation in
            let reply = Reply(continuation, handoff: handoff)
            perform({ loop, core in
                if core.isShutDown {
                    reply.resume(throwing: HostError(.shutDown))
                } else {
                    body(loop, core, reply)
                }
            }, orElse: { reply.resume(throwing: HostError(.shutDown)) })
        }
    }

    /// `call`, cancellable: on cancellation the loop resumes the waiter that
    /// holds the token with `CancellationError`.
    func cancellableCall<T: Sendable>(
        _ body: @escaping @Sendable (EndpointLoop, HostCore, WaitToken, Reply<T>) -> Void
    ) async throws -> T {
        let token = WaitToken()
        return try await withTaskCancellationHandler {
            try await call { loop, core, continuation in
                if token.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    body(loop, core, token, continuation)
                }
            }
        } onCancel: {
            token.cancel()
            perform { loop, core in core.cancel(token, loop: loop) }
        }
    }
}
