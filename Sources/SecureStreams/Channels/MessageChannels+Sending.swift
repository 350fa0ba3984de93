import SecureStreamsCore

/// The sending half of ``MessageChannels``, under one lock: per channel, the
/// queue of messages not yet in the connection, the channel's stream once
/// open, and the tickets waiting for the peer's acknowledgement.
///
/// Bounds: queued bytes over all channels ≤ `maxQueuedBytes`; the tickets
/// waiting for acknowledgement hold at least one byte each of the stream's
/// send buffer, which the core bounds.
struct SendingState {
    struct Pending {
        var message: [UInt8]
        var ticket: SendTicket
    }

    struct Sender {
        /// Messages not yet moved into the stream: `queue[queueHead...]`.
        var queue: [Pending] = []
        var queueHead = 0
        /// A task is moving this channel's queue into its stream.
        var pumping = false
        var stream: Stream?
        var headerWritten = false
        /// Bytes written to the stream (header included): the stream offset
        /// at which the next message will end.
        var writtenOffset: UInt64 = 0
        /// Sent messages not yet acknowledged, by their end offset, ascending.
        var unacknowledged: [(end: UInt64, ticket: SendTicket)] = []
        /// Why the channel's sending direction failed for good.
        var failure: ChannelError?
    }

    var senders: [UInt32: Sender] = [:]
    var queuedBytes = 0
    var ended: ChannelError?
    var pollingAcknowledgements = false

    /// Runs `body` on channel `key`'s sender, in place.
    mutating func withSender<R>(_ key: UInt32, _ body: (inout Sender) -> R) -> R {
        body(&senders[key, default: Sender()])
    }

    /// Fails the channel's sending direction; returns the tickets to fail.
    mutating func fail(_ key: UInt32, _ failure: ChannelError) -> [SendTicket] {
        let dropped = withSender(key) { sender -> (Int, [SendTicket]) in
            if sender.failure == nil { sender.failure = failure }
            sender.pumping = false
            let waiting = sender.queue[sender.queueHead...]
            let bytes = waiting.reduce(0) { $0 + $1.message.count }
            let tickets = waiting.map(\.ticket) + sender.unacknowledged.map(\.ticket)
            sender.queue = []
            sender.queueHead = 0
            sender.unacknowledged = []
            return (bytes, tickets)
        }
        queuedBytes -= dropped.0
        return dropped.1
    }

    /// The connection ended: every ticket not yet acknowledged fails.
    mutating func end(_ failure: ChannelError) -> [SendTicket] {
        ended = failure
        var tickets: [SendTicket] = []
        for key in senders.keys.sorted() { tickets += fail(key, failure) }
        return tickets
    }
}

extension SendingState.Sender {
    /// The most message bytes moved into a stream in one loop step (at
    /// least one message): small enough that tickets become `sent` as the
    /// stream's send buffer takes them, not only when a whole backlog fits,
    /// and that one channel's step does not hold the loop long; large enough
    /// to fill some forty packets per step.
    static let maxStepBytes = 64 * 1024

    /// Takes the next step's messages off the queue, in order.
    mutating func takeStep() -> [SendingState.Pending] {
        var end = queueHead
        var bytes = 0
        while end < queue.count, end == queueHead || bytes + queue[end].message.count <= Self.maxStepBytes {
            bytes += queue[end].message.count
            end += 1
        }
        let step = Array(queue[queueHead..<end])
        queueHead = end
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        } else if queueHead >= 4096, queueHead * 2 >= queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
        return step
    }
}

/// How far one channel stream got, as the loop reports it.
private struct StreamProgress: Sendable {
    var acknowledged: UInt64?
    var stoppedByPeer: ErrorCode?
}

extension MessageChannels {
    func enqueue(_ message: [UInt8], key: UInt32) throws(ChannelError) -> SendTicket {
        guard !message.isEmpty else { throw ChannelError(.emptyMessage) }
        guard message.count <= options.maxMessageSize else {
            throw ChannelError(.messageTooLarge(size: message.count, limit: options.maxMessageSize))
        }
        let ticket = SendTicket()
        let limit = options.maxQueuedBytes
        let startPump = try sending.withLock { (state) throws(ChannelError) -> Bool in
            if let failure = state.ended ?? state.senders[key]?.failure {
                ticket.fail(failure)
                return false
            }
            guard state.queuedBytes + message.count <= limit else { throw ChannelError(.queueFull(limit: limit)) }
            state.queuedBytes += message.count
            return state.withSender(key) { sender in
                sender.queue.append(SendingState.Pending(message: message, ticket: ticket))
                guard !sender.pumping else { return false }
                sender.pumping = true
                return true
            }
        }
        if startPump { Task { await self.pump(key) } }
        return ticket
    }

