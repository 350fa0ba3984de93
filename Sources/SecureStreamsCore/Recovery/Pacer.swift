/// Spreads sends over time (RFC 9002 §7.7) with a token bucket.
///
/// The bucket fills at `N * congestion_window / smoothed_rtt` with `N = 5/4`
/// ("Using a value for N that is small, but at least 1 (for example, 1.25)
/// ensures that variations in RTT do not result in underutilization of the
/// congestion window"), and holds at most a burst of 10 datagrams (never
/// more than the window: §7.7 "senders SHOULD limit bursts to the initial
/// congestion window"). It starts full, so the first flight leaves at once.
///
/// The pacer never blocks: the connection asks ``nextSendTime(now:bytes:)``
/// before building a packet; `nil` means send now, a timestamp is the
/// pacing deadline the connection reports to its driver (one entry of its
/// timer table). After each in-flight packet it calls
/// ``onPacketSent(bytes:now:)``; after each ACK it refreshes the rate with
/// ``update(congestionWindow:smoothedRTT:now:)``. Pure ACKs are not paced.
///
/// Integer arithmetic only: tokens are whole bytes; credit for elapsed time
/// is rounded down (at most one byte lost per refill), and waits are rounded
/// up so that a reported deadline is always enough.
struct Pacer: Sendable, Hashable {
    /// §7.7's `N`, as the fraction `5/4`.
    static let rateNumerator: UInt64 = 5
    static let rateDenominator: UInt64 = 4
    /// Burst allowance in datagrams: the initial window (RFC 9002 §7.2, §7.7).
    static let burstPackets = 10

    let maxDatagramSize: Int
    /// Bytes that may leave now.
    private(set) var tokens: Int
    private var lastRefill: Timestamp?
    private var congestionWindow: Int
    private var smoothedRTTNanos: UInt64

    /// - Parameters:
    ///   - maxDatagramSize: the datagram size the burst is counted in.
    ///   - congestionWindow, smoothedRTT: the starting rate.
    init(maxDatagramSize: Int, congestionWindow: Int, smoothedRTT: Duration) {
        precondition(maxDatagramSize > 0, "datagram size must be positive")
        self.maxDatagramSize = maxDatagramSize
        self.congestionWindow = max(congestionWindow, 0)
        smoothedRTTNanos = UInt64(max(smoothedRTT.nanosecondsClamped, 0))
        tokens = 0
        tokens = capacity
    }

    /// The bucket size: 10 datagrams, at most the window, at least one datagram.
    var capacity: Int {
        max(min(Self.burstPackets * maxDatagramSize, congestionWindow), maxDatagramSize)
    }

    /// When a packet of `bytes` may leave: `nil` for now, else the earliest
    /// time the bucket holds enough (or is full, for a packet bigger than it).
    /// A zero RTT or window disables pacing.
    func nextSendTime(now: Timestamp, bytes: Int) -> Timestamp? {
        let available = tokens(at: now)
        let needed = min(bytes, capacity)
        guard available < needed, let rate = rate else { return nil }
        let deficit = UInt64(needed - available)
        // wait = ceil(deficit / rate) with rate = numerator / denominator bytes per ns.
        let wait = Self.multiplyDivide(deficit, rate.denominator, rate.numerator, roundingUp: true)
        return now + .nanoseconds(Int64(clamping: wait))
    }

    /// Takes `bytes` from the bucket (not below zero).
    mutating func onPacketSent(bytes: Int, now: Timestamp) {
        tokens = max(tokens(at: now) - bytes, 0)
        lastRefill = now
    }

    /// Refills at the old rate up to `now`, then switches to the new one.
    mutating func update(congestionWindow: Int, smoothedRTT: Duration, now: Timestamp) {
        tokens = tokens(at: now)
        lastRefill = now
        self.congestionWindow = max(congestionWindow, 0)
        smoothedRTTNanos = UInt64(max(smoothedRTT.nanosecondsClamped, 0))
        tokens = min(tokens, capacity)
    }
}

extension Pacer {
    /// The fill rate as `numerator / denominator` bytes per nanosecond:
    /// `5 * cwnd / (4 * srtt)`; `nil` when pacing is off.
    private var rate: (numerator: UInt64, denominator: UInt64)? {
        guard smoothedRTTNanos > 0, congestionWindow > 0 else { return nil }
        let (denominator, overflow) = Self.rateDenominator.multipliedReportingOverflow(by: smoothedRTTNanos)
        return (Self.rateNumerator * UInt64(congestionWindow), overflow ? .max : denominator)
    }

    /// The bucket level at `now`, without changing anything.
    private func tokens(at now: Timestamp) -> Int {
        guard let lastRefill, now > lastRefill else { return tokens }
        guard let rate else { return capacity }
        let elapsed = (now - lastRefill).nanosecondsClamped
        let credit = Self.multiplyDivide(UInt64(elapsed), rate.numerator, rate.denominator, roundingUp: false)
        let room = UInt64(max(capacity - tokens, 0))
        return tokens + Int(min(credit, room))
    }

    /// `a * b / c` in 128-bit intermediate precision, saturating at `UInt64.max`.
    private static func multiplyDivide(_ a: UInt64, _ b: UInt64, _ c: UInt64, roundingUp: Bool) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        guard product.high < c else { return .max }
        let (quotient, remainder) = c.dividingFullWidth(product)
        if roundingUp, remainder > 0 { return quotient == .max ? .max : quotient + 1 }
        return quotient
    }
}
