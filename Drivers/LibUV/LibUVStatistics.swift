// Driver counters: written by the loop thread only, read from anywhere.
import Synchronization

/// What a ``LibUVDriver`` did at the socket, as one snapshot.
///
/// Each counter is exact; the snapshot is not one atomic instant across
/// counters (they are read one after another while the loop may run).
public struct LibUVDriverStatistics: Hashable, Sendable {
    /// Datagrams the kernel accepted (batched or fast path, and queued path).
    public var datagramsSent: UInt64 = 0
    public var bytesSent: UInt64 = 0
    /// sendmmsg calls that sent at least one message (zero where batching
    /// is unavailable and each datagram goes by `uv_udp_try_send`).
    public var sendBatches: UInt64 = 0
    /// Messages sent as one UDP GSO buffer of several datagrams.
    public var gsoSends: UInt64 = 0
    /// Datagrams handed to the endpoint (an empty datagram counts).
    public var datagramsReceived: UInt64 = 0
    public var bytesReceived: UInt64 = 0
    /// `recvmmsg` calls that returned at least one datagram (zero while
    /// libuv reads one datagram per `recvmsg`).
    public var receiveBatches: UInt64 = 0
    /// sendmmsg or `uv_udp_try_send` would block: the socket buffer was full.
    public var wouldBlock: UInt64 = 0
    /// Datagrams copied onto the slow path (`uv_udp_send`) after a would-block.
    public var queuedDatagrams: UInt64 = 0
    /// Datagrams dropped because the slow-path queue was full (the core
    /// recovers them as losses).
    public var queueDrops: UInt64 = 0
    /// Sends the kernel refused for another reason (unreachable, wrong family, …).
    public var sendErrors: UInt64 = 0
    /// Negative `nread` in the receive callback, or a source of an unknown family.
    public var receiveErrors: UInt64 = 0
    /// Datagrams truncated by the kernel (`UV_UDP_PARTIAL`), dropped.
    public var truncatedDatagrams: UInt64 = 0
    /// `execute` bodies that ran.
    public var bodiesRun: UInt64 = 0
}

/// The live counters behind ``LibUVDriverStatistics``.
///
/// Single writer (the loop thread) so `bump` is a relaxed load and store,
/// not a locked read-modify-write; any thread may take a ``snapshot``.
final class LibUVCounters: Sendable {
    let datagramsSent = Atomic<UInt64>(0)
    let bytesSent = Atomic<UInt64>(0)
    let sendBatches = Atomic<UInt64>(0)
    let gsoSends = Atomic<UInt64>(0)
    let datagramsReceived = Atomic<UInt64>(0)
    let bytesReceived = Atomic<UInt64>(0)
    let receiveBatches = Atomic<UInt64>(0)
    let wouldBlock = Atomic<UInt64>(0)
    let queuedDatagrams = Atomic<UInt64>(0)
    let queueDrops = Atomic<UInt64>(0)
    let sendErrors = Atomic<UInt64>(0)
    let receiveErrors = Atomic<UInt64>(0)
    let truncatedDatagrams = Atomic<UInt64>(0)
    let bodiesRun = Atomic<UInt64>(0)

    var snapshot: LibUVDriverStatistics {
        LibUVDriverStatistics(
            datagramsSent: datagramsSent.load(ordering: .relaxed),
            bytesSent: bytesSent.load(ordering: .relaxed),
            sendBatches: sendBatches.load(ordering: .relaxed),
            gsoSends: gsoSends.load(ordering: .relaxed),
            datagramsReceived: datagramsReceived.load(ordering: .relaxed),
            bytesReceived: bytesReceived.load(ordering: .relaxed),
            receiveBatches: receiveBatches.load(ordering: .relaxed),
            wouldBlock: wouldBlock.load(ordering: .relaxed),
            queuedDatagrams: queuedDatagrams.load(ordering: .relaxed),
            queueDrops: queueDrops.load(ordering: .relaxed),
            sendErrors: sendErrors.load(ordering: .relaxed),
            receiveErrors: receiveErrors.load(ordering: .relaxed),
            truncatedDatagrams: truncatedDatagrams.load(ordering: .relaxed),
            bodiesRun: bodiesRun.load(ordering: .relaxed))
    }
}

/// Adds `amount` to a counter that only the calling (loop) thread writes.
@inline(__always)
func bump(_ counter: borrowing Atomic<UInt64>, by amount: UInt64 = 1) {
    counter.store(counter.load(ordering: .relaxed) &+ amount, ordering: .relaxed)
}
