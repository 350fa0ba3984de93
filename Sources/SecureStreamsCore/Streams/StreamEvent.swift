/// Something the application should hear about a stream, queued by
/// ``StreamTable`` in the order it happened and drained with
/// ``StreamTable/pollEvent()``.
///
/// Level-triggered events are reported once until the application acts:
/// `readable` again only after a read, `recordReady` again only after a
/// record read, `writable` only after a write was refused or cut short. So
/// the queue holds at most a handful of events per stream.
enum StreamEvent: Hashable, Sendable {
    /// The peer opened this stream (implicitly, by its first frame).
    case opened(StreamID)
    /// Bytes (or the end of the stream) became readable.
    case readable(StreamID)
    /// A whole record can be read with ``StreamTable/readRecord(_:)``.
    case recordReady(StreamID)
    /// A write that was refused or partial can be retried: buffer space freed.
    case writable(StreamID)
    /// New data on this stream waits for the peer's stream credit.
    case blocked(StreamID)
    /// New data on every stream waits for the peer's connection credit.
    case connectionBlocked
    /// The peer raised MAX_STREAMS after ``StreamTable/open(priority:)`` was refused.
    case streamsAvailable
    /// The peer reset its sending half with this code; unread data is gone.
    case resetByPeer(StreamID, ErrorCode)
    /// The peer asked us to stop sending; our half was reset with this code.
    case stopSendingRequested(StreamID, ErrorCode)
    /// Both halves are over; the stream is forgotten.
    case closed(StreamID)
}

/// A stream-layer control frame to send (PROTOCOL.md §6), with its values
/// taken when it is polled, so a frame sent late carries the latest value.
enum StreamControlFrame: Hashable, Sendable {
    /// RESET_STREAM (`0x03`).
    case resetStream(StreamID, ErrorCode, finalSize: UInt64)
    /// STOP_SENDING (`0x04`).
    case stopSending(StreamID, ErrorCode)
    /// MAX_DATA (`0x05`).
    case maxData(UInt64)
    /// MAX_STREAM_DATA (`0x06`).
    case maxStreamData(StreamID, UInt64)
    /// DATA_BLOCKED (`0x07`).
    case dataBlocked(UInt64)
    /// STREAM_DATA_BLOCKED (`0x08`).
    case streamDataBlocked(StreamID, UInt64)
    /// MAX_STREAMS (`0x09`): the count of streams the peer may open.
    case maxStreams(UInt64)
    /// STREAMS_BLOCKED (`0x0a`): we are blocked at the peer's MAX_STREAMS.
    case streamsBlocked(UInt64)
}

/// Why a stream command from the application was refused (the API layer
/// maps these to its `CommandError`).
enum StreamCommandError: Error, Hashable, Sendable {
    /// No such stream: never opened, or closed and forgotten.
    case unknownStream(StreamID)
    /// The stream's sending half was already finished.
    case finished(StreamID)
    /// The application reset the sending half with this code.
    case sendingReset(StreamID, ErrorCode)
    /// The sending half was reset in answer to the peer's STOP_SENDING with this code.
    case stoppedByPeer(StreamID, ErrorCode)
    /// The peer reset its sending half with this code.
    case resetByPeer(StreamID, ErrorCode)
}
