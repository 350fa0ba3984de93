public import SecureStreamsCore

/// Why a `Host`, `Connection` or `Stream` call failed, as a sentence a person
/// can act on (``description``) and a ``Kind`` a program can switch on.
public struct HostError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Trust on first use: the host at `address` was pinned to `pinned`
        /// (in `file`, line `line`) and now presents `presented`.
        case keyMismatch(address: PeerAddress, pinned: EndpointID, presented: EndpointID, file: String, line: Int)
        /// The handshake with `address` did not complete.
        case connectionFailed(address: PeerAddress, ConnectionError)
        /// The connection ended while the call waited (or before it).
        case connectionClosed(ConnectionError)
        /// The peer reset its half of the stream with `code`.
        case streamReset(StreamID, ErrorCode)
        /// The peer asked us to stop sending on the stream, with `code`.
        case streamStopped(StreamID, ErrorCode)
        /// The known-hosts `file` could not be read or written, or is
        /// malformed at `line`; `problem` says how, for a person.
        case knownHosts(file: String, line: Int?, _ problem: String)
        /// An empty record: the wire cannot carry one.
        case emptyRecord
        /// A command on the endpoint failed, for the reason the core gives
        /// (its stream or connection conditions other than those above).
        case command(CommandError)
        /// This host's socket (`local`) cannot reach `remote`'s address
        /// family: an IPv4 socket and an IPv6 address, or a socket bound to
        /// one IPv6 address and an IPv4 address.
        case addressFamilyUnreachable(local: PeerAddress, remote: PeerAddress)
        /// The host name `name` could not be turned into an address;
        /// `problem` says why, for a person.
        case nameNotResolved(name: String, _ problem: String)
        /// A record of `size` bytes is larger than the largest the peer
        /// reads whole (`limit`, its record limit): it would never arrive.
        case recordTooLarge(size: Int, limit: UInt64)
        /// The host was shut down.
        case shutDown
    }

    public let kind: Kind

    public init(_ kind: Kind) { self.kind = kind }

    /// The core's command error, as the host reports it: a peer's reset is
    /// ``Kind/streamReset``, an ended connection ``Kind/connectionClosed``
    /// (with why), anything else ``Kind/command``. No text is inspected.
    public init(_ error: CommandError) {
        if error.kind == .resetByPeer, let id = error.stream, let code = error.code {
            kind = .streamReset(id, code)
        } else if let reason = error.connectionError {
            kind = .connectionClosed(reason)
        } else {
            kind = .command(error)
        }
    }

    public var description: String {
        switch kind {
        case .keyMismatch(let address, let pinned, let presented, let file, let line):
            return """
                the host at \(address) presents the key \(presented), but \(file):\(line) pins it to \(pinned); \
                if the host really changed its key, delete that line and connect again
                """
        case .connectionFailed(let address, let error):
            switch error.kind {
            case .handshakeTimeout: return "no answer from \(address): the handshake timed out after its retries"
            case .serviceRefused(let service, let proto):
                return "\(address) refused the service '\(service)' with protocol '\(proto)'"
            case .authenticationFailed:
                return "the handshake with \(address) failed authentication (is the EID right?)"
            case .closedByPeer, .closedLocally, .protocolViolation, .idleTimeout, .noCommonVersion:
                return "could not connect to \(address): \(error)"
            }
        case .connectionClosed(let error): return "the connection ended: \(error)"
        case .streamReset(let id, let code): return "the peer reset \(id) (\(code))"
        case .streamStopped(let id, let code): return "the peer stopped reading \(id) (\(code))"
        case .knownHosts(let file, let line, let problem):
            return line.map { "\(file):\($0): \(problem)" } ?? "the known-hosts file \(file): \(problem)"
        case .emptyRecord: return "a record must hold at least one byte"
        case .command(let error): return error.description
        case .addressFamilyUnreachable(let local, let remote):
            if local.family == .ipv4 {
                return "this host's socket is IPv4 (\(local)) and cannot reach the IPv6 address \(remote): "
                    + "bind the default (dual-stack) or PeerAddress.any(.ipv6)"
            }
            return "this host's socket is bound to the IPv6 address \(local) and cannot reach the IPv4 address "
                + "\(remote): bind the default (dual-stack) or an IPv4 address"
        case .nameNotResolved(let name, let problem):
            return "cannot resolve the host name '\(Self.escaped(name))': \(problem)"
        case .recordTooLarge(let size, let limit):
            return "a record of \(size) bytes is larger than the peer's record limit of \(limit) bytes "
                + "(the largest it reads whole): send it as bytes, or in smaller records"
        case .shutDown: return "the host was shut down"
        }
    }

    /// `text` with every character outside printable ASCII written as
    /// `\u{…}`: a name given by someone else never reaches a terminal raw.
    static func escaped(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar.value >= 0x20 && scalar.value < 0x7f && scalar != "\\" {
                result.unicodeScalars.append(scalar)
            } else {
                result += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            }
        }
        return result
    }
}
