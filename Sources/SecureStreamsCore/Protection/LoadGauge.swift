/// Decides whether a responder is "under load" (PROTOCOL.md §4.1 step 3):
/// "more than `handshakeRateLimit` Initiations per second, or more than
/// `maxPendingHandshakes` handshakes in progress". Under load, an Initiation
/// needs a valid `mac2` cookie; without one it is answered with a Cookie
/// packet and nothing is kept.
///
/// ## The rate
///
/// A token bucket on the `now` passed in: it holds up to
/// ``Configuration/handshakeRateLimit`` tokens (one second's worth, so a burst
/// of that many is allowed), refills at that many per second, and every
/// Initiation that passed `mac1` takes one. An Initiation that finds the
/// bucket empty is under load. Integer arithmetic in nanotokens: no floating
/// point, same result on every machine.
///
/// Initiations that carry a valid cookie still take a token (they are still
/// Initiations), so the gauge measures the offered rate, not the admitted one.
struct LoadGauge: Sendable {
    struct Configuration: Sendable, Equatable {
        /// Initiations per second (after `mac1`) before cookies are required.
        /// Default 1,000: a few milliseconds of DH work per second on one core
        /// (an IK message 1 costs the responder two X25519 operations).
        var handshakeRateLimit: UInt64
        /// Handshakes in progress before cookies are required. Default 1,024,
        /// the §9 bound on responder memory before authentication completes.
        var maxPendingHandshakes: Int

        init(handshakeRateLimit: UInt64 = 1_000, maxPendingHandshakes: Int = 1_024) {
            precondition(handshakeRateLimit > 0 && handshakeRateLimit <= Self.maxRate,
                         "handshakeRateLimit out of range")
            precondition(maxPendingHandshakes >= 0, "maxPendingHandshakes must not be negative")
            self.handshakeRateLimit = handshakeRateLimit
            self.maxPendingHandshakes = maxPendingHandshakes
        }

        /// Keeps `rate × 10^9` nanotokens well inside `UInt64`.
        static let maxRate: UInt64 = 1_000_000_000
    }

    /// Whether an Initiation must prove its address.
    enum Verdict: Sendable, Equatable {
        /// Proceed to the DH work without a cookie.
        case normal
        /// A valid `mac2` is required; otherwise answer with a Cookie packet.
        case underLoad
    }

    let configuration: Configuration
    /// Tokens, in units of 10^-9 token.
    private var nanotokens: UInt64
    private var lastRefill: Timestamp

    /// A full bucket at `now`.
    init(configuration: Configuration = Configuration(), now: Timestamp) {
        self.configuration = configuration
        nanotokens = Self.capacity(configuration)
        lastRefill = now
    }

    /// Records an Initiation that passed `mac1` at `now` and says whether the
    /// responder is under load for it.
    /// - Parameter pendingHandshakes: handshakes the endpoint has in progress.
    mutating func assessInitiation(now: Timestamp, pendingHandshakes: Int) -> Verdict {
        refill(now: now)
        let tookToken = nanotokens >= Self.nanotokensPerToken
        if tookToken { nanotokens -= Self.nanotokensPerToken }
        if pendingHandshakes > configuration.maxPendingHandshakes { return .underLoad }
        return tookToken ? .normal : .underLoad
    }

    /// Whether the responder would be under load now, without recording an
    /// Initiation (for reporting).
    func isUnderLoad(now: Timestamp, pendingHandshakes: Int) -> Bool {
        var copy = self
        copy.refill(now: now)
        return pendingHandshakes > configuration.maxPendingHandshakes || copy.nanotokens < Self.nanotokensPerToken
    }

    // MARK: - Private

    private static let nanotokensPerToken: UInt64 = 1_000_000_000

    private static func capacity(_ configuration: Configuration) -> UInt64 {
        configuration.handshakeRateLimit * nanotokensPerToken
    }

    /// Adds `rate` tokens per second elapsed: `rate × elapsed ns` nanotokens.
    private mutating func refill(now: Timestamp) {
        guard now > lastRefill else { return }
        let elapsed = now.nanoseconds - lastRefill.nanoseconds
        lastRefill = now
        let capacity = Self.capacity(configuration)
        // A second or more refills the bucket; below that the product stays
        // below 10^9 × 10^9 < 2^64.
        guard elapsed < Self.nanotokensPerToken else {
            nanotokens = capacity
            return
        }
        nanotokens = min(capacity, nanotokens + elapsed * configuration.handshakeRateLimit)
    }
}
