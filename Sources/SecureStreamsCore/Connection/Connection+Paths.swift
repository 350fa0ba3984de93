/// Path decisions (PROTOCOL.md §7): which received packets move the
/// connection, how a path is validated, how the host moves on its own, and
/// the CID frames that keep two paths from showing one CID (§7.3).
extension Connection {
    /// Frames a probing packet may carry (§7.2): a packet of nothing else
    /// never moves the connection.
    static func isProbingFrame(_ kind: FrameKind) -> Bool {
        switch kind {
        case .padding, .pathChallenge, .pathResponse, .newConnectionID, .retireConnectionID: true
        case .ping, .ack, .resetStream, .stopSending, .maxData, .maxStreamData, .dataBlocked, .streamDataBlocked,
             .maxStreams, .streamsBlocked, .stream, .streamOpen, .priority, .datagram, .listen, .close, .handshake:
            false
        }
    }

    /// After the frames of an authenticated packet from `ends`: a non-probing
    /// packet with the highest packet number so far (§7.2) makes its path the
    /// active one when that path is validated, and starts validating it when
    /// it is new. Reordered and probing packets move nothing; packets that
    /// reach a local address we moved away from move nothing either (our
    /// own move is ours to decide, §7.4).
    mutating func followPath(_ ends: PathEnds, count: Int, packetNumber: PacketNumber, isProbing: Bool,
                             events: inout EventQueue, random: inout some RandomSource) {
        guard !isProbing, ends.local == paths.active.localAddress else { return }
        if let largest = paths.largestNonProbing, packetNumber <= largest { return }
        paths.largestNonProbing = packetNumber
        paths.largestNonProbingEnds = ends
        if ends == paths.active.ends { return }
        if paths.activateAlternate(on: ends) {
            events.emit(.pathChanged(handle, ends.remote))
            return
        }
        if paths.probes.contains(where: { $0.path.ends == ends }) { return }
        // A new address: validate it (a full table keeps the probes in progress, §7.2).
        _ = startProbe(on: ends, received: count, isOwnMigration: false, random: &random)
    }

    /// The peer probes a path we do not know (it is about to move there):
    /// we validate it too, which gives the path a CID of its own for our
    /// PATH_RESPONSE and everything after, and an account for the 3× limit.
    /// Within ``PathManager/maxProbes``, like any probe.
    mutating func validateChallengingPath(_ ends: PathEnds, count: Int, random: inout some RandomSource) {
        guard ends.local == paths.active.localAddress, !paths.isKnown(ends) else { return }
        _ = startProbe(on: ends, received: count, isOwnMigration: false, random: &random)
    }

    /// Starts validating `ends` with a fresh challenge and, when the peer
    /// gave us one, a fresh CID. False when ``PathManager/maxProbes`` are in progress.
    mutating func startProbe(on ends: PathEnds, received: Int, isOwnMigration: Bool,
                             random: inout some RandomSource) -> Bool {
        guard paths.probes.count < PathManager.maxProbes else {
            statistics.pathProbesRefused += 1
            return false
        }
        let spare = cids.takeSpare()
        var path = Path(address: ends.remote, localAddress: ends.local, isValidated: false,
                        remoteCID: spare?.cid ?? paths.active.remoteCID,
                        remoteCIDSequence: spare?.sequence ?? paths.active.remoteCIDSequence)
        path.bytesReceived = UInt64(received)
        paths.probes.append(PathProbe(path: path, token: PathToken(using: &random), isOwnMigration: isOwnMigration))
        return true
    }

    /// This host moves (§7.4): validates the path from `localAddress` to
    /// the peer's current address and makes it the active one on the
    /// answer. A move already in progress is replaced. False when the
    /// probe table is full of the peer's moves.
    mutating func migrate(toLocalAddress localAddress: PeerAddress, random: inout some RandomSource) -> Bool {
        let ends = PathEnds(remote: paths.active.address, local: localAddress)
        guard ends != paths.active.ends else { return true }
        if let index = paths.probes.firstIndex(where: { $0.isOwnMigration || $0.path.ends == ends }) {
            dropPath(paths.probes.remove(at: index).path)
        }
        return startProbe(on: ends, received: 0, isOwnMigration: true, random: &random)
    }

