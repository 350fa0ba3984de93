/// The handshake binding of PROTOCOL.md §3.1–3.3 and §6.15: building the
/// Initiation, answering it, and finishing.
extension Connection {
    /// "SecureStreams/1": the Noise prologue starts with it (§3.1).
    static let prologueLabel = Array("SecureStreams/1".utf8)

    /// What accepting an Initiation led to.
    enum AcceptOutcome {
        /// A new connection, with the Response datagram to send.
        case accepted(Connection, response: [UInt8])
        /// The (service, protocol) has no listener: an authenticated refusal to send, no state kept.
        case refused(response: [UInt8])
        /// The Initiation did not authenticate or was malformed.
        case dropped(DropKind)
    }

    enum DropKind {
        case malformed, authenticationFailed
        /// An XX Initiation for a (service, protocol) nobody listens for:
        /// dropped before any DH, unanswered, so XX enumerates nothing (§4.6).
        case notListening
        /// An IK Initiation whose timestamp is not newer than its sender's
        /// last, or (a sender not remembered) outside the freshness window (§4.4).
        case replayed
    }

    // MARK: - Initiator

    /// Builds a connection in the `initiating` phase with its Initiation ready to send.
    /// - Parameter timestamp: the wall-clock time an IK Initiation carries
    ///   (§4.4); required with `peer`, ignored under XX.
    static func initiate(
        peer: EndpointID?, address: PeerAddress, service: String, applicationProtocol: String,
        identity: HostIdentity, cipher: AEADAlgorithm, localCID: ConnectionID, timestamp: WallClockTime?,
        configuration: ConnectionConfiguration, handle: ConnectionHandle,
        random: inout some RandomSource, now: Timestamp
    ) -> Connection {
        let suite = Suite(NoiseProtocol(pattern: HandshakePattern(base: peer == nil ? .XX : .IK), cipher: cipher))!
        let header = [ProtocolVersion.current.rawValue, PacketType.initiation.rawValue, suite.rawValue] + localCID.bytes
        // The configuration is complete by construction: IK has `s` and `rs`, XX has `s`.
        var handshake = try! HandshakeState(.init(
            noiseProtocol: suite.noiseProtocol, side: .initiator, prologue: prologueLabel + header,
            localStatic: identity.staticKey, remoteStatic: peer?.noiseStaticKey))
        var parameters = configuration.local
        parameters.service = service
        parameters.applicationProtocol = applicationProtocol
        // Under IK message 1 is encrypted and carries our identity; under XX it
        // is in the clear, and the identity waits for message 3.
        parameters.identity = peer == nil ? nil : identity.signingKey.publicKey
        // Under IK the responder learns who we are from message 1 and refuses
        // a replay of it by this timestamp (§4.4); XX's message 1 names nobody.
        parameters.initiationTimestamp = peer == nil ? nil : timestamp
        let payload = encodeHandshakePayload(HandshakeFrame(connectionID: localCID, parameters: parameters))
        let message = try! handshake.writeMessage(payload: payload, using: &random)  // within size limits

        var packet = [UInt8](repeating: 0, count: InitiationPacket.headerCount + message.count)
        packet.replaceSubrange(0..<header.count, with: header)
        packet.replaceSubrange(InitiationPacket.headerCount..<packet.count, with: message)
        let macs = peer.map { HandshakeMACs(responderStaticKey: $0.noiseStaticKey) } ?? HandshakeMACs.xx
        packet.withUnsafeMutableBytes { macs.writeMAC1(into: $0) }
        let handshaking = Handshaking(
            role: .initiating, noise: handshake, retransmit: HandshakeRetransmit(datagram: packet, deadline: now),
            deadline: now + configuration.handshakeTimeout, macs: macs)
        var connection = Connection(
            side: .initiator, localCID: localCID, remoteCID: ConnectionID(rawValue: 0), address: address,
            isAddressValidated: true, service: service, applicationProtocol: applicationProtocol,
            handshaking: handshaking, configuration: configuration, handle: handle, now: now)
        connection.peer = peer
        return connection
    }

