public import SecureStreamsCore

/// The discrete-event queue: entries ordered by (virtual time, insertion
/// sequence) in a binary heap, so two events at the same instant always run
/// in the order they were scheduled, whatever the process.
public struct EventQueue<Payload> {
    private struct Entry {
        var time: Timestamp
        var sequence: UInt64
        var payload: Payload

        func precedes(_ other: Entry) -> Bool {
            time != other.time ? time < other.time : sequence < other.sequence
        }
    }

    private var heap: [Entry] = []
    private var nextSequence: UInt64 = 0

    public init() {}

    public var isEmpty: Bool { heap.isEmpty }
    public var count: Int { heap.count }
    /// The time of the earliest entry.
    public var nextTime: Timestamp? { heap.first?.time }

    public mutating func schedule(_ payload: Payload, at time: Timestamp) {
        heap.append(Entry(time: time, sequence: nextSequence, payload: payload))
        nextSequence += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    public mutating func popDue(at now: Timestamp) -> (time: Timestamp, payload: Payload)? {
        guard let first = heap.first, first.time <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var best = parent
                if left < heap.count, heap[left].precedes(heap[best]) { best = left }
                if right < heap.count, heap[right].precedes(heap[best]) { best = right }
                if best == parent { break }
                heap.swapAt(parent, best)
                parent = best
            }
        }
        return (first.time, first.payload)
    }
}

/// A datagram on the simulated network.
public struct Datagram: Sendable {
    public var source: PeerAddress
    public var destination: PeerAddress
    public var bytes: [UInt8]
    /// A link changed its bytes on the way (counted as a drop when it reaches a host).
    public var corrupted = false
}

extension RandomNumberGenerator {
    /// True with probability `rate` (no draw at all when `rate` is 0, so
    /// turning an impairment off does not shift the other draws).
    mutating func chance(_ rate: Double) -> Bool {
        guard rate > 0 else { return false }
        guard rate < 1 else { return true }
        return Double.random(in: 0..<1, using: &self) < rate
    }
}
