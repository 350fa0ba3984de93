import SecureStreamsCore

/// One direction of a link: a drop-tail queue in front of a transmitter of
/// `bandwidth` bits per second (serialization delay), then propagation
/// `delay` plus `jitter`, with impairments applied on entry. Each link draws
/// from its own named random sub-stream (`link:from->to`).
struct Link {
    enum State: Equatable { case up, down }

    /// Why a datagram did not make it.
    enum Drop: String, CaseIterable {
        case down, mtu, loss, burstLoss, queueFull, noBandwidth, dropList
    }

    /// What the link does with a datagram: nothing, or deliver copies at these times.
    enum Outcome {
        case dropped(Drop)
        case deliver([(arrival: Timestamp, bytes: [UInt8], corrupted: Bool)])
    }

    var spec: LinkSpec
    var state: State = .up
    var random: SeededRandom
    /// Gilbert–Elliott chain state.
    private var inBadState = false
    /// When the transmitter finishes the last queued datagram.
    private var busyUntil = Timestamp.zero
    /// Datagrams still queued or being serialized: (departure, size), in order.
    private var queued: [(departure: Timestamp, size: Int)] = []
    private var queuedHead = 0
    private var queuedBytes = 0
    private(set) var sent = 0
    /// Datagrams in a row lost or corrupted by the random impairments (for `maxConsecutiveDrops`).
    private var impairedInARow = 0

    init(spec: LinkSpec, random: SeededRandom) {
        self.spec = spec
        self.random = random
    }

    mutating func send(_ bytes: [UInt8], now: Timestamp) -> Outcome {
        sent += 1
        if spec.dropIndices.contains(sent - 1) { return .dropped(.dropList) }
        return admit(bytes, now: now)
    }

    private mutating func admit(_ bytes: [UInt8], now: Timestamp) -> Outcome {
        guard state == .up else { return .dropped(.down) }
        guard bytes.count <= spec.mtu else { return .dropped(.mtu) }
        // At the cap, the draws still happen (so the rest of the run draws
        // the same numbers) but their verdict is ignored.
        let capped = spec.maxConsecutiveDrops.map { impairedInARow >= $0 } ?? false
        if random.chance(spec.loss), !capped {
            impairedInARow += 1
            return .dropped(.loss)
        }
        if let burst = spec.burstLoss {
            inBadState = inBadState ? !random.chance(burst.badToGood) : random.chance(burst.goodToBad)
            if random.chance(inBadState ? burst.lossInBad : burst.lossInGood), !capped {
                impairedInARow += 1
                return .dropped(.burstLoss)
            }
        }
        drainQueue(now: now)
        if let limit = spec.queuePackets, queued.count - queuedHead >= limit { return .dropped(.queueFull) }
        if let limit = spec.queueBytes, queuedBytes + bytes.count > limit { return .dropped(.queueFull) }
        let departure: Timestamp
        if let bandwidth = spec.bandwidth {
            guard bandwidth > 0 else {
                // Nothing ever leaves: the datagram sits in the queue for good.
                queued.append((.distantFuture, bytes.count))
                queuedBytes += bytes.count
                return .dropped(.noBandwidth)
            }
            let bits = UInt64(bytes.count) * 8
            let serialization = Duration.nanoseconds(Int64(clamping: (bits * 1_000_000_000 + bandwidth - 1) / bandwidth))
            departure = max(now, busyUntil) + serialization
            busyUntil = departure
        } else {
            departure = now
        }
        queued.append((departure, bytes.count))
        queuedBytes += bytes.count
        var arrival = departure + spec.delay
        if spec.jitter > .zero { arrival += randomDuration(upTo: spec.jitter) }
        if random.chance(spec.reorderProbability) { arrival += spec.reorderDelay }
        var payload = bytes
        var corrupted = false
        if random.chance(spec.corrupt), !payload.isEmpty, !capped {
            let first = spec.corruptBytes?.lowerBound ?? 0
            let last = min(spec.corruptBytes?.upperBound ?? payload.count - 1, payload.count - 1)
            if first <= last {
                let index = Int.random(in: first...last, using: &random)
                payload[index] ^= UInt8.random(in: 1...255, using: &random)
                corrupted = true
            }
        }
        impairedInARow = corrupted ? impairedInARow + 1 : 0
        var copies = [(arrival, payload, corrupted)]
        if random.chance(spec.duplicate) {
            copies.append((arrival + .microseconds(100) + randomDuration(upTo: spec.jitter), payload, corrupted))
        }
        return .deliver(copies)
    }

    private mutating func drainQueue(now: Timestamp) {
        while queuedHead < queued.count, queued[queuedHead].departure <= now {
            queuedBytes -= queued[queuedHead].size
            queuedHead += 1
        }
        if queuedHead > 1_024, queuedHead * 2 > queued.count {
            queued.removeFirst(queuedHead)
            queuedHead = 0
        }
    }

    private mutating func randomDuration(upTo limit: Duration) -> Duration {
        let nanoseconds = limit.nanosecondsClamped
        guard nanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanoseconds, using: &random))
    }
}
