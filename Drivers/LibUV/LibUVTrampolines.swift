// The C callbacks: capture nothing, find the session through handle->data.
import CLibUV
import Glibc

/// Entry points for libuv's `@convention(c)` callbacks. Each is wrapped at
/// its call site in a closure literal that captures nothing; the session is
/// found through the handle's `data` (an unretained look at the retain the
/// handle holds, see ``LibUVSession``).
enum LibUVTrampolines {
    static func allocate(_ handle: UnsafeMutablePointer<uv_handle_t>?, _ suggested: Int,
                         _ buffer: UnsafeMutablePointer<uv_buf_t>?) {
        guard let handle, let buffer else { return }
        LibUVSession.owner(of: UnsafeMutableRawPointer(handle)).allocate(buffer)
    }

    static func receive(_ handle: UnsafeMutablePointer<uv_udp_t>?, _ nread: Int, _ buffer: UnsafePointer<uv_buf_t>?,
                        _ address: UnsafePointer<sockaddr>?, _ flags: UInt32) {
        guard let handle else { return }
        LibUVSession.owner(of: UnsafeMutableRawPointer(handle)).received(nread, buffer, address, flags)
    }

    static func timer(_ handle: UnsafeMutablePointer<uv_timer_t>?) {
        guard let handle else { return }
        LibUVSession.owner(of: UnsafeMutableRawPointer(handle)).timerFired()
    }

    static func wake(_ handle: UnsafeMutablePointer<uv_async_t>?) {
        guard let handle else { return }
        LibUVSession.owner(of: UnsafeMutableRawPointer(handle)).asyncFired()
    }

    /// A queued send finished: the request memory is freed here, whatever the status.
    static func sent(_ request: UnsafeMutablePointer<uv_udp_send_t>?, _ status: Int32) {
        guard let request else { return }
        let send = LibUVSendRequest(request: request)
        let count = send.count
        let session = LibUVSession.owner(of: UnsafeMutableRawPointer(request.pointee.handle))
        send.free()
        session.sendCompleted(status: status, count: count)
    }

    /// A handle finished closing: free its memory, then drop its retain of
    /// the session (which may be the last, freeing the session too).
    static func closed(_ handle: UnsafeMutablePointer<uv_handle_t>?) {
        guard let handle, let data = handle.pointee.data else { return }
        UnsafeMutableRawPointer(handle).deallocate()
        Unmanaged<LibUVSession>.fromOpaque(data).release()
    }
}
