public import SecureStreamsCore

/// Why a message channel call failed, as a sentence a person can act on
/// (``description``) and a ``Kind`` a program can switch on.
public struct ChannelError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The message has `size` bytes, more than the channels'
        /// `maxMessageSize` (`limit`): it was refused, not split.
        case messageTooLarge(size: Int, limit: Int)
        /// An empty message: a record holds at least one byte.
        case emptyMessage
        /// `limit` bytes of messages already wait to be sent: await some
        /// tickets (``SendTicket/sent()``) before sending more.
        case queueFull(limit: Int)
        /// The connection ended, with why.
        case connectionClosed(ConnectionError)
        /// The channel's stream failed (the peer reset or stopped it, or the
        /// host shut down), as the host reports it.
        case stream(HostError)
        /// The peer refused a message of ours or sent one over our limit,
        /// closing the channel in that direction.
        case peerRefused(ErrorCode)
        /// The task waiting for a message was cancelled (nothing was lost).
        case cancelled
    }

    public let kind: Kind

    public init(_ kind: Kind) { self.kind = kind }

    /// The host's failure as a channel reports it.
    init(_ error: HostError) {
        switch error.kind {
        case .connectionClosed(let reason): kind = .connectionClosed(reason)
        case .streamStopped(_, let code) where code == MessageChannels.messageTooLargeCode:
            kind = .peerRefused(code)
        default: kind = .stream(error)
        }
    }

    /// Any error thrown by a host call, as a channel reports it.
    init(any error: any Error) {
        if let error = error as? ChannelError {
            self = error
        } else if let error = error as? HostError {
            self.init(error)
        } else {
            self.init(.cancelled)
        }
    }

    public var description: String {
        switch kind {
        case .messageTooLarge(let size, let limit):
            return "a message of \(size) bytes exceeds the channels' maxMessageSize of \(limit) bytes"
        case .emptyMessage: return "a message must hold at least one byte"
        case .queueFull(let limit):
            return "\(limit) bytes of messages already wait to be sent; await earlier tickets first"
        case .connectionClosed(let error): return "the connection ended: \(error)"
        case .stream(let error): return "the channel's stream failed: \(error)"
        case .peerRefused(let code): return "the peer refused a message on this channel (\(code))"
        case .cancelled: return "the wait was cancelled"
        }
    }
}
