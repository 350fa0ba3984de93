/// The receive path of an established connection: open the packet, follow
/// the path, apply every frame (PROTOCOL.md §3.4, §6, §7).
extension Connection {
    /// A Data packet for this connection, decrypted in place in `buffer`.
    /// Never throws: a bad packet is dropped and counted; a peer that breaks
    /// the protocol gets a coded close.
    mutating func handleData(
        _ buffer: UnsafeMutableRawBufferPointer, from address: PeerAddress, to local: PeerAddress? = nil,
        events: inout EventQueue, random: inout some RandomSource, now: Timestamp
    ) {
        let opening = withProtection { protection in protection.open(buffer, count: buffer.count, now: now) }
        guard let result = opening else {
            // Keys not yet installed (an XX Finish still on its way, say):
            // the sender's recovery will resend. Draining: dropped quietly.
            if case .handshaking = state { statistics.drops.authenticationFailed += 1 }
            return
        }
        let packet: PacketProtection.OpenedPacket
        switch result {
        case .opened(let opened):
            packet = opened
        case .dropped(let reason):
            countDrop(reason)
            return
        case .closeConnection(let error):
            close(error: ConnectionError(.protocolViolation(error)), events: &events, now: now, sendClose: true)
            return
        }
        statistics.packetsReceived += 1
        statistics.bytesReceived += UInt64(buffer.count)
        if phase == .closing { return }  // we are leaving; the CLOSE is on its way
        confirmHandshake(events: &events)
        lastActivity = now
        idleDeadline = now + effectiveIdleTimeout
        let ends = PathEnds(remote: address, local: local)
        paths.account(received: buffer.count, on: ends)

        let payload = UnsafeRawBufferPointer(rebasing: buffer[packet.plaintext])
        var decoder = FrameDecoder(payload)
        var isAckEliciting = false
        var isProbing = true
        var isChallenged = false
        do throws(PeerError) {
            while let frame = try decoder.next() {
                if frame.kind.isAckEliciting { isAckEliciting = true }
                if !Self.isProbingFrame(frame.kind) { isProbing = false }
                if frame.kind == .pathChallenge { isChallenged = true }
                try apply(frame, on: ends, datagramCount: buffer.count, events: &events, now: now)
                if phase != .established { break }
            }
            if decoder.frameCount == 0 {
                throw PeerError(.protocolViolation, "a Data packet without frames")
            }
        } catch {
            close(error: ConnectionError(.protocolViolation(error)), events: &events, now: now, sendClose: true)
            return
        }
        if phase == .established {
            if isChallenged { validateChallengingPath(ends, count: buffer.count, random: &random) }
            followPath(ends, count: buffer.count, packetNumber: packet.packetNumber, isProbing: isProbing,
                       events: &events, random: &random)
        }
        acks.onPacketReceived(packet.packetNumber, isAckEliciting: isAckEliciting, now: now)
        drainStreamEvents(into: &events)
    }

    /// Applies one frame. - Throws: the ``PeerError`` to close with.
    private mutating func apply(_ frame: Frame, on ends: PathEnds, datagramCount: Int,
                                events: inout EventQueue, now: Timestamp) throws(PeerError) {
        switch frame {
        case .padding, .ping:
            return
        case .ack(let ack):
            try handleAck(ack, events: &events, now: now)
        case .stream(let stream):
            try streams.handleStream(stream.streamID, offset: stream.offset, data: stream.data,
                                     fin: stream.isFin, recordEnd: stream.endsRecord)
        case .resetStream(let reset):
            try streams.handleResetStream(reset.streamID, code: reset.errorCode, finalSize: reset.finalSize)
        case .stopSending(let stop):
            try streams.handleStopSending(stop.streamID, code: stop.errorCode)
        case .maxData(let maximum):
            streams.handleMaxData(maximum: maximum)
        case .maxStreamData(let credit):
            try streams.handleMaxStreamData(credit.streamID, maximum: credit.maximumData)
        case .dataBlocked(let limit):
            // The peer has more to send than our connection window allows.
            streams.handleDataBlocked(limit: limit)
            events.emit(.receiveBlocked(handle, nil))
        case .streamDataBlocked(let blocked):
            try streams.handleStreamDataBlocked(blocked.streamID, limit: blocked.dataLimit)
            events.emit(.receiveBlocked(handle, blocked.streamID))
        case .maxStreams(let count):
            try streams.handleMaxStreams(count)
        case .streamsBlocked(let limit):
            streams.handleStreamsBlocked(limit: limit)
        case .close(let close):
            let error = ConnectionError(.closedByPeer(code: close.errorCode, reason: close.reasonText))
            self.close(error: error, events: &events, now: now, sendClose: false)
        case .pathChallenge(let token):
            // Answer on the path it came from (§7.1), whatever we think of that path.
            queuePathResponse(token, on: ends, count: datagramCount)
        case .pathResponse(let token):
            handlePathResponse(token, from: ends, events: &events)
        case .newConnectionID, .retireConnectionID:
            try applyConnectionIDFrame(frame)
        case .streamOpen, .priority, .listen, .datagram:
            // Roadmap frames (substreams, priorities, best-effort datagrams):
            // this core sends none of them and, as PROTOCOL.md §6 allows for
            // advisory frames, ignores them. A best-effort datagram ignored
            // is a datagram lost, which its sender accepts.
            return
        case .handshake:
            throw PeerError(.protocolViolation, frameType: FrameKind.handshake.frameType, "HANDSHAKE frame in a Data packet")
        }
    }

