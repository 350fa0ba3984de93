// Receiving: one preallocated area, recvmmsg batches, in-place decryption.
import CLibUV
import Glibc
import SecureStreams
import SecureStreamsCore

extension LibUVSession {
    /// libuv's alloc callback: always the same area (a multiple of 64 KiB, so
    /// with `UV_UDP_RECVMMSG` libuv splits it into `recvmmsg` slots). libuv
    /// asks again only after every callback of the previous read ran, so one
    /// area suffices and nothing is allocated per datagram.
    func allocate(_ buffer: UnsafeMutablePointer<uv_buf_t>) {
        buffer.pointee = uv_buf_init(receiveArea.baseAddress!.assumingMemoryBound(to: CChar.self),
                                     UInt32(receiveArea.count))
    }

    /// libuv's receive callback.
    ///
    /// - `nread < 0`: a socket error, counted.
    /// - `address == nil`: nothing was read (`nread == 0`), or — with
    ///   `UV_UDP_MMSG_FREE` — the end of a `recvmmsg` batch, when the area
    ///   would be freed (ours is reused) and the batch's output is sent.
    /// - otherwise one datagram (possibly empty), decrypted in place; with
    ///   `UV_UDP_MMSG_CHUNK` it is one of a batch, so transmits wait for the
    ///   batch's end; without, they go at once.
    func received(_ nread: Int, _ buffer: UnsafePointer<uv_buf_t>?, _ address: UnsafePointer<sockaddr>?,
                  _ flags: UInt32) {
        guard !closing else { return }
        if nread < 0 {
            bump(counters.receiveErrors)
            endBatchIfPending()
            return
        }
        guard let address else {
            if flags & UV_UDP_MMSG_FREE.rawValue != 0 { bump(counters.receiveBatches) }
            endBatchIfPending()
            return
        }
        if flags & UV_UDP_PARTIAL.rawValue != 0 {
            bump(counters.truncatedDatagrams)
        } else if let peer = addresses.peer(from: address), let buffer {
            let datagram = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(buffer.pointee.base),
                                                         count: nread)
            bump(counters.datagramsReceived)
            bump(counters.bytesReceived, by: UInt64(nread))
            endpointLoop.receive(datagram, from: peer, now: clock.now())
        } else {
            bump(counters.receiveErrors)
        }
        if flags & UV_UDP_MMSG_CHUNK.rawValue != 0 {
            batchPending = true
        } else {
            afterInput(now: clock.now())
        }
    }

    private func endBatchIfPending() {
        guard batchPending else { return }
        batchPending = false
        afterInput(now: clock.now())
    }

    /// The timer fired: the endpoint's deadline (or a little before it,
    /// libuv timers having millisecond resolution — early calls are harmless).
    func timerFired() {
        guard !closing else { return }
        armedDeadline = nil
        let now = clock.now()
        endpointLoop.timeout(now: now)
        afterInput(now: now)
    }

    /// Arms the one timer for the endpoint's deadline (`nil`: stops it),
    /// rounding up to libuv's milliseconds.
    func rearm(now: Timestamp) {
        guard !closing else { return }
        let deadline = endpointLoop.deadline
        guard deadline != armedDeadline else { return }
        armedDeadline = deadline
        guard let deadline else {
            uv_timer_stop(timer)
            return
        }
        let remaining = deadline > now ? deadline.nanoseconds - now.nanoseconds : 0
        let milliseconds = remaining / 1_000_000 + (remaining % 1_000_000 == 0 ? 0 : 1)
        uv_timer_start(timer, { LibUVTrampolines.timer($0) }, milliseconds, 0)
    }
}
