// PeerAddress ⇄ sockaddr, and "HOST:PORT" parsing: the one place where the
// core's address value meets the C socket API. Every driver (Dispatch,
// libuv, the poll(2) example) converts here at its edge.
#if canImport(Glibc)
public import Glibc
#elseif canImport(Darwin)
public import Darwin
#endif
public import SecureStreamsCore

extension PeerAddress {
    /// The address as a `sockaddr_in` / `sockaddr_in6` inside a `sockaddr_storage`,
    /// with its length.
    public var socketAddress: (storage: sockaddr_storage, length: socklen_t) {
        var storage = sockaddr_storage()
        switch family {
        case .ipv4:
            withUnsafeMutableBytes(of: &storage) { raw in
                let sin = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
                sin.pointee.sin_family = sa_family_t(AF_INET)
                sin.pointee.sin_port = port.bigEndian
                withIPBytes { bytes in withUnsafeMutableBytes(of: &sin.pointee.sin_addr) { $0.copyMemory(from: bytes) } }
            }
            return (storage, socklen_t(MemoryLayout<sockaddr_in>.size))
        case .ipv6:
            withUnsafeMutableBytes(of: &storage) { raw in
                let sin6 = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
                sin6.pointee.sin6_family = sa_family_t(AF_INET6)
                sin6.pointee.sin6_port = port.bigEndian
                withIPBytes { bytes in withUnsafeMutableBytes(of: &sin6.pointee.sin6_addr) { $0.copyMemory(from: bytes) } }
            }
            return (storage, socklen_t(MemoryLayout<sockaddr_in6>.size))
        }
    }

    /// Calls `body` with the address as a `sockaddr` pointer and its length.
    public func withSocketAddress<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        var (storage, length) = socketAddress
        return try withUnsafePointer(to: &storage) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, length) }
        }
    }

    /// The address in a `sockaddr` (IPv4 or IPv6); `nil` for any other family.
    /// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a dual-stack socket
    /// reports for an IPv4 peer) becomes the plain IPv4 address, so one peer
    /// has one name whichever socket it reached.
    public init?(socketAddress pointer: UnsafePointer<sockaddr>) {
        // Called for every datagram received: the bytes are read in place.
        let parsed: PeerAddress?
        switch Int32(pointer.pointee.sa_family) {
        case AF_INET:
            let sin = UnsafeRawPointer(pointer).loadUnaligned(as: sockaddr_in.self)
            parsed = withUnsafeBytes(of: sin.sin_addr) { PeerAddress(ipBytes: $0, port: UInt16(bigEndian: sin.sin_port)) }
        case AF_INET6:
            let sin6 = UnsafeRawPointer(pointer).loadUnaligned(as: sockaddr_in6.self)
            let port = UInt16(bigEndian: sin6.sin6_port)
            parsed = withUnsafeBytes(of: sin6.sin6_addr) { bytes in
                let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff
                return PeerAddress(ipBytes: mapped ? UnsafeRawBufferPointer(rebasing: bytes[12..<16]) : bytes, port: port)
            }
        default:
            return nil
        }
        guard let parsed else { return nil }
        self = parsed
    }

    /// The IPv4-mapped IPv6 form of an IPv4 address (for sending from a
    /// dual-stack IPv6 socket); an IPv6 address unchanged.
    public var mappedToIPv6: PeerAddress {
        guard family == .ipv4 else { return self }
        return PeerAddress(ipBytes: [UInt8](repeating: 0, count: 10) + [0xff, 0xff] + ipBytes, port: port)!
    }

    /// The `sockaddr` to send to this address from a socket of `family`:
    /// mapped when an IPv6 socket sends to an IPv4 peer; `nil` when an IPv4
    /// socket cannot reach an IPv6 peer.
    package func socketAddress(
        fromSocketOf family: Family
    ) -> (storage: sockaddr_storage, length: socklen_t)? {
        switch (family, self.family) {
        case (.ipv4, .ipv4), (.ipv6, .ipv6): return socketAddress
        case (.ipv6, .ipv4): return mappedToIPv6.socketAddress
        case (.ipv4, .ipv6): return nil
        }
    }

    /// Parses a numeric `a.b.c.d:PORT`, `[v6]:PORT`, `localhost:PORT`, or a
    /// bare `:PORT` / `PORT` (then `defaultHost`).
    /// - Throws: ``AddressParseError`` saying what is wrong with the text.
    public init(parsing text: String, defaultHost: String = "127.0.0.1") throws(AddressParseError) {
        var host: Substring
        var portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw AddressParseError(text, "an IPv6 address opened with '[' has no closing ']'")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw AddressParseError(text, "expected ':PORT' after ']'") }
            portText = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") {
                throw AddressParseError(text, "write an IPv6 address in brackets: [ADDRESS]:PORT")
            }
        } else if text.allSatisfy(\.isNumber) {
            host = ""
            portText = Substring(text)
        } else {
            throw AddressParseError(text, "expected HOST:PORT")
        }
        if host.isEmpty { host = Substring(defaultHost) }
        if host == "localhost" { host = "127.0.0.1" }
        guard let port = UInt16(portText) else {
            throw AddressParseError(text, "the port '\(portText)' is not a number from 0 to 65535")
        }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, String(host), &v4) == 1 {
            self.init(ipBytes: withUnsafeBytes(of: v4) { Array($0) }, port: port)!
        } else if inet_pton(AF_INET6, String(host), &v6) == 1 {
            self.init(ipBytes: withUnsafeBytes(of: v6) { Array($0) }, port: port)!
        } else {
            throw AddressParseError(text, "'\(host)' is not a numeric IPv4 or IPv6 address (or localhost)")
        }
    }

    /// The IPv4 or IPv6 wildcard address with `port`.
    public static func any(_ family: Family = .ipv4, port: UInt16 = 0) -> PeerAddress {
        PeerAddress(ipBytes: [UInt8](repeating: 0, count: family == .ipv4 ? 4 : 16), port: port)!
    }

    /// `127.0.0.1` (or `::1`) with `port`.
    public static func loopback(_ family: Family = .ipv4, port: UInt16 = 0) -> PeerAddress {
        family == .ipv4
            ? PeerAddress(ipv4: 127, 0, 0, 1, port: port)
            : PeerAddress(ipBytes: [UInt8](repeating: 0, count: 15) + [1], port: port)!
    }
}

/// Text that is not an address, with what is wrong.
public struct AddressParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let text: String
    public let problem: String

    init(_ text: String, _ problem: String) {
        self.text = text
        self.problem = problem
    }

    public var description: String { "'\(text)' is not an address: \(problem)" }
}
