// recvmmsg into buffers allocated once, with GRO buffers split back into datagrams.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
package import SecureStreamsCore

/// The receive side of a ``DriverLoop`` that reads its socket itself: `count` buffers of 64 KiB (the
/// largest UDP payload, and the largest GRO buffer), their source addresses
/// and control space, all allocated once.
package struct ReceiveBatch: ~Copyable {
    /// What one call to ``receive(on:deliver:)`` found.
    package enum Outcome {
        /// Messages were received (and delivered).
        case received(messages: Int, datagrams: Int, bytes: Int, coalesced: Int, errors: Int)
        /// Nothing more to read now.
        case wouldBlock
        /// Another error (an ICMP report, ...): counted, ignored.
        case failed
    }

    package static let bufferBytes = 65_536
    private static let controlBytes = 64

    package let count: Int
    private let buffers: UnsafeMutableRawPointer
    private let names: UnsafeMutablePointer<sockaddr_storage>
    private let controls: UnsafeMutableRawPointer
    private let vectors: UnsafeMutablePointer<iovec>
    private let messages: MessageVector
    /// The last source seen and its `PeerAddress`, so a burst from one peer
    /// converts its address once (the conversion allocates).
    private var lastName = sockaddr_storage()
    private var lastNameLength: socklen_t = 0
    private var lastAddress: PeerAddress?

    package init(count: Int) {
        self.count = count
        buffers = .allocate(byteCount: count * Self.bufferBytes, alignment: 16)
        names = .allocate(capacity: count)
        names.initialize(repeating: sockaddr_storage(), count: count)
        controls = .allocate(byteCount: count * Self.controlBytes, alignment: 16)
        vectors = .allocate(capacity: count)
        for index in 0..<count {
            vectors[index] = iovec(iov_base: buffers + index * Self.bufferBytes, iov_len: Self.bufferBytes)
        }
        messages = MessageVector(capacity: count)
    }

    deinit {
        buffers.deallocate()
        names.deallocate()
        controls.deallocate()
        vectors.deallocate()
    }

    /// Receives one batch and hands every datagram to `deliver`: a GRO
    /// buffer is split at its segment size. Truncated messages are dropped.
    package mutating func receive(on fd: Int32, deliver: (UnsafeMutableRawBufferPointer, PeerAddress) -> Void) -> Outcome {
        for index in 0..<count {
            var header = msghdr()
            header.msg_name = UnsafeMutableRawPointer(names + index)
            header.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            header.msg_iov = vectors + index
            header.msg_iovlen = 1
            header.msg_control = controls + index * Self.controlBytes
            header.msg_controllen = .init(Self.controlBytes)
            messages.set(index, header)
        }
        let received = messages.receive(on: fd, count: count)
        guard received > 0 else {
            return received == 0 || errno == EAGAIN || errno == EWOULDBLOCK ? .wouldBlock : .failed
        }
        var datagrams = 0, bytes = 0, coalesced = 0, errors = 0
        for index in 0..<received {
            let header = messages.header(index)
            let length = messages.length(index)
            guard header.msg_flags & Int32(MSG_TRUNC) == 0, let source = address(of: index, length: header.msg_namelen)
            else {
                errors += 1
                continue
            }
            let segment = ControlMessage.integer(
                level: UDPOption.level, type: UDPOption.gro,
                in: controls + index * Self.controlBytes, count: Int(header.msg_controllen)) ?? length
            let step = segment > 0 ? segment : max(length, 1)
            if length > step { coalesced += 1 }
            bytes += length
            let base = buffers + index * Self.bufferBytes
            var start = 0
            repeat {
                let end = min(start + step, length)
                deliver(UnsafeMutableRawBufferPointer(start: base + start, count: end - start), source)
                datagrams += 1
                start = end
            } while start < length
        }
        return .received(messages: received, datagrams: datagrams, bytes: bytes, coalesced: coalesced, errors: errors)
    }

    /// The source of message `index`, reusing the previous conversion when it is the same peer.
    private mutating func address(of index: Int, length: socklen_t) -> PeerAddress? {
        let name = names + index
        if let lastAddress, length == lastNameLength, memcmp(name, &lastName, Int(length)) == 0 {
            return lastAddress
        }
        let address = UnsafeRawPointer(name).withMemoryRebound(to: sockaddr.self, capacity: 1) {
            PeerAddress(socketAddress: $0)
        }
        lastName = name.pointee
        lastNameLength = length
        lastAddress = address
        return address
    }
}
