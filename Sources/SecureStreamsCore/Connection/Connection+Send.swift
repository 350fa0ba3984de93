/// The send path: which datagram goes out next, built and sealed in place
/// in the driver's buffer (PROTOCOL.md §3.4).
extension Connection {
    /// The worst-case bytes of a STREAM frame besides its data: type (1),
    /// stream id (≤ 8), offset (≤ 8), length (≤ 4).
    static let streamFrameOverhead = 21

    /// Writes the next datagram this connection wants sent into `buffer`.
    ///
    /// With `padToFill`, a data packet that its frames fill to within a
    /// STREAM frame header of the limit is padded to exactly the limit, so it
    /// can start a run of equal-size datagrams (``pollRunContinuation(into:destination:now:)``).
    mutating func pollTransmit(
        into buffer: UnsafeMutableRawBufferPointer, events: inout EventQueue,
        random: inout some RandomSource, now: Timestamp, padToFill: Bool = false
    ) -> Transmit? {
        switch state {
        case .handshaking:
            return handshakeTransmit(into: buffer, now: now)
        case .established:
            if let transmit = handshakeTransmit(into: buffer, now: now) { return transmit }
            if let transmit = pathResponseTransmit(into: buffer, now: now) { return transmit }
            if let transmit = pathChallengeTransmit(into: buffer, now: now) { return transmit }
            return dataTransmit(into: buffer, now: now, padToFill: padToFill)
        case .closing(let closing):
            let transmit = closeTransmit(closing.frame, into: buffer, now: now)
            startDraining(now: now)
            return transmit
        case .draining, .drained:
            return nil
        case .modifying:
            preconditionFailure(State.reentered)
        }
    }

    /// The next datagram of a run (UDP GSO) that a datagram of `buffer.count`
    /// bytes to `destination` started: a data packet padded to exactly
    /// `buffer.count` bytes when its frames fill it, shorter when it is the
    /// run's last. `nil` (nothing built, nothing spent) when the next datagram
    /// would go elsewhere or be of another kind: a handshake message, a path
    /// probe or response, a CLOSE. Congestion window and pacer are asked as
    /// for any data packet, so a run never exceeds what they allow now.
    mutating func pollRunContinuation(
        into buffer: UnsafeMutableRawBufferPointer, destination: PeerAddress, source: PeerAddress? = nil,
        now: Timestamp
    ) -> Transmit? {
        guard phase == .established, destination == path.address, source == path.localAddress,
              !isHandshakeRetransmitDue(now: now), paths.responses.isEmpty, !paths.isChallengeDue
        else { return nil }
        return dataTransmit(into: buffer, now: now, padToFill: true)
    }

    /// Whether ``pollTransmit(into:events:random:now:padToFill:)`` may return a
    /// datagram at `now`. Never false when it would: the endpoint polls only
    /// connections for which this held after their last input, command or
    /// timeout. It may be true when the poll then finds nothing (a stream
    /// scheduled but blocked by flow control, a full congestion window);
    /// what becomes sendable only later (an ACK delay, a pacing wait, a
    /// handshake resend) is a deadline in the timer table.
    func hasPendingTransmit(now: Timestamp) -> Bool {
        switch state {
        case .handshaking:
            return isHandshakeRetransmitDue(now: now)
        case .established:
            return isHandshakeRetransmitDue(now: now) || !paths.responses.isEmpty || paths.isChallengeDue
                || hasDataPacketPending(now: now)
        case .closing:
            return true
        case .draining, .drained:
            return false
        case .modifying:
            preconditionFailure(State.reentered)
        }
    }

    private func isHandshakeRetransmitDue(now: Timestamp) -> Bool {
        guard let due = handshakeRetransmitDeadline else { return false }
        return now >= due
    }

    /// Whether a data packet has anything to carry besides an ACK not yet due.
    private func hasDataPacketPending(now: Timestamp) -> Bool {
        needsPing || probesToSend > 0 || (acks.hasRanges && acks.isAckDue(now: now)) || streams.mayHaveSomethingToSend
            || cids.hasFramesToSend
    }

    // MARK: - Handshake datagrams

