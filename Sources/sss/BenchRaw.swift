// The baselines of `sss bench`: plain UDP between two processes on loopback
// (bulk goodput, small-packet rate, ping-pong round trips) and the cost of
// ChaCha20-Poly1305 per 1,350-byte packet, measured in this process.
//
// Raw UDP goes --batch datagrams per sendmmsg/recvmmsg call (32 by default,
// the batch of every driver's shared loop; 1, one call per datagram).
import Foundation
import SecureStreams

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum RawUDP {
    static let packetSize = 1_350
    /// Packet kinds (first byte).
    static let data: UInt8 = 0, end: UInt8 = 1, ping: UInt8 = 2

    /// A UDP socket bound to 127.0.0.1 with large buffers; its port.
    static func socket(port: UInt16 = 0) throws -> (Int32, UInt16) {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw ToolError("socket: \(String(cString: strerror(errno)))") }
        var size: Int32 = 8 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, 4)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, 4)
        let address = PeerAddress.loopback(port: port)
        guard address.withSocketAddress({ bind(fd, $0, $1) }) == 0 else {
            throw ToolError("bind: \(String(cString: strerror(errno)))")
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let bound = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> UInt16 in
                getsockname(fd, pointer, &length)
                return PeerAddress(socketAddress: pointer)?.port ?? 0
            }
        }
        return (fd, bound)
    }

    static func connect(_ fd: Int32, port: UInt16) throws {
        guard PeerAddress.loopback(port: port).withSocketAddress({ Glibc.connect(fd, $0, $1) }) == 0 else {
            throw ToolError("connect: \(String(cString: strerror(errno)))")
        }
    }

    static func setReceiveTimeout(_ fd: Int32, milliseconds: Int) {
        var timeout = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// The peer process: counts data packets and answers an end packet with
    /// (bytes, packets, nanoseconds from first to last); echoes pings.
    /// Receives up to `batch` datagrams per recvmmsg call (1: recvfrom).
    static func serve(_ fd: Int32, batch: Int) -> Never {
        var bytes: UInt64 = 0, packets: UInt64 = 0, first: UInt64 = 0, last: UInt64 = 0
        let vector = MessageBatch(count: max(1, batch), bufferSize: 65_536)
        while true {
            let received = vector.receive(fd)
            guard received > 0 else { continue }
            let now = nanoseconds()
            for index in 0..<received {
                let (buffer, count, from, fromLength) = vector.message(index)
                guard count > 0 else { continue }
                switch buffer[0] {
                case data:
                    if packets == 0 { first = now }
                    last = now
                    packets += 1
                    bytes += UInt64(count)
                case end:
                    var reply = [UInt8](repeating: end, count: 25)
                    for (i, value) in [bytes, packets, last - first].enumerated() {
                        withUnsafeBytes(of: value.littleEndian) { reply.replaceSubrange(1 + i * 8..<9 + i * 8, with: $0) }
                    }
                    // The sender repeats its end packet until answered; a new run starts at its next data packet.
                    _ = sendto(fd, reply, reply.count, 0, from, fromLength)
                    bytes = 0; packets = 0
                default:
                    _ = sendto(fd, buffer.baseAddress, count, 0, from, fromLength)
                }
            }
        }
    }

    struct Bulk: Codable {
        var packetSize: Int
        var packetsSent: UInt64
        var packetsReceived: UInt64
        var bytesReceived: UInt64
        var seconds: Double
        var bytesPerSecond: Double { seconds > 0 ? Double(bytesReceived) / seconds : 0 }
        var packetsPerSecond: Double { seconds > 0 ? Double(packetsReceived) / seconds : 0 }
        /// Time per delivered packet.
        var secondsPerPacket: Double { packetsReceived > 0 ? seconds / Double(packetsReceived) : 0 }
    }

    /// Sends `total` bytes as `size`-byte packets to the peer at `port`; the
    /// peer measures what arrived (packets the kernel dropped do not count).
    static func bulk(port: UInt16, total: UInt64, size: Int, batch: Int) throws -> Bulk {
        let (fd, _) = try socket()
        defer { close(fd) }
        try connect(fd, port: port)
        let count = max(1, total / UInt64(size))
        let vector = MessageBatch(count: max(1, batch), bufferSize: size)
        vector.fill(size: size, first: data)
        var sent: UInt64 = 0
        while sent < count {
            let n = vector.send(fd, count: Int(min(UInt64(max(1, batch)), count - sent)))
            if n > 0 { sent += UInt64(n) } else if !(errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
                throw ToolError("send: \(String(cString: strerror(errno)))")
            }
        }
        setReceiveTimeout(fd, milliseconds: 200)
        var reply = [UInt8](repeating: 0, count: 64)
        for _ in 0..<25 {
            _ = send(fd, [end], 1, 0)
            let n = recv(fd, &reply, reply.count, 0)
            if n == 25 && reply[0] == end {
                let values = (0..<3).map { i in reply[1 + i * 8..<9 + i * 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
                return Bulk(packetSize: size, packetsSent: count, packetsReceived: values[1], bytesReceived: values[0],
                            seconds: Double(values[2]) / 1e9)
            }
        }
        throw ToolError("the raw UDP peer did not report")
    }

    /// Ping-pong round trips of 64-byte packets for about `seconds` (at most `limit` of them).
    static func pingPong(port: UInt16, seconds: Double, limit: Int = 200_000) throws -> [Double] {
        let (fd, _) = try socket()
        defer { close(fd) }
        try connect(fd, port: port)
        setReceiveTimeout(fd, milliseconds: 200)
        var packet = [UInt8](repeating: 0, count: 64)
        packet[0] = ping
        var reply = [UInt8](repeating: 0, count: 64)
        var rtts: [Double] = []
        let stop = nanoseconds() + UInt64(seconds * 1e9)
        var sequence: UInt32 = 0
        while rtts.count < limit && nanoseconds() < stop {
            sequence &+= 1
            withUnsafeBytes(of: sequence) { packet.replaceSubrange(1..<5, with: $0) }
            let start = nanoseconds()
            _ = send(fd, packet, packet.count, 0)
            while true {
                let n = recv(fd, &reply, reply.count, 0)
                if n < 0 { break }  // lost: the next ping goes
                if n == 64 && reply[1..<5] == packet[1..<5] {
                    rtts.append(Double(nanoseconds() - start) / 1e9)
                    break
                }
            }
        }
        return rtts
    }
}

enum AEADCost {
    /// Seconds to seal and open one 1,350-byte packet, averaged over `count`.
    static func sealAndOpen(_ algorithm: AEADAlgorithm, count: Int = 20_000) throws -> Double {
        let key = try AEADKey(algorithm: algorithm, key: [UInt8](repeating: 7, count: AEADKey.keyCount))
        let plaintext = RawUDP.packetSize - AEADKey.tagCount
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: RawUDP.packetSize, alignment: 16)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0x42)
        let header = [UInt8](repeating: 1, count: 16)
        let start = RawUDP.nanoseconds()
        try header.withUnsafeBytes { ad in
            for i in 0..<count {
                let nonce = AEADNonce(iv: AEADNonce(), xoring: UInt64(i))
                let sealed = key.seal(nonce: nonce, associatedData: ad, buffer: buffer, plaintextCount: plaintext)
                _ = try key.open(nonce: nonce, associatedData: ad, buffer: buffer, ciphertextCount: sealed)
            }
        }
        return Double(RawUDP.nanoseconds() - start) / 1e9 / Double(count)
    }
}

