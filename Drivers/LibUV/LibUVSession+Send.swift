// Sending: batched with SecureStreams' SendBatcher (sendmmsg, UDP GSO) on the
// socket's fd, or uv_udp_try_send where batching is unavailable; on would-block
// copies handed to uv_udp_send, whose completion says the socket drained.
import CLibUV
import Glibc
import SecureStreams
import SecureStreamsCore

extension LibUVSession {
    /// Datagrams at most on the slow path at once; beyond, they are dropped
    /// (and counted) — the core's loss recovery resends what mattered.
    static let maxPendingSends = 256

    /// Sends everything the endpoint has, unless earlier datagrams still wait
    /// for the socket (then the completion of the last of them calls again,
    /// and the core keeps its data meanwhile).
    ///
    /// Why `uv_udp_send` and not a `uv_poll_t` for writability: libuv keeps
    /// one watcher per file descriptor, so polling the fd a `uv_udp_t` already
    /// watches would corrupt the handle's own registration. `uv_udp_send`
    /// waits for `POLLOUT` on the handle's watcher, keeps order with later
    /// `uv_udp_try_send` calls (which answer `UV_EAGAIN` while it has
    /// queued requests), and cancels its requests cleanly on close.
    ///
    /// With a send batch (``LibUVSendBatch``: sendmmsg on the handle's fd),
    /// transmits are polled into its area and sent in batches; on would-block
    /// the first unsent datagram goes to `uv_udp_send` as above, and the rest
    /// stay in the batch until that completion calls again. libuv does not
    /// mind sends on its fd: it only watches it, and nothing of it is queued
    /// meanwhile (`pendingSends == 0` before every batched send).
    func flush(now: Timestamp) {
        guard !closing, pendingSends == 0 else { return }
        if let sendBatch {
            flushBatched(sendBatch, now: now)
            return
        }
        endpointLoop.transmit(now: now) { transmit, bytes in self.send(transmit, bytes) }
    }

    /// Fills and sends batches until the endpoint runs dry or the socket
    /// would block.
    private func flushBatched(_ batch: LibUVSendBatch, now: Timestamp) {
        while true {
            if batch.batcher.hasPending {
                guard sendBatch(batch) else { return waitForWritable(batch) }
            }
            let ranDry = batch.batcher.fill(from: &endpointLoop.endpoint, now: now)
            guard batch.batcher.hasPending else { return }
            guard sendBatch(batch) else { return waitForWritable(batch) }
            if ranDry { return }
        }
    }

    /// One flush of the batch, its counters added to the driver's. Returns
    /// `false` when the socket would block.
    private func sendBatch(_ batch: LibUVSendBatch) -> Bool {
        var sent = SendCounters()
        let outcome = batch.batcher.flush(on: batch.fd, counters: &sent)
        if sent.datagramsSent > 0 {
            bump(counters.datagramsSent, by: sent.datagramsSent)
            bump(counters.bytesSent, by: sent.bytesSent)
        }
        if sent.sendBatches > 0 { bump(counters.sendBatches, by: sent.sendBatches) }
        if sent.gsoSends > 0 { bump(counters.gsoSends, by: sent.gsoSends) }
        if sent.sendErrors > 0 { bump(counters.sendErrors, by: sent.sendErrors) }
        if sent.wouldBlock > 0 { bump(counters.wouldBlock, by: sent.wouldBlock) }
        return outcome == .sent
    }

    /// The socket would block: the first unsent datagram is queued with
    /// `uv_udp_send` (it waits for writability on the handle's own watcher);
    /// its completion flushes the rest.
    private func waitForWritable(_ batch: LibUVSendBatch) {
        while pendingSends == 0, !closing {
            let took = batch.batcher.takeFirstPending { destination, bytes in
                enqueue(bytes, segment: bytes.count, to: addresses.socketAddress(for: destination))
            }
            guard took else { return }  // nothing queued (every one refused): the next input sends on
        }
    }

