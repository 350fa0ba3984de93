// Receiving (one preallocated area, recvmmsg batches, in-place decryption),
// the timer and the clock: the libuv side of the shared DriverLoop.
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
        guard !closing, let driverLoop else { return }
        if nread < 0 {
            driverLoop.counters.receiveErrors += 1
            endBatchIfPending()
            return
        }
        guard let address else {
            if flags & UV_UDP_MMSG_FREE.rawValue != 0 { driverLoop.counters.receiveBatches += 1 }
            endBatchIfPending()
            return
        }
        if flags & UV_UDP_PARTIAL.rawValue != 0 {
            driverLoop.counters.truncatedDatagrams += 1
        } else if let peer = addresses.peer(from: address), let buffer {
            let datagram = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(buffer.pointee.base),
                                                         count: nread)
            driverLoop.receive(datagram, from: peer)
        } else {
            driverLoop.counters.receiveErrors += 1
        }
        if flags & UV_UDP_MMSG_CHUNK.rawValue != 0 {
            batchPending = true
        } else {
            driverLoop.afterInput()
        }
    }

    private func endBatchIfPending() {
        guard batchPending else { return }
        batchPending = false
        driverLoop?.afterInput()
    }

    /// The timer fired: the endpoint's deadline (or a little before it,
    /// libuv timers having millisecond resolution — early calls are harmless).
    func timerFired() {
        guard !closing else { return }
        driverLoop?.timerFired()
    }
}

extension LibUVSession: DriverLoopHooks {
    /// `uv_hrtime()` nanoseconds (the `CLOCK_MONOTONIC` origin), clamped so
    /// a reading never precedes the last.
    func now() -> Timestamp {
        let reading = uv_hrtime()
        if reading > lastTime { lastTime = reading }
        return Timestamp(nanoseconds: lastTime)
    }

    /// Arms the one timer for the endpoint's deadline (`nil`: stops it),
    /// rounding up to libuv's milliseconds.
    func armTimer(at deadline: Timestamp?) {
        guard !closing else { return }
        guard let deadline else {
            uv_timer_stop(timer)
            return
        }
        let now = now()
        let remaining = deadline > now ? deadline.nanoseconds - now.nanoseconds : 0
        let milliseconds = remaining / 1_000_000 + (remaining % 1_000_000 == 0 ? 0 : 1)
        uv_timer_start(timer, { LibUVTrampolines.timer($0) }, milliseconds, 0)
    }

    /// Any thread, under the loop's command lock while it runs: the one
    /// moment `uv_async_send` is safe (the handle closes only after the
    /// loop is marked closed under that lock).
    func wake() { _ = uv_async_send(async) }
}
