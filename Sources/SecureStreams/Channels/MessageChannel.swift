/// The receiving end of one channel of a ``MessageChannels``: whole
/// messages in the order each of the peer's writers sent them, through
/// ``messages`` (an `AsyncSequence`), ``receive()``, or a handler
/// (``setHandler(_:onError:)``). Use one of them per channel.
///
/// At most ``ChannelOptions/receiveBufferMessages`` messages wait for a
/// reader; past that the channel stops reading its stream, so the peer's
/// flow control slows the peer instead of our memory growing.
public final class MessageChannel: Sendable {
    /// The channel number, or `nil` for the default channel.
    public let id: UInt32?

    private typealias Consumer = CheckedContinuation<Result<[UInt8]?, ChannelError>, Never>

    private struct State {
        var buffer: [[UInt8]] = []
        var head = 0
        var consumers: [(id: UInt64, continuation: Consumer)] = []
        var producers: [CheckedContinuation<Void, Never>] = []
        var failure: ChannelError?
        var nextConsumerID: UInt64 = 0
        var count: Int { buffer.count - head }
    }

    private let limit: Int
    private let state = Locked(State())

    init(id: UInt32?, limit: Int) {
        self.id = id
        self.limit = limit
    }

    /// The channel's messages; the sequence throws the ``ChannelError`` that
    /// ended the channel (``ChannelError/Kind/connectionClosed(_:)`` when the
    /// connection ended).
    public var messages: Messages { Messages(channel: self) }

    /// The next message; suspends until one arrives.
    /// - Throws: the ``ChannelError`` that ended the channel, or
    ///   ``ChannelError/Kind/cancelled`` (no message is lost).
    public func receive() async throws(ChannelError) -> [UInt8] {
        switch await next() {
        case .success(let message?): return message
        case .success(nil): throw ChannelError(.cancelled)  // never: the channel ends with an error
        case .failure(let error): throw error
        }
    }

    /// Delivers every message to `onMessage`, in order, on a task of its
    /// own, and the error that ends the channel to `onError` (once).
    public func setHandler(
        _ onMessage: @escaping @Sendable ([UInt8]) -> Void, onError: @escaping @Sendable (ChannelError) -> Void
    ) {
        Task {
            while true {
                switch await self.next() {
                case .success(let message?): onMessage(message)
                case .success(nil): return
                case .failure(let error): return onError(error)
                }
            }
        }
    }

    /// The messages of a ``MessageChannel``.
    public struct Messages: AsyncSequence, Sendable {
        public typealias Element = [UInt8]
        let channel: MessageChannel

        public struct Iterator: AsyncIteratorProtocol {
            let channel: MessageChannel

            public mutating func next() async throws -> [UInt8]? {
                try await channel.next().get()
            }
        }

        public func makeAsyncIterator() -> Iterator { Iterator(channel: channel) }
    }

    // MARK: - Loop side

    /// Takes the next message, suspending until one arrives or the channel ends.
    func next() async -> Result<[UInt8]?, ChannelError> {
        let id = state.withLock { state -> UInt64 in
            state.nextConsumerID += 1
            return state.nextConsumerID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (consumer: Consumer) in
                var producer: CheckedContinuation<Void, Never>?
                let ready = state.withLock { (state) -> Result<[UInt8]?, ChannelError>? in
                    if state.count > 0 {
                        let message = state.buffer[state.head]
                        state.head += 1
                        if state.head == state.buffer.count || state.head >= 64 {
                            state.buffer.removeFirst(state.head)
                            state.head = 0
                        }
                        if state.count < limit, !state.producers.isEmpty { producer = state.producers.removeFirst() }
                        return .success(message)
                    }
                    if let failure = state.failure { return .failure(failure) }
                    if Task.isCancelled { return .failure(ChannelError(.cancelled)) }
                    state.consumers.append((id, consumer))
                    return nil
                }
                producer?.resume()
                if let ready { consumer.resume(returning: ready) }
            }
        } onCancel: {
            let consumer = state.withLock { state -> Consumer? in
                guard let index = state.consumers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.consumers.remove(at: index).continuation
            }
            consumer?.resume(returning: .failure(ChannelError(.cancelled)))
        }
    }

    /// Hands `message` to a waiting reader or buffers it; suspends while the
    /// buffer is full.
    func deliver(_ message: [UInt8]) async {
        await withCheckedContinuation { (producer: CheckedContinuation<Void, Never>) in
            var consumer: Consumer?
            let parked = state.withLock { state -> Bool in
                if state.failure != nil { return false }
                if !state.consumers.isEmpty {
                    consumer = state.consumers.removeFirst().continuation
                    return false
                }
                state.buffer.append(message)
                guard state.count >= limit else { return false }
                state.producers.append(producer)
                return true
            }
            consumer?.resume(returning: .success(message))
            if !parked { producer.resume() }
        }
    }

    /// Ends the channel: readers get `error` once the buffer is drained.
    func fail(_ error: ChannelError) {
        let (consumers, producers) = state.withLock { state in
            if state.failure == nil { state.failure = error }
            defer { state.consumers = []; state.producers = [] }
            return (state.consumers, state.producers)
        }
        for consumer in consumers { consumer.continuation.resume(returning: .failure(error)) }
        for producer in producers { producer.resume() }
    }
}
