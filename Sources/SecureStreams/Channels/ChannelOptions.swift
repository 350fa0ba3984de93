/// How a ``MessageChannels`` sends and buffers messages.
public struct ChannelOptions: Sendable, Equatable {
    /// The largest message, in bytes, either way: a larger `send` is refused
    /// with ``ChannelError/Kind/messageTooLarge(size:limit:)``, and a larger
    /// incoming message closes the peer's stream of that channel (see
    /// docs/CHANNELS.md). At most ``maxMessageSizeLimit``.
    public var maxMessageSize: Int
    /// How long a channel's sender waits after a first message before it
    /// hands everything queued meanwhile (by any task) to the connection in
    /// one step, so small messages share packets. `.zero` sends at once;
    /// messages queued while an earlier step is in progress still go together.
    public var sendDelay: Duration
    /// The most bytes of messages queued and not yet handed to the
    /// connection, over all channels; past it `send` fails with
    /// ``ChannelError/Kind/queueFull(limit:)``. (One more step's worth may be
    /// on its way into the stream's send buffer, which has its own bound.)
    public var maxQueuedBytes: Int
    /// How many received messages a channel keeps for a slow reader; past
    /// it the channel stops reading its stream, and flow control slows the peer.
    public var receiveBufferMessages: Int

    /// The default of ``maxMessageSize``: 1 MiB.
    public static let defaultMaxMessageSize = 1 << 20
    /// A message is one record, and records larger than the endpoint's
    /// `maxStreamWindow` (16 MiB by default) never arrive whole.
    public static let maxMessageSizeLimit = 16 << 20
    /// The default of ``sendDelay``, chosen by measurement (docs/CHANNELS.md,
    /// "Aggregation"): 0, because the sender already merges everything
    /// queued while its previous step runs, and a timer only adds latency.
    public static let defaultSendDelay = Duration.zero
    /// The default of ``maxQueuedBytes``: 4 MiB, a few round trips of a fast link.
    public static let defaultMaxQueuedBytes = 4 << 20
    /// The default of ``receiveBufferMessages``.
    public static let defaultReceiveBufferMessages = 1024

    public init(
        maxMessageSize: Int = ChannelOptions.defaultMaxMessageSize,
        sendDelay: Duration = ChannelOptions.defaultSendDelay,
        maxQueuedBytes: Int = ChannelOptions.defaultMaxQueuedBytes,
        receiveBufferMessages: Int = ChannelOptions.defaultReceiveBufferMessages
    ) {
        precondition((1...Self.maxMessageSizeLimit).contains(maxMessageSize),
                     "maxMessageSize must be 1…\(Self.maxMessageSizeLimit) bytes")
        precondition(sendDelay >= .zero, "sendDelay must not be negative")
        precondition(maxQueuedBytes >= maxMessageSize, "maxQueuedBytes must hold at least one message")
        precondition(receiveBufferMessages >= 1, "receiveBufferMessages must be at least 1")
        self.maxMessageSize = maxMessageSize
        self.sendDelay = sendDelay
        self.maxQueuedBytes = maxQueuedBytes
        self.receiveBufferMessages = receiveBufferMessages
    }
}
