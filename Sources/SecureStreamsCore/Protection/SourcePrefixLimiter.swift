/// A token bucket per source prefix for Initiations that reach the DH work
/// while the responder is under load (PROTOCOL.md §4.5): a /24 for IPv4, a
/// /64 for IPv6, so one host (or one subnet it can pick addresses from)
/// gets one share however many cookies it holds.
///
/// A valid cookie proves an address, not good faith: without this limit a
/// host holding its cookie could send Initiations with fresh ephemeral keys at
/// no public-key cost to itself, each costing the responder three X25519
/// operations and a half-open slot. The idea is WireGuard's ratelimiter; this
/// is our own bounded, deterministic table.
///
/// ## The table
///
/// At most ``capacity`` prefixes. Each bucket holds up to ``burst`` tokens
/// and refills at ``ratePerSecond``; an Initiation takes one. A bucket that
/// has been idle long enough to be full again carries no information and is
/// forgotten: entries sit in a first-in, first-out ring in the order they were
/// created, and before a new one is made the oldest are dropped if they are
/// idle that long (amortised O(1), never a walk). When the table is full of
/// live prefixes a new prefix is refused: under load, a responder would
/// rather turn away an unknown prefix than forget a busy one. Only
/// address-proven Initiations (a valid cookie) enter the table, so filling it
/// takes real addresses in `capacity` distinct prefixes, each active within
/// the last `burst / ratePerSecond` seconds.
///
/// The dictionary is for lookup only; the ring decides every eviction, so no
/// hash order reaches a decision.
struct SourcePrefixLimiter: Sendable {
    /// Initiations per second one prefix may start under load. 20 per second,
    /// WireGuard's figure: far more than a host opening connections for real
    /// needs, and 20 × 3 X25519 operations is about a millisecond of CPU.
    static let defaultRatePerSecond: UInt64 = 20
    /// Prefixes tracked at once. 4,096 entries of about 40 bytes: 160 KB at
    /// most, and 4,096 proven prefixes × 20 per second is already past any
    /// responder's DH budget, so a larger table would protect nothing more.
    static let defaultCapacity = 4_096

    let ratePerSecond: UInt64
    /// A bucket's size: one second's worth of tokens.
    var burst: UInt64 { ratePerSecond }
    let capacity: Int

    private var buckets: [Prefix: Bucket] = [:]
    /// Prefixes in the order their buckets were made (a ring of `capacity`).
    private var order: [Prefix?]
    private var orderStart = 0
    private var orderCount = 0

    init(ratePerSecond: UInt64 = Self.defaultRatePerSecond, capacity: Int = Self.defaultCapacity) {
        precondition(ratePerSecond > 0 && ratePerSecond <= 1_000_000_000, "rate out of range")
        precondition(capacity > 0, "capacity must be positive")
        self.ratePerSecond = ratePerSecond
        self.capacity = capacity
        order = []
    }

    /// Prefixes currently tracked.
    var count: Int { buckets.count }

    /// Takes a token for an Initiation from `address` at `now`: true when the
    /// prefix had one (proceed), false when it is over its rate or the table
    /// is full of other live prefixes (drop the Initiation, silently).
    mutating func admit(_ address: PeerAddress, now: Timestamp) -> Bool {
        let prefix = Prefix(address)
        if var bucket = buckets[prefix] {
            bucket.refill(now: now, rate: ratePerSecond, burst: burst)
            let admitted = bucket.nanotokens >= Self.nanotokensPerToken
            if admitted { bucket.nanotokens -= Self.nanotokensPerToken }
            buckets[prefix] = bucket
            return admitted
        }
        forgetIdle(now: now)
        guard buckets.count < capacity else { return false }
        let full = burst * Self.nanotokensPerToken
        buckets[prefix] = Bucket(nanotokens: full - Self.nanotokensPerToken, lastRefill: now)
        if order.count < capacity { order.append(nil) }
        order[(orderStart + orderCount) % capacity] = prefix
        orderCount += 1
        return true
    }

    // MARK: - Private

    private static let nanotokensPerToken: UInt64 = 1_000_000_000

    /// Drops, oldest first, the buckets idle long enough to be full again.
    /// A bucket still live at the front stops the sweep: the ones behind it
    /// were made later, though they may have gone idle sooner; they are
    /// forgotten when they reach the front.
    private mutating func forgetIdle(now: Timestamp) {
        let idle = Duration.seconds(1)  // burst / rate = one second refills any bucket
        while orderCount > 0, let prefix = order[orderStart] {
            if let bucket = buckets[prefix], now < bucket.lastRefill + idle { return }
            buckets.removeValue(forKey: prefix)
            order[orderStart] = nil
            orderStart = (orderStart + 1) % capacity
            orderCount -= 1
        }
    }

    /// A /24 (IPv4) or /64 (IPv6) and the family, as a fixed-size key. An
    /// IPv4-mapped IPv6 address (what a dual-stack socket reports for IPv4
    /// peers) counts as the IPv4 address it maps, else all of IPv4 would
    /// share one /64.
    private struct Prefix: Hashable, Sendable {
        let high: UInt64
        let isIPv6: Bool

        init(_ address: PeerAddress) {
            (high, isIPv6) = address.withIPBytes { bytes in
                func word(_ range: Range<Int>) -> UInt64 { bytes[range].reduce(0) { $0 << 8 | UInt64($1) } }
                guard bytes.count == 16 else { return (word(0..<3), false) }
                let isMapped = word(0..<10) == 0 && bytes[10] == 0xff && bytes[11] == 0xff
                return isMapped ? (word(12..<15), false) : (word(0..<8), true)
            }
        }
    }

    private struct Bucket: Sendable {
        var nanotokens: UInt64
        var lastRefill: Timestamp

        mutating func refill(now: Timestamp, rate: UInt64, burst: UInt64) {
            guard now > lastRefill else { return }
            let elapsed = now.nanoseconds - lastRefill.nanoseconds
            lastRefill = now
            let full = burst * SourcePrefixLimiter.nanotokensPerToken
            // A second or more refills the bucket (burst is one second's
            // worth); below that `elapsed × rate` stays under 10^18.
            guard elapsed < SourcePrefixLimiter.nanotokensPerToken else {
                nanotokens = full
                return
            }
            nanotokens = min(full, nanotokens + elapsed * rate)
        }
    }
}
