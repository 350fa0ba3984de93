// SecureStreamsPollExample: a complete SecureStreams driver on plain poll(2)
// — one thread, one socket, one wake pipe, the poll timeout as the timer.
// The shared DriverLoop does the rest (batches, GSO/GRO, would-block,
// counters). docs/DRIVERS.md walks through it; the interop tests run it
// against the Dispatch and libuv drivers, and `sss --driver poll` uses it.
import Foundation
import Glibc
public import SecureStreams

/// Starts ``PollDriver``s.
public struct PollDriverFactory: DriverFactory {
    public init() {}

    public func start(_ loop: EndpointLoop, binding address: PeerAddress) throws -> any Driver {
        try PollDriver(loop: loop, address: address)
    }
}

/// A driver on poll(2): the smallest complete one (docs/DRIVERS.md).
public final class PollDriver: Driver, DriverLoopHooks, @unchecked Sendable {
    public let localAddress: PeerAddress
    private let socket: Int32
    private let pipe: (read: Int32, write: Int32)
    private var loop: DriverLoop!                  // set once in init; its thread-safe calls are marked
    private var deadline: Timestamp?               // the timer: the poll timeout (loop thread only)
    private var waitsForWritable = false           // POLLOUT wanted (loop thread only)
    private let finished = DispatchSemaphore(value: 0)
    /// Weak: Foundation keeps a running Thread alive, and its block holds the driver.
    private weak var thread: Thread?

    init(loop endpointLoop: EndpointLoop, address: PeerAddress) throws {
        let family = address.family == .ipv4 ? AF_INET : AF_INET6
        let socket = Glibc.socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard socket >= 0 else { throw PollDriverError(errno, "socket") }
        var size: Int32 = 4 << 20
        setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &size, 4)
        setsockopt(socket, SOL_SOCKET, SO_SNDBUF, &size, 4)
        var off: Int32 = 0                         // dual stack: IPv4 peers reach an IPv6 socket
        if family == AF_INET6 { setsockopt(socket, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, 4) }
        var fds: [Int32] = [0, 0]
        guard address.withSocketAddress({ bind(socket, $0, $1) }) == 0, Glibc.pipe(&fds) == 0 else {
            let error = PollDriverError(errno, "bind \(address) or pipe")
            close(socket)
            throw error
        }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        (self.socket, pipe) = (socket, (fds[0], fds[1]))
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        localAddress = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                getsockname(socket, address, &length)
                return PeerAddress(socketAddress: address)!
            }
        }
        loop = DriverLoop(endpointLoop, socket: DriverSocket(fd: socket, family: address.family, readsSocket: true))
        loop.hooks = self
        let thread = Thread { [self] in run() }
        self.thread = thread
        thread.start()
    }

    public func execute(_ body: @escaping @Sendable (EndpointLoop) -> Void) { loop.execute(body) }  // any thread

    public func shutdown() {  // any thread
        guard loop.requestStop() else { return }
        if Thread.current !== thread { finished.wait() }
    }

    /// The loop: wait for the socket, the pipe or the deadline; hand what
    /// happened to the shared loop (which then sends and re-arms); repeat.
    private func run() {
        loop.start()
        var drain = [UInt8](repeating: 0, count: 64)
        while !loop.isStopped {
            let out = waitsForWritable ? Int16(POLLOUT) : 0
            var fds = [pollfd(fd: socket, events: Int16(POLLIN) | out, revents: 0),
                       pollfd(fd: pipe.read, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 2, timeoutMilliseconds())
            if fds[1].revents != 0 {
                while read(pipe.read, &drain, drain.count) > 0 {}
                loop.runCommands()
            }
            if fds[0].revents & Int16(POLLOUT) != 0, waitsForWritable {
                waitsForWritable = false
                loop.writable()
            }
            if fds[0].revents & ~Int16(POLLOUT) != 0 { loop.readable() }
            if let deadline, deadline <= now() {
                self.deadline = nil                    // one-shot: fired, so disarmed
                loop.timerFired()
            }
        }
        loop.close()
        close(socket); close(pipe.read); close(pipe.write)
        finished.signal()
    }

    private func timeoutMilliseconds() -> Int32 {
        guard let deadline else { return -1 }
        let now = now()
        guard deadline > now else { return 0 }
        return Int32(min((deadline.nanoseconds - now.nanoseconds + 999_999) / 1_000_000, 60_000))
    }

    // MARK: - DriverLoopHooks

    public func now() -> Timestamp {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Timestamp(nanoseconds: UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec))
    }

    public func armTimer(at deadline: Timestamp?) { self.deadline = deadline }

    public func wake() {
        var byte: UInt8 = 1
        _ = write(pipe.write, &byte, 1)
    }

    public func waitForWritable() -> WritableWait {
        waitsForWritable = true
        return .retryOnInput
    }
}

/// A socket call failed, with its errno.
public struct PollDriverError: Error, CustomStringConvertible {
    let code: Int32
    let call: String
    init(_ code: Int32, _ call: String) { (self.code, self.call) = (code, call) }
    public var description: String { "\(call): \(String(cString: strerror(code)))" }
}
