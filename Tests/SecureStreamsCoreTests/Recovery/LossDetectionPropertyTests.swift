import Testing
@testable import SecureStreamsCore

extension RecoveryTests {
    /// Random send / ACK / timeout sequences against a plain reference model
    /// of RFC 9002 appendix A (dictionaries and sorted scans, no ring), from a
    /// seed: `SIM_SEED=<n>` replays one.
    @Suite struct LossDetectionPropertyTests {
        @Test(arguments: RecoveryTestSupport.seeds)
        func lossDetectionMatchesReferenceModel(seed: UInt64) {
            var run = LossDetectionRun(seed: seed)
            guard run.run(steps: 3_000) else { return }
            // The run must have exercised every path, or it proves little.
            let stats = run.stats
            #expect(stats.acknowledged > 500 && stats.lost > 50 && stats.probes > 0 && stats.timeLosses > 0
                    && stats.persistentCongestion > 0,
                    "\(RecoveryTestSupport.replay(seed, filter: "lossDetectionMatchesReferenceModel")): \(stats)")
        }
    }
}

/// One packet as the model remembers it.
private struct ModelPacket {
    var packet: SentPacket
    var number: UInt64 { packet.packetNumber.rawValue }
}

/// RFC 9002 appendix A written as directly as possible.
private struct LossModel {
    let maxAckDelay: Duration
    var sent: [UInt64: ModelPacket] = [:]
    var outstanding: Set<UInt64> = []
    var acknowledged: Set<UInt64> = []
    var skipped: Set<UInt64> = []
    var next: UInt64 = 0
    var largestAcked: UInt64?
    var rtt = RTTEstimator()
    var ptoCount = 0
    var lossTime: Timestamp?
    var lastAckElicitingSent: Timestamp?
    var firstPacketAfterSample: UInt64?

    struct Outcome: Equatable {
        var acknowledged: [UInt64] = []  // descending
        var lost: [UInt64] = []          // ascending
        var rttSample: Duration?
        var persistentCongestion = false
    }

    var bytesInFlight: Int {
        outstanding.reduce(0) { $0 + (sent[$1]!.packet.isInFlight ? sent[$1]!.packet.size : 0) }
    }

    var deadline: Timestamp? {
        if let lossTime { return lossTime }
        guard outstanding.contains(where: { sent[$0]!.packet.isAckEliciting }), let last = lastAckElicitingSent else {
            return nil
        }
        let base = rtt.pto(maxAckDelay: maxAckDelay)
        var pto = base
        for _ in 0..<min(ptoCount, 20) { pto = pto * 2 }
        // Backed off no further than the cap (or the PTO, when that is longer).
        return last + min(pto, max(base, LossDetection.maxProbeInterval))
    }

    mutating func send(_ packet: SentPacket) {
        let number = packet.packetNumber.rawValue
        for gap in next..<number { skipped.insert(gap) }
        next = number + 1
        sent[number] = ModelPacket(packet: packet)
        outstanding.insert(number)
        if packet.isAckEliciting { lastAckElicitingSent = packet.timeSent }
    }

    mutating func ack(_ numbers: [UInt64], ackDelay: Duration, now: Timestamp) -> Outcome {
        var outcome = Outcome()
        let largest = numbers.max()!
        largestAcked = max(largestAcked ?? largest, largest)
        outcome.acknowledged = numbers.filter { outstanding.contains($0) }.sorted(by: >)
        guard !outcome.acknowledged.isEmpty else { return outcome }
        for number in outcome.acknowledged {
            outstanding.remove(number)
            acknowledged.insert(number)
        }
        if outcome.acknowledged[0] == largest,
           outcome.acknowledged.contains(where: { sent[$0]!.packet.isAckEliciting }) {
            if !rtt.hasSample { firstPacketAfterSample = next }
            rtt.addSample(latestRTT: now - sent[largest]!.packet.timeSent, ackDelay: ackDelay,
                          maxAckDelay: maxAckDelay)
            outcome.rttSample = now - sent[largest]!.packet.timeSent
        }
        outcome.lost = detectLost(now: now)
        outcome.persistentCongestion = isPersistentCongestion(outcome.lost)
        ptoCount = 0
        return outcome
    }

    enum TimerResult: Equatable { case notDue, lost([UInt64]), probe }

    mutating func timeout(now: Timestamp) -> TimerResult {
        guard let deadline, now >= deadline else { return .notDue }
        if lossTime != nil { return .lost(detectLost(now: now)) }
        ptoCount += 1
        return .probe
    }

    private mutating func detectLost(now: Timestamp) -> [UInt64] {
        lossTime = nil
        guard let largest = largestAcked else { return [] }
        let delay = rtt.lossDelay
        var lost: [UInt64] = []
        for number in outstanding.sorted() where number <= largest {
            let timeSent = sent[number]!.packet.timeSent
            if number + 3 <= largest || timeSent + delay <= now {
                lost.append(number)
            } else {
                lossTime = min(lossTime ?? timeSent + delay, timeSent + delay)
            }
        }
        for number in lost { outstanding.remove(number) }
        return lost
    }

