/// The sending half of ``PacketProtection``: one direction's key, its phase,
/// and the rule for when it updates (PROTOCOL.md §5.3).
///
/// ## Key update, sending side
///
/// "A sender updates its key when it has sent `keyUpdatePackets` packets under
/// the current key [...] or the key is `keyUpdateInterval` old, whichever
/// comes first." And: "A sender may not update again until a packet of its
/// current phase has been acknowledged, so at most two keys per direction are
/// live." The update is decided lazily, when the next packet is sealed, so it
/// needs no timer of its own: a due update waits for the first packet after
/// the acknowledgement that allows it.
///
/// The sender keeps only its current key. Lost data is sent again in new
/// packets under whatever key is current then, so an old sending key is never
/// needed.
///
/// ## Limits
///
/// - Packet numbers stop at 2^62 − 1 (``PacketNumber/max``); sealing past it
///   throws ``SealError/packetNumberExhausted`` and the connection must close.
/// - A key that reaches its cipher's confidentiality limit (AES-GCM 2^23
///   packets, RFC 9001 §6.6) without the acknowledgement that would let it be
///   replaced throws ``SealError/keyExhausted``: sealing more would spend the
///   cipher's security margin.
struct PacketSealer: Sendable {
    let configuration: ProtectionConfiguration
    /// Packets one key may seal: the cipher's confidentiality limit (tests lower it).
    let confidentialityLimit: UInt64
    /// The key of the current phase.
    private var key: TrafficKey
    /// The phase bit written into every packet sealed now.
    private(set) var phase: KeyPhase = .zero
    /// Key updates so far.
    private(set) var keyUpdateCount = 0
    /// Packets sealed under the current key.
    private(set) var packetsUnderCurrentKey: UInt64 = 0
    /// When the current key was installed.
    private(set) var keyInstalledAt: Timestamp
    /// The first packet number sealed under the current key; an acknowledgement
    /// of it or of any later number acknowledges the phase.
    private var firstPacketOfPhase: PacketNumber?
    /// True once a packet of the current phase was acknowledged: the next
    /// update is allowed.
    private(set) var isPhaseAcknowledged = false
    /// The largest packet number sealed; numbers must increase strictly.
    private(set) var largestSealed: PacketNumber?

    init(key: TrafficKey, configuration: ProtectionConfiguration, now: Timestamp,
         confidentialityLimit: UInt64? = nil) {
        self.key = key
        self.configuration = configuration
        self.confidentialityLimit = confidentialityLimit ?? key.algorithm.confidentialityLimit
        self.keyInstalledAt = now
    }

    /// Set by ``requestUpdate()``: the application asked for a key update.
    private var isUpdateRequested = false

    /// Asks for a key update at the next packet sealed once the current
    /// phase is acknowledged (the same rule as a scheduled update).
    mutating func requestUpdate() { isUpdateRequested = true }

    /// True when the current key has served its count or its time, or an
    /// update was requested, and the peer has acknowledged a packet under it.
    func isKeyUpdateDue(now: Timestamp) -> Bool {
        guard isPhaseAcknowledged else { return false }
        return isUpdateRequested || packetsUnderCurrentKey >= configuration.keyUpdatePackets
            || now - keyInstalledAt >= configuration.keyUpdateInterval
    }

    /// Protects a Data packet in place; see ``PacketProtection/seal(buffer:headerCount:payloadCount:packetNumber:now:)``.
    mutating func seal(
        buffer: UnsafeMutableRawBufferPointer,
        payloadCount: Int,
        packetNumber: PacketNumber,
        now: Timestamp
    ) throws(SealError) -> Int {
        typealias Layout = DataPacketLayout
        precondition(payloadCount >= 0 && buffer.count >= Layout.overhead + payloadCount,
                     "PacketProtection.seal: buffer has no room for the header, payload and tag")
        guard packetNumber <= .max else { throw .packetNumberExhausted }
        if let largestSealed {
            // A repeated number under the same key is a repeated nonce: the
            // one mistake an AEAD does not survive.
            precondition(packetNumber > largestSealed, "PacketProtection.seal: packet numbers must increase")
        }
        if isKeyUpdateDue(now: now) { updateKey(now: now) }
        guard packetsUnderCurrentKey < confidentialityLimit else { throw .keyExhausted }

        buffer[Layout.versionOffset] = Layout.version
        buffer[Layout.typeOffset] = Layout.typeBase | phase.rawValue
        let truncated = PacketNumberTruncation.truncate(packetNumber)
        for index in 0..<Layout.packetNumberCount {
            buffer[Layout.packetNumberOffset + index] = UInt8(truncatingIfNeeded: truncated >> UInt32(24 - 8 * index))
        }
        let associatedData = UnsafeRawBufferPointer(rebasing: buffer[0..<Layout.headerCount])
        let body = UnsafeMutableRawBufferPointer(rebasing: buffer[Layout.headerCount...])
        let sealed = key.aead.seal(
            nonce: AEADNonce(noiseCounter: packetNumber.rawValue, algorithm: key.algorithm),
            associatedData: associatedData, buffer: body, plaintextCount: payloadCount)

        packetsUnderCurrentKey += 1
        largestSealed = packetNumber
        if firstPacketOfPhase == nil { firstPacketOfPhase = packetNumber }
        return Layout.headerCount + sealed
    }

    /// Notes that the peer acknowledged `pn`. Phases follow packet numbers
    /// (a phase's packets all come after the previous phase's), so `pn` was
    /// sent in the current phase exactly when it is at least the phase's first.
    mutating func onPacketAcked(_ pn: PacketNumber) {
        guard let firstPacketOfPhase, pn >= firstPacketOfPhase else { return }
        isPhaseAcknowledged = true
    }

    // MARK: - Private

    /// Installs `k'` and flips the phase bit (§5.3). Allocates: the new key's
    /// storage, once per update.
    private mutating func updateKey(now: Timestamp) {
        key = key.next()
        phase = phase.flipped
        keyUpdateCount += 1
        isUpdateRequested = false
        packetsUnderCurrentKey = 0
        keyInstalledAt = now
        firstPacketOfPhase = nil
        isPhaseAcknowledged = false
    }
}

/// Why a packet could not be sealed. Either means the connection must close:
/// this direction cannot send another packet safely.
enum SealError: Error, Sendable, Equatable {
    /// The next packet number would exceed 2^62 − 1 (PROTOCOL.md §3.4:
    /// numbers are never reused, and there are no more).
    case packetNumberExhausted
    /// The current key has sealed as many packets as its cipher allows
    /// (``AEADAlgorithm/confidentialityLimit``) and cannot be updated yet,
    /// because no packet under it has been acknowledged.
    case keyExhausted
}
