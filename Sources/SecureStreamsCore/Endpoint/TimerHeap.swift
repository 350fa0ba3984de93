/// Each connection's next deadline, in a binary min-heap indexed by slot.
///
/// The endpoint keeps one entry per connection that has a deadline: the
/// minimum of that connection's own timer table (``Connection/nextDeadline``).
/// After anything touches a connection the endpoint reschedules its entry in
/// place (sift up or down from the entry's recorded position), so there are
/// no stale entries to skip and the heap never holds more than one entry per
/// slot: its size is bounded by ``EndpointConfiguration/maxConnections``.
///
/// - ``earliest`` is O(1): the root.
/// - ``schedule(_:at:)`` and ``remove(_:)`` are O(log N).
/// - ``popDue(now:into:)`` costs O(log N) per due entry, nothing for the rest.
///
/// Ties are broken by slot index, so the order in which due connections come
/// out never depends on anything but the inputs (determinism).
struct TimerHeap {
    /// One scheduled connection: its deadline and its slot.
    struct Entry {
        var deadline: Timestamp
        var slot: UInt32
    }

    /// The heap, root first.
    private var entries: [Entry] = []
    /// Per slot: its entry's index in `entries`, or `-1` when it has none.
    private var positions: [Int32] = []

    init() {}

    /// Entries in the heap (connections with a deadline).
    var count: Int { entries.count }

    /// The earliest deadline of any connection, or `nil` when none has one.
    var earliest: Timestamp? { entries.first?.deadline }

    /// The deadline recorded for `slot`, or `nil`.
    func deadline(of slot: Int) -> Timestamp? {
        guard slot < positions.count, positions[slot] >= 0 else { return nil }
        return entries[Int(positions[slot])].deadline
    }

    /// Records `deadline` as `slot`'s next deadline (`nil` removes it).
    mutating func schedule(_ slot: Int, at deadline: Timestamp?) {
        guard let deadline else {
            remove(slot)
            return
        }
        while positions.count <= slot { positions.append(-1) }
        let position = Int(positions[slot])
        if position < 0 {
            entries.append(Entry(deadline: deadline, slot: UInt32(slot)))
            positions[slot] = Int32(entries.count - 1)
            siftUp(entries.count - 1)
            return
        }
        let old = entries[position].deadline
        guard old != deadline else { return }
        entries[position].deadline = deadline
        if deadline < old { siftUp(position) } else { siftDown(position) }
    }

    /// Forgets `slot`'s deadline, if it has one.
    mutating func remove(_ slot: Int) {
        guard slot < positions.count, positions[slot] >= 0 else { return }
        let position = Int(positions[slot])
        positions[slot] = -1
        let last = entries.removeLast()
        guard position < entries.count else { return }
        entries[position] = last
        positions[Int(last.slot)] = Int32(position)
        siftUp(position)
        siftDown(Int(positions[Int(last.slot)]))
    }

    /// Removes every entry due at `now` and appends its slot to `due`
    /// (earliest first, ties by slot). Entries not yet due are not visited.
    mutating func popDue(now: Timestamp, into due: inout [UInt32]) {
        while let first = entries.first, first.deadline <= now {
            due.append(first.slot)
            remove(Int(first.slot))
        }
    }

    // MARK: - Private

    private func precedes(_ a: Entry, _ b: Entry) -> Bool {
        a.deadline < b.deadline || (a.deadline == b.deadline && a.slot < b.slot)
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(entries[child], entries[parent]) else { return }
            swapEntries(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < entries.count else { return }
            let right = left + 1
            let smaller = right < entries.count && precedes(entries[right], entries[left]) ? right : left
            guard precedes(entries[smaller], entries[parent]) else { return }
            swapEntries(smaller, parent)
            parent = smaller
        }
    }

    private mutating func swapEntries(_ a: Int, _ b: Int) {
        entries.swapAt(a, b)
        positions[Int(entries[a].slot)] = Int32(a)
        positions[Int(entries[b].slot)] = Int32(b)
    }
}
