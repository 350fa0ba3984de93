/// A connection id one end handed the other, with its sequence number
/// (PROTOCOL.md §7.3; 0 is the handshake's).
struct IssuedConnectionID: Hashable {
    var sequence: UInt64
    var cid: ConnectionID
}

/// The spare connection ids of one connection, both ways (PROTOCOL.md §7.3):
/// those we issued (routed to us by the endpoint) and those the peer issued
/// (each new path takes one, so two paths never show the same CID), plus the
/// NEW_CONNECTION_ID and RETIRE_CONNECTION_ID frames still to send.
///
/// Nothing is issued to a peer that did not announce
/// `active_connection_id_limit` (an older peer would close on the unknown
/// RETIRE_CONNECTION_ID frame). Every array is bounded and stays empty
/// (unallocated) on a connection whose peer takes no spares.
struct ConnectionIDPool {
    /// Spare CIDs we accept from the peer, and announce as our
    /// `active_connection_id_limit`: one per path we may validate at once
    /// (``PathManager/maxProbes``) and one more for a move after that.
    static let localLimit = 3
    /// Spare CIDs we keep issued to the peer at most, whatever its limit:
    /// each is an entry in the endpoint's CID table.
    static let maxIssued = 3
    /// Retirements waiting to go out. Each retires a CID the peer gave us,
    /// and we hold at most ``localLimit`` + the paths' own, so this is
    /// never reached by a peer that keeps to our limit; beyond it the oldest
    /// is dropped (the peer then keeps routing a CID we no longer use).
    static let maxPendingRetirements = 8

    /// The peer's spares, not yet used on a path, oldest first.
    private(set) var spares: [IssuedConnectionID] = []
    /// The largest sequence number the peer issued; a NEW_CONNECTION_ID at
    /// or below it is a repeat (a retransmission) and is ignored.
    private var largestRemoteSequence: UInt64 = 0
    /// Sequence numbers of the peer's CIDs to retire.
    private(set) var pendingRetirements: [UInt64] = []

    /// Our spares, issued and not retired: each is routed to this connection.
    private(set) var issued: [IssuedConnectionID] = []
    /// Our spares whose NEW_CONNECTION_ID is due (sent first or lost).
    private(set) var pendingAnnouncements: [UInt64] = []
    private var nextSequence: UInt64 = 1
    /// Ours the peer retired: the endpoint removes them from its table.
    private(set) var retiredByPeer: [ConnectionID] = []
    /// The peer's `active_connection_id_limit`: 0 when it takes none.
    var peerLimit = 0

    /// How many more CIDs the endpoint should issue to this connection.
    var wanted: Int { max(0, min(peerLimit, Self.maxIssued) - issued.count) }

    /// Whether a NEW_CONNECTION_ID or RETIRE_CONNECTION_ID frame is due.
    var hasFramesToSend: Bool { !pendingAnnouncements.isEmpty || !pendingRetirements.isEmpty }

    /// Takes a CID the endpoint now routes to this connection.
    mutating func issue(_ cid: ConnectionID) {
        let entry = IssuedConnectionID(sequence: nextSequence, cid: cid)
        nextSequence += 1
        issued.append(entry)
        pendingAnnouncements.append(entry.sequence)
    }

    /// Hands the endpoint the CIDs it must stop routing.
    mutating func takeRetiredByPeer() -> [ConnectionID] {
        defer { retiredByPeer.removeAll() }
        return retiredByPeer
    }

    /// The next frame due, if it fits in `room` bytes, removed from the queue.
    mutating func nextFrame(room: Int) -> Frame? {
        if let sequence = pendingAnnouncements.first {
            guard let entry = issued.first(where: { $0.sequence == sequence }) else {
                pendingAnnouncements.removeFirst()  // retired meanwhile
                return nextFrame(room: room)
            }
            let frame = Frame.newConnectionID(NewConnectionIDFrame(sequenceNumber: sequence, connectionID: entry.cid))
            guard frame.encodedCount <= room else { return nil }
            pendingAnnouncements.removeFirst()
            return frame
        }
        if let sequence = pendingRetirements.first {
            let frame = Frame.retireConnectionID(sequenceNumber: sequence)
            guard frame.encodedCount <= room else { return nil }
            pendingRetirements.removeFirst()
            return frame
        }
        return nil
    }

    /// A NEW_CONNECTION_ID from the peer: kept as a spare if it is new and
    /// within our limit; a repeat or one beyond the limit is ignored.
    mutating func receive(_ frame: NewConnectionIDFrame) {
        guard frame.sequenceNumber > largestRemoteSequence else { return }
        largestRemoteSequence = frame.sequenceNumber
        guard spares.count < Self.localLimit else { return }
        spares.append(IssuedConnectionID(sequence: frame.sequenceNumber, cid: frame.connectionID))
    }

    /// A RETIRE_CONNECTION_ID from the peer for one of ours.
    /// - Throws: a protocol violation for a sequence number we never issued.
    mutating func receiveRetirement(_ sequence: UInt64) throws(PeerError) {
        guard sequence < nextSequence else {
            throw PeerError(.protocolViolation, frameType: FrameKind.retireConnectionID.frameType,
                            "retires a connection id never issued")
        }
        guard let index = issued.firstIndex(where: { $0.sequence == sequence }) else { return }
        retiredByPeer.append(issued.remove(at: index).cid)
    }

    /// Takes the oldest spare for a new path; `nil` when the peer gave none.
    mutating func takeSpare() -> IssuedConnectionID? {
        spares.isEmpty ? nil : spares.removeFirst()
    }

    /// We stopped using the peer's CID `sequence`: tell it to retire it.
    mutating func retire(_ sequence: UInt64) {
        guard !pendingRetirements.contains(sequence) else { return }
        if pendingRetirements.count >= Self.maxPendingRetirements { pendingRetirements.removeFirst() }
        pendingRetirements.append(sequence)
    }

    /// A NEW_CONNECTION_ID or RETIRE_CONNECTION_ID we sent was lost: due again.
    mutating func onLost(_ frame: SentFrame) {
        switch frame {
        case .newConnectionID(let sequence):
            if issued.contains(where: { $0.sequence == sequence }), !pendingAnnouncements.contains(sequence) {
                pendingAnnouncements.append(sequence)
            }
        case .retireConnectionID(let sequence):
            retire(sequence)
        case .stream, .control, .ack, .ping, .pathChallenge, .pathResponse, .close:
            return
        }
    }
}

extension TransportParameters {
    /// These parameters with `active_connection_id_limit` set to `limit` (§6.15, §7.3).
    func announcingConnectionIDLimit(_ limit: Int) -> TransportParameters {
        var parameters = self
        parameters.activeConnectionIDLimit = UInt64(limit)
        return parameters
    }
}
