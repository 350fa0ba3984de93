/// How a path carries datagrams. Only direct UDP exists today; punched and
/// relayed paths become cases of their own, so every switch over the kind
/// has to say what they do.
enum PathKind: Hashable, Sendable {
    /// Straight from one of our sockets to the peer's address.
    case direct
}

/// Both ends of a path as the driver sees them: the peer's address and the
/// local address the datagram left from or arrived at (`nil`: the driver's
/// default socket, all a driver that never migrates ever uses).
struct PathEnds: Hashable {
    var remote: PeerAddress
    var local: PeerAddress?
}

/// A network path: its ends, the peer CID its packets carry, and what we
/// know about it (PROTOCOL.md §7).
struct Path {
    var address: PeerAddress
    /// The local address we send from on this path (`nil`: the default socket).
    var localAddress: PeerAddress?
    var kind: PathKind = .direct
    /// Validated: the peer proved it receives at this address (a handshake
    /// message decrypted, or a PATH_RESPONSE), lifting the 3× limit.
    var isValidated: Bool
    var bytesReceived: UInt64 = 0
    var bytesSent: UInt64 = 0
    /// The peer's CID our packets on this path carry, and its sequence
    /// number (0: the handshake's). Two paths never share one when the peer
    /// gave us spares (§7.3), so the CID does not link them.
    var remoteCID: ConnectionID
    var remoteCIDSequence: UInt64 = 0

    var ends: PathEnds { PathEnds(remote: address, local: localAddress) }

    /// Bytes we may still send before validation (PROTOCOL.md §4.3).
    var amplificationBudget: Int {
        isValidated ? .max : Self.unvalidatedBudget(received: bytesReceived, sent: bytesSent)
    }

    /// "At most three times the bytes received" to an address not yet validated.
    static func unvalidatedBudget(received: UInt64, sent: UInt64) -> Int {
        let allowed = received * 3
        return sent >= allowed ? 0 : Int(allowed - sent)
    }
}

/// A path being validated (PROTOCOL.md §7.1).
struct PathProbe {
    var path: Path
    var token: PathToken
    var attempts = 0
    var retryDeadline: Timestamp?
    var isChallengeDue = true
    /// Started by this host moving (``Endpoint/migrate(_:toLocalAddress:now:)``):
    /// it becomes the active path on its PATH_RESPONSE.
    let isOwnMigration: Bool

    /// Challenges sent before the path is given up, each after a PTO.
    static let maxAttempts = 3
}

/// A PATH_RESPONSE waiting to go out on the path its challenge came from.
struct PendingPathResponse {
    var token: PathToken
    var ends: PathEnds
    /// What may be sent for it when the path is none we track: three times
    /// the datagram that carried the challenge (§4.3).
    var budget: Int
}

/// Every path of one connection (PROTOCOL.md §7): the active one, a few
/// validated alternates, the probes in progress, and the PATH_RESPONSEs due.
///
/// The active path is held inline and the others in arrays that stay empty
/// (unallocated) until a second path appears, so a connection that never
/// moves pays nothing for the others. What decides a switch is
/// ``Connection``'s (Connection+Paths.swift); this type keeps the tables and
/// their bounds.
struct PathManager {
    /// Validated paths kept besides the active one: a host that moves back
    /// (Wi-Fi → cellular → Wi-Fi) switches without a new validation. Two
    /// covers that and one more; an older one is dropped and its CID retired.
    static let maxAlternates = 2
    /// Paths validated at once. Bounded rather than replaced, so a packet
    /// from a third address cannot cancel a genuine probe in progress (§7.2);
    /// two leave room for a NAT rebinding and our own move at the same time.
    static let maxProbes = 2
    /// PATH_RESPONSEs waiting to go out; a challenge beyond that replaces the oldest.
    static let maxResponses = 4

    var active: Path
    private(set) var alternates: [Path] = []
    var probes: [PathProbe] = []
    var responses = BoundedQueue<PendingPathResponse>(capacity: maxResponses)
    /// The highest-numbered non-probing packet received so far, and the
    /// path it came on: only that path may become the active one (§7.2).
    var largestNonProbing: PacketNumber?
    var largestNonProbingEnds: PathEnds?

    init(active: Path) { self.active = active }

