// Host names to addresses, for the async API and the tool. The drivers and
// the core take numeric addresses only; resolution happens here, once, before
// a connection starts.
import Dispatch
public import SecureStreamsCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Resolves a host name (or a numeric address) to the addresses to try, in
/// the order the system prefers them (getaddrinfo's, RFC 6724).
public enum HostNameResolver {
    /// The most addresses one name yields (more are dropped): a name with
    /// dozens of records must not start dozens of handshakes.
    public static let maximumAddresses = 8

    /// The addresses of `name` with `port`: a numeric IPv4 or IPv6 address
    /// (brackets optional) is returned as it is, without a lookup; a name is
    /// looked up with getaddrinfo (blocking: ``resolve(_:port:)`` runs it
    /// off the caller's thread).
    /// - Throws: ``HostError`` `.nameNotResolved` saying why (no such name,
    ///   no IPv4 or IPv6 address, a name that is not a host name).
    public static func addresses(of name: String, port: UInt16) throws(HostError) -> [PeerAddress] {
        let bare = name.hasPrefix("[") && name.hasSuffix("]") ? String(name.dropFirst().dropLast()) : name
        if let numeric = numericAddress(bare, port: port) { return [numeric] }
        guard isHostName(bare) else {
            throw HostError(.nameNotResolved(name: name, "not a host name or a numeric address"))
        }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        #else
        hints.ai_socktype = SOCK_DGRAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(bare, nil, &hints, &list)
        guard status == 0, let first = list else {
            throw HostError(.nameNotResolved(name: name, String(cString: gai_strerror(status))))
        }
        defer { freeaddrinfo(list) }
        var found: [PeerAddress] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry, found.count < maximumAddresses {
            if let socketAddress = current.pointee.ai_addr, var address = PeerAddress(socketAddress: socketAddress) {
                address = PeerAddress(ipBytes: address.ipBytes, port: port)!
                if !found.contains(address) { found.append(address) }
            }
            entry = current.pointee.ai_next
        }
        guard !found.isEmpty else { throw HostError(.nameNotResolved(name: name, "no IPv4 or IPv6 address")) }
        return found
    }

    /// ``addresses(of:port:)`` on a thread of its own, so a slow lookup
    /// never holds one of the few threads Swift concurrency runs on.
    public static func resolve(_ name: String, port: UInt16) async throws(HostError) -> [PeerAddress] {
        let result: Result<[PeerAddress], HostError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                do throws(HostError) {
                    continuation.resume(returning: .success(try addresses(of: name, port: port)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    // MARK: - Private

    private static func numericAddress(_ text: String, port: UInt16) -> PeerAddress? {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: v4) { PeerAddress(ipBytes: $0, port: port) }
        }
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: v6) { PeerAddress(ipBytes: $0, port: port) }
        }
        return nil
    }

    /// Letters, digits, `-` and `.` only, 1…253 characters (RFC 1123): the
    /// resolver is never handed text with other characters in it.
    private static func isHostName(_ text: String) -> Bool {
        guard (1...253).contains(text.utf8.count) else { return false }
        return text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                || byte == 0x2d || byte == 0x2e
        }
    }
}
