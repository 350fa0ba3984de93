/// Picks which stream sends next: strict priority between levels, round-robin
/// within a level.
///
/// Only streams with something to send are in the scheduler: the owner
/// ``schedule(_:priority:)``s a stream when it gets data (or a
/// retransmission, or credit) and ``unschedule(_:)``s it when it runs dry or
/// blocks. ``next()`` returns the first stream of the highest non-empty
/// priority level and moves it to the back of its level, so equal-priority
/// streams take turns one chunk at a time, and a lower level sends only when
/// every higher one is empty (an application that wants weighted sharing
/// uses equal priorities).
///
/// ## Structure and cost
/// - Streams are named by ``StreamHandle``. Each one's node sits in an array
///   indexed by the handle's slot index (the arena's slots, so the array is
///   no larger than the arena); the node carries the handle's generation,
///   its level, and its neighbours in the level's doubly linked list.
///   Schedule, unschedule, rotate and pick are O(1) array work, no hashing.
/// - Levels sit in an array of their own, reused through a free list, and in
///   a binary max-heap ordered by priority: finding the highest is O(1),
///   adding a level O(log L). The one hash is priority → level, consulted
///   only when a stream joins a level other than the top one. A level that
///   empties stays in the heap until it reaches the top (lazy deletion,
///   O(log L) then), unless stale levels outnumber live ones, when the heap
///   is rebuilt (amortized O(1) per removal).
/// - Nothing iterates a dictionary to decide an order: the order comes only
///   from the lists and the heap, so runs are deterministic.
///
/// ``steps`` counts the inner work (list links, heap moves, skipped empty
/// levels) so tests can check the cost without timing anything.
struct StreamScheduler {
    private struct Node {
        /// The generation of the handle scheduled here.
        var generation: UInt32 = 0
        /// Its level's index in `levels`; `none` when not scheduled.
        var level = StreamScheduler.none
        var previous = StreamScheduler.none
        var next = StreamScheduler.none
    }

    private struct Level {
        var priority: Int
        var head = StreamScheduler.none
        var tail = StreamScheduler.none
        var count = 0
    }

    /// By slot index.
    private var nodes: [Node] = []
    /// Every level in `heap`, empty ones included; free ones are in `freeLevels`.
    private var levels: [Level] = []
    private var freeLevels: [UInt32] = []
    /// Priority → index in `levels`, for every level in `heap`.
    private var levelOfPriority: [Int: UInt32] = [:]
    /// Max-heap (by priority) of indices into `levels`, each level once.
    private var heap: [UInt32] = []
    /// Levels with at least one stream.
    private var liveLevelCount = 0
    /// Streams scheduled.
    private(set) var count = 0
    /// Units of internal work done so far (for cost assertions in tests).
    private(set) var steps = 0

    init() {}

    var isEmpty: Bool { count == 0 }

    /// Whether `handle` is scheduled.
    func contains(_ handle: StreamHandle) -> Bool { slot(of: handle) != nil }

    /// The priority `handle` is scheduled at, if it is.
    func priority(of handle: StreamHandle) -> Int? {
        slot(of: handle).map { levels[Int(nodes[$0].level)].priority }
    }

    /// Adds `handle` at the back of level `priority`. A stream already
    /// scheduled at that priority keeps its place; one scheduled at another
    /// priority moves to the back of the new level. A node left in the slot
    /// by an earlier stream (another generation) is dropped first.
    mutating func schedule(_ handle: StreamHandle, priority: Int) {
        let index = Int(handle.index)
        if index >= nodes.count {
            nodes.append(contentsOf: repeatElement(Node(), count: index + 1 - nodes.count))
        }
        let node = nodes[index]
        if node.level != Self.none {
            if node.generation == handle.generation && levels[Int(node.level)].priority == priority { return }
            unlink(index)
        }
        appendToLevel(index, generation: handle.generation, priority: priority)
    }

    /// Removes `handle` if it is scheduled.
    mutating func unschedule(_ handle: StreamHandle) {
        guard let index = slot(of: handle) else { return }
        unlink(index)
    }

    /// The stream to send next, moved to the back of its level; `nil` when
    /// nothing is scheduled. The caller unschedules it if it then has nothing
    /// left to send.
    mutating func next() -> StreamHandle? {
        guard let top = topLiveLevel() else { return nil }
        let l = Int(top)
        let head = levels[l].head
        if levels[l].count > 1 {
            steps += 1
            let second = nodes[Int(head)].next
            nodes[Int(second)].previous = Self.none
            levels[l].head = second
            nodes[Int(levels[l].tail)].next = head
            nodes[Int(head)].previous = levels[l].tail
            nodes[Int(head)].next = Self.none
            levels[l].tail = head
        }
        return StreamHandle(index: head, generation: nodes[Int(head)].generation)
    }

