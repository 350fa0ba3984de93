/// The phases of a connection and what exists only in each (docs/CORE.md,
/// "Connection states"). A transition is an initializer of the next phase's
/// struct taking the previous one, so what a phase needs is there by
/// construction and nothing is force-unwrapped on the packet path.
///
/// What every phase shares and mutates per packet (streams, recovery,
/// congestion, the path) stays in ``Connection`` itself so mutating it never
/// copies; a payload is mutated after parking the state in `.modifying`, so
/// the payload is uniquely held and changed in place.
extension Connection {
    enum State {
        /// No keys yet: the Noise handshake is in progress. Boxed (allocated
        /// once per handshake step, never per data packet), so the inline
        /// state of every connection is only as large as the established phase.
        indirect case handshaking(Handshaking)
        /// Keys are in place; data flows.
        case established(Established)
        /// A CLOSE goes out with the keys still in place, then draining.
        case closing(Closing)
        /// Nothing more is sent; the CID is kept until the deadline.
        case draining(Draining)
        /// Ready to be freed by the endpoint.
        case drained
        /// Holds no payload while one is being mutated in place; never seen
        /// outside ``Connection/withProtection(_:)`` and the transitions.
        case modifying

        static let reentered = "a connection state observed while it was being modified"
    }

    /// The handshake datagram resent until the handshake is confirmed: our
    /// Initiation (initiator), our Response (responder), our Finish (XX initiator).
    /// Either end resends it on its own timer (PROTOCOL.md §10): the first
    /// probe timeout of RFC 9002 from the initial RTT, doubling on each
    /// resend up to ``maxInterval``.
    struct HandshakeRetransmit {
        var datagram: [UInt8]
        var deadline: Timestamp?
        var interval: Duration = Self.initialInterval
        /// Times the datagram went out, and when it first did.
        var count = 0
        var firstSentAt: Timestamp?

        /// The first probe timeout before any RTT sample (RFC 9002 §6.2.2):
        /// initial RTT + 4 × (initial RTT / 2), 999 ms from 333 ms (§8).
        static let initialInterval = RTTEstimator.defaultInitialRTT * 3
        /// The backoff stops doubling at 2 s (§10): about 30 attempts a
        /// minute, so a handshake survives heavy loss within its deadline,
        /// at one small datagram per 2 s per pending handshake, while a
        /// path with an RTT above 2 s costs only spurious copies, which the
        /// responder answers with the same stored Response.
        static let maxInterval: Duration = .seconds(2)

        /// Records a send at `now` and schedules the next one.
        mutating func sent(now: Timestamp) {
            if count == 0 { firstSentAt = now }
            count += 1
            deadline = now + interval
            interval = min(interval * 2, Self.maxInterval)
        }
    }

    /// The initiator waiting for the Response, or an XX responder waiting for the Finish.
    struct Handshaking {
        enum Role { case initiating, awaitingFinish }
        let role: Role
        var noise: HandshakeState
        var retransmit: HandshakeRetransmit
        /// The handshake must complete by then.
        let deadline: Timestamp
        /// The initiator's MAC keys, to check a Cookie reply and add MAC2.
        var macs: HandshakeMACs?
        var cookie: Cookie?
        var cookieExpiry: Timestamp?
        /// Packets that came for this handshake without completing it (§10).
        var packetsHeard = 0
        /// The versions of a version-negotiation answer that really excluded
        /// ours; reported only at the deadline (§3.5).
        var versionMismatch: [UInt8]?
        /// When a Cookie last made us resend the Initiation (at most once per
        /// retransmission interval, §4.2).
        var lastCookieResend: Timestamp?
    }

    /// The packet protection of a connection, behind one reference: a switch
    /// that binds a phase's payload copies it, and the keys are too large to
    /// copy (and retain piece by piece) on every packet. A transition hands
    /// the box on. Copy-on-write: a copied ``Connection`` (a copied
    /// ``Endpoint``) gets its own keys at its first mutation, so sealing in
    /// one copy never moves the packet-number floor of another.
    final class Keys: @unchecked Sendable {
        var protection: PacketProtection
        init(_ protection: PacketProtection) { self.protection = protection }

        /// Gives `keys` a box of its own if another copy shares it.
        static func makeUnique(_ keys: inout Keys) {
            if !isKnownUniquelyReferenced(&keys) { keys = Keys(keys.protection) }
        }
    }

    /// Packet protection is installed.
    struct Established {
        var keys: Keys
        /// Read in place through the box.
        var protection: PacketProtection {
            _read { yield keys.protection }
        }
        /// Until the handshake is confirmed: the datagram still resent (an XX
        /// Finish on a timer; a responder's Response when the Initiation repeats).
        var retransmit: HandshakeRetransmit?

