import SecureStreamsCore

/// A TCP-like window-based sender (RFC 5681 Reno, RFC 9438 CUBIC) for cross
/// traffic: bulk data that never ends, acknowledged packet by packet by the
/// receiver. A packet is lost when three later ones were acknowledged
/// (the duplicate-ACK threshold) or at a retransmission timeout; at most one
/// window reduction per round trip. Lost packets are counted, not resent:
/// the flow is competition, and only its rate matters.
struct TCPModel {
    let model: CrossFlowSpec.CongestionModel
    /// Congestion window and slow-start threshold, in packets (RFC 6928: an initial window of 10).
    private(set) var congestionWindow: Double = 10
    private var slowStartThreshold = Double.infinity
    private(set) var nextSequence: UInt64 = 0
    /// Sent packets not yet acknowledged or declared lost, by sequence from `base`.
    private var window: [(sentAt: Timestamp, state: PacketState)] = []
    private var base: UInt64 = 0
    private(set) var inFlight = 0
    private var largestAcked: UInt64?
    /// No window reduction for a loss of a packet sent before this one (one per round trip).
    private var recoveryEnd: UInt64 = 0
    private var smoothedRTT: Duration?
    private var rttVariation = Duration.zero
    // CUBIC (RFC 9438 §4): window before the last reduction, when the epoch began, its K.
    private var cubicMax = 0.0
    private var cubicEpoch: Timestamp?
    private var cubicK = 0.0
    private var renoEstimate = 0.0
    private(set) var packetsLost = 0

    enum PacketState { case outstanding, acked, lost }

    /// The duplicate-ACK threshold of RFC 5681 §3.2.
    static let reorderingThreshold: UInt64 = 3
    /// RFC 6298 §2.4's minimum retransmission timeout, and §2.1's initial one.
    static let minimumTimeout = Duration.milliseconds(200)
    static let initialTimeout = Duration.seconds(1)

    init(model: CrossFlowSpec.CongestionModel) { self.model = model }

    /// Packets the window allows to send now.
    var sendable: Int { max(0, Int(congestionWindow) - inFlight) }

    /// When the retransmission timer fires, counted from the last event.
    var timeout: Duration {
        guard let smoothedRTT else { return Self.initialTimeout }
        return max(Self.minimumTimeout, smoothedRTT + rttVariation * 4)
    }

    mutating func sent(now: Timestamp) -> UInt64 {
        window.append((now, .outstanding))
        inFlight += 1
        nextSequence += 1
        return nextSequence - 1
    }

    mutating func acknowledged(_ sequence: UInt64, now: Timestamp) {
        guard sequence >= base, sequence < nextSequence else { return }
        let index = Int(sequence - base)
        guard case .outstanding = window[index].state else { return }
        window[index].state = .acked
        inFlight -= 1
        sample(now - window[index].sentAt)
        largestAcked = max(largestAcked ?? sequence, sequence)
        grow(now: now)
        detectLosses(now: now)
    }

    /// The retransmission timer fired: everything outstanding is lost, back to one packet (RFC 5681 §3.1).
    mutating func timedOut(now: Timestamp) {
        for index in window.indices where window[index].state == .outstanding {
            window[index].state = .lost
            packetsLost += 1
        }
        inFlight = 0
        slowStartThreshold = max(congestionWindow * beta, 2)
        cubicMax = congestionWindow
        congestionWindow = 1
        cubicEpoch = nil
        recoveryEnd = nextSequence
        trim()
    }

    private var beta: Double {
        switch model {
        case .reno: 0.5
        case .cubic: 0.7
        }
    }

    private mutating func sample(_ rtt: Duration) {
        guard let smoothed = smoothedRTT else {
            smoothedRTT = rtt
            rttVariation = rtt / 2
            return
        }
        let difference = smoothed > rtt ? smoothed - rtt : rtt - smoothed
        rttVariation = rttVariation * 3 / 4 + difference / 4
        smoothedRTT = smoothed * 7 / 8 + rtt / 8
    }

    private mutating func grow(now: Timestamp) {
        if congestionWindow < slowStartThreshold {
            congestionWindow += 1
            return
        }
        switch model {
        case .reno:
            congestionWindow += 1 / congestionWindow
        case .cubic:
            // RFC 9438 §4.2: W(t) = C (t − K)³ + W_max with C = 0.4, and the Reno-friendly estimate of §4.3.
            let epoch = cubicEpoch ?? now
            if cubicEpoch == nil {
                cubicEpoch = now
                cubicK = cubicMax > congestionWindow ? cbrt((cubicMax - congestionWindow) / 0.4) : 0
                renoEstimate = congestionWindow
            }
            let t = Double((now - epoch).nanosecondsClamped) / 1e9 + (smoothedRTT.map { Double($0.nanosecondsClamped) / 1e9 } ?? 0)
            let target = 0.4 * (t - cubicK) * (t - cubicK) * (t - cubicK) + cubicMax
            renoEstimate += 3 * (1 - beta) / (1 + beta) / congestionWindow
            let goal = max(target, renoEstimate)
            if goal > congestionWindow { congestionWindow += min(goal - congestionWindow, congestionWindow * 0.5) / congestionWindow }
        }
    }