    private mutating func handshakeTransmit(into buffer: UnsafeMutableRawBufferPointer, now: Timestamp) -> Transmit? {
        guard let datagram = pendingHandshakeDatagram, let due = handshakeRetransmitDeadline, now >= due,
              datagram.count <= buffer.count
        else { return nil }
        // Responders never exceed 3× what the address sent (§4.3).
        guard datagram.count <= path.amplificationBudget else {
            modifyRetransmit { $0.deadline = nil }
            return nil
        }
        datagram.withUnsafeBytes { buffer.copyMemory(from: $0) }
        // Both ends resend on a capped backoff until answered or confirmed (§10).
        modifyRetransmit { $0.sent(now: now) }
        path.bytesSent += UInt64(datagram.count)
        statistics.packetsSent += 1
        statistics.bytesSent += UInt64(datagram.count)
        return Transmit(destination: path.address, count: datagram.count, source: path.localAddress)
    }

    // MARK: - Path validation (§7)

    /// A PATH_RESPONSE on the path its challenge came from, within that
    /// path's 3× budget (§7.1): a tracked path's, or three times the
    /// challenge's datagram for one we do not track. Dropped when it does not fit.
    private mutating func pathResponseTransmit(into buffer: UnsafeMutableRawBufferPointer, now: Timestamp) -> Transmit? {
        guard let pending = paths.responses.popFirst() else { return nil }
        let budget = paths.budget(on: pending.ends) ?? pending.budget
        let limit = min(buffer.count, configuration.maxDatagramSize, budget)
        guard var packet = beginPacket(into: buffer, limit: limit, now: now, ackOnlyIfDue: true) else { return nil }
        guard PathToken.encodedCount <= packet.writer.remaining else { abandon(packet); return nil }
        _ = Frame.pathResponse(pending.token).encode(into: &packet.writer)
        log.append(.pathResponse(pending.token))
        let cid = paths.remoteCID(on: pending.ends)
        guard let count = finishPacket(packet, isAckEliciting: true, into: buffer, now: now, destinationCID: cid)
        else { return nil }
        paths.account(sent: count, on: pending.ends)
        return Transmit(destination: pending.ends.remote, count: count, source: pending.ends.local)
    }

    /// The PATH_CHALLENGE of the first probe that has one due, on the
    /// probed path with that path's CID, within its 3× budget (§7.1).
    private mutating func pathChallengeTransmit(into buffer: UnsafeMutableRawBufferPointer, now: Timestamp) -> Transmit? {
        guard let index = paths.probes.firstIndex(where: { $0.isChallengeDue }) else { return nil }
        let probe = paths.probes[index]
        // Our own move sends to the peer's validated address: no 3× limit applies.
        let budget = probe.isOwnMigration ? Int.max : probe.path.amplificationBudget
        let limit = min(buffer.count, configuration.maxDatagramSize, budget)
        guard var packet = beginPacket(into: buffer, limit: limit, now: now, ackOnlyIfDue: true) else { return nil }
        guard PathToken.encodedCount <= packet.writer.remaining else { abandon(packet); return nil }
        _ = Frame.pathChallenge(probe.token).encode(into: &packet.writer)
        log.append(.pathChallenge(probe.token))
        guard let count = finishPacket(packet, isAckEliciting: true, into: buffer, now: now,
                                       destinationCID: probe.path.remoteCID)
        else { return nil }
        paths.probes[index].isChallengeDue = false
        paths.probes[index].attempts += 1
        paths.probes[index].path.bytesSent += UInt64(count)
        paths.probes[index].retryDeadline = now + loss.probeTimeout
        return Transmit(destination: probe.path.address, count: count, source: probe.path.localAddress)
    }

    // MARK: - Data

