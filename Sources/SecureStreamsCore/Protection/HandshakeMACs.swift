/// The two MACs of an Initiation and the keys derived from the responder's
/// identity for them (PROTOCOL.md §3.1, §4).
///
/// - "`mac1` = BLAKE2b-128 keyed with `K1`, over bytes 0..<11 followed by the
///   Noise message. For IK, `K1` = BLAKE2b-256(`"sss-mac1-v1"` ‖ responder's
///   X25519 static public key): only a sender that knows the responder's key
///   can produce it, so scans and junk are refused with one hash and no DH.
///   For XX [...] `K1` = BLAKE2b-256(`"sss-mac1-v1-xx"`): it proves no
///   knowledge, only integrity."
/// - "`mac2` = BLAKE2b-128 keyed with the cookie (§4.2) over bytes 0..<27 and
///   the Noise message, or 16 zero bytes when the initiator holds no fresh
///   cookie."
/// - The Cookie packet's key (§4.2): BLAKE2b-256(`"sss-cookie-v1"` ‖
///   responder static public key), "for XX: the constant label alone".
///
/// One value per responder identity: the initiator builds it from the key it
/// expects (or ``xx``), the responder from its own static key once at start
/// and ``xx`` for XX suites. Nothing here is secret: the keys derive from
/// public values. Verification compares in constant time.
///
/// Computing a MAC runs one incremental BLAKE2b, whose state the crypto layer
/// keeps on the heap: one allocation per Initiation checked, none per Data packet.
struct HandshakeMACs: Sendable {
    static let mac1Label: StaticString = "sss-mac1-v1"
    static let mac1LabelXX: StaticString = "sss-mac1-v1-xx"
    static let cookieLabel: StaticString = "sss-cookie-v1"

    /// `K1`.
    let mac1Key: Bytes32
    /// The key that seals Cookie packets answering these Initiations.
    let cookiePacketKey: Bytes32

    /// The MAC keys for IK Initiations to the responder with `responderStaticKey`.
    init(responderStaticKey: X25519.PublicKey) {
        mac1Key = Self.deriveKey(label: Self.mac1Label, publicKey: responderStaticKey)
        cookiePacketKey = Self.deriveKey(label: Self.cookieLabel, publicKey: responderStaticKey)
    }

    private init(mac1Key: Bytes32, cookiePacketKey: Bytes32) {
        self.mac1Key = mac1Key
        self.cookiePacketKey = cookiePacketKey
    }

    /// The MAC keys for XX Initiations, where the initiator does not know the
    /// responder's key.
    static let xx = HandshakeMACs(
        mac1Key: deriveKey(label: mac1LabelXX, publicKey: nil),
        cookiePacketKey: deriveKey(label: cookieLabel, publicKey: nil))

    // MARK: mac1

    /// `mac1` of the Initiation `packet` (its mac fields are not read).
    /// - Precondition: `packet.count >= 43` (the caller checked the length first, §4.1).
    func mac1(of packet: UnsafeRawBufferPointer) -> Bytes16 {
        mac1Key.withUnsafeBytes { key in
            Self.mac(key: key, packet: packet, prefixCount: InitiationLayout.mac1Offset)
        }
    }

    /// Computes `mac1` and writes it at bytes `11..<27` (initiator).
    func writeMAC1(into packet: UnsafeMutableRawBufferPointer) {
        let mac = mac1(of: UnsafeRawBufferPointer(packet))
        Self.write(mac, into: packet, at: InitiationLayout.mac1Offset)
    }

    /// True when the Initiation's `mac1` is right for this key (responder,
    /// step 2 of §4.1). False for a packet too short to carry the MACs.
    func verifyMAC1(_ packet: UnsafeRawBufferPointer) -> Bool {
        guard packet.count >= InitiationLayout.headerCount else { return false }
        return mac1(of: packet) == Self.read(packet, at: InitiationLayout.mac1Offset)
    }

