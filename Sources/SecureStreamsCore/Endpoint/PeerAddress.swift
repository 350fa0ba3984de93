/// A UDP address: IPv4 or IPv6 bytes and a port, held inline.
///
/// The core never touches `sockaddr`: drivers convert at their edge.
/// Hashable by content, so it can key tables without allocating.
public struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
    public enum Family: UInt8, Hashable, Sendable { case ipv4 = 4, ipv6 = 6 }

    public let family: Family
    /// The address bytes, big-endian; for IPv4 only `high`'s top 32 bits are used.
    private let high: UInt64
    private let low: UInt64
    public let port: UInt16

    /// An IPv4 address from its four octets.
    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16) {
        family = .ipv4
        high = UInt64(a) << 56 | UInt64(b) << 48 | UInt64(c) << 40 | UInt64(d) << 32
        low = 0
        self.port = port
    }

    /// An address from 4 (IPv4) or 16 (IPv6) bytes in network order; `nil` otherwise.
    public init?(ipBytes: some ContiguousBytes, port: UInt16) {
        guard let parsed: (Family, UInt64, UInt64) = ipBytes.withUnsafeBytes({ raw in
            func word(_ slice: Slice<UnsafeRawBufferPointer>) -> UInt64 { slice.reduce(0) { $0 << 8 | UInt64($1) } }
            switch raw.count {
            case 4: return (.ipv4, word(raw[0..<4]) << 32, 0)
            case 16: return (.ipv6, word(raw[0..<8]), word(raw[8..<16]))
            default: return nil
            }
        }) else { return nil }
        (family, high, low) = parsed
        self.port = port
    }

    /// The address bytes (4 or 16) in network order.
    public var ipBytes: [UInt8] { withIPBytes { Array($0) } }

    /// Calls `body` with the address bytes in network order (4 for IPv4, 16
    /// for IPv6), without allocating: what a driver copies into a `sockaddr`
    /// for every datagram it sends.
    public func withIPBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let words = (high.bigEndian, low.bigEndian)
        let count = family == .ipv4 ? 4 : 16
        return try withUnsafeBytes(of: words) { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    /// IP bytes ‖ port (big-endian): what cookies and rate limits key on.
    public var canonicalBytes: [UInt8] {
        ipBytes + [UInt8(port >> 8), UInt8(port & 0xff)]
    }

    public var description: String {
        let bytes = ipBytes
        switch family {
        case .ipv4:
            return bytes.map { String($0) }.joined(separator: ".") + ":\(port)"
        case .ipv6:
            var groups: [String] = []
            for i in stride(from: 0, to: 16, by: 2) {
                groups.append(String(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]), radix: 16))
            }
            return "[" + groups.joined(separator: ":") + "]:\(port)"
        }
    }
}

/// A datagram the core wants sent: the driver sends `buffer[0..<count]` to `destination`.
///
/// When `segmentSize` is set and smaller than `count`, the buffer holds
/// several datagrams of `segmentSize` bytes (the last may be shorter) for the
/// same destination, ready for UDP GSO or a `sendmmsg` batch.
///
/// `source` names the local address to send from when it is not the
/// driver's default socket: set only after the application moved a
/// connection (``Endpoint/migrate(_:toLocalAddress:now:)``), and then the
/// same address the driver passes as `to` for datagrams arriving there.
public struct Transmit: Hashable, Sendable {
    public var destination: PeerAddress
    public var count: Int
    public var segmentSize: Int?
    /// The local address to send from; `nil`: the default socket.
    public var source: PeerAddress?

    public init(destination: PeerAddress, count: Int, segmentSize: Int? = nil, source: PeerAddress? = nil) {
        self.destination = destination
        self.count = count
        self.segmentSize = segmentSize
        self.source = source
    }
}
