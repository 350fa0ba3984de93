/// The fate of one message given to ``MessageChannels/send(_:on:)``: await
/// ``sent()`` or ``acknowledged()``, or drop the ticket (the message goes
/// anyway). A failure (the connection ended, the channel's stream failed)
/// reaches every ticket whose message was not yet acknowledged.
///
/// Waiting is not cancellable, and need not be: every ticket resolves, at the
/// latest when its connection ends.
public final class SendTicket: Sendable {
    /// Where a message is.
    public enum Status: Sendable, Equatable {
        /// Queued in the channels, not yet in the connection.
        case queued
        /// In the stream's send buffer: the connection transmits it (and
        /// retransmits it until acknowledged); nothing is left for the caller to do.
        case sent
        /// The peer acknowledged every byte of it.
        case acknowledged
        /// It failed before it was acknowledged.
        case failed(ChannelError)
    }

    private typealias Waiter = CheckedContinuation<Result<Void, ChannelError>, Never>

    private struct State {
        var status = Status.queued
        /// Sent before it failed: ``sent()`` still succeeds.
        var wasSent = false
        var sentWaiters: [Waiter] = []
        var acknowledgedWaiters: [Waiter] = []
    }

    private let state = Locked(State())

    init() {}

    /// A ticket that failed already.
    init(failed error: ChannelError) {
        state.withLock { $0.status = .failed(error) }
    }

    /// Where the message is now.
    public var status: Status { state.withLock { $0.status } }

    /// Returns once the message is in the connection's send buffer.
    /// - Throws: the ``ChannelError`` that stopped it before that.
    public func sent() async throws(ChannelError) {
        try await wait(forAcknowledgement: false).get()
    }

    /// Returns once the peer acknowledged the whole message (its channel
    /// stream's bytes up to the message's end; see docs/CHANNELS.md).
    /// - Throws: the ``ChannelError`` that stopped it before that.
    public func acknowledged() async throws(ChannelError) {
        try await wait(forAcknowledgement: true).get()
    }

    private func wait(forAcknowledgement: Bool) async -> Result<Void, ChannelError> {
        await withCheckedContinuation { (waiter: Waiter) in
            let ready: Result<Void, ChannelError>? = state.withLock { state in
                if state.wasSent && !forAcknowledgement { return .success(()) }
                switch state.status {
                case .acknowledged: return .success(())
                case .sent where !forAcknowledgement: return .success(())
                case .failed(let error): return .failure(error)
                case .queued, .sent:
                    if forAcknowledgement { state.acknowledgedWaiters.append(waiter) } else { state.sentWaiters.append(waiter) }
                    return nil
                }
            }
            if let ready { waiter.resume(returning: ready) }
        }
    }

    /// The message entered the stream's send buffer.
    func markSent() {
        let waiters = state.withLock { (state) -> [Waiter] in
            guard case .queued = state.status else { return [] }
            state.status = .sent
            state.wasSent = true
            defer { state.sentWaiters = [] }
            return state.sentWaiters
        }
        for waiter in waiters { waiter.resume(returning: .success(())) }
    }

    /// The peer acknowledged the whole message.
    func markAcknowledged() {
        let waiters = state.withLock { (state) -> [Waiter] in
            switch state.status {
            case .acknowledged, .failed: return []
            case .queued, .sent:
                state.status = .acknowledged
                defer { state.sentWaiters = []; state.acknowledgedWaiters = [] }
                return state.sentWaiters + state.acknowledgedWaiters
            }
        }
        for waiter in waiters { waiter.resume(returning: .success(())) }
    }

    /// The message failed: waiters for what did not happen yet learn `error`.
    /// A message already sent stays sent for ``sent()``.
    func fail(_ error: ChannelError) {
        let waiters = state.withLock { (state) -> [Waiter] in
            switch state.status {
            case .acknowledged, .failed: return []
            case .queued, .sent:
                state.status = .failed(error)
                defer { state.sentWaiters = []; state.acknowledgedWaiters = [] }
                return state.sentWaiters + state.acknowledgedWaiters
            }
        }
        for waiter in waiters { waiter.resume(returning: .failure(error)) }
    }
}
