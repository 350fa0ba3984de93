/// The Cookie packet (type `0x04`, PROTOCOL.md §4.2): the responder's answer
/// to an Initiation under load, carrying the initiator's cookie encrypted.
///
/// ```
/// +--------+--------+-------------------------+------------+------------------------------------+
/// | ver=2  | 0x04   | initiator's sender CID  | nonce (24) | XChaCha20-Poly1305(cookie) (16+16) |
/// +--------+--------+-------------------------+------------+------------------------------------+
/// ```
///
/// "Under key BLAKE2b-256(`"sss-cookie-v1"` ‖ responder static public key)
/// (for XX: the constant label alone) with associated data = the Initiation's
/// `mac1`: 66 bytes, always smaller than the Initiation it answers, so it
/// amplifies nothing."
///
/// The nonce is drawn at random (XChaCha20's 192 bits make that safe under a
/// long-lived key). Binding the Initiation's `mac1` as associated data means
/// only the initiator that sent that very Initiation accepts the cookie: an
/// off-path attacker cannot plant cookies. Encryption hides the cookie from
/// observers of the path, who could otherwise reuse it from the same address.
///
/// Both directions go through the crypto layer's array-based XChaCha20
/// functions and allocate a few small arrays; Cookie packets are sent at most
/// once per Initiation and never on the Data path.
enum CookieSealing {
    /// Writes a Cookie packet into `buffer` (responder).
    /// - Returns: the length, 66.
    /// - Precondition: `buffer.count >= 66`.
    static func seal(
        cookie: Cookie,
        initiatorCID: ConnectionID,
        initiationMAC1: Bytes16,
        macs: HandshakeMACs,
        using random: inout some RandomSource,
        into buffer: UnsafeMutableRawBufferPointer
    ) -> Int {
        typealias Layout = CookiePacketLayout
        precondition(buffer.count >= Layout.count, "Cookie packet buffer shorter than 66 bytes")
        buffer[0] = DataPacketLayout.version
        buffer[1] = Layout.type
        withUnsafeBytes(of: initiatorCID.rawValue.bigEndian) { cid in
            UnsafeMutableRawBufferPointer(rebasing: buffer[Layout.destinationCIDOffset..<Layout.nonceOffset])
                .copyMemory(from: cid)
        }
        let nonceField = UnsafeMutableRawBufferPointer(
            rebasing: buffer[Layout.nonceOffset..<Layout.sealedCookieOffset])
        random.fill(nonceField)
        let nonce = UnsafeRawBufferPointer(nonceField)
        let sealed: [UInt8]
        do {
            sealed = try XChaCha20Poly1305.seal(
                key: macs.cookiePacketKey, nonce: nonce, associatedData: initiationMAC1, plaintext: cookie.bytes)
        } catch {
            // 32-byte key and 24-byte nonce by construction.
            preconditionFailure("CookieSealing.seal: \(error)")
        }
        sealed.withUnsafeBytes { source in
            UnsafeMutableRawBufferPointer(rebasing: buffer[Layout.sealedCookieOffset..<Layout.count])
                .copyMemory(from: source)
        }
        return Layout.count
    }

    /// Opens a Cookie packet (initiator): the cookie when the packet is a
    /// well-formed Cookie packet sealed for the Initiation whose `mac1` is
    /// `initiationMAC1`, else `nil` (drop it silently).
    static func open(
        _ packet: UnsafeRawBufferPointer,
        initiationMAC1: Bytes16,
        macs: HandshakeMACs
    ) -> Cookie? {
        typealias Layout = CookiePacketLayout
        guard packet.count == Layout.count,
              packet[0] == DataPacketLayout.version,
              packet[1] == Layout.type else { return nil }
        let nonce = UnsafeRawBufferPointer(rebasing: packet[Layout.nonceOffset..<Layout.sealedCookieOffset])
        let sealed = UnsafeRawBufferPointer(rebasing: packet[Layout.sealedCookieOffset..<Layout.count])
        guard let plain = try? XChaCha20Poly1305.open(
            key: macs.cookiePacketKey, nonce: nonce, associatedData: initiationMAC1, ciphertext: sealed),
              let bytes = Bytes16(plain) else { return nil }
        return Cookie(bytes)
    }

    /// The destination CID of a Cookie packet (the initiator's own CID), by
    /// which the initiator finds the attempt it answers; `nil` when the packet
    /// is not 66 bytes.
    static func destinationCID(of packet: UnsafeRawBufferPointer) -> ConnectionID? {
        guard packet.count == CookiePacketLayout.count else { return nil }
        return ConnectionID(UnsafeRawBufferPointer(
            rebasing: packet[CookiePacketLayout.destinationCIDOffset..<CookiePacketLayout.nonceOffset]))
    }
}