    /// The stream ``next()`` would return, without rotating.
    mutating func peek() -> StreamHandle? {
        guard let top = topLiveLevel() else { return nil }
        let head = levels[Int(top)].head
        return StreamHandle(index: head, generation: nodes[Int(head)].generation)
    }

    // MARK: - Private

    /// "No node / no level".
    private static var none: UInt32 { .max }

    /// `handle`'s slot index when it is scheduled under this generation.
    private func slot(of handle: StreamHandle) -> Int? {
        let index = Int(handle.index)
        guard index < nodes.count, nodes[index].level != Self.none,
              nodes[index].generation == handle.generation else { return nil }
        return index
    }

    private mutating func unlink(_ index: Int) {
        steps += 1
        let node = nodes[index]
        let l = Int(node.level)
        if node.previous != Self.none { nodes[Int(node.previous)].next = node.next } else { levels[l].head = node.next }
        if node.next != Self.none { nodes[Int(node.next)].previous = node.previous } else { levels[l].tail = node.previous }
        nodes[index] = Node()
        count -= 1
        levels[l].count -= 1
        if levels[l].count == 0 {
            liveLevelCount -= 1
            if heap.count > 2 * liveLevelCount + Self.staleLevelAllowance { rebuildHeap() }
        }
    }

    private mutating func appendToLevel(_ index: Int, generation: UInt32, priority: Int) {
        steps += 1
        let l = Int(level(for: priority))
        if levels[l].count == 0 { liveLevelCount += 1 }
        let tail = levels[l].tail
        nodes[index] = Node(generation: generation, level: UInt32(l), previous: tail, next: Self.none)
        if tail != Self.none { nodes[Int(tail)].next = UInt32(index) } else { levels[l].head = UInt32(index) }
        levels[l].tail = UInt32(index)
        levels[l].count += 1
        count += 1
    }

    /// The level of `priority`, made (and pushed on the heap) if missing.
    /// The top level is checked first, so the common case (one priority in
    /// use) hashes nothing.
    private mutating func level(for priority: Int) -> UInt32 {
        if let top = heap.first, levels[Int(top)].priority == priority { return top }
        if let existing = levelOfPriority[priority] { return existing }
        let fresh: UInt32
        if let free = freeLevels.popLast() {
            fresh = free
            levels[Int(free)] = Level(priority: priority)
        } else {
            fresh = UInt32(levels.count)
            levels.append(Level(priority: priority))
        }
        levelOfPriority[priority] = fresh
        heapPush(fresh)
        return fresh
    }

    /// The highest level with a stream, dropping empty levels on top.
    private mutating func topLiveLevel() -> UInt32? {
        while let top = heap.first {
            if levels[Int(top)].count > 0 { return top }
            steps += 1
            releaseLevel(top)
            heapPopTop()
        }
        return nil
    }

    private mutating func releaseLevel(_ level: UInt32) {
        levelOfPriority[levels[Int(level)].priority] = nil
        freeLevels.append(level)
    }

    private mutating func rebuildHeap() {
        steps += heap.count
        var live: [UInt32] = []
        for level in heap {
            if levels[Int(level)].count > 0 { live.append(level) } else { releaseLevel(level) }
        }
        // Sorted by descending priority is a valid max-heap.
        heap = live.sorted { levels[Int($0)].priority > levels[Int($1)].priority }
    }

    private func isAbove(_ a: UInt32, _ b: UInt32) -> Bool {
        levels[Int(a)].priority > levels[Int(b)].priority
    }

    private mutating func heapPush(_ level: UInt32) {
        heap.append(level)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard isAbove(heap[child], heap[parent]) else { break }
            steps += 1
            heap.swapAt(parent, child)
            child = parent
        }
    }

    private mutating func heapPopTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var largest = parent
            if left < heap.count && isAbove(heap[left], heap[largest]) { largest = left }
            if right < heap.count && isAbove(heap[right], heap[largest]) { largest = right }
            if largest == parent { break }
            steps += 1
            heap.swapAt(parent, largest)
            parent = largest
        }
    }

    /// Empty levels tolerated beyond twice the live ones before a rebuild, so
    /// a few priorities coming and going never trigger one.
    private static var staleLevelAllowance: Int { 16 }
}