    /// One transmit, split into `segmentSize` datagrams when it holds
    /// several. Returns `false` when the socket would block.
    private func send(_ transmit: Transmit, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard transmit.count > 0, let base = bytes.baseAddress else { return true }
        let destination = addresses.socketAddress(for: transmit.destination)
        let segment = min(max(transmit.segmentSize ?? transmit.count, 1), transmit.count)
        var offset = 0
        while offset < transmit.count {
            let count = min(segment, transmit.count - offset)
            var buffer = uv_buf_init(UnsafeMutablePointer(mutating: (base + offset).assumingMemoryBound(to: CChar.self)),
                                     UInt32(count))
            let status = injectWouldBlock() ? UV_EAGAIN.rawValue : uv_udp_try_send(udp, &buffer, 1, destination)
            if status >= 0 {
                bump(counters.datagramsSent)
                bump(counters.bytesSent, by: UInt64(count))
            } else if status == UV_EAGAIN.rawValue {
                bump(counters.wouldBlock)
                enqueue(UnsafeRawBufferPointer(rebasing: bytes[offset..<transmit.count]), segment: segment,
                        to: destination)
                return false
            } else {
                bump(counters.sendErrors)
            }
            offset += count
        }
        return true
    }

    private func injectWouldBlock() -> Bool {
        guard injectedWouldBlockEvery > 0 else { return false }
        sendsSinceInjection += 1
        guard sendsSinceInjection >= injectedWouldBlockEvery else { return false }
        sendsSinceInjection = 0
        return true
    }

    /// The slow path: copies each remaining datagram behind a
    /// `uv_udp_send_t` (one allocation, freed by the completion) and queues it.
    private func enqueue(_ bytes: UnsafeRawBufferPointer, segment: Int, to destination: UnsafePointer<sockaddr>) {
        var offset = 0
        while offset < bytes.count {
            let count = min(segment, bytes.count - offset)
            defer { offset += count }
            guard pendingSends < Self.maxPendingSends else {
                bump(counters.queueDrops)
                continue
            }
            let request = LibUVSendRequest.make(copying: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]))
            var buffer = uv_buf_init(request.bytes, UInt32(count))
            let status = uv_udp_send(request.request, udp, &buffer, 1, destination) { request, status in
                LibUVTrampolines.sent(request, status)
            }
            if status < 0 {
                request.free()
                bump(counters.sendErrors)
            } else {
                pendingSends += 1
                bump(counters.queuedDatagrams)
            }
        }
    }

    /// A queued datagram went out (or failed, or was cancelled by close).
    /// When the queue is empty the socket drained: back to the fast path.
    func sendCompleted(status: Int32, count: Int) {
        pendingSends -= 1
        if status >= 0 {
            bump(counters.datagramsSent)
            bump(counters.bytesSent, by: UInt64(count))
        } else if status != UV_ECANCELED.rawValue {
            bump(counters.sendErrors)
        }
        guard !closing, pendingSends == 0 else { return }
        afterInput(now: clock.now())
    }
}

/// A `uv_udp_send_t` with the datagram copied right behind it, in one
/// allocation: `[request][count][bytes…]`.
struct LibUVSendRequest {
    let request: UnsafeMutablePointer<uv_udp_send_t>

    private static let countOffset = (MemoryLayout<uv_udp_send_t>.size + 15) & ~15
    private static let bytesOffset = countOffset + 16

    static func make(copying bytes: UnsafeRawBufferPointer) -> LibUVSendRequest {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytesOffset + bytes.count, alignment: 16)
        raw.storeBytes(of: bytes.count, toByteOffset: countOffset, as: Int.self)
        (raw + bytesOffset).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        return LibUVSendRequest(request: raw.bindMemory(to: uv_udp_send_t.self, capacity: 1))
    }

    init(request: UnsafeMutablePointer<uv_udp_send_t>) { self.request = request }

    var bytes: UnsafeMutablePointer<CChar> {
        (UnsafeMutableRawPointer(request) + Self.bytesOffset).assumingMemoryBound(to: CChar.self)
    }

    var count: Int { UnsafeMutableRawPointer(request).load(fromByteOffset: Self.countOffset, as: Int.self) }

    func free() { UnsafeMutableRawPointer(request).deallocate() }
}

/// The batched send path of a session: the socket's fd (from `uv_fileno`)
/// and a ``SendBatcher`` (a noncopyable value, hence this box). Loop-confined.
final class LibUVSendBatch {
    /// Messages per sendmmsg call, as the Dispatch driver's default.
    static let batchSize = 32

    let fd: Int32
    var batcher: SendBatcher

    init(fd: Int32, batcher: consuming SendBatcher) {
        self.fd = fd
        self.batcher = batcher
    }
}
