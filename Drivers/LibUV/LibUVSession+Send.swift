// Waiting for writability: the shared DriverLoop sends on the socket's fd
// (sendmmsg, UDP GSO); when it would block, the first unsent datagram is
// copied behind a uv_udp_send, whose completion says the socket drained.
import CLibUV
import Glibc
import SecureStreams
import SecureStreamsCore

extension LibUVSession {
    /// Datagrams at most on the slow path at once; beyond, they are dropped
    /// (and counted) — the core's loss recovery resends what mattered.
    static let maxPendingSends = 256

    /// The socket would block: the first unsent datagram is queued with
    /// `uv_udp_send` and the loop sends nothing more until its completion.
    ///
    /// Why `uv_udp_send` and not a `uv_poll_t` for writability: libuv keeps
    /// one watcher per file descriptor, so polling the fd a `uv_udp_t` already
    /// watches would corrupt the handle's own registration. `uv_udp_send`
    /// waits for `POLLOUT` on the handle's watcher and cancels its requests
    /// cleanly on close; the loop's own sends on the fd resume only once it
    /// completed (`pendingSends == 0`), so order is kept.
    /// `notWaiting` when nothing could be queued (every datagram was
    /// refused): the loop then sends on at its next input.
    func waitForWritable() -> WritableWait {
        guard let driverLoop else { return .notWaiting }
        while pendingSends == 0, !closing {
            let took = driverLoop.takeFirstPending { destination, bytes in
                enqueue(bytes, segment: bytes.count, to: addresses.socketAddress(for: destination))
            }
            guard took else { break }
        }
        return pendingSends > 0 ? .untilWritable : .notWaiting
    }

    /// The slow path: copies each remaining datagram behind a
    /// `uv_udp_send_t` (one allocation, freed by the completion) and queues it.
    private func enqueue(_ bytes: UnsafeRawBufferPointer, segment: Int, to destination: UnsafePointer<sockaddr>) {
        var offset = 0
        while offset < bytes.count {
            let count = min(segment, bytes.count - offset)
            defer { offset += count }
            guard pendingSends < Self.maxPendingSends else {
                driverLoop?.counters.queueDrops += 1
                continue
            }
            let request = LibUVSendRequest.make(copying: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]))
            var buffer = uv_buf_init(request.bytes, UInt32(count))
            let status = uv_udp_send(request.request, udp, &buffer, 1, destination) { request, status in
                LibUVTrampolines.sent(request, status)
            }
            if status < 0 {
                request.free()
                driverLoop?.counters.sendErrors += 1
            } else {
                pendingSends += 1
                driverLoop?.counters.queuedDatagrams += 1
            }
        }
    }

    /// A queued datagram went out (or failed, or was cancelled by close).
    /// When the queue is empty the socket drained: back to the fast path.
    func sendCompleted(status: Int32, count: Int) {
        pendingSends -= 1
        guard !closing, let driverLoop else { return }
        if status >= 0 {
            driverLoop.counters.datagramsSent += 1
            driverLoop.counters.bytesSent += UInt64(count)
        } else if status != UV_ECANCELED.rawValue {
            driverLoop.counters.sendErrors += 1
        }
        if pendingSends == 0 { driverLoop.writable() }
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