    /// A Cookie packet answered our Initiation: store the cookie and resend
    /// the Initiation, now proving our address (§4.2). A Cookie counts only
    /// from the address the Initiation went to, and triggers at most one
    /// resend per current retransmission interval: anyone who saw the
    /// Initiation can seal a Cookie for it (the key is public), and must not
    /// be able to make us send at its pace. A later one still replaces the
    /// cookie, which goes out with the next scheduled resend.
    mutating func handleCookie(_ datagram: UnsafeRawBufferPointer, from address: PeerAddress, now: Timestamp) -> Bool {
        guard case .handshaking(var handshaking) = state, handshaking.role == .initiating,
              let macs = handshaking.macs, address == path.address
        else { return false }
        let mac1 = handshaking.retransmit.datagram.withUnsafeBytes { HandshakeMACs.mac1Field(of: $0) }
        guard let cookie = CookieSealing.open(datagram, initiationMAC1: mac1, macs: macs) else { return false }
        state = .modifying
        handshaking.packetsHeard += 1
        handshaking.cookie = cookie
        handshaking.cookieExpiry = now + Cookie.lifetime
        handshaking.retransmit.datagram.withUnsafeMutableBytes { HandshakeMACs.writeMAC2(cookie: cookie, into: $0) }
        if handshaking.lastCookieResend.map({ now >= $0 + handshaking.retransmit.interval }) ?? true {
            handshaking.lastCookieResend = now
            handshaking.retransmit.deadline = now
        }
        state = .handshaking(handshaking)
        return true
    }

    /// The Response arrived (§3.2). On success the connection is established
    /// (and under XX the Finish is queued); on failure it is dropped and
    /// counted, and the Initiation keeps being retried.
    mutating func handleResponse(
        _ message: UnsafeRawBufferPointer, from address: PeerAddress, identity: HostIdentity,
        events: inout EventQueue, random: inout some RandomSource, now: Timestamp
    ) {
        guard case .handshaking(let handshaking) = state, handshaking.role == .initiating else {
            answerRepeatedResponse(now: now)
            return
        }
        var handshake = handshaking.noise
        let payload: [UInt8]
        do {
            payload = try handshake.readMessage(message)
        } catch {
            statistics.drops.authenticationFailed += 1
            noteHandshakePacketHeard()
            return
        }
        statistics.packetsReceived += 1
        statistics.bytesReceived += UInt64(message.count + HandshakeMessagePacket.headerCount)
        let frames: HandshakePayload
        do {
            frames = try Self.decodeHandshakePayload(payload)
        } catch {
            close(error: ConnectionError(.protocolViolation(error)), events: &events, now: now, sendClose: true)
            return
        }
        if let refusal = frames.close {
            let kind: ConnectionError.Kind = refusal.code == .serviceRefused
                ? .serviceRefused(service: service, protocol: applicationProtocol)
                : .closedByPeer(code: refusal.code, reason: refusal.reason)
            close(error: ConnectionError(kind), events: &events, now: now, sendClose: false)
            return
        }
        guard let handshakeFrame = frames.handshake,
              let peerKey = handshakeFrame.parameters.identity,
              let peerID = try? EndpointID(publicKey: peerKey),
              peerID.noiseStaticKey == handshake.remoteStatic,
              peer == nil || peer == peerID
        else {
            close(error: ConnectionError(.authenticationFailed), events: &events, now: now, sendClose: false)
            return
        }
        remoteCID = handshakeFrame.connectionID
        peer = peer ?? peerID  // the EID asked for, in the form asked for (§5.7)
        peerParameters = PeerLimits(handshakeFrame.parameters)
        // The path stays where the Initiation went until the handshake is
        // confirmed: a Response from elsewhere moves nothing (§7.2), and the
        // first Data packet from there starts a validation like any move.
        if let sentAt = handshaking.retransmit.firstSentAt, handshaking.retransmit.count == 1 {
            // The Initiation went out once: the round trip is a clean RTT sample (Karn).
            loss.rtt.addSample(latestRTT: now - sentAt, ackDelay: .zero, maxAckDelay: configuration.maxAckDelay)
        }

        var finishRetransmit: HandshakeRetransmit?
        if !handshake.isComplete {
            // XX: message 3 carries our static key and identity (§3.3).
            var parameters = TransportParameters()
            parameters.identity = identity.signingKey.publicKey
            let finishPayload = Self.encodeHandshakePayload(HandshakeFrame(connectionID: localCID, parameters: parameters))
            guard let finish = try? handshake.writeMessage(payload: finishPayload, using: &random) else {
                close(error: ConnectionError(.authenticationFailed), events: &events, now: now, sendClose: false)
                return
            }
            var packet = [UInt8](repeating: 0, count: HandshakeMessagePacket.headerCount)
            packet.withUnsafeMutableBytes { buffer in
                var writer = WireWriter(buffer)
                _ = HandshakeMessagePacket.writeHeader(kind: .finish, destination: remoteCID, into: &writer)
            }
            finishRetransmit = HandshakeRetransmit(
                datagram: packet + finish, deadline: now, count: handshaking.retransmit.count,
                firstSentAt: handshaking.retransmit.firstSentAt)
        }
        establish(handshaking, noise: handshake, retransmit: finishRetransmit, now: now, events: &events)
        // The responder confirms us on our first protected packet: send one now.
        needsPing = true
        // The responder authenticated itself by decrypting-and-answering: confirmed.
        isHandshakeConfirmed = finishRetransmit == nil
    }

