/// Why a connection ended: reported once, in the
/// `connectionClosed` event, to the application on both ends.
public struct ConnectionError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// The peer closed, with its code and reason.
        case closedByPeer(code: ErrorCode, reason: String)
        /// This end's application closed.
        case closedLocally(code: ErrorCode, reason: String)
        /// The peer broke the protocol; this end closed with the code.
        case protocolViolation(PeerError)
        /// Nothing was heard from the peer for the idle timeout.
        case idleTimeout
        /// The handshake did not complete in time (no answer, or every
        /// answer refused).
        case handshakeTimeout
        /// The peer speaks none of our versions.
        case noCommonVersion(ours: [UInt8], theirs: [UInt8])
        /// The peer refused the requested (service, protocol).
        case serviceRefused(service: String, protocol: String)
        /// The responder's key differs from the EID the initiator asked for,
        /// or the handshake failed authentication.
        case authenticationFailed
    }

    public let kind: Kind

    public init(_ kind: Kind) { self.kind = kind }

    public var description: String {
        switch kind {
        case .closedByPeer(let code, let reason): "closed by peer: \(code)\(reason.isEmpty ? "" : " (\(reason))")"
        case .closedLocally(let code, let reason): "closed locally: \(code)\(reason.isEmpty ? "" : " (\(reason))")"
        case .protocolViolation(let error): "protocol violation by peer: \(error)"
        case .idleTimeout: "idle timeout"
        case .handshakeTimeout: "handshake timed out"
        case .noCommonVersion(let ours, let theirs): "no common protocol version (ours: \(ours), theirs: \(theirs))"
        case .serviceRefused(let service, let proto): "service refused: (\(service), \(proto))"
        case .authenticationFailed: "authentication failed"
        }
    }
}