        /// The handshake of `handshaking` completed into `protection`;
        /// `retransmit` is what must still be resent until confirmation.
        init(completing handshaking: Handshaking, protection: PacketProtection, retransmit: HandshakeRetransmit?) {
            self.keys = Keys(protection)
            self.retransmit = retransmit
        }
    }

    /// What a CLOSE frame says (PROTOCOL.md §6.4).
    struct CloseContent {
        var code: ErrorCode
        var frameType: UInt64?
        var reason: [UInt8]
    }

    /// The CLOSE waits for the next poll; the keys stay to seal it.
    struct Closing {
        var keys: Keys
        let frame: CloseContent
        /// Read in place through the box.
        var protection: PacketProtection {
            _read { yield keys.protection }
        }

        init(from established: Established, frame: CloseContent) {
            keys = established.keys
            self.frame = frame
        }

        /// A second CLOSE replaces the first (the keys ran out while sealing it).
        init(from closing: Closing, frame: CloseContent) {
            keys = closing.keys
            self.frame = frame
        }
    }

    /// Quiet until `deadline`; the keys are gone.
    struct Draining {
        let deadline: Timestamp
    }

    /// Runs `body` on the packet protection of an established or closing
    /// connection, in place; `nil` in the phases without keys.
    mutating func withProtection<Result>(_ body: (inout PacketProtection) -> Result) -> Result? {
        // The keys sit behind a reference: binding the payload copies only
        // the reference. The state is parked while the payload is out, so the
        // box is uniquely held unless another copy of the connection shares it.
        switch state {
        case .established(var established):
            state = .modifying
            defer { state = .established(established) }
            Keys.makeUnique(&established.keys)
            return body(&established.keys.protection)
        case .closing(var closing):
            state = .modifying
            defer { state = .closing(closing) }
            Keys.makeUnique(&closing.keys)
            return body(&closing.keys.protection)
        case .handshaking, .draining, .drained:
            return nil
        case .modifying:
            preconditionFailure(State.reentered)
        }
    }

    /// The datagram resent until confirmation, in the phases that have one.
    var pendingHandshakeDatagram: [UInt8]? {
        switch state {
        case .handshaking(let handshaking): handshaking.retransmit.datagram
        case .established(let established): established.retransmit?.datagram
        case .closing, .draining, .drained: nil
        case .modifying: preconditionFailure(State.reentered)
        }
    }

    /// When the handshake datagram goes out next, if it does.
    var handshakeRetransmitDeadline: Timestamp? {
        switch state {
        case .handshaking(let handshaking): handshaking.retransmit.deadline
        case .established(let established): established.retransmit?.deadline
        case .closing, .draining, .drained: nil
        case .modifying: preconditionFailure(State.reentered)
        }
    }

    /// Applies `body` to the pending handshake datagram, if there is one.
    mutating func modifyRetransmit(_ body: (inout HandshakeRetransmit) -> Void) {
        switch state {
        case .handshaking(var handshaking):
            state = .modifying
            body(&handshaking.retransmit)
            state = .handshaking(handshaking)
        case .established(var established):
            guard var retransmit = established.retransmit else { return }
            state = .modifying
            established.retransmit = nil
            body(&retransmit)
            established.retransmit = retransmit
            state = .established(established)
        case .closing, .draining, .drained:
            return
        case .modifying:
            preconditionFailure(State.reentered)
        }
    }

    /// The Initiation came again from the same address: resend our Response at once.
    mutating func resendHandshakeDatagram(now: Timestamp) {
        noteHandshakePacketHeard()
        modifyRetransmit { $0.deadline = now }
    }

    /// A packet came for the handshake in progress without completing it
    /// (reported with a timeout, §10).
    mutating func noteHandshakePacketHeard() {
        guard case .handshaking(var handshaking) = state else { return }
        state = .modifying
        handshaking.packetsHeard += 1
        state = .handshaking(handshaking)
    }

    /// Whether packet protection is installed (established or closing).
    var hasKeys: Bool {
        switch state {
        case .established, .closing: true
        case .handshaking, .draining, .drained: false
        case .modifying: preconditionFailure(State.reentered)
        }
    }

    /// Queues `frame` as the CLOSE to send with the keys in place; a
    /// connection without keys has nothing to seal it with and is left as is.
    mutating func enterClosing(_ frame: CloseContent) {
        switch state {
        case .established(let established):
            state = .closing(Closing(from: established, frame: frame))
        case .closing(let closing):
            state = .closing(Closing(from: closing, frame: frame))
        case .handshaking, .draining, .drained:
            return
        case .modifying:
            preconditionFailure(State.reentered)
        }
    }

    /// Enters draining for three probe timeouts.
    mutating func startDraining(now: Timestamp) {
        state = .draining(Draining(deadline: now + loss.probeTimeout * 3))
    }
}
