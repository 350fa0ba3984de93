/// The protection of a connection's Data packets, both directions
/// (PROTOCOL.md §3.4, §5.2, §5.3).
///
/// ## What it owns
///
/// - The sending key of this end and its key phase (``PacketSealer``).
/// - The peer's keys: current, the next one (derived when first needed and
///   cached), and for a while after a peer's update the previous one (``PacketOpener``).
/// - The replay window over the peer's packet numbers (``ReplayWindow``).
///
/// It does not own packet numbering (the connection picks each number, so it
/// may skip some), the destination connection id, the frames, or any timer
/// other than reporting ``discardDeadline``.
///
/// ## Driving it
///
/// - **Send:** the connection writes the destination CID at bytes `2..<10` of
///   its buffer and the frames from byte 14, then calls
///   ``seal(buffer:headerCount:payloadCount:packetNumber:now:)``, which
///   writes the version, the type with the key phase bit and the truncated
///   packet number, encrypts the frames in place and appends the tag.
/// - **Receive:** the endpoint routes a datagram by its destination CID; the
///   connection calls ``open(_:count:now:)`` on the datagram's buffer and
///   parses the frames in the returned plaintext range.
/// - **Acknowledgements:** ``onPacketAcked(_:)`` for each of this end's
///   packets newly acknowledged; it unlocks the next key update.
/// - **Timers:** fold ``discardDeadline`` into the connection's timer table
///   and call ``handleTimeout(now:)`` when it fires (extra calls do nothing).
///   Keep ``previousKeyRetention`` at `3 × PTO` as the RTT estimate moves.
///
/// Neither ``seal(buffer:headerCount:payloadCount:packetNumber:now:)`` nor
/// ``open(_:count:now:)`` allocates; keys are built (and allocate) only here
/// at construction and at key updates.
///
/// ## Data packet
///
/// ```
///  0        1        2                     10                 14
/// +--------+--------+---------------------+------------------+---------------------------+
/// | ver=2  | 0x10|k | destination CID (8) | packet number (4)| AEAD(frames) ‖ tag (16)   |
/// +--------+--------+---------------------+------------------+---------------------------+
/// ```
///
/// "Associated data: bytes 0..<14 (the whole header). Nonce: the full packet
/// number as a Noise nonce for the cipher (four zero bytes, then the number as
/// 64 bits: little-endian for ChaChaPoly, big-endian for AESGCM)."
struct PacketProtection: Sendable {
    /// What ``open(_:count:now:)`` made of a datagram.
    enum OpenOutcome: Sendable, Equatable {
        /// Authenticated and decrypted; the frames are at `plaintext` in the buffer.
        case opened(OpenedPacket)
        /// Dropped silently and counted; nothing changed.
        case dropped(DropReason)
        /// Authenticated, but the peer broke the protocol: close with this error.
        case closeConnection(PeerError)
    }

    /// A packet that authenticated.
    struct OpenedPacket: Sendable, Equatable {
        /// The full, reconstructed packet number, now marked as received.
        var packetNumber: PacketNumber
        /// Where the plaintext frames are in the caller's buffer. May be empty
        /// (an empty frame sequence is for the frame parser to refuse, §3.4).
        var plaintext: Range<Int>
        /// The key phase the packet was sent under.
        var keyPhase: KeyPhase
        /// True when this packet moved the receiver to the peer's new key.
        var isFirstOfNewPhase: Bool
    }

    /// Why a datagram was dropped. Each is a counter (PROTOCOL.md §4.1, §5.3).
    enum DropReason: Sendable, Equatable {
        /// Shorter than a header and a tag (30 bytes).
        case truncated
        /// Byte 0 is not the current version or byte 1 is not a Data type.
        case notDataPacket
        /// The tag did not verify under the key chosen for the packet, or the
        /// packet number is beyond what any sender may use.
        case authenticationFailed
        /// The packet number was already authenticated.
        case replayed
        /// The packet number is too far behind the replay window to tell.
        case tooOld
        /// The phase bit names the previous key, which was already erased.
        case keyPhaseUnknown
    }