    /// RFC 9002 §7.6.2 by brute force over pairs of packets lost in one ACK.
    private func isPersistentCongestion(_ lost: [UInt64]) -> Bool {
        guard let first = firstPacketAfterSample else { return false }
        let candidates = lost.filter { $0 >= first && sent[$0]!.packet.isAckEliciting }
        let period = rtt.pto(maxAckDelay: maxAckDelay) * 3
        for (i, a) in candidates.enumerated() {
            for b in candidates[(i + 1)...] {
                let span = sent[b]!.packet.timeSent - sent[a]!.packet.timeSent
                let broken = ((a + 1)..<b).contains { acknowledged.contains($0) || outstanding.contains($0) }
                if span > period && !broken { return true }
            }
        }
        return false
    }
}

/// One seeded run: the system under test, the model and the generator.
private struct LossDetectionRun {
    let seed: UInt64
    var random: SeededRandom
    var detection = LossDetection(maxAckDelay: .milliseconds(25), maxTrackedPackets: 1_024)
    var model = LossModel(maxAckDelay: .milliseconds(25))
    var control = CongestionControl.newReno(NewReno(maxDatagramSize: 1_452))
    var events = RecoveryEvents(capacity: 8)
    var now = Timestamp(nanoseconds: 1_000_000)
    var step = 0
    var stats = Stats()

    struct Stats: CustomStringConvertible {
        var acknowledged = 0, lost = 0, probes = 0, timeLosses = 0, persistentCongestion = 0, rttSamples = 0
        var description: String {
            "acked \(acknowledged), lost \(lost), probes \(probes), time losses \(timeLosses), "
                + "persistent congestion \(persistentCongestion), RTT samples \(rttSamples)"
        }
    }

    init(seed: UInt64) {
        self.seed = seed
        random = SeededRandom(seed: seed).fork(label: "loss-detection-model")
    }

    /// Runs `steps` random operations; false after the first mismatch (recorded as an issue).
    mutating func run(steps: Int) -> Bool {
        for index in 0..<steps {
            step = index
            let roll = Int.random(in: 0..<100, using: &random)
            let ok = switch roll {
            case 0..<45: send()
            case 45..<60: advance()
            case 60..<86: ack()
            case 86..<88: blackout()
            default: timeout()
            }
            guard ok, compareState() else { return false }
        }
        return true
    }

    // MARK: Operations

    mutating func send() -> Bool {
        guard detection.canTrackMore else { return true }
        var number = detection.nextPacketNumber.rawValue
        if Int.random(in: 0..<100, using: &random) < 4 { number += 1 }  // skip one
        let ackEliciting = Int.random(in: 0..<100, using: &random) < 80
        let inFlight = ackEliciting || Int.random(in: 0..<100, using: &random) < 10
        let size = Int.random(in: 40...1_452, using: &random)
        let token = UInt32.random(in: 0...UInt32.max, using: &random)
        let packet = SentPacket(packetNumber: PacketNumber(number), timeSent: now, size: size,
                                isAckEliciting: ackEliciting, isInFlight: inFlight, token: token)
        detection.onPacketSent(packet)
        if inFlight { control.onPacketSent(bytes: packet.size, now: now) }
        model.send(packet)
        return true
    }

    mutating func advance() -> Bool {
        // Mostly short steps; sometimes a blackout of up to 2 s (PTOs, persistent congestion).
        let longest: Int64 = Int.random(in: 0..<10, using: &random) == 0 ? 2_000_000 : 20_000
        now += .microseconds(Int64.random(in: 0...longest, using: &random))
        return true
    }

    mutating func ack() -> Bool {
        let next = detection.nextPacketNumber.rawValue
        guard next > 0 else { return true }
        now += .microseconds(Int64.random(in: 0...5_000, using: &random))
        let low = next - min(next, UInt64.random(in: 1...96, using: &random))
        let density = Int.random(in: 10...95, using: &random)
        var numbers: [UInt64] = []
        for number in (low..<next).reversed() where !model.skipped.contains(number) {
            if Int.random(in: 0..<100, using: &random) < density { numbers.append(number) }
        }
        guard !numbers.isEmpty else { return true }
        let ackDelay = Duration.microseconds(Int64.random(in: 0...40_000, using: &random))
        let verdict = detection.onAckReceived(ranges: Self.ranges(numbers), ackDelay: ackDelay, now: now, into: &events)
        control.apply(events, now: now, rtt: detection.rtt)
        let expected = model.ack(numbers, ackDelay: ackDelay, now: now)
        stats.acknowledged += events.acknowledged.count
        stats.lost += events.lost.count
        stats.persistentCongestion += events.isPersistentCongestion ? 1 : 0
        stats.rttSamples += events.rttSample == nil ? 0 : 1
        guard check(verdict == .accepted, "verdict \(verdict) for ACK of \(numbers)") else { return false }
        return compare(events: events, with: expected, context: "ACK of \(Self.ranges(numbers))")
    }

