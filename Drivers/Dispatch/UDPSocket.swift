// The non-blocking UDP socket of a DispatchDriver: creation, options, bind.
// Batching, GSO and GRO are SecureStreams' DriverLoop's.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SecureStreams

/// One bound, non-blocking UDP socket (IPv4, or dual-stack IPv6).
///
/// Created by ``DispatchDriverFactory``; closed exactly once by the driver's
/// cancel handler. Not thread-safe: only the loop touches it after start.
struct UDPSocket {
    let fd: Int32
    /// `AF_INET` or `AF_INET6`: IPv4 destinations of an IPv6 socket are sent mapped.
    let family: PeerAddress.Family
    /// The bound address with the kernel-chosen port.
    let localAddress: PeerAddress

    /// Creates, configures and binds the socket.
    /// - Throws: ``DispatchDriverError`` naming the call that failed.
    init(binding address: PeerAddress, bufferBytes: Int) throws(DispatchDriverError) {
        family = address.family
        let domain = family == .ipv4 ? AF_INET : AF_INET6
        #if os(Linux)
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #else
        let type = SOCK_DGRAM
        #endif
        let fd = socket(domain, type, 0)
        guard fd >= 0 else { throw DispatchDriverError("socket", errno: errno) }
        do throws(DispatchDriverError) {
            let flags = fcntl(fd, F_GETFL)
            guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else {
                throw DispatchDriverError("fcntl(O_NONBLOCK)", errno: errno)
            }
            if family == .ipv6 {
                // Dual stack: IPv4 peers arrive as ::ffff:a.b.c.d (whatever the
                // sysctl default). A system that refuses it fails the bind, so
                // a Host's default binding falls back to IPv4 instead of
                // holding a socket IPv4 peers cannot reach.
                guard Self.setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 0) else {
                    throw DispatchDriverError("setsockopt(IPV6_V6ONLY)", errno: errno)
                }
            }
            let requested = Int32(clamping: bufferBytes)
            _ = Self.setOption(fd, SOL_SOCKET, SO_RCVBUF, requested)
            _ = Self.setOption(fd, SOL_SOCKET, SO_SNDBUF, requested)
            let bound = address.withSocketAddress { bind(fd, $0, $1) }
            guard bound == 0 else { throw DispatchDriverError("bind \(address)", errno: errno) }
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let named = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            guard named == 0 else { throw DispatchDriverError("getsockname", errno: errno) }
            guard let local = withUnsafePointer(to: &storage, {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { PeerAddress(socketAddress: $0) }
            }) else { throw DispatchDriverError("getsockname", errno: EAFNOSUPPORT) }
            localAddress = local
        } catch {
            _ = close(fd)
            throw error
        }
        self.fd = fd
    }

    /// Closes the descriptor. Called once, after every source on it is cancelled.
    func closeDescriptor() { _ = close(fd) }

    // MARK: - Options

    @discardableResult
    private static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) -> Bool {
        var value = value
        return setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0
    }
}