    private mutating func dataTransmit(
        into buffer: UnsafeMutableRawBufferPointer, now: Timestamp, padToFill: Bool
    ) -> Transmit? {
        let limit = min(buffer.count, configuration.maxDatagramSize, path.amplificationBudget)
        guard limit > Self.packetOverhead else { return nil }
        let isProbe = probesToSend > 0
        var mayAddData = isProbe || (congestion.bytesInFlight + limit <= congestion.congestionWindow && loss.canTrackMore)
        if mayAddData, !isProbe, let next = pacer.nextSendTime(now: now, bytes: limit), next > now {
            mayAddData = false
            pacingDeadline = next
        } else {
            pacingDeadline = nil
        }
        // Nothing but an ACK that is not yet due: build nothing (it would be abandoned).
        guard needsPing || isProbe || (acks.hasRanges && acks.isAckDue(now: now))
                || (mayAddData && streams.mayHaveSomethingToSend)
        else { return nil }
        guard var packet = beginPacket(into: buffer, limit: limit, now: now) else { return nil }
        var elicits = false
        if needsPing || isProbe {
            _ = Frame.ping.encode(into: &packet.writer)
            log.append(.ping)
            elicits = true
        }
        if mayAddData {
            while let frame = cids.nextFrame(room: packet.writer.remaining) {
                _ = frame.encode(into: &packet.writer)
                switch frame {
                case .newConnectionID(let issued): log.append(.newConnectionID(sequence: issued.sequenceNumber))
                case .retireConnectionID(let sequence): log.append(.retireConnectionID(sequence: sequence))
                case .padding, .ping, .ack, .resetStream, .stopSending, .maxData, .maxStreamData, .dataBlocked,
                     .streamDataBlocked, .maxStreams, .streamsBlocked, .stream, .streamOpen, .priority, .datagram, .listen, .close,
                     .pathChallenge, .pathResponse, .handshake:
                    break
                }
                elicits = true
            }
            while packet.writer.remaining >= StreamTable.maxControlFrameSize,
                  let control = streams.pollControlFrame(now: now, rtt: loss.rtt.smoothedRTT) {
                _ = Self.frame(for: control).encode(into: &packet.writer)
                log.append(.control(control))
                elicits = true
            }
            while packet.writer.remaining > Self.streamFrameOverhead,
                  let (id, chunk) = streams.nextStreamChunk(maxBytes: packet.writer.remaining - Self.streamFrameOverhead) {
                writeStreamFrame(id, chunk, into: &packet.writer)
                log.append(.stream(id, chunk.range, fin: chunk.isFinal))
                elicits = true
            }
            if padToFill, elicits, packet.writer.remaining <= Self.streamFrameOverhead, packet.writer.remaining > 0 {
                _ = Frame.padding(count: packet.writer.remaining).encode(into: &packet.writer)
            }
        }
        guard let count = finishPacket(packet, isAckEliciting: elicits, into: buffer, now: now) else { return nil }
        needsPing = false
        if isProbe { probesToSend -= 1 }
        path.bytesSent += UInt64(count)
        return Transmit(destination: path.address, count: count, source: path.localAddress)
    }

    private mutating func closeTransmit(_ closeFrame: CloseContent, into buffer: UnsafeMutableRawBufferPointer,
                                        now: Timestamp) -> Transmit? {
        let limit = min(buffer.count, configuration.maxDatagramSize, path.amplificationBudget)
        guard var packet = beginPacket(into: buffer, limit: limit, now: now, ackOnlyIfDue: true) else { return nil }
        closeFrame.reason.withUnsafeBytes { reason in
            let frame = CloseFrame(errorCode: closeFrame.code, offendingFrameType: closeFrame.frameType, reason: reason)
            if frame.encodedCount <= packet.writer.remaining { _ = frame.encode(into: &packet.writer) }
        }
        log.append(.close)
        guard let count = finishPacket(packet, isAckEliciting: true, into: buffer, now: now) else { return nil }
        path.bytesSent += UInt64(count)
        return Transmit(destination: path.address, count: count, source: path.localAddress)
    }

    // MARK: - Packet assembly

    /// A packet under construction: frames go into `writer`, which covers
    /// the payload region between the header and the tag.
    struct PacketUnderConstruction {
        var writer: WireWriter
        let packetNumber: PacketNumber
        let limit: Int
        var ackLargest: PacketNumber?
        let isAckDue: Bool
    }

    /// Starts a protected packet of at most `limit` bytes, with an ACK first
    /// when one is pending (only when due, with `ackOnlyIfDue`).
    private mutating func beginPacket(
        into buffer: UnsafeMutableRawBufferPointer, limit: Int, now: Timestamp, ackOnlyIfDue: Bool = false
    ) -> PacketUnderConstruction? {
        let headerCount = DataPacketLayout.headerCount
        let tagCount = DataPacketLayout.tagCount
        guard limit > headerCount + tagCount + 1, hasKeys else { return nil }
        let payloadRegion = UnsafeMutableRawBufferPointer(rebasing: buffer[headerCount..<(limit - tagCount)])
        var packet = PacketUnderConstruction(
            writer: WireWriter(payloadRegion), packetNumber: nextPacketNumber, limit: limit,
            ackLargest: nil, isAckDue: acks.isAckDue(now: now))
        log.beginPacket()
        if let pending = acks.pendingAck(now: now), !ackOnlyIfDue || packet.isAckDue {
            let delay = UInt64(clamping: pending.ackDelay.microsecondsClamped)
            if AckFrame.encode(ranges: pending.ranges, ackDelayMicroseconds: delay, into: &packet.writer) {
                packet.ackLargest = pending.largestAcknowledged
                log.append(.ack(largest: pending.largestAcknowledged))
            }
        }
        return packet
    }