    /// The `mac1` field as sent: the Cookie packet's associated data (§4.2).
    /// - Precondition: `packet.count >= 43`.
    static func mac1Field(of packet: UnsafeRawBufferPointer) -> Bytes16 {
        read(packet, at: InitiationLayout.mac1Offset)
    }

    // MARK: mac2

    /// `mac2` of the Initiation `packet` under `cookie` (the mac1 field is
    /// covered, so write `mac1` first).
    /// - Precondition: `packet.count >= 43`.
    static func mac2(of packet: UnsafeRawBufferPointer, cookie: Cookie) -> Bytes16 {
        cookie.bytes.withUnsafeBytes { key in
            mac(key: key, packet: packet, prefixCount: InitiationLayout.mac2Offset)
        }
    }

    /// Writes `mac2` under `cookie`, or 16 zero bytes without one (initiator).
    static func writeMAC2(cookie: Cookie?, into packet: UnsafeMutableRawBufferPointer) {
        let mac = cookie.map { mac2(of: UnsafeRawBufferPointer(packet), cookie: $0) } ?? Bytes16()
        write(mac, into: packet, at: InitiationLayout.mac2Offset)
    }

    /// True when the Initiation's `mac2` is right for `cookie`. An all-zero
    /// `mac2` (no cookie) or a packet too short is never right.
    static func verifyMAC2(_ packet: UnsafeRawBufferPointer, cookie: Cookie) -> Bool {
        guard packet.count >= InitiationLayout.headerCount else { return false }
        let sent = read(packet, at: InitiationLayout.mac2Offset)
        if sent.isZero { return false }
        return mac2(of: packet, cookie: cookie) == sent
    }

    // MARK: - Private

    /// BLAKE2b-128 keyed with `key` over `packet[0..<prefixCount]` ‖ the Noise message.
    private static func mac(key: UnsafeRawBufferPointer, packet: UnsafeRawBufferPointer, prefixCount: Int) -> Bytes16 {
        precondition(packet.count >= InitiationLayout.headerCount, "Initiation MAC over a packet shorter than its header")
        var hasher = BLAKE2b(outputCount: Bytes16.count, key: key)
        hasher.update(UnsafeRawBufferPointer(rebasing: packet[0..<prefixCount]))
        hasher.update(UnsafeRawBufferPointer(rebasing: packet[InitiationLayout.messageOffset...]))
        return Bytes16 { hasher.finalize(into: $0) }
    }

    /// BLAKE2b-256(label ‖ public key), or of the label alone.
    private static func deriveKey(label: StaticString, publicKey: X25519.PublicKey?) -> Bytes32 {
        var hasher = BLAKE2b(outputCount: Bytes32.count)
        label.withUTF8Buffer { hasher.update(UnsafeRawBufferPointer($0)) }
        if let publicKey { hasher.update(publicKey) }
        return Bytes32 { hasher.finalize(into: $0) }
    }

    private static func read(_ packet: UnsafeRawBufferPointer, at offset: Int) -> Bytes16 {
        Bytes16 { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[offset..<(offset + Bytes16.count)])) }
    }

    private static func write(_ mac: Bytes16, into packet: UnsafeMutableRawBufferPointer, at offset: Int) {
        mac.withUnsafeBytes { source in
            UnsafeMutableRawBufferPointer(rebasing: packet[offset..<(offset + Bytes16.count)]).copyMemory(from: source)
        }
    }
}

/// A cookie (PROTOCOL.md §4.2): BLAKE2b-128 keyed with the responder's
/// rotating secret over the initiator's address. Proves the initiator
/// receives at that address; keys its `mac2`.
struct Cookie: Sendable, Equatable, CustomStringConvertible {
    let bytes: Bytes16

    init(_ bytes: Bytes16) { self.bytes = bytes }

    /// "The initiator stores the cookie for 120 seconds."
    static let lifetime: Duration = .seconds(120)

    var description: String { "Cookie(\(bytes))" }
}