/// Datagram buffers for recvmmsg/sendmmsg (one recvfrom/send per call when
/// the batch is 1 or the C library lacks them; they are looked up at run
/// time because Glibc's module map does not declare them).
final class MessageBatch {
    /// `struct mmsghdr`: a msghdr and the kernel's 32-bit length.
    private struct Entry {
        var header: msghdr
        var length: UInt32
    }

    private typealias SendFunction = @convention(c) (Int32, UnsafeMutableRawPointer?, UInt32, Int32) -> Int32
    private typealias ReceiveFunction = @convention(c) (Int32, UnsafeMutableRawPointer?, UInt32, Int32, UnsafeMutableRawPointer?) -> Int32
    private static let sendmmsg: SendFunction? = dlsym(nil, "sendmmsg").map { unsafeBitCast($0, to: SendFunction.self) }
    private static let recvmmsg: ReceiveFunction? = dlsym(nil, "recvmmsg").map { unsafeBitCast($0, to: ReceiveFunction.self) }
    private static let waitForOne: Int32 = 0x10000  // MSG_WAITFORONE

    let count: Int
    private let bufferSize: Int
    private let buffers: UnsafeMutableRawBufferPointer
    private let addresses: UnsafeMutablePointer<sockaddr_storage>
    private let iovecs: UnsafeMutablePointer<iovec>
    private let entries: UnsafeMutablePointer<Entry>

