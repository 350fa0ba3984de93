public import SecureStreamsCore

/// Numbered message channels over one ``Connection``, as docs/CHANNELS.md
/// describes: channel `n` (0 … 2³¹) carries whole messages, each a record
/// of a stream that one side opens, lazily, for its sending direction of
/// that channel; the stream's first record names the channel.
///
/// ```swift
/// let channels = MessageChannels(connection: connection)
/// let ticket = try channels.send(Array("hello".utf8), on: 7)   // returns at once
/// try await ticket.acknowledged()                               // or .sent(), or drop it
/// for try await message in channels.channel(7).messages { … }   // on the peer
/// ```
///
/// The channels take over the connection's ``Connection/incomingStreams``
/// (every incoming stream is expected to be a channel's). They live until
/// the connection ends; then every channel's reader gets
/// ``ChannelError/Kind/connectionClosed(_:)``, and so does every ticket not
/// yet acknowledged.
public final class MessageChannels: Sendable {
    /// The highest channel number.
    public static let maxChannelID: UInt32 = 1 << 31
    /// The stream code with which a receiver stops a stream whose first
    /// record does not name a channel (PROTOCOL.md, "Message channels").
    public static let notAChannelCode = ErrorCode(0x1c0)
    /// The stream code with which a receiver stops a channel's stream that
    /// brought a message larger than its `maxMessageSize`.
    public static let messageTooLargeCode = ErrorCode(0x1c1)
    /// The wire number of the default channel (above every numbered channel).
    static let defaultKey = UInt32.max
    /// How often the acknowledgement of sent messages is checked while some wait for it.
    static let acknowledgementPollInterval = Duration.milliseconds(1)

    public let connection: Connection
    public let options: ChannelOptions

    let sending = Locked(SendingState())
    let receiving = Locked(ReceivingState())

    struct ReceivingState {
        var channels: [UInt32: MessageChannel] = [:]
        var ended: ChannelError?
    }

    /// Starts the channels of `connection`.
    public init(connection: Connection, options: ChannelOptions = ChannelOptions()) {
        self.connection = connection
        self.options = options
        Task { await self.acceptStreams() }
        Task {
            let reason = await connection.waitUntilClosed()
            self.connectionEnded(ChannelError(.connectionClosed(reason)))
        }
    }

    /// The receiving end of channel `id` (0 … ``maxChannelID``).
    public func channel(_ id: UInt32) -> MessageChannel {
        precondition(id <= Self.maxChannelID, "channel ids are 0…2^31")
        return inbox(id)
    }

    /// The default channel, which ``read()`` and ``write(_:)`` use.
    public var defaultChannel: MessageChannel { inbox(Self.defaultKey) }

    /// Queues `message` on channel `id` and returns at once.
    /// - Returns: the message's ticket; await it, or drop it. A failure that
    ///   comes later (the connection ends) reaches the ticket.
    /// - Throws: ``ChannelError`` `.messageTooLarge`, `.emptyMessage`, or
    ///   `.queueFull`, and nothing is queued.
    @discardableResult
    public func send(_ message: [UInt8], on id: UInt32) throws(ChannelError) -> SendTicket {
        precondition(id <= Self.maxChannelID, "channel ids are 0…2^31")
        return try enqueue(message, key: id)
    }

    /// Sends `message` on the default channel and returns once it is sent
    /// (in the connection's send buffer).
    public func write(_ message: [UInt8]) async throws(ChannelError) {
        try await enqueue(message, key: Self.defaultKey).sent()
    }

    /// The next message of the default channel.
    public func read() async throws(ChannelError) -> [UInt8] {
        try await defaultChannel.receive()
    }

    // MARK: - Receiving

    func inbox(_ key: UInt32) -> MessageChannel {
        let (channel, ended) = receiving.withLock { state -> (MessageChannel, ChannelError?) in
            if let existing = state.channels[key] { return (existing, nil) }
            let channel = MessageChannel(id: key == Self.defaultKey ? nil : key, limit: options.receiveBufferMessages)
            state.channels[key] = channel
            return (channel, state.ended)
        }
        if let ended { channel.fail(ended) }
        return channel
    }

    private func acceptStreams() async {
        for await stream in connection.incomingStreams {
            Task { await self.receive(on: stream) }
        }
    }

    /// Reads one channel stream of the peer: its header, then its messages.
    private func receive(on stream: Stream) async {
        var channel: MessageChannel?
        do {
            guard let header = try await stream.readRecord(), let key = ChannelHeader.decode(header) else {
                await stream.stopSending(code: Self.notAChannelCode)
                return
            }
            let inbox = inbox(key)
            channel = inbox
            // One loop step waits for a record, a second takes every other
            // record already complete: two steps per batch, not one per message.
            while let first = try await stream.readRecord() {
                for message in try await [first] + readyRecords(on: stream) {
                    guard message.count <= options.maxMessageSize else {
                        await stream.stopSending(code: Self.messageTooLargeCode)
                        inbox.fail(ChannelError(.messageTooLarge(size: message.count, limit: options.maxMessageSize)))
                        return
                    }
                    await inbox.deliver(message)
                }
            }
        } catch {
            // A connection's end reaches every channel through `connectionEnded`.
            let failure = ChannelError(any: error)
            if case .connectionClosed = failure.kind { return }
            channel?.fail(failure)
        }
    }

    /// The records of `stream` complete now, at most a receive buffer's
    /// worth, taken in one loop step without waiting. (The channel is the
    /// stream's only reader, so taking them past the stream's parked-reader
    /// queue is safe; a failure shows on the next `readRecord`.)
    private func readyRecords(on stream: Stream) async throws -> [[UInt8]] {
        let (handle, id, limit) = (connection.handle, stream.id, options.receiveBufferMessages)
        return try await connection.runtime.call { loop, _, reply in
            var records: [[UInt8]] = []
            while records.count < limit, let record = try? loop.endpoint.readRecord(from: id, on: handle) {
                records.append(record)
            }
            reply.resume(returning: records)
        }
    }

    /// Fails every channel and every ticket not yet acknowledged.
    func connectionEnded(_ failure: ChannelError) {
        let tickets = sending.withLock { state in state.end(failure) }
        for ticket in tickets { ticket.fail(failure) }
        let channels = receiving.withLock { state -> [MessageChannel] in
            state.ended = failure
            return Array(state.channels.values)
        }
        for channel in channels { channel.fail(failure) }
    }
}

/// The first record of a channel's stream: a tag byte and the channel
/// number, big-endian (PROTOCOL.md, "Message channels").
enum ChannelHeader {
    /// The tag of a version-1 channel header.
    static let tag: UInt8 = 0xC1
    static let count = 5

    static func encode(_ key: UInt32) -> [UInt8] {
        [tag] + [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: key >> $0) }
    }

    /// The channel number, or `nil` for a record that is not a valid header.
    static func decode(_ record: [UInt8]) -> UInt32? {
        guard record.count == count, record[0] == tag else { return nil }
        let key = record[1...].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return key <= MessageChannels.maxChannelID || key == MessageChannels.defaultKey ? key : nil
    }
}