    /// Whether `ends` is a path we track: the active one, an alternate or a probe.
    func isKnown(_ ends: PathEnds) -> Bool {
        active.ends == ends || alternates.contains { $0.ends == ends } || probes.contains { $0.path.ends == ends }
    }

    /// Credits a received datagram to the path it came on, if we track it.
    mutating func account(received count: Int, on ends: PathEnds) {
        if active.ends == ends {
            active.bytesReceived += UInt64(count)
        } else if let index = alternates.firstIndex(where: { $0.ends == ends }) {
            alternates[index].bytesReceived += UInt64(count)
        } else if let index = probes.firstIndex(where: { $0.path.ends == ends }) {
            probes[index].path.bytesReceived += UInt64(count)
        }
    }

    /// Charges a sent datagram to its path; `false` when we track no such path.
    @discardableResult
    mutating func account(sent count: Int, on ends: PathEnds) -> Bool {
        if active.ends == ends {
            active.bytesSent += UInt64(count)
        } else if let index = alternates.firstIndex(where: { $0.ends == ends }) {
            alternates[index].bytesSent += UInt64(count)
        } else if let index = probes.firstIndex(where: { $0.path.ends == ends }) {
            probes[index].path.bytesSent += UInt64(count)
        } else {
            return false
        }
        return true
    }

    /// What may still be sent on `ends` before it is validated; `nil` for a path we do not track.
    func budget(on ends: PathEnds) -> Int? {
        if active.ends == ends { return active.amplificationBudget }
        if let path = alternates.first(where: { $0.ends == ends }) { return path.amplificationBudget }
        if let probe = probes.first(where: { $0.path.ends == ends }) { return probe.path.amplificationBudget }
        return nil
    }

    /// The CID packets on `ends` carry: that path's, or the active path's for one we do not track.
    func remoteCID(on ends: PathEnds) -> ConnectionID {
        if let path = alternates.first(where: { $0.ends == ends }) { return path.remoteCID }
        if let probe = probes.first(where: { $0.path.ends == ends }) { return probe.path.remoteCID }
        return active.remoteCID
    }

    /// Removes and returns the probe on `ends` whose token is `token`: a
    /// PATH_RESPONSE validates only the path its challenge went out on (§7.1).
    mutating func takeValidatedProbe(token: PathToken, from ends: PathEnds) -> PathProbe? {
        guard let index = probes.firstIndex(where: { $0.token == token && $0.path.ends == ends }) else { return nil }
        return probes.remove(at: index)
    }

    /// Makes `path` the active one; the old active path becomes an
    /// alternate. Returns the paths dropped to stay within bounds (their
    /// CIDs are to be retired).
    mutating func activate(_ path: Path) -> [Path] {
        alternates.removeAll { $0.ends == path.ends }
        let previous = active
        active = path
        return addAlternate(previous)
    }

    /// Switches to the alternate on `ends`; false when there is none.
    mutating func activateAlternate(on ends: PathEnds) -> Bool {
        guard let index = alternates.firstIndex(where: { $0.ends == ends }) else { return false }
        let chosen = alternates.remove(at: index)
        alternates.append(active)
        active = chosen
        return true
    }

    /// Keeps `path` as a validated alternate; returns what fell out of the bound.
    mutating func addAlternate(_ path: Path) -> [Path] {
        alternates.removeAll { $0.ends == path.ends }
        guard path.ends != active.ends else { return [] }
        alternates.append(path)
        var dropped: [Path] = []
        while alternates.count > Self.maxAlternates { dropped.append(alternates.removeFirst()) }
        return dropped
    }

    /// The earliest probe retry.
    var nextProbeDeadline: Timestamp? {
        var earliest: Timestamp?
        for probe in probes {
            if let deadline = probe.retryDeadline, deadline < (earliest ?? .distantFuture) { earliest = deadline }
        }
        return earliest
    }

    var isChallengeDue: Bool { probes.contains { $0.isChallengeDue } }

    /// Whether `sequence` is the peer CID of a path we still use.
    func isInUse(remoteCIDSequence sequence: UInt64) -> Bool {
        active.remoteCIDSequence == sequence || alternates.contains { $0.remoteCIDSequence == sequence }
            || probes.contains { $0.path.remoteCIDSequence == sequence }
    }
}