    private mutating func abandon(_ packet: PacketUnderConstruction) {
        log.abandonPacket()
    }

    /// Seals and records the packet; `nil` (nothing sent) when it holds
    /// nothing but an ACK that is not yet due.
    private mutating func finishPacket(
        _ packet: PacketUnderConstruction, isAckEliciting: Bool,
        into buffer: UnsafeMutableRawBufferPointer, now: Timestamp, destinationCID: ConnectionID? = nil
    ) -> Int? {
        guard isAckEliciting || (packet.ackLargest != nil && packet.isAckDue) else {
            log.abandonPacket()
            return nil
        }
        let headerCount = DataPacketLayout.headerCount
        let destination = destinationCID ?? remoteCID
        let sealed = withProtection { protection -> (total: Int?, keyUpdates: Int) in
            var header = WireWriter(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<headerCount]))
            _ = DataPacket.writeHeader(keyPhase: protection.sendKeyPhase, destination: destination,
                                       packetNumber: packet.packetNumber, into: &header)
            let total = try? protection.seal(
                buffer: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<packet.limit]),
                headerCount: headerCount, payloadCount: packet.writer.offset,
                packetNumber: packet.packetNumber, now: now)
            return (total, protection.sendKeyUpdateCount + protection.receiveKeyUpdateCount)
        }
        guard let sealed, let total = sealed.total else {
            // Packet numbers or key uses exhausted (§5.3): this connection is done.
            log.abandonPacket()
            enterClosing(CloseContent(code: .internalError, frameType: nil, reason: Array("key exhausted".utf8)))
            return nil
        }
        if packet.ackLargest != nil { acks.onAckSent() }
        nextPacketNumber = PacketNumber(packet.packetNumber.rawValue + 1)
        log.commitPacket(packet.packetNumber)
        loss.onPacketSent(SentPacket(packetNumber: packet.packetNumber, timeSent: now, size: total,
                                     isAckEliciting: isAckEliciting, isInFlight: isAckEliciting, token: 0))
        if isAckEliciting {
            congestion.onPacketSent(bytes: total, now: now)
            pacer.onPacketSent(bytes: total, now: now)
            if let interval = configuration.keepAliveInterval { keepAliveDeadline = now + interval }
        }
        statistics.packetsSent += 1
        statistics.bytesSent += UInt64(total)
        statistics.keyUpdates = UInt64(sealed.keyUpdates)
        return total
    }

    /// Writes a STREAM frame whose data is copied straight from the stream's
    /// send buffer into the packet.
    private func writeStreamFrame(_ id: StreamID, _ chunk: SendChunk, into writer: inout WireWriter) {
        var type = FrameKind.stream.frameType | StreamFrame.lengthFlag
        if chunk.endsRecord { type |= StreamFrame.recordFlag }
        if chunk.offset != 0 { type |= StreamFrame.offsetFlag }
        if chunk.isFinal { type |= StreamFrame.finFlag }
        writer.writeVarInt(type)
        writer.writeVarInt(id.rawValue)
        if chunk.offset != 0 { writer.writeVarInt(chunk.offset) }
        writer.writeVarInt(UInt64(chunk.count))
        if chunk.count > 0, let region = writer.reserve(chunk.count) {
            streams.copyData(id, chunk.range, into: region)
        }
    }

    static func frame(for control: StreamControlFrame) -> Frame {
        switch control {
        case .resetStream(let id, let code, let finalSize):
            .resetStream(ResetStreamFrame(streamID: id, errorCode: code, finalSize: finalSize))
        case .stopSending(let id, let code):
            .stopSending(StopSendingFrame(streamID: id, errorCode: code))
        case .maxData(let maximum): .maxData(maximumData: maximum)
        case .maxStreamData(let id, let maximum): .maxStreamData(MaxStreamDataFrame(streamID: id, maximumData: maximum))
        case .dataBlocked(let limit): .dataBlocked(dataLimit: limit)
        case .streamDataBlocked(let id, let limit): .streamDataBlocked(StreamDataBlockedFrame(streamID: id, dataLimit: limit))
        case .maxStreams(let count): .maxStreams(maximumStreamCount: count)
        case .streamsBlocked(let limit): .streamsBlocked(streamLimit: limit)
        }
    }
}

extension StreamTable {
    /// Whether a control frame or a scheduled stream waits to be sent. A
    /// scheduled stream may turn out to be blocked by flow control, so this
    /// can be true with nothing to send, never false with something.
    var mayHaveSomethingToSend: Bool { !shared.pendingControl.isEmpty || !shared.scheduler.isEmpty }
}
