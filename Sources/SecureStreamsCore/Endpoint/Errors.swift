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
        /// The handshake did not complete by the handshake deadline
        /// (``EndpointConfiguration/handshakeTimeout``), and why.
        case handshakeTimeout(HandshakeTimeout)
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
        case .handshakeTimeout(let why): "handshake timed out: \(why)"
        case .noCommonVersion(let ours, let theirs): "no common protocol version (ours: \(ours), theirs: \(theirs))"
        case .serviceRefused(let service, let proto): "service refused: (\(service), \(proto))"
        case .authenticationFailed: "authentication failed"
        }
    }
}

/// What a handshake that reached its deadline had done (PROTOCOL.md §10):
/// the phase it was stuck in, how often its datagram went out, and whether
/// anything came back for it.
public struct HandshakeTimeout: Hashable, Sendable, CustomStringConvertible {
    /// The step the handshake never got past.
    public enum Phase: Hashable, Sendable {
        /// The initiator's Initiation was never answered by a valid Response.
        case awaitingResponse
        /// An XX responder's Response was never followed by a valid Finish.
        case awaitingFinish
    }

    public let phase: Phase
    /// How many times the handshake datagram (Initiation or Response) went out.
    public let attempts: Int
    /// Packets that arrived for this handshake without completing it: a
    /// Cookie, a version negotiation that was ignored, a Response or Finish
    /// that failed authentication, a repeated Initiation. Zero means the
    /// peer was never heard from (an unreachable or silent address).
    public let packetsHeard: Int

    public init(phase: Phase, attempts: Int, packetsHeard: Int) {
        self.phase = phase
        self.attempts = attempts
        self.packetsHeard = packetsHeard
    }

    public var description: String {
        let step = switch phase {
        case .awaitingResponse: "no valid Response"
        case .awaitingFinish: "no valid Finish"
        }
        let heard = packetsHeard == 0 ? "nothing heard from the peer" : "\(packetsHeard) packets heard, none valid"
        return "\(step) after \(attempts) attempts, \(heard)"
    }
}