    let algorithm: AEADAlgorithm
    let side: Side
    private var sealer: PacketSealer
    private var opener: PacketOpener
    /// Masks the packet numbers this end sends, and unmasks the peer's (§5.5).
    private let sendHeaderProtection: HeaderProtection
    private let receiveHeaderProtection: HeaderProtection
    /// How long the previous receive key is kept after the peer's key update:
    /// `3 × PTO` (§5.3). The connection updates it as its PTO changes; it
    /// applies to the next switch.
    var previousKeyRetention: Duration

    /// - Parameters:
    ///   - initiatorToResponder: `k1` of `Split()` (§5.2), 32 bytes.
    ///   - responderToInitiator: `k2` of `Split()`, 32 bytes.
    ///   - side: which end this is; the initiator sends with `k1`.
    ///   - now: when the keys are installed (the start of the first key's interval).
    /// - Throws: ``CryptoError/invalidLength(what:expected:actual:)`` for a key
    ///   that is not 32 bytes; ``CryptoError/algorithmUnavailable`` for AES-GCM
    ///   without hardware AES.
    init(
        initiatorToResponder: SecretBytes,
        responderToInitiator: SecretBytes,
        side: Side,
        algorithm: AEADAlgorithm,
        configuration: ProtectionConfiguration = ProtectionConfiguration(),
        now: Timestamp
    ) throws(CryptoError) {
        let (sendKey, receiveKey) = side == .initiator
            ? (initiatorToResponder, responderToInitiator)
            : (responderToInitiator, initiatorToResponder)
        self.algorithm = algorithm
        self.side = side
        sealer = PacketSealer(key: try TrafficKey(algorithm: algorithm, key: sendKey),
                              configuration: configuration, now: now)
        opener = PacketOpener(key: try TrafficKey(algorithm: algorithm, key: receiveKey))
        sendHeaderProtection = HeaderProtection(trafficKey: sendKey)
        receiveHeaderProtection = HeaderProtection(trafficKey: receiveKey)
        previousKeyRetention = configuration.initialPreviousKeyRetention
    }

    /// Builds the protection from a completed handshake's `Split()`, which is
    /// already oriented for `side` (``HandshakeState/split()``).
    /// - Precondition: both cipher states hold keys (they do after `Split()`).
    init(
        split: (send: CipherState, receive: CipherState),
        side: Side,
        configuration: ProtectionConfiguration = ProtectionConfiguration(),
        now: Timestamp
    ) throws(CryptoError) {
        guard let send = split.send.rawKey, let receive = split.receive.rawKey else {
            preconditionFailure("PacketProtection from cipher states without keys")
        }
        precondition(split.send.algorithm == split.receive.algorithm, "PacketProtection: mixed ciphers")
        let (k1, k2) = side == .initiator ? (send, receive) : (receive, send)
        try self.init(initiatorToResponder: k1, responderToInitiator: k2, side: side,
                      algorithm: split.send.algorithm, configuration: configuration, now: now)
    }

    var configuration: ProtectionConfiguration { sealer.configuration }

    // MARK: Sending