    /// Moves channel `key`'s queue into its stream (opened on first use),
    /// a step of at most ``SendingState/Sender/maxStepBytes`` at a time,
    /// until the queue is empty.
    private func pump(_ key: UInt32) async {
        // The delay gathers what other tasks send meanwhile; a backlog
        // already gathered flows on without it.
        if options.sendDelay > .zero { try? await Task.sleep(for: options.sendDelay) }
        guard let stream = await openedStream(key) else { return }
        while true {
            let (batch, needsHeader) = sending.withLock { state -> ([SendingState.Pending], Bool) in
                let taken = state.withSender(key) { sender -> ([SendingState.Pending], Bool) in
                    let batch = sender.takeStep()
                    if batch.isEmpty { sender.pumping = false }
                    let needsHeader = !batch.isEmpty && !sender.headerWritten
                    if needsHeader { sender.headerWritten = true }
                    return (batch, needsHeader)
                }
                state.queuedBytes -= taken.0.reduce(0) { $0 + $1.message.count }
                return taken
            }
            if batch.isEmpty { return }
            var records = batch.map(\.message)
            if needsHeader { records.insert(ChannelHeader.encode(key), at: 0) }
            do {
                try await write(records, to: stream)
            } catch {
                let failure = ChannelError(any: error)
                let tickets = sending.withLock { $0.fail(key, failure) }
                for ticket in batch.map(\.ticket) + tickets { ticket.fail(failure) }
                return
            }
            let ended = sending.withLock { state -> ChannelError? in
                if let ended = state.ended ?? state.senders[key]?.failure { return ended }
                state.withSender(key) { sender in
                    if needsHeader { sender.writtenOffset += UInt64(ChannelHeader.count) }
                    for pending in batch {
                        sender.writtenOffset += UInt64(pending.message.count)
                        sender.unacknowledged.append((sender.writtenOffset, pending.ticket))
                    }
                }
                return nil
            }
            for pending in batch { pending.ticket.markSent() }
            if let ended {
                for pending in batch { pending.ticket.fail(ended) }
                return
            }
            startAcknowledgementPoller()
        }
    }

    /// Channel `key`'s stream, opened on first use; `nil` when that failed
    /// (and the channel's tickets with it).
    private func openedStream(_ key: UInt32) async -> Stream? {
        if let stream = sending.withLock({ $0.senders[key]?.stream }) { return stream }
        do {
            let stream = try await connection.openStream()
            sending.withLock { state in state.withSender(key) { $0.stream = stream } }
            return stream
        } catch {
            let failure = ChannelError(any: error)
            let tickets = sending.withLock { $0.fail(key, failure) }
            for ticket in tickets { ticket.fail(failure) }
            return nil
        }
    }

    /// Writes `records` into the stream's send buffer in one step on the
    /// loop; returns once the stream took the last (the stream's writers are
    /// served in order, so all of them), or throws the first failure.
    private func write(_ records: [[UInt8]], to stream: Stream) async throws {
        let (connection, id) = (self.connection, stream.id)
        let handle = connection.handle
        let _: Void = try await connection.runtime.call { loop, core, reply in
            guard let state = core.connections[handle]?.streams[id] else {
                let reason = connection.ending.withLock { $0 }
                    ?? ConnectionError(.closedLocally(code: .noError, reason: "the connection is gone"))
                return reply.resume(throwing: HostError(.connectionClosed(reason)))
            }
            for (index, record) in records.enumerated() {
                state.write(.bytes(record, offset: 0, endOfRecord: true),
                            continuation: index == records.count - 1 ? reply : nil, admitted: 0, loop: loop)
            }
        }
    }

    // MARK: - Acknowledgements

    private func startAcknowledgementPoller() {
        let start = sending.withLock { state -> Bool in
            guard !state.pollingAcknowledgements else { return false }
            state.pollingAcknowledgements = true
            return true
        }
        if start { Task { await self.pollAcknowledgements() } }
    }

    /// While sent messages wait for the peer's acknowledgement, asks the
    /// loop every ``acknowledgementPollInterval`` how far each channel
    /// stream is acknowledged (or whether the peer stopped it), and resolves
    /// the tickets.
    private func pollAcknowledgements() async {
        let handle = connection.handle
        while true {
            try? await Task.sleep(for: Self.acknowledgementPollInterval)
            let waiting = sending.withLock { state -> [(key: UInt32, id: StreamID)] in
                let waiting = state.senders.keys.sorted().compactMap { key -> (key: UInt32, id: StreamID)? in
                    guard let sender = state.senders[key], !sender.unacknowledged.isEmpty else { return nil }
                    return sender.stream.map { (key, $0.id) }
                }
                if waiting.isEmpty { state.pollingAcknowledgements = false }
                return waiting
            }
            if waiting.isEmpty { return }
            let ids = waiting.map(\.id)
            let progress: [StreamProgress]
            do {
                progress = try await connection.runtime.call { loop, core, reply in
                    let streams = core.connections[handle]?.streams
                    reply.resume(returning: ids.map { id in
                        StreamProgress(acknowledged: loop.endpoint.acknowledgedOffset(of: id, on: handle),
                                       stoppedByPeer: streams?[id]?.stoppedByPeer)
                    })
                }
            } catch {
                // The host shut down: the connection's end fails the tickets.
                sending.withLock { $0.pollingAcknowledgements = false }
                return
            }
            for (channel, progress) in zip(waiting, progress) {
                resolve(channel.key, channel.id, progress)
            }
        }
    }

    private func resolve(_ key: UInt32, _ id: StreamID, _ progress: StreamProgress) {
        if let code = progress.stoppedByPeer {
            let failure = ChannelError(HostError(.streamStopped(id, code)))
            let tickets = sending.withLock { $0.fail(key, failure) }
            for ticket in tickets { ticket.fail(failure) }
            return
        }
        guard let acknowledged = progress.acknowledged else { return }
        let done = sending.withLock { state in
            state.withSender(key) { sender -> [SendTicket] in
                let count = sender.unacknowledged.prefix(while: { $0.end <= acknowledged }).count
                defer { sender.unacknowledged.removeFirst(count) }
                return sender.unacknowledged.prefix(count).map(\.ticket)
            }
        }
        for ticket in done { ticket.markAcknowledged() }
    }
}
