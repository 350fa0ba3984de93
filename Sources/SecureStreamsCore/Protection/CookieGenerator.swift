/// The responder's cookie authority (PROTOCOL.md §4.2): mints the cookie of an
/// address and checks Initiations' `mac2` against it, keeping no state per
/// initiator.
///
/// "The responder keeps a random 32-byte secret `R`, replaced every 120
/// seconds (the previous one is still accepted for one period). The cookie of
/// an address is BLAKE2b-128 keyed with `R` over the address (IP bytes ‖ port)."
///
/// ## Secrets and time
///
/// A secret is drawn from the injected random source and is *current* for one
/// ``rotationInterval`` after it was drawn, then *previous* for one more, then
/// gone. Rotation is driven by the `now` the endpoint passes in: call
/// ``rotateIfDue(now:using:)`` before minting or checking (it does nothing
/// until the interval is over), or fold ``nextRotation`` into the endpoint's
/// timers. The checks themselves also respect the two periods, so a secret
/// is never accepted for longer than two intervals even if rotation was not
/// called. When rotation comes more than a whole interval late, the old
/// current secret has served its two periods and is dropped, not demoted.
///
/// The address is an opaque byte string; the endpoint passes the IP bytes
/// followed by the port, so that the same address always gives the same bytes.
struct CookieGenerator: Sendable {
    /// "Replaced every 120 seconds."
    static let defaultRotationInterval: Duration = .seconds(120)
    static let secretCount = 32

    let rotationInterval: Duration
    private var current: Secret
    private var previous: Secret?

    /// Draws the first secret.
    init(now: Timestamp, using random: inout some RandomSource,
         rotationInterval: Duration = CookieGenerator.defaultRotationInterval) {
        precondition(rotationInterval > .zero, "cookie rotation interval must be positive")
        self.rotationInterval = rotationInterval
        current = Secret(drawnAt: now, using: &random)
    }

    /// When the current secret is due to be replaced.
    var nextRotation: Timestamp { current.drawnAt + rotationInterval }

    /// Replaces the secret when its interval is over; the replaced one stays
    /// acceptable until two intervals after it was drawn. Extra calls do nothing.
    mutating func rotateIfDue(now: Timestamp, using random: inout some RandomSource) {
        guard now >= nextRotation else { return }
        let replaced = current
        current = Secret(drawnAt: now, using: &random)
        previous = isAcceptable(replaced, now: now) ? replaced : nil
    }

    /// The cookie of `address` under the current secret.
    func cookie(for address: UnsafeRawBufferPointer) -> Cookie {
        current.cookie(for: address)
    }

    /// The cookie of `address` (array form, for tests and cold paths).
    func cookie(for address: [UInt8]) -> Cookie {
        address.withUnsafeBytes { cookie(for: $0) }
    }

    /// True when the Initiation's `mac2` was made with the cookie of `address`
    /// under the current or the previous secret, while each is acceptable
    /// (§4.1 step 3).
    func verifyMAC2(_ initiation: UnsafeRawBufferPointer, address: UnsafeRawBufferPointer, now: Timestamp) -> Bool {
        if isAcceptable(current, now: now),
           HandshakeMACs.verifyMAC2(initiation, cookie: current.cookie(for: address)) {
            return true
        }
        if let previous, isAcceptable(previous, now: now),
           HandshakeMACs.verifyMAC2(initiation, cookie: previous.cookie(for: address)) {
            return true
        }
        return false
    }

    /// Answers an Initiation from `address` with a Cookie packet written into
    /// `buffer` (66 bytes): the cookie under the current secret, sealed for
    /// the initiator (§4.2). Call ``rotateIfDue(now:using:)`` first.
    /// - Returns: the packet's length, 66.
    /// - Precondition: the Initiation is at least 43 bytes (mac1 was checked)
    ///   and `buffer` holds 66 bytes.
    func writeCookiePacket(
        answering initiation: UnsafeRawBufferPointer,
        from address: UnsafeRawBufferPointer,
        macs: HandshakeMACs,
        using random: inout some RandomSource,
        into buffer: UnsafeMutableRawBufferPointer
    ) -> Int {
        precondition(initiation.count >= InitiationLayout.headerCount, "cookie reply to a short Initiation")
        var cid: UInt64 = 0
        for index in 0..<ConnectionID.count {
            cid = cid << 8 | UInt64(initiation[InitiationLayout.senderCIDOffset + index])
        }
        return CookieSealing.seal(
            cookie: cookie(for: address),
            initiatorCID: ConnectionID(rawValue: cid),
            initiationMAC1: HandshakeMACs.mac1Field(of: initiation),
            macs: macs, using: &random, into: buffer)
    }

    // MARK: - Private

    /// A secret is accepted for two intervals after it was drawn: one as
    /// current, one as previous.
    private func isAcceptable(_ secret: Secret, now: Timestamp) -> Bool {
        now >= secret.drawnAt && now - secret.drawnAt < rotationInterval * 2
    }

    private struct Secret: Sendable {
        let key: SecretBytes
        let drawnAt: Timestamp

        init(drawnAt: Timestamp, using random: inout some RandomSource) {
            key = SecretBytes(randomCount: CookieGenerator.secretCount, using: &random)
            self.drawnAt = drawnAt
        }

        func cookie(for address: UnsafeRawBufferPointer) -> Cookie {
            key.withUnsafeBytes { key in
                var hasher = BLAKE2b(outputCount: Bytes16.count, key: key)
                hasher.update(address)
                return Cookie(Bytes16 { hasher.finalize(into: $0) })
            }
        }
    }
}
