/// The connection's timers (a fixed set, the next deadline is
/// their minimum, and an early or repeated timeout does nothing).
extension Connection {
    enum TimerKind: CaseIterable {
        case handshakeRetransmit, handshakeTimeout, idle, keepAlive, lossDetection, ack, pacing,
             keyDiscard, pathProbe, drain
    }

    func deadline(of timer: TimerKind) -> Timestamp? {
        switch timer {
        case .handshakeRetransmit:
            return handshakeRetransmitDeadline
        case .handshakeTimeout:
            guard case .handshaking(let handshaking) = state else { return nil }
            return handshaking.deadline
        case .idle:
            return phase == .established || phase == .closing ? idleDeadline : nil
        case .keepAlive:
            return phase == .established ? keepAliveDeadline : nil
        case .lossDetection:
            return phase == .established ? loss.lossDetectionDeadline : nil
        case .ack:
            return phase == .established ? acks.ackDeadline : nil
        case .pacing:
            return phase == .established ? pacingDeadline : nil
        case .keyDiscard:
            switch state {
            case .established(let established): return established.protection.discardDeadline
            case .closing(let closing): return closing.protection.discardDeadline
            case .handshaking, .draining, .drained: return nil
            case .modifying: preconditionFailure(State.reentered)
            }
        case .pathProbe:
            return phase == .established ? paths.nextProbeDeadline : nil
        case .drain:
            guard case .draining(let draining) = state else { return nil }
            return draining.deadline
        }
    }

    /// The earliest instant this connection wants to be woken.
    var nextDeadline: Timestamp? {
        if phase == .closing { return lastActivity }  // the CLOSE goes out at once
        var earliest: Timestamp?
        for timer in TimerKind.allCases {
            if let deadline = deadline(of: timer), deadline < (earliest ?? .distantFuture) { earliest = deadline }
        }
        return earliest
    }

    /// What the endpoint's scheduler needs after any input: the phase, the
    /// next deadline, and (with `checkReady`) whether a transmit may be due.
    /// `mutating` only so that the endpoint reaches it in place in its slot
    /// array: a non-mutating call there copies the whole connection first.
    mutating func schedulingState(now: Timestamp, checkReady: Bool) -> SchedulingState {
        SchedulingState(phase: phase, deadline: nextDeadline,
                        hasPendingTransmit: checkReady && hasPendingTransmit(now: now))
    }

    struct SchedulingState {
        var phase: Phase
        var deadline: Timestamp?
        var hasPendingTransmit: Bool
    }

    /// Fires every timer that is due.
    mutating func handleTimeout(events: inout EventQueue, now: Timestamp) {
        for timer in TimerKind.allCases {
            guard let deadline = deadline(of: timer), now >= deadline else { continue }
            fire(timer, events: &events, now: now)
            if phase == .drained { return }
        }
    }

    private mutating func fire(_ timer: TimerKind, events: inout EventQueue, now: Timestamp) {
        switch timer {
        case .handshakeRetransmit:
            break  // pollTransmit sends it: the deadline is what makes it due
        case .handshakeTimeout:
            close(error: handshakeDeadlineError, events: &events, now: now, sendClose: false)
            state = .drained
        case .idle:
            // Silence for the idle timeout ends the connection without a word (§6.4).
            close(error: ConnectionError(.idleTimeout), events: &events, now: now, sendClose: false)
            state = .drained
        case .keepAlive:
            needsPing = true
            keepAliveDeadline = configuration.keepAliveInterval.map { now + $0 }
        case .lossDetection:
            switch loss.onTimeout(now: now, into: &recoveryEvents) {
            case .notDue: break
            case .packetsLost: processRecoveryEvents(now: now)
            case .sendProbes(let count):
                probesToSend = count
                requeueOutstandingData(packets: count)
                updateLink(events: &events)
            }
        case .ack:
            break  // pollTransmit sends the ACK now that it is due
        case .pacing:
            pacingDeadline = nil
        case .keyDiscard:
            _ = withProtection { $0.handleTimeout(now: now) }
        case .pathProbe:
            retryProbes(now: now)
        case .drain:
            state = .drained
        }
    }

    /// Consecutive probe timeouts mark the link stalled, then down (§8).
    private mutating func updateLink(events: inout EventQueue) {
        let probes = loss.ptoCount
        if probes >= Self.downAfterProbes, link != .down {
            link = .down
            events.emit(.linkDown(handle))
        } else if probes >= Self.stalledAfterProbes, link == .up {
            link = .stalled
            events.emit(.linkStalled(handle))
        }
    }

    // MARK: - Closing

    /// Ends the connection with `error`, telling the application once.
    /// With `sendClose` (and keys), a CLOSE frame goes out first; otherwise
    /// the connection drains quietly, or ends at once when it has no keys.
    mutating func close(error: ConnectionError, events: inout EventQueue, now: Timestamp, sendClose: Bool) {
        guard closeReason == nil else { return }
        closeReason = error
        events.emit(.closed(handle, error))
        lastActivity = now
        guard hasKeys else {
            state = .drained
            return
        }
        if sendClose {
            let (code, frameType, reason): (ErrorCode, UInt64?, String)
            switch error.kind {
            case .protocolViolation(let peerError): (code, frameType, reason) = (peerError.code, peerError.frameType, "\(peerError.reason)")
            case .closedLocally(let localCode, let text): (code, frameType, reason) = (localCode, nil, text)
            case .closedByPeer, .idleTimeout, .handshakeTimeout, .noCommonVersion, .serviceRefused, .authenticationFailed:
                (code, frameType, reason) = (.internalError, nil, "")
            }
            enterClosing(CloseContent(code: code, frameType: frameType,
                                      reason: Array(reason.utf8.prefix(CloseFrame.maxReasonCount))))
        } else {
            startDraining(now: now)
        }
    }
}