    // MARK: - Responder

    /// Answers an Initiation whose MACs (and cookie, under load) the endpoint
    /// already checked, and whose ephemeral key `replayGuard` did not know.
    /// Creates no state unless the handshake authenticates, an IK Initiation's
    /// timestamp is fresh (§4.4: checked after reading message 1, before any
    /// Response or further DH) and the (service, protocol) is listened for.
    static func accept(
        _ initiation: InitiationPacket, from address: PeerAddress, identity: HostIdentity,
        replayGuard: inout InitiationGuard, isListening: (String, String) -> Bool, localCID: ConnectionID,
        configuration: ConnectionConfiguration, handle: ConnectionHandle,
        random: inout some RandomSource, now: Timestamp
    ) -> AcceptOutcome {
        let prologue = prologueLabel + Array(initiation.prologueHeader)
        guard var handshake = try? HandshakeState(.init(
            noiseProtocol: initiation.suite.noiseProtocol, side: .responder, prologue: prologue,
            localStatic: identity.staticKey))
        else { return .dropped(.malformed) }
        let payload: [UInt8]
        do {
            payload = try handshake.readMessage(initiation.noiseMessage)
        } catch {
            return .dropped(.authenticationFailed)
        }
        // The HANDSHAKE frame names the same CID as the header (§6.15).
        guard let frames = try? decodeHandshakePayload(payload), let request = frames.handshake,
              request.connectionID == initiation.senderCID,
              let service = request.parameters.service, let proto = request.parameters.applicationProtocol
        else { return .dropped(.malformed) }
        // Under IK the initiator's static key is known now: its identity must match.
        var peerID: EndpointID?
        if let remote = handshake.remoteStatic {
            guard let key = request.parameters.identity, let id = try? EndpointID(publicKey: key),
                  id.noiseStaticKey == remote
            else { return .dropped(.authenticationFailed) }
            guard let timestamp = request.parameters.initiationTimestamp else { return .dropped(.malformed) }
            switch replayGuard.admit(timestamp, from: remote, now: now) {
            case .fresh: break
            case .replayed, .outsideWindow: return .dropped(.replayed)
            }
            peerID = id
        }

        let replyPayload: [UInt8]
        let listening = isListening(service, proto)
        // XX has done no DH yet (message 1 is an ephemeral key in the clear):
        // a refusal would cost three and reveal our key and what we serve.
        guard listening || handshake.remoteStatic != nil else { return .dropped(.notListening) }
        if listening {
            var parameters = configuration.local
            parameters.identity = identity.signingKey.publicKey
            replyPayload = encodeHandshakePayload(HandshakeFrame(connectionID: localCID, parameters: parameters))
        } else {
            replyPayload = encodeClose(code: .serviceRefused, reason: "no listener for (\(service), \(proto))")
        }
        guard let message = try? handshake.writeMessage(payload: replyPayload, using: &random) else {
            return .dropped(.malformed)
        }
        var response = [UInt8](repeating: 0, count: HandshakeMessagePacket.headerCount)
        response.withUnsafeMutableBytes { buffer in
            var writer = WireWriter(buffer)
            _ = HandshakeMessagePacket.writeHeader(kind: .response, destination: initiation.senderCID, into: &writer)
        }
        response += message
        guard listening else { return .refused(response: response) }

        // Sent by the endpoint right away; resent on its timer until
        // confirmed (§10), and at once when the Initiation repeats.
        let handshaking = Handshaking(
            role: .awaitingFinish, noise: handshake, retransmit: HandshakeRetransmit(datagram: response, deadline: now),
            deadline: now + Self.finishDeadline(configuration))
        var connection = Connection(
            side: .responder, localCID: localCID, remoteCID: initiation.senderCID, address: address,
            isAddressValidated: false, service: service, applicationProtocol: proto,
            handshaking: handshaking, configuration: configuration, handle: handle, now: now)
        connection.path.bytesReceived = UInt64(initiation.header.count + initiation.noiseMessage.count)
        connection.peer = peerID
        connection.peerParameters = PeerLimits(request.parameters)
        connection.initiationKey = Bytes32(UnsafeRawBufferPointer(rebasing: initiation.noiseMessage[0..<32]))
        if handshake.isComplete {
            var ignored = EventQueue(capacity: 1)
            connection.establish(handshaking, noise: handshake, retransmit: handshaking.retransmit,
                                 now: now, events: &ignored)
        }
        return .accepted(connection, response: response)
    }

