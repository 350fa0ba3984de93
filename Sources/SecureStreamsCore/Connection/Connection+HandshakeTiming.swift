/// Handshake timing and robustness (PROTOCOL.md §3.5, §10): what ends a
/// handshake at its deadline and why, answers that must not end it, and the
/// timeouts derived from the configuration.
extension Connection {
    /// A version-negotiation answer to our Initiation (§3.5). One that
    /// lists the version we speak, or whose echo is not our Initiation's
    /// bytes 1..<9, is forged or answers a corrupted copy: ignored. A real
    /// mismatch is remembered and reported only at the handshake deadline,
    /// so a valid Response arriving meanwhile still wins.
    mutating func handleVersionNegotiation(_ negotiation: VersionNegotiationPacket) {
        guard case .handshaking(var handshaking) = state, handshaking.role == .initiating else { return }
        let echo = handshaking.retransmit.datagram.withUnsafeBytes { VersionNegotiationPacket.echo(of: $0) }
        state = .modifying
        handshaking.packetsHeard += 1
        if negotiation.echo == echo, !negotiation.lists(.current) {
            handshaking.versionMismatch = Array(negotiation.versions)
        }
        state = .handshaking(handshaking)
    }

    /// Why the handshake ended at its deadline: a real version mismatch if
    /// one was heard, else the timeout with what was tried (§10).
    var handshakeDeadlineError: ConnectionError {
        guard case .handshaking(let handshaking) = state else {
            return ConnectionError(.handshakeTimeout(HandshakeTimeout(phase: .awaitingResponse, attempts: 0, packetsHeard: 0)))
        }
        if let theirs = handshaking.versionMismatch {
            return ConnectionError(.noCommonVersion(ours: ProtocolVersion.supported.map(\.rawValue), theirs: theirs))
        }
        let phase: HandshakeTimeout.Phase = switch handshaking.role {
        case .initiating: .awaitingResponse
        case .awaitingFinish: .awaitingFinish
        }
        return ConnectionError(.handshakeTimeout(HandshakeTimeout(
            phase: phase, attempts: handshaking.retransmit.count, packetsHeard: handshaking.packetsHeard)))
    }

    /// The Response came again after we completed: the responder has not
    /// seen our confirmation yet (§10). Send it at once — the XX Finish, or
    /// under IK a protected PING — rather than waiting for our own timer.
    /// One small packet per Response received: nothing to amplify.
    mutating func answerRepeatedResponse(now: Timestamp) {
        guard side == .initiator, phase == .established else { return }
        if pendingHandshakeDatagram != nil {
            modifyRetransmit { $0.deadline = now }
        } else {
            needsPing = true
        }
    }

    /// How long an XX responder waits for the Finish (§10.2): the handshake
    /// deadline, but no longer than the idle timeout. It holds state for a
    /// peer not yet authenticated, which a replayed Initiation can create;
    /// the initiator resends its Finish every 2 s at most, so 30 s still
    /// leave it about 15 attempts.
    static func finishDeadline(_ configuration: ConnectionConfiguration) -> Duration {
        min(configuration.handshakeTimeout, configuration.idleTimeout)
    }

    /// The idle timeout is the smaller of both ends' (§6.15), but never less
    /// than three probe timeouts (RFC 9000 §10.1, PROTOCOL.md §10): a short
    /// timeout on a slow path would otherwise end the connection while its
    /// probes are still on their way.
    var effectiveIdleTimeout: Duration {
        let theirs = Duration.milliseconds(Int64(clamping: peerParameters.idleTimeoutMilliseconds))
        let agreed = theirs > .zero ? min(configuration.idleTimeout, theirs) : configuration.idleTimeout
        return max(agreed, loss.rtt.pto(maxAckDelay: loss.maxAckDelay) * 3)
    }
}