    /// Protects a Data packet in place and returns its length on the wire.
    ///
    /// On entry `buffer[2..<10]` holds the destination CID and
    /// `buffer[14..<14 + payloadCount]` the frames. This writes byte 0 (the
    /// version), byte 1 (`0x10 | k`), bytes `10..<14` (the low 32 bits of
    /// `packetNumber`), encrypts the frames in place and appends the 16-byte
    /// tag. A due key update (§5.3) happens here, before sealing.
    ///
    /// - Parameters:
    ///   - headerCount: must be 14 (§3.4); spelled out at the call site so
    ///     that the frame offset is visible there.
    ///   - packetNumber: strictly greater than every number sealed before.
    /// - Returns: `14 + payloadCount + 16`.
    /// - Throws: ``SealError/packetNumberExhausted`` past 2^62 − 1,
    ///   ``SealError/keyExhausted`` when the key reached its cipher's limit
    ///   unreplaced. Either way nothing was written and the connection must close.
    /// - Precondition: the buffer holds `30 + payloadCount` bytes; packet
    ///   numbers increase (a repeated nonce is a bug of the caller, not the peer).
    @inline(__always)
    mutating func seal(
        buffer: UnsafeMutableRawBufferPointer,
        headerCount: Int = DataPacketLayout.headerCount,
        payloadCount: Int,
        packetNumber: PacketNumber,
        now: Timestamp
    ) throws(SealError) -> Int {
        precondition(headerCount == DataPacketLayout.headerCount, "PacketProtection.seal: the Data header is 14 bytes")
        let total = try sealer.seal(buffer: buffer, payloadCount: payloadCount, packetNumber: packetNumber, now: now)
        sendHeaderProtection.apply(to: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<total]))
        return total
    }

    /// Notes that the peer acknowledged this end's packet `pn`. Call it for
    /// every newly acknowledged packet (or at least the largest of each ACK).
    mutating func onPacketAcked(_ pn: PacketNumber) {
        sealer.onPacketAcked(pn)
    }

    /// The phase bit this end's next packet carries (before any due update).
    var sendKeyPhase: KeyPhase { sealer.phase }
    /// Asks for a send-key update (``PacketSealer/requestUpdate()``).
    mutating func requestKeyUpdate() { sealer.requestUpdate() }
    /// This end's key updates so far.
    var sendKeyUpdateCount: Int { sealer.keyUpdateCount }
    /// Packets sealed under this end's current key.
    var packetsUnderCurrentSendKey: UInt64 { sealer.packetsUnderCurrentKey }
    /// The largest packet number sealed so far.
    var largestSealed: PacketNumber? { sealer.largestSealed }

    // MARK: Receiving

    /// Authenticates and decrypts the Data packet `buffer[0..<count]` in place.
    ///
    /// Checks, cheapest first: length, version and type, the packet number
    /// against the replay window, then one AEAD open under the key the phase
    /// bit and the packet number select. Only a packet that authenticates
    /// changes anything (the window, and the phase on a key update). On a
    /// drop the buffer's ciphertext may have been overwritten.
    ///
    /// - Returns: the packet number and plaintext range, a drop reason, or a
    ///   protocol violation to close the connection with.
    /// A packet that fails authentication and brings the failures to the
    /// integrity limit closes the connection with `AEAD_LIMIT_REACHED` (§5.6).
    mutating func open(_ buffer: UnsafeMutableRawBufferPointer, count: Int, now: Timestamp) -> OpenOutcome {
        // The packet number is unmasked first (§5.5); a packet too short to
        // carry a sample is the opener's to drop.
        if count >= DataPacketLayout.overhead, count <= buffer.count {
            receiveHeaderProtection.apply(to: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]))
        }
        let outcome = opener.open(buffer, count: count, now: now, previousKeyRetention: previousKeyRetention)
        if case .dropped(.authenticationFailed) = outcome, hasReachedIntegrityLimit {
            return .closeConnection(PeerError(.aeadLimitReached, "packets failing authentication reached the integrity limit"))
        }
        return outcome
    }

    /// The phase of the peer's current key.
    var receiveKeyPhase: KeyPhase { opener.phase }
    /// The peer's key updates followed so far.
    var receiveKeyUpdateCount: Int { opener.keyUpdateCount }
    /// The largest packet number authenticated from the peer.
    var largestAuthenticated: PacketNumber? { opener.largestAuthenticated }
    /// Packets from the peer that failed authentication.
    var authenticationFailureCount: UInt64 { opener.authenticationFailureCount }
    /// True once forged packets reached the cipher's integrity limit
    /// (RFC 9001 §6.6); the connection should close.
    var hasReachedIntegrityLimit: Bool {
        opener.authenticationFailureCount >= (configuration.integrityLimitOverride ?? algorithm.integrityLimit)
    }
    /// True while the previous receive key is kept.
    var hasPreviousReceiveKey: Bool { opener.hasPreviousKey }

    // MARK: Timers

    /// When the previous receive key is erased; `nil` when none is kept.
    var discardDeadline: Timestamp? { opener.discardDeadline }

    /// Erases the previous receive key if its deadline has passed. Extra calls do nothing.
    mutating func handleTimeout(now: Timestamp) {
        opener.handleTimeout(now: now)
    }
}
