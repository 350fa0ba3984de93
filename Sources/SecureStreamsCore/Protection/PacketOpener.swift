/// The receiving half of ``PacketProtection``: the peer's keys for one
/// direction, the replay window, and the following of the peer's key updates
/// (PROTOCOL.md §3.4, §5.3).
///
/// ## Which key opens a packet
///
/// Exactly one key is tried per packet, chosen before any decryption from the
/// packet's phase bit and its packet number relative to the *switch point*
/// (the packet number that first authenticated under the current key):
///
/// | phase bit | packet number | key tried |
/// | --- | --- | --- |
/// | current | any | current |
/// | other | below the switch point | previous, if still kept; else dropped as ``PacketProtection/DropReason/keyPhaseUnknown`` |
/// | other | at or above the switch point (or no switch yet) | next, `k'` (computed on first need and cached) |
///
/// This is sound because a sender's phases follow its packet numbers: every
/// packet of a phase has a higher number than every packet of the phase
/// before, so a packet from before the switch point with the other bit can
/// only belong to the previous phase, and one after it only to the next.
/// Trying one key also matters for AES-GCM, whose failed open leaves the
/// buffer zeroed: there is nothing left to try a second key on.
///
/// ## Following an update
///
/// "A receiver that sees the other phase bit tries `k'` (computed once and
/// cached); on success it moves to the new phase and keeps the previous key
/// for `3 × PTO` to read reordered packets, then erases it. A packet that
/// fails under both keys is dropped." A packet that fails changes nothing:
/// not the window, not the phase, not the keys (though a `k'` it derived stays
/// cached). The next key is derived when a packet first needs it, not ahead:
/// an idle connection keeps two receive keys, not three (AES-GCM's expanded
/// key is 512 bytes). Only the first packet of a phase pays the derivation,
/// which depends on no secret the packet could probe.
///
/// A packet that authenticates under `k'` with a number below one already
/// authenticated cannot come from an honest sender (its new phase would
/// precede its old one): the connection closes with `KEY_UPDATE_ERROR`.
struct PacketOpener: Sendable {
    /// The phase of the peer's current key.
    private(set) var phase: KeyPhase = .zero
    private var current: TrafficKey
    /// `k'` of the current key, once a packet of the other phase needed it.
    private var next: TrafficKey?
    /// The key before the last switch, while it is kept.
    private var previous: TrafficKey?
    /// When ``previous`` is erased; `nil` when there is none.
    private(set) var discardDeadline: Timestamp?
    /// The first packet number authenticated under the current key; `nil`
    /// before the first switch.
    private(set) var switchPoint: PacketNumber?
    private var replay = ReplayWindow()
    /// The peer's key updates followed so far.
    private(set) var keyUpdateCount = 0
    /// Packets that failed authentication, for the integrity limit (RFC 9001 §6.6).
    private(set) var authenticationFailureCount: UInt64 = 0

    init(key: TrafficKey) {
        current = key
        next = nil
    }

    /// The largest packet number authenticated in this direction.
    var largestAuthenticated: PacketNumber? { replay.largest }

    /// True while the previous key is kept for reordered packets.
    var hasPreviousKey: Bool { previous != nil }

    /// Opens a Data packet in place; see ``PacketProtection/open(_:count:now:)``.
    mutating func open(
        _ buffer: UnsafeMutableRawBufferPointer,
        count: Int,
        now: Timestamp,
        previousKeyRetention: Duration
    ) -> PacketProtection.OpenOutcome {
        typealias Layout = DataPacketLayout
        precondition(count >= 0 && count <= buffer.count, "PacketProtection.open: count exceeds the buffer")
        guard count >= Layout.overhead else { return .dropped(.truncated) }
        let type = buffer[Layout.typeOffset]
        guard buffer[Layout.versionOffset] == Layout.version,
              type & ~Layout.keyPhaseMask == Layout.typeBase else { return .dropped(.notDataPacket) }
        handleTimeout(now: now)

        var truncated: UInt32 = 0
        for index in 0..<Layout.packetNumberCount {
            truncated = truncated << 8 | UInt32(buffer[Layout.packetNumberOffset + index])
        }
        let pn = reconstructPacketNumber(truncated: truncated, largestAuthenticated: replay.largest)
        // No sender seals beyond the last packet number: not worth an AEAD operation.
        guard pn <= .max else { return .dropped(.authenticationFailed) }
        switch replay.check(pn) {
        case .fresh: break
        case .duplicate: return .dropped(.replayed)
        case .tooOld: return .dropped(.tooOld)
        }

        let packetPhase: KeyPhase = type & Layout.keyPhaseMask == 0 ? .zero : .one
        let key: TrafficKey
        let isNextKey: Bool
        if packetPhase == phase {
            (key, isNextKey) = (current, false)
        } else if let switchPoint, pn < switchPoint {
            guard let previous else { return .dropped(.keyPhaseUnknown) }
            (key, isNextKey) = (previous, false)
        } else {
            let derived = next ?? current.next()
            next = derived
            (key, isNextKey) = (derived, true)
        }

        let associatedData = UnsafeRawBufferPointer(rebasing: buffer[0..<Layout.headerCount])
        let body = UnsafeMutableRawBufferPointer(rebasing: buffer[Layout.headerCount..<count])
        let plaintextCount: Int
        do {
            plaintextCount = try key.aead.open(
                nonce: AEADNonce(noiseCounter: pn.rawValue, algorithm: key.algorithm),
                associatedData: associatedData, buffer: body, ciphertextCount: count - Layout.headerCount)
        } catch {
            authenticationFailureCount &+= 1
            return .dropped(.authenticationFailed)
        }

        if isNextKey {
            if let largest = replay.largest, pn < largest {
                return .closeConnection(PeerError(.keyUpdateError, "key update on a packet number below one already received"))
            }
            switchToNextKey(at: pn, deadline: now + previousKeyRetention)
        }
        replay.commit(pn)
        return .opened(PacketProtection.OpenedPacket(
            packetNumber: pn,
            plaintext: Layout.headerCount..<(Layout.headerCount + plaintextCount),
            keyPhase: packetPhase,
            isFirstOfNewPhase: isNextKey))
    }

    /// Erases the previous key once its deadline has passed. Extra calls do nothing.
    mutating func handleTimeout(now: Timestamp) {
        guard let discardDeadline, now >= discardDeadline else { return }
        previous = nil
        self.discardDeadline = nil
    }

    // MARK: - Private

    /// Moves to the peer's new phase (the key after next is derived when needed).
    private mutating func switchToNextKey(at pn: PacketNumber, deadline: Timestamp) {
        previous = current
        current = next ?? current.next()
        next = nil
        phase = phase.flipped
        switchPoint = pn
        discardDeadline = deadline
        keyUpdateCount += 1
    }
}