    /// Several sends far apart with no ACK in between, then an ACK of the
    /// newest alone: the shape of persistent congestion (RFC 9002 §7.6.2),
    /// which random ACKs rarely produce.
    mutating func blackout() -> Bool {
        for _ in 0..<Int.random(in: 2...6, using: &random) {
            guard send() else { return false }
            now += .milliseconds(Int64.random(in: 50...1_500, using: &random))
        }
        let newest = detection.nextPacketNumber.rawValue - 1
        guard !model.skipped.contains(newest) else { return true }
        let ackDelay = Duration.microseconds(Int64.random(in: 0...40_000, using: &random))
        let verdict = detection.onAckReceived(
            ranges: Self.ranges([newest]), ackDelay: ackDelay, now: now, into: &events)
        control.apply(events, now: now, rtt: detection.rtt)
        let expected = model.ack([newest], ackDelay: ackDelay, now: now)
        stats.persistentCongestion += events.isPersistentCongestion ? 1 : 0
        guard check(verdict == .accepted, "verdict \(verdict) for ACK of \(newest)") else { return false }
        return compare(events: events, with: expected, context: "blackout ACK of \(newest)")
    }

    mutating func timeout() -> Bool {
        if let deadline = detection.lossDetectionDeadline, Bool.random(using: &random) { now = max(now, deadline) }
        let action = detection.onTimeout(now: now, into: &events)
        control.apply(events, now: now, rtt: detection.rtt)
        let expected = model.timeout(now: now)
        let context = "timeout at \(now)"
        if case .sendProbes = action { stats.probes += 1 }
        if case .packetsLost = action { stats.timeLosses += 1 }
        switch (action, expected) {
        case (.notDue, .notDue):
            return check(events.isEmpty, "\(context): events without a timeout")
        case (.sendProbes(let count), .probe):
            return check(count == 2 && events.isEmpty, "\(context): probes \(count)")
        case (.packetsLost, .lost(let lost)):
            return compare(events: events, with: .init(lost: lost), context: context)
        default:
            return check(false, "\(context): action \(action), model \(expected)")
        }
    }

    // MARK: Checks

    func compare(events: RecoveryEvents, with expected: LossModel.Outcome, context: String) -> Bool {
        let acknowledged = events.acknowledged.map(\.packetNumber.rawValue)
        let lost = events.lost.map(\.packetNumber.rawValue)
        let records = events.acknowledged + events.lost
        let persistent = events.isPersistentCongestion
        return check(acknowledged == expected.acknowledged,
                     "\(context): acked \(acknowledged), model \(expected.acknowledged)")
            && check(lost == expected.lost, "\(context): lost \(lost), model \(expected.lost)")
            && check(records.allSatisfy { $0 == model.sent[$0.packetNumber.rawValue]!.packet },
                     "\(context): records differ")
            && check(events.rttSample == expected.rttSample,
                     "\(context): rtt \(show(events.rttSample)), model \(show(expected.rttSample))")
            && check(persistent == expected.persistentCongestion,
                     "\(context): persistent congestion \(persistent), model \(expected.persistentCongestion)")
    }

    func compareState() -> Bool {
        check(detection.lossDetectionDeadline == model.deadline,
              "deadline \(show(detection.lossDetectionDeadline)), model \(show(model.deadline))")
            && check(detection.ptoCount == model.ptoCount, "pto_count \(detection.ptoCount), model \(model.ptoCount)")
            && check(detection.bytesInFlight == model.bytesInFlight,
                     "in flight \(detection.bytesInFlight), model \(model.bytesInFlight)")
            && check(control.bytesInFlight == detection.bytesInFlight, "controller in flight \(control.bytesInFlight)")
            && check(detection.rtt == model.rtt, "RTT \(detection.rtt), model \(model.rtt)")
            && check(detection.sent.base == (model.outstanding.min() ?? model.next), "base \(detection.sent.base)")
            && check(control.congestionWindow >= 2 * 1_452, "window below minimum")
    }

    func check(_ condition: Bool, _ message: @autoclosure () -> String) -> Bool {
        if !condition {
            let replay = RecoveryTestSupport.replay(seed, filter: "lossDetectionMatchesReferenceModel")
            Issue.record("\(replay) step \(step): \(message())")
        }
        return condition
    }

    func show(_ value: (some Any)?) -> String { value.map { "\($0)" } ?? "nil" }

    /// Descending packet numbers → descending closed ranges.
    static func ranges(_ numbers: [UInt64]) -> [ClosedRange<PacketNumber>] {
        var result: [ClosedRange<PacketNumber>] = []
        for number in numbers {
            if let last = result.last, last.lowerBound.rawValue == number + 1 {
                result[result.count - 1] = PacketNumber(number)...last.upperBound
            } else {
                result.append(PacketNumber(number)...PacketNumber(number))
            }
        }
        return result
    }
}