    /// An ACK frame (§6.1): what it acknowledges and what it shows lost.
    private mutating func handleAck(_ ack: AckFrame, events: inout EventQueue, now: Timestamp) throws(PeerError) {
        switch loss.onAckReceived(ranges: ack.ranges, ackDelay: ack.ackDelay, now: now, into: &recoveryEvents) {
        case .accepted: break
        case .violation(let error): throw error
        }
        processRecoveryEvents(now: now)
        if recoveryEvents.rttSample != nil {
            if link != .up {
                link = .up
                events.emit(.linkUp(handle))
            }
        }
    }

    /// Applies acknowledged and lost packets from `recoveryEvents` to the
    /// streams, the key schedule, the congestion controller and the pacer.
    mutating func processRecoveryEvents(now: Timestamp) {
        // Swapped out and back so the frames can be walked while self changes,
        // without copying or allocating.
        var frames: [SentFrame] = []
        swap(&frames, &releasedFrames)
        for packet in recoveryEvents.acknowledged {
            _ = withProtection { $0.onPacketAcked(packet.packetNumber) }
            log.release(packet.packetNumber, into: &frames)
            for frame in frames { onFrameAcked(frame) }
            frames.removeAll(keepingCapacity: true)
        }
        for packet in recoveryEvents.lost {
            statistics.packetsLost += 1
            log.release(packet.packetNumber, into: &frames)
            for frame in frames { onFrameLost(frame) }
            frames.removeAll(keepingCapacity: true)
        }
        swap(&frames, &releasedFrames)
        congestion.apply(recoveryEvents, now: now, rtt: loss.rtt)
        pacer.update(congestionWindow: congestion.congestionWindow, smoothedRTT: loss.rtt.smoothedRTT, now: now)
        // 3 × the PTO without its backoff (§5.3): under loss the backed-off
        // PTO doubles per probe, and an old key is for reordering, not loss.
        let retention = loss.rtt.pto(maxAckDelay: loss.maxAckDelay) * 3
        _ = withProtection { $0.previousKeyRetention = retention }
    }

    /// A probe timeout with no new data to send: the stream data of the
    /// `packets` oldest unacknowledged packets goes again in the probes
    /// (RFC 9002 §6.2.4), so a probe that arrives delivers what is missing
    /// instead of only eliciting an ACK. The packets stay in flight: if
    /// their ACK comes after all, the resent ranges are simply acknowledged twice.
    mutating func requeueOutstandingData(packets: Int) {
        guard !streams.mayHaveSomethingToSend else { return }  // new data goes first
        var frames: [SentFrame] = []
        swap(&frames, &releasedFrames)
        log.framesOfOldest(packets: packets, into: &frames)
        for case .stream(let id, let range, let fin) in frames {
            statistics.bytesRetransmitted += UInt64(range.count)
            streams.onStreamFrameLost(id, range: range, fin: fin)
        }
        frames.removeAll(keepingCapacity: true)
        swap(&frames, &releasedFrames)
    }

    private mutating func onFrameAcked(_ frame: SentFrame) {
        switch frame {
        case .stream(let id, let range, let fin): streams.onStreamFrameAcked(id, range: range, fin: fin)
        case .control(let control): streams.onControlFrameAcked(control)
        case .ack(let largest): acks.onAckOfAck(largestAcked: largest)
        case .ping, .pathChallenge, .pathResponse, .close, .newConnectionID, .retireConnectionID: break
        }
    }

    private mutating func onFrameLost(_ frame: SentFrame) {
        switch frame {
        case .stream(let id, let range, let fin):
            statistics.bytesRetransmitted += UInt64(range.count)
            streams.onStreamFrameLost(id, range: range, fin: fin)
        case .control(let control): streams.onControlFrameLost(control)
        case .ack, .pathResponse: break  // a fresh ACK goes out when due; responses are not resent
        case .ping: break  // probes are decided anew on the next timeout
        case .pathChallenge: break  // the probe's own retry timer resends it
        case .close: break
        case .newConnectionID, .retireConnectionID: cids.onLost(frame)
        }
    }

    /// Stream-layer events become application events.
    mutating func drainStreamEvents(into events: inout EventQueue) {
        while let event = streams.pollEvent() {
            switch event {
            case .opened(let id): events.emit(.streamOpened(handle, id))
            case .readable(let id), .recordReady(let id): events.emit(.streamReadable(handle, id))
            case .writable(let id): events.emit(.streamWritable(handle, id))
            case .streamsAvailable: events.emit(.streamsAvailable(handle))
            case .blocked, .connectionBlocked: break
            case .closed(let id): events.streamRetired(id, on: handle)
            case .resetByPeer(let id, let code): events.emit(.streamReset(handle, id, code))
            case .stopSendingRequested(let id, let code): events.emit(.streamStopped(handle, id, code))
            }
        }
    }

    private mutating func countDrop(_ reason: PacketProtection.DropReason) {
        switch reason {
        case .truncated, .notDataPacket: statistics.drops.malformed += 1
        case .authenticationFailed, .keyPhaseUnknown: statistics.drops.authenticationFailed += 1
        case .replayed, .tooOld: statistics.drops.replayed += 1
        }
    }
}