    init(count: Int, bufferSize: Int) {
        self.count = count
        self.bufferSize = bufferSize
        buffers = .allocate(byteCount: count * bufferSize, alignment: 16)
        addresses = .allocate(capacity: count)
        iovecs = .allocate(capacity: count)
        entries = .allocate(capacity: count)
        for i in 0..<count {
            iovecs[i] = iovec(iov_base: buffers.baseAddress! + i * bufferSize, iov_len: bufferSize)
            entries[i] = Entry(header: msghdr(), length: 0)
        }
        reset()
    }

    deinit {
        buffers.deallocate(); addresses.deallocate(); iovecs.deallocate(); entries.deallocate()
    }

    private func reset() {
        for i in 0..<count {
            iovecs[i].iov_len = bufferSize
            entries[i].header.msg_name = UnsafeMutableRawPointer(addresses + i)
            entries[i].header.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            entries[i].header.msg_iov = iovecs + i
            entries[i].header.msg_iovlen = 1
            entries[i].header.msg_control = nil
            entries[i].header.msg_controllen = 0
            entries[i].length = 0
        }
    }

    /// Every buffer: `size` bytes of filler starting with `first`.
    func fill(size: Int, first: UInt8) {
        for i in 0..<count {
            let buffer = buffers.baseAddress! + i * bufferSize
            buffer.initializeMemory(as: UInt8.self, repeating: 0x5a, count: size)
            buffer.storeBytes(of: first, as: UInt8.self)
            iovecs[i].iov_len = size
            entries[i].header.msg_name = nil
            entries[i].header.msg_namelen = 0
        }
    }

    /// Sends the first `n` buffers on a connected socket; how many went.
    func send(_ fd: Int32, count n: Int) -> Int {
        if n > 1, let sendmmsg = Self.sendmmsg { return Int(sendmmsg(fd, UnsafeMutableRawPointer(entries), UInt32(n), 0)) }
        return Glibc.send(fd, iovecs[0].iov_base, iovecs[0].iov_len, 0) >= 0 ? 1 : -1
    }

    /// Waits for at least one datagram; how many arrived.
    func receive(_ fd: Int32) -> Int {
        reset()
        if count > 1, let recvmmsg = Self.recvmmsg {
            return Int(recvmmsg(fd, UnsafeMutableRawPointer(entries), UInt32(count), Self.waitForOne, nil))
        }
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let n = addresses.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            recvfrom(fd, buffers.baseAddress, bufferSize, 0, $0, &length)
        }
        guard n >= 0 else { return -1 }
        entries[0].length = UInt32(n)
        entries[0].header.msg_namelen = length
        return 1
    }

    /// Datagram `i` of the last receive: its bytes, count and sender.
    func message(_ i: Int) -> (UnsafeMutableRawBufferPointer, Int, UnsafePointer<sockaddr>, socklen_t) {
        let buffer = UnsafeMutableRawBufferPointer(start: buffers.baseAddress! + i * bufferSize, count: bufferSize)
        let from = UnsafeRawPointer(addresses + i).assumingMemoryBound(to: sockaddr.self)
        return (buffer, Int(entries[i].length), from, entries[i].header.msg_namelen)
    }
}

/// Median and 99th percentile of samples (seconds).
func percentiles(_ samples: [Double]) -> (median: Double, p99: Double) {
    guard !samples.isEmpty else { return (0, 0) }
    let sorted = samples.sorted()
    return (sorted[sorted.count / 2], sorted[min(sorted.count - 1, sorted.count * 99 / 100)])
}