    /// The XX initiator's Finish (§3.3).
    mutating func handleFinish(_ message: UnsafeRawBufferPointer, from address: PeerAddress,
                               events: inout EventQueue, now: Timestamp) {
        guard case .handshaking(let handshaking) = state, handshaking.role == .awaitingFinish else { return }
        var handshake = handshaking.noise
        guard let payload = try? handshake.readMessage(message) else {
            statistics.drops.authenticationFailed += 1
            noteHandshakePacketHeard()
            return
        }
        guard let frames = try? Self.decodeHandshakePayload(payload), let frame = frames.handshake,
              let key = frame.parameters.identity, let id = try? EndpointID(publicKey: key),
              id.noiseStaticKey == handshake.remoteStatic
        else {
            close(error: ConnectionError(.authenticationFailed), events: &events, now: now, sendClose: false)
            return
        }
        peer = id
        // The Finish proves the initiator read our Response, which went to
        // the Initiation's address: that path is the validated one, wherever
        // this copy came from. Another source is a move to validate (§7.2).
        paths.account(received: message.count + HandshakeMessagePacket.headerCount,
                      on: PathEnds(remote: address, local: path.localAddress))
        statistics.packetsReceived += 1
        establish(handshaking, noise: handshake, retransmit: nil, now: now, events: &events)
        confirmHandshake(events: &events)
    }

