/// Our side's stream-layer settings: what we advertise and how far we let
/// buffers grow. Defaults follow PROTOCOL.md §6.15.
struct StreamConfiguration: Hashable, Sendable {
    /// Initial credit per stream (our `initial max stream data`): 256 KiB
    /// keeps 1,024 streams within 256 MiB even if every one fills up.
    var initialStreamWindow: UInt64 = 256 * 1024
    /// Auto-tuning cap per stream (`maxStreamWindow`): 16 MiB is the
    /// bandwidth-delay product of 1 Gbit/s at 128 ms.
    var maxStreamWindow: UInt64 = 16 * 1024 * 1024
    /// Initial connection credit (our `initial max data`): 1 MiB.
    var initialConnectionWindow: UInt64 = 1024 * 1024
    /// Auto-tuning cap for the connection (`maxConnectionWindow`): 24 MiB,
    /// 1.5 × the stream cap, so one stream at full window is not throttled
    /// by the connection.
    var maxConnectionWindow: UInt64 = 24 * 1024 * 1024
    /// How many streams the peer may have open at once (our `initial max
    /// streams`, re-advertised as its streams close): 1,024.
    var maxConcurrentPeerStreams: UInt64 = 1024
    /// How many peer streams whose receiving half is over may stay live
    /// because our sending half is still open (PROTOCOL.md §6.2.1): 16,384,
    /// a few MB of idle entries at most, so a peer that opens streams
    /// faster than we finish ours waits at MAX_STREAMS instead of growing
    /// our memory without bound.
    var maxHalfOpenPeerStreams: UInt64 = 16_384
    /// Most bytes buffered per stream for sending (written, not yet
    /// acknowledged): 1 MiB, beyond which writes are cut short.
    var sendBufferLimit: Int = 1024 * 1024

    init() {}
}

/// The peer's stream-layer handshake parameters (PROTOCOL.md §6.15): the
/// credit it gives us.
struct PeerStreamParameters: Hashable, Sendable {
    /// Its `initial max data`: connection credit for our sending.
    var initialMaxData: UInt64 = 1024 * 1024
    /// Its `initial max stream data`: credit for each stream's sending.
    var initialMaxStreamData: UInt64 = 256 * 1024
    /// Its `initial max streams`: how many streams we may open.
    var initialMaxStreams: UInt64 = 1024

    init() {}

    init(initialMaxData: UInt64, initialMaxStreamData: UInt64, initialMaxStreams: UInt64) {
        self.initialMaxData = initialMaxData
        self.initialMaxStreamData = initialMaxStreamData
        self.initialMaxStreams = initialMaxStreams
    }
}