    /// A PATH_CHALLENGE arrived on `ends` in a datagram of `count` bytes: the
    /// answer goes back on that path, within its 3× budget (§7.1).
    mutating func queuePathResponse(_ token: PathToken, on ends: PathEnds, count: Int) {
        let pending = PendingPathResponse(token: token, ends: ends, budget: 3 * count)
        if !paths.responses.append(pending) {
            _ = paths.responses.popFirst()
            paths.responses.append(pending)
        }
    }

    /// A PATH_RESPONSE from `ends`: it validates only the probe whose
    /// challenge went out on that very path (§7.1). Our own move becomes the
    /// active path at once; the peer's when its packets say so (§7.2).
    mutating func handlePathResponse(_ token: PathToken, from ends: PathEnds, events: inout EventQueue) {
        guard var probe = paths.takeValidatedProbe(token: token, from: ends) else {
            statistics.pathResponsesIgnored += 1
            return
        }
        probe.path.isValidated = true
        statistics.pathsValidated += 1
        if probe.isOwnMigration || paths.largestNonProbingEnds == ends {
            // The congestion state is kept: packets in flight on the old path
            // are still accounted to it, and a NAT rebinding (the common case)
            // does not change the path's capacity; loss recovery corrects the
            // window if the new path is worse.
            for dropped in paths.activate(probe.path) { dropPath(dropped) }
            events.emit(.pathChanged(handle, ends.remote))
        } else {
            for dropped in paths.addAlternate(probe.path) { dropPath(dropped) }
        }
    }

    /// A probe's retry timer fired: its challenge is due again, or the
    /// path is given up after ``PathProbe/maxAttempts``.
    mutating func retryProbes(now: Timestamp) {
        var index = 0
        while index < paths.probes.count {
            if let deadline = paths.probes[index].retryDeadline, now >= deadline {
                if paths.probes[index].attempts >= PathProbe.maxAttempts {
                    dropPath(paths.probes.remove(at: index).path)  // never answered: stay where we are
                    continue
                }
                paths.probes[index].isChallengeDue = true
                paths.probes[index].retryDeadline = nil
            }
            index += 1
        }
    }

    /// A path is no longer used: its peer CID is retired unless another path uses it.
    private mutating func dropPath(_ path: Path) {
        guard cids.peerLimit > 0, !paths.isInUse(remoteCIDSequence: path.remoteCIDSequence) else { return }
        cids.retire(path.remoteCIDSequence)
    }

    /// A NEW_CONNECTION_ID or RETIRE_CONNECTION_ID from the peer (§7.3).
    mutating func applyConnectionIDFrame(_ frame: Frame) throws(PeerError) {
        switch frame {
        case .newConnectionID(let issued):
            cids.receive(issued)
        case .retireConnectionID(let sequence):
            try cids.receiveRetirement(sequence)
        case .padding, .ping, .ack, .resetStream, .stopSending, .maxData, .maxStreamData, .dataBlocked,
             .streamDataBlocked, .maxStreams, .streamsBlocked, .stream, .streamOpen, .priority, .datagram, .listen, .close,
             .pathChallenge, .pathResponse, .handshake:
            return
        }
    }

    /// The local address a handshake datagram arrived at becomes the
    /// handshake path's, so a driver that names every local address (not
    /// only those it moved to) sees no move where there is none.
    mutating func adoptHandshakeLocalAddress(_ local: PeerAddress?) {
        guard !isHandshakeConfirmed, paths.probes.isEmpty, paths.alternates.isEmpty else { return }
        paths.active.localAddress = local
    }

    /// Whether the endpoint has CIDs to issue to this connection or to
    /// stop routing to it. `mutating` so the endpoint reaches it in place.
    mutating func needsConnectionIDWork() -> Bool {
        (phase == .established && cids.wanted > 0) || !cids.retiredByPeer.isEmpty
    }
}
