/// The connections that may have something to send, first in first out.
///
/// A slot is in the set at most once (a flag per slot says whether it is
/// queued), so the set never holds more entries than there are slots and is
/// bounded by ``EndpointConfiguration/maxConnections``. The endpoint takes
/// the front connection, asks it for a datagram and, when it sent one, puts
/// it back at the end: connections that keep having data take turns
/// (round-robin), and one busy connection cannot starve the others.
///
/// Insertion and removal are O(1) (amortized: the consumed front of the
/// queue is dropped once it is half of the storage).
struct ReadySet {
    private var queue: [UInt32] = []
    /// Index in `queue` of the front entry.
    private var head = 0
    /// Per slot: whether it is queued.
    private var isQueued: [Bool] = []

    init() {}

    /// Connections queued.
    var count: Int { queue.count - head }
    var isEmpty: Bool { head == queue.count }

    /// Whether `slot` is queued.
    func contains(_ slot: Int) -> Bool { slot < isQueued.count && isQueued[slot] }

    /// Queues `slot` at the back, unless it is already queued (then it keeps its place).
    mutating func insert(_ slot: Int) {
        while isQueued.count <= slot { isQueued.append(false) }
        guard !isQueued[slot] else { return }
        isQueued[slot] = true
        queue.append(UInt32(slot))
    }

    /// Takes the front slot out of the set.
    mutating func popFirst() -> Int? {
        guard head < queue.count else { return nil }
        let slot = Int(queue[head])
        head += 1
        isQueued[slot] = false
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= Self.compactionThreshold, head * 2 >= queue.count {
            queue.removeFirst(head)
            head = 0
        }
        return slot
    }

    /// Consumed entries kept at the front before they are dropped: enough that
    /// dropping them (a move of the live rest, at most as many) is rare.
    static let compactionThreshold = 1_024
}
