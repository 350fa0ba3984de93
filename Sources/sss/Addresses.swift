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

    /// Parses a numeric address, else resolves `NAME:PORT` with the
    /// library's ``HostNameResolver`` (the first address it returns).
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
        // The library's resolver: the one place names become addresses.
        do throws(HostError) {
            return try HostNameResolver.addresses(of: name, port: port)[0]
        } catch {
            throw ToolError(escaped(error.description))
        }
    }
}
