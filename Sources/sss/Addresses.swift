// Addresses as the tool reads and prints them: IPv6 in its short form in
// brackets, host names resolved here (the drivers and the core take
// numeric addresses only).
import Foundation
import SecureStreams

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension PeerAddress {
    /// `192.0.2.1:4433` or `[2001:db8::1]:4433`: IPv6 in its short form.
    var display: String {
        switch family {
        case .ipv4:
            return description
        case .ipv6:
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            let converted = ipBytes.withUnsafeBytes { bytes in
                inet_ntop(AF_INET6, bytes.baseAddress, &text, socklen_t(text.count))
            }
            guard converted != nil else { return description }
            return "[\(String(cString: text))]:\(port)"
        }
    }

    /// Whether this is the IPv4 or IPv6 wildcard (nobody can dial it).
    var isWildcard: Bool { ipBytes.allSatisfy { $0 == 0 } }

    /// Parses a numeric address, else resolves `NAME:PORT` with getaddrinfo
    /// (the first address it returns).
    /// - Throws: `ToolError` saying what is wrong with the text.
    static func resolving(_ text: String) throws -> PeerAddress {
        let parseError: AddressParseError
        do { return try PeerAddress(parsing: text) } catch { parseError = error }
        guard let colon = text.lastIndex(of: ":"), !text.hasPrefix("[") else { throw ToolError("\(parseError)") }
        let name = String(text[..<colon]), portText = String(text[text.index(after: colon)...])
        let nameCharacters = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: ".-"))
        guard !name.isEmpty, !name.contains(":"), name.unicodeScalars.allSatisfy(nameCharacters.contains),
              name.contains(where: \.isLetter), let port = UInt16(portText)
        else { throw ToolError("\(parseError)") }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        #else
        hints.ai_socktype = SOCK_DGRAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &list)
        guard status == 0, let first = list else {
            throw ToolError("cannot resolve '\(escaped(name))': \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let address = current.pointee.ai_addr {
                if current.pointee.ai_family == AF_INET {
                    let v4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                    if let result = withUnsafeBytes(of: v4, { PeerAddress(ipBytes: $0, port: port) }) { return result }
                } else if current.pointee.ai_family == AF_INET6 {
                    let v6 = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    if let result = withUnsafeBytes(of: v6, { PeerAddress(ipBytes: $0, port: port) }) { return result }
                }
            }
            entry = current.pointee.ai_next
        }
        throw ToolError("'\(escaped(name))' has no IPv4 or IPv6 address")
    }
}