    private mutating func detectLosses(now: Timestamp) {
        guard let largestAcked, largestAcked >= Self.reorderingThreshold else { return trim() }
        let limit = largestAcked - Self.reorderingThreshold
        var index = 0
        var reduce = false
        while index < window.count, base + UInt64(index) <= limit {
            if case .outstanding = window[index].state {
                window[index].state = .lost
                inFlight -= 1
                packetsLost += 1
                if base + UInt64(index) >= recoveryEnd { reduce = true }
            }
            index += 1
        }
        if reduce {
            cubicMax = congestionWindow
            congestionWindow = max(congestionWindow * beta, 2)
            slowStartThreshold = congestionWindow
            cubicEpoch = nil
            recoveryEnd = nextSequence
        }
        trim()
    }

    /// Forgets settled packets at the head of the window.
    private mutating func trim() {
        var settled = 0
        while settled < window.count, window[settled].state != .outstanding { settled += 1 }
        if settled > 0 {
            window.removeFirst(settled)
            base += UInt64(settled)
        }
    }
}

private func cbrt(_ value: Double) -> Double {
    guard value > 0 else { return 0 }
    var x = value > 1 ? value / 3 : 1
    for _ in 0..<60 { x -= (x * x * x - value) / (3 * x * x) }
    return x
}

/// One cross flow's running state and figures.
struct CrossFlow {
    let spec: CrossFlowSpec
    let sender: Int
    let receiver: Int
    /// The sender's own address (its host's IP, the flow's port), where the
    /// receiver is reached (its public IP, the flow's port), and the
    /// receiver's own address (its host's IP, the flow's port).
    let senderAddress: PeerAddress
    let receiverAddress: PeerAddress
    let receiverLocal: PeerAddress
    var tcp: TCPModel?
    /// Bumped at every arming of the retransmission timer; a timer event with an older value is stale.
    var timerGeneration = 0
    var packetsSent = 0
    var packetsDelivered = 0
    var bytesDelivered = 0
    var firstSentAt: Timestamp?
    var lastDeliveredAt: Timestamp?

    init(spec: CrossFlowSpec, sender: Int, receiver: Int, senderIP: PeerAddress, receiverIP: PeerAddress, receiverLocalIP: PeerAddress) {
        self.spec = spec
        self.sender = sender
        self.receiver = receiver
        senderAddress = PeerAddress(ipBytes: senderIP.ipBytes, port: spec.port)!
        receiverAddress = PeerAddress(ipBytes: receiverIP.ipBytes, port: spec.port)!
        receiverLocal = PeerAddress(ipBytes: receiverLocalIP.ipBytes, port: spec.port)!
        if case .tcp(let model) = spec.kind { tcp = TCPModel(model: model) }
    }

    /// A datagram to `address` arriving at host `host` is this flow's: data
    /// at the receiver, an ACK at the sender (after any NAT translated it back).
    func receives(_ address: PeerAddress, at host: Int) -> Bool {
        (host == receiver && address == receiverLocal) || (host == sender && address == senderAddress)
    }

    /// Still sending new packets at `now`.
    func isActive(at now: Timestamp) -> Bool {
        let start = Timestamp.zero + spec.start
        return now >= start && spec.duration.map { now < start + $0 } ?? true
    }

    /// The gap between two packets of a constant-rate flow.
    var interval: Duration {
        guard case .constantRate(let rate) = spec.kind, rate > 0 else { return .seconds(1) }
        return .nanoseconds(Int64(clamping: UInt64(spec.packetBytes) * 8 * 1_000_000_000 / rate))
    }

    /// A data packet: its sequence number, then zeros up to the flow's size.
    func packet(_ sequence: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: spec.packetBytes)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: sequence >> (56 - 8 * i)) }
        return bytes
    }

    /// An acknowledgement: 40 bytes (a TCP/IP header's worth) starting with the sequence number.
    static func acknowledgement(_ sequence: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 40)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: sequence >> (56 - 8 * i)) }
        return bytes
    }

    static func sequence(of bytes: [UInt8]) -> UInt64? {
        guard bytes.count >= 8 else { return nil }
        return bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// What the flow did, for the verdict.
    var figures: CrossFlowFigures {
        var figures = CrossFlowFigures(name: spec.name)
        figures.packetsSent = packetsSent
        figures.packetsDelivered = packetsDelivered
        figures.packetsLost = tcp?.packetsLost ?? (packetsSent - packetsDelivered)
        if let first = firstSentAt, let last = lastDeliveredAt, last > first {
            figures.goodput = Double(bytesDelivered) * 8 / (Double((last - first).nanosecondsClamped) / 1e9)
        }
        figures.congestionWindow = tcp.map { Int($0.congestionWindow) }
        return figures
    }
}

/// What one cross flow did over a run.
public struct CrossFlowFigures: Sendable, Equatable {
    public var name: String
    public var packetsSent = 0
    public var packetsDelivered = 0
    /// TCP-like flows: packets their sender declared lost; constant-rate flows: sent − delivered.
    public var packetsLost = 0
    /// Bytes delivered × 8 over (last delivery − first send), bits per second.
    public var goodput = 0.0
    /// TCP-like flows: the final congestion window, packets.
    public var congestionWindow: Int?

    public init(name: String) { self.name = name }
}