    /// Installs the transport keys and the peer's limits; the connection is
    /// established (the `connected` event waits for confirmation on the
    /// responder side, so a replayed Initiation announces nothing).
    /// `noise` is the completed handshake of `handshaking`; `retransmit`
    /// the datagram to resend until confirmation, if any.
    mutating func establish(_ handshaking: Handshaking, noise: HandshakeState, retransmit: HandshakeRetransmit?,
                            now: Timestamp, events: inout EventQueue) {
        // The keys are 32 bytes and the cipher was available when the handshake started.
        let protection = try! PacketProtection(split: noise.split(), side: side,
                                               configuration: configuration.protection, now: now)
        state = .established(Established(completing: handshaking, protection: protection, retransmit: retransmit))
        streams = StreamTable(side: side, configuration: configuration.streams, peer: PeerStreamParameters(
            initialMaxData: peerParameters.initialMaxData,
            initialMaxStreamData: peerParameters.initialMaxStreamData,
            initialMaxStreams: peerParameters.initialMaxStreams))
        lastActivity = now
        idleDeadline = now + effectiveIdleTimeout
        if let interval = configuration.keepAliveInterval { keepAliveDeadline = now + interval }
        cids.peerLimit = Int(min(peerParameters.activeConnectionIDLimit, UInt64(ConnectionIDPool.maxIssued)))
        if side == .initiator {
            path.isValidated = true
            announceConnected(events: &events)
        }
    }

    /// The peer proved it holds the keys: stop resending handshake messages.
    mutating func confirmHandshake(events: inout EventQueue) {
        guard !isHandshakeConfirmed else { return }
        isHandshakeConfirmed = true
        if case .established(var established) = state {
            state = .modifying
            established.retransmit = nil
            state = .established(established)
        }
        path.isValidated = true
        if side == .responder { announceConnected(events: &events) }
    }

    private func announceConnected(events: inout EventQueue) {
        guard let peer else { return }
        events.emit(.connected(handle, peer: peer, service: service, protocol: applicationProtocol, side: side))
    }

    // MARK: - Payloads

    struct HandshakePayload {
        var handshake: HandshakeFrame?
        var close: (code: ErrorCode, reason: String)?
    }

    static func encodeHandshakePayload(_ frame: HandshakeFrame) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: frame.encodedCount)
        bytes.withUnsafeMutableBytes { buffer in
            var writer = WireWriter(buffer)
            _ = frame.encode(into: &writer)
        }
        return bytes
    }

    static func encodeClose(code: ErrorCode, reason: String) -> [UInt8] {
        let text = Array(reason.utf8.prefix(CloseFrame.maxReasonCount))
        return text.withUnsafeBytes { reasonBytes in
            let frame = CloseFrame(errorCode: code, reason: reasonBytes)
            var bytes = [UInt8](repeating: 0, count: frame.encodedCount)
            bytes.withUnsafeMutableBytes { buffer in
                var writer = WireWriter(buffer)
                _ = frame.encode(into: &writer)
            }
            return bytes
        }
    }

    /// A handshake payload holds one HANDSHAKE frame or one CLOSE, plus padding.
    static func decodeHandshakePayload(_ payload: [UInt8]) throws(PeerError) -> HandshakePayload {
        var result = HandshakePayload()
        try payload.withUnsafeBytes { (bytes) throws(PeerError) in
            var decoder = FrameDecoder(bytes)
            while let frame = try decoder.next() {
                switch frame {
                case .handshake(let handshake) where result.handshake == nil:
                    result.handshake = handshake
                case .close(let close) where result.close == nil:
                    result.close = (close.errorCode, close.reasonText)
                case .padding:
                    continue
                case .handshake, .close, .ping, .ack, .resetStream, .stopSending, .maxData, .maxStreamData,
                     .dataBlocked, .streamDataBlocked, .maxStreams, .streamsBlocked, .stream, .streamOpen, .priority, .datagram,
                     .listen, .pathChallenge, .pathResponse, .newConnectionID, .retireConnectionID:
                    throw PeerError(.protocolViolation, frameType: frame.kind.frameType, "frame not allowed in a handshake payload")
                }
            }
        }
        guard result.handshake != nil || result.close != nil else {
            throw PeerError(.protocolViolation, "handshake payload without a HANDSHAKE frame")
        }
        return result
    }
}
