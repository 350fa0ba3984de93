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
/// - Each level is a doubly linked list threaded through one dictionary of
///   nodes keyed by ``StreamID``: schedule, unschedule and rotate are O(1)
///   (hashing aside), with no search and no per-level array to shift.
/// - The levels sit in a binary max-heap of priorities: finding the highest
///   is O(1), adding a level O(log L). A level that empties stays in the heap
///   until it reaches the top (lazy deletion, O(log L) then), unless stale
///   levels outnumber live ones, when the heap is rebuilt (amortized O(1)
///   per removal).
/// - Nothing iterates a dictionary to decide an order: the order comes only
///   from the lists and the heap, so runs are deterministic. (The rebuild
///   collects keys from a dictionary but sorts them first.)
///
/// ``steps`` counts the inner work (list links, heap moves, skipped empty
/// levels) so tests can check the cost without timing anything.
struct StreamScheduler {
    private struct Node {
        var priority: Int
        var previous: StreamID?
        var next: StreamID?
    }

    private struct Level {
        var head: StreamID?
        var tail: StreamID?
        var count = 0
    }

    private var nodes: [StreamID: Node] = [:]
    /// Every level in `heap`, empty ones included.
    private var levels: [Int: Level] = [:]
    /// Max-heap of the keys of `levels`, each once.
    private var heap: [Int] = []
    /// Levels with at least one stream.
    private var liveLevelCount = 0
    /// Units of internal work done so far (for cost assertions in tests).
    private(set) var steps = 0

    init() {}

    /// Streams scheduled.
    var count: Int { nodes.count }
    var isEmpty: Bool { nodes.isEmpty }

    /// Whether `id` is scheduled.
    func contains(_ id: StreamID) -> Bool { nodes[id] != nil }

    /// The priority `id` is scheduled at, if it is.
    func priority(of id: StreamID) -> Int? { nodes[id]?.priority }

    /// Adds `id` at the back of level `priority`. A stream already scheduled
    /// at that priority keeps its place; one scheduled at another priority
    /// moves to the back of the new level.
    mutating func schedule(_ id: StreamID, priority: Int) {
        if let node = nodes[id] {
            if node.priority == priority { return }
            unschedule(id)
        }
        appendToLevel(id, priority: priority)
    }

    /// Removes `id` if it is scheduled.
    mutating func unschedule(_ id: StreamID) {
        guard let node = nodes.removeValue(forKey: id) else { return }
        steps += 1
        var level = levels[node.priority]!
        if let previous = node.previous { nodes[previous]!.next = node.next } else { level.head = node.next }
        if let next = node.next { nodes[next]!.previous = node.previous } else { level.tail = node.previous }
        level.count -= 1
        levels[node.priority] = level
        if level.count == 0 {
            liveLevelCount -= 1
            if levels.count > 2 * liveLevelCount + Self.staleLevelAllowance { rebuildHeap() }
        }
    }

    /// The stream to send next, moved to the back of its level; `nil` when
    /// nothing is scheduled. The caller unschedules it if it then has nothing
    /// left to send.
    mutating func next() -> StreamID? {
        guard let priority = topLiveLevel() else { return nil }
        var level = levels[priority]!
        let id = level.head!
        if level.count > 1 {
            steps += 1
            let second = nodes[id]!.next!
            nodes[second]!.previous = nil
            level.head = second
            nodes[level.tail!]!.next = id
            nodes[id]!.previous = level.tail
            nodes[id]!.next = nil
            level.tail = id
            levels[priority] = level
        }
        return id
    }

    /// The stream ``next()`` would return, without rotating.
    mutating func peek() -> StreamID? {
        topLiveLevel().flatMap { levels[$0]!.head }
    }

    // MARK: - Private

    private mutating func appendToLevel(_ id: StreamID, priority: Int) {
        steps += 1
        var level: Level
        if let existing = levels[priority] {
            level = existing
        } else {
            level = Level()
            heapPush(priority)
        }
        if level.count == 0 { liveLevelCount += 1 }
        nodes[id] = Node(priority: priority, previous: level.tail, next: nil)
        if let tail = level.tail { nodes[tail]!.next = id } else { level.head = id }
        level.tail = id
        level.count += 1
        levels[priority] = level
    }

    /// The highest priority with a stream, dropping empty levels on top.
    private mutating func topLiveLevel() -> Int? {
        while let top = heap.first {
            if levels[top]!.count > 0 { return top }
            steps += 1
            levels[top] = nil
            heapPopTop()
        }
        return nil
    }

    private mutating func rebuildHeap() {
        steps += levels.count
        let live = levels.filter { $0.value.count > 0 }
        levels = live
        heap = live.keys.sorted(by: >)  // sorted descending is a valid max-heap
    }

    private mutating func heapPush(_ priority: Int) {
        heap.append(priority)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[parent] < heap[child] else { break }
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
            if left < heap.count && heap[left] > heap[largest] { largest = left }
            if right < heap.count && heap[right] > heap[largest] { largest = right }
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
