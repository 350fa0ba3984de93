// SecureStreamsPollExample: a complete SecureStreams driver on plain poll(2)
// — one thread, one socket, one wake pipe, the poll timeout as the timer.
// docs/DRIVERS.md walks through it; the interop tests run it against the
// Dispatch and libuv drivers, and `sss --driver poll` uses it as a baseline.
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
public final class PollDriver: Driver, @unchecked Sendable {
    public let localAddress: PeerAddress
    private let loop: EndpointLoop                 // touched on the loop thread only
    private let socket: Int32
    private let wake: (read: Int32, write: Int32)
    private let pending = Locked<(bodies: [@Sendable (EndpointLoop) -> Void], stopped: Bool)>(([], false))
    /// Weak: the thread's block holds the driver while the loop runs, and
    /// Foundation keeps a running Thread alive; a strong reference here would
    /// make driver, Thread and block a cycle that outlives the loop.
    private weak var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    init(loop: EndpointLoop, address: PeerAddress) throws {
        self.loop = loop
        let family = address.family == .ipv4 ? AF_INET : AF_INET6
        let socket = Glibc.socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        self.socket = socket
        guard socket >= 0 else { throw PollDriverError(errno, "socket") }
        var size: Int32 = 4 << 20
        setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &size, 4)
        setsockopt(socket, SOL_SOCKET, SO_SNDBUF, &size, 4)
        guard address.withSocketAddress({ bind(socket, $0, $1) }) == 0 else {
            let error = PollDriverError(errno, "bind \(address)")
            close(socket)
            throw error
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        localAddress = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                getsockname(socket, address, &length)
                return PeerAddress(socketAddress: address)!
            }
        }
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        wake = (fds[0], fds[1])
        let thread = Thread { [self] in run() }
        self.thread = thread
        thread.start()
    }

    public func execute(_ body: @escaping @Sendable (EndpointLoop) -> Void) {
        let accepted = pending.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.bodies.append(body)
            return true
        }
        if accepted { poke() }
    }

    public func shutdown() {
        let first = pending.withLock { state -> Bool in
            defer { state.stopped = true }
            return !state.stopped
        }
        guard first else { return }
        poke()
        if Thread.current !== thread { finished.wait() }
    }

    private func poke() {
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
    }

    /// The loop: wait for a datagram, a wake-up or the deadline; handle it;
    /// send what became sendable; repeat.
    private func run() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)
        defer {
            buffer.deallocate()
            close(socket); close(wake.read); close(wake.write)
            finished.signal()
        }
        while true {
            var fds = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 2, timeoutMilliseconds())
            let now = Self.now()
            if fds[1].revents != 0 {
                while read(wake.read, buffer.baseAddress, buffer.count) > 0 {}
                let (bodies, stopped) = pending.withLock { state in
                    defer { state.bodies = [] }
                    return (state.bodies, state.stopped)
                }
                for body in bodies { loop.run(now: now) { body($0) } }
                if stopped { return }
            }
            if fds[0].revents != 0 { receiveAll(into: buffer, now: now) }
            if let deadline = loop.deadline, deadline <= now { loop.timeout(now: now) }
            loop.transmit(now: now) { transmit, bytes in
                // A full socket buffer drops the datagram: loss recovery resends it.
                _ = transmit.destination.withSocketAddress { sendto(socket, bytes.baseAddress, bytes.count, 0, $0, $1) }
                return true
            }
        }
    }

    private func receiveAll(into buffer: UnsafeMutableRawBufferPointer, now: Timestamp) {
        var storage = sockaddr_storage()
        while true {
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(socket, buffer.baseAddress, buffer.count, 0, $0, &length)
                }
            }
            guard count >= 0 else { return }  // EAGAIN: drained (ICMP errors are ignored too)
            let from = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { PeerAddress(socketAddress: $0) }
            }
            if let from { loop.receive(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]), from: from, now: now) }
        }
    }

    private func timeoutMilliseconds() -> Int32 {
        guard let deadline = loop.deadline else { return -1 }
        let now = Self.now()
        guard deadline > now else { return 0 }
        return Int32(min((deadline.nanoseconds - now.nanoseconds + 999_999) / 1_000_000, 60_000))
    }

    static func now() -> Timestamp {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Timestamp(nanoseconds: UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec))
    }
}

/// A socket call failed, with its errno.
public struct PollDriverError: Error, CustomStringConvertible {
    let code: Int32
    let call: String
    init(_ code: Int32, _ call: String) { (self.code, self.call) = (code, call) }
    public var description: String { "\(call): \(String(cString: strerror(code)))" }
}
