/// A stream's place in its connection's ``StreamArena``: the index of its
/// slot and the slot's generation when the stream was put there.
///
/// Everything inside the stream layer (the scheduler, the queue of control
/// frames to send, the connection-blocked queue, tree links) names streams by
/// handle; only the application and the wire speak ``StreamID``. A handle
/// outlives its stream harmlessly: once the stream is removed its slot's
/// generation moves on, and the arena refuses the old handle.
struct StreamHandle: Hashable, Sendable, CustomStringConvertible {
    /// The slot in the arena.
    let index: UInt32
    /// The slot's generation when this handle was issued.
    let generation: UInt32

    var description: String { "stream slot \(index)#\(generation)" }
}

/// The live streams of one connection, in a slab: an array of slots reused
/// through a free list, each holding a ``StreamEntry`` in place, its tree
/// links (parent, children) and its depth, plus the one map from wire
/// ``StreamID`` to ``StreamHandle``.
///
/// ## Costs
/// - ``handle(for:)`` is the only hash lookup; everything else is an array
///   index and a generation compare. A received frame looks its id up once,
///   then works on the handle.
/// - ``insert(id:_:)`` and ``remove(_:)`` are O(1) (amortized for the array
///   and the map), except that removing a stream detaches its children, O(children).
/// - The entry is mutated where it lies (``subscript(_:)``'s `_modify`): its
///   buffers are never copied, and nothing is taken out and put back.
///
/// ## Reuse and generations
/// A removed stream's slot goes at once on the free list and is reused by
/// the next insert (there is no TIME-WAIT: a late frame for the closed id
/// finds no handle, and the table's opening rules ignore it). The slot's
/// generation is bumped on removal, so every handle to the old stream is
/// refused. A slot whose generation reaches 2^32 − 1 is retired instead of
/// reused (one slot per 2^32 reuses), so a stale handle never aliases a new stream.
/// Stream ids are never reused: mapping an id to a handle is the table's
/// opening rules' business.
///
/// ## Tree links
/// Each slot has a parent and a list of children (first child, and
/// previous / next sibling: intrusive, O(1) to link and unlink), and a depth
/// (0 for a root, parent's depth + 1 for a child, fixed at ``link(_:under:)``).
/// Removing a stream unlinks it from its parent and detaches its children:
/// they become roots and keep their depth (the depth records how deeply a
/// stream was opened). Which streams the protocol links, and what a parent's
/// close or reset does to its children, is decided above the arena.
///
/// ## Bound
/// The arena holds at most the streams the table lets exist at once (our
/// open streams up to the peer's MAX_STREAMS, the peer's up to the count we
/// advertise); its capacity stays at the high-water mark of live streams.
struct StreamArena {
    /// One slab slot: a live stream and its links, or a free slot on the free list.
    private struct Slot {
        var generation: UInt32 = 0
        var entry: StreamEntry?
        /// The next free slot, while this one is free.
        var nextFree = StreamArena.none
        var parent = StreamArena.none
        var firstChild = StreamArena.none
        var previousSibling = StreamArena.none
        var nextSibling = StreamArena.none
        var depth: UInt32 = 0
    }

    private var slots: [Slot] = []
    /// Head of the free list (a stack through `Slot.nextFree`).
    private var freeHead = StreamArena.none
    private var handles: [StreamID: StreamHandle] = [:]

    init() {}

    /// Live streams.
    var count: Int { handles.count }
    var isEmpty: Bool { handles.isEmpty }
    /// Slots allocated, live or free (the high-water mark of live streams).
    var capacity: Int { slots.count }

    /// The live stream with wire id `id`, if any: the one hash lookup.
    func handle(for id: StreamID) -> StreamHandle? { handles[id] }

    /// Whether `handle` names a live stream (not a removed one, not a reused slot).
    func contains(_ handle: StreamHandle) -> Bool {
        let index = Int(handle.index)
        return index < slots.count && slots[index].generation == handle.generation && slots[index].entry != nil
    }

    /// The live stream `handle` names, read or mutated in place.
    /// - Precondition: `handle` is live (``contains(_:)``).
    subscript(handle: StreamHandle) -> StreamEntry {
        _read {
            precondition(contains(handle), "\(handle) is not live")
            yield slots[Int(handle.index)].entry!
        }
        _modify {
            precondition(contains(handle), "\(handle) is not live")
            yield &slots[Int(handle.index)].entry!
        }
    }

    /// The entry `handle` names, or `nil` for a stale handle (a copy: inspection and tests).
    func entry(_ handle: StreamHandle) -> StreamEntry? {
        contains(handle) ? slots[Int(handle.index)].entry : nil
    }

    /// Puts a new stream with wire id `id` in a free slot (or a new one), as
    /// a root of depth 0. `make` builds its entry, given its handle.
    /// - Precondition: `id` is not live.
    @discardableResult
    mutating func insert(id: StreamID, _ make: (StreamHandle) -> StreamEntry) -> StreamHandle {
        precondition(handles[id] == nil, "\(id) is already live")
        let index: UInt32
        if freeHead != Self.none {
            index = freeHead
            freeHead = slots[Int(index)].nextFree
            slots[Int(index)].nextFree = Self.none
        } else {
            precondition(slots.count < Int(Self.none), "stream arena full")
            index = UInt32(slots.count)
            slots.append(Slot())
        }
        let handle = StreamHandle(index: index, generation: slots[Int(index)].generation)
        slots[Int(index)].entry = make(handle)
        handles[id] = handle
        return handle
    }

    /// Removes a live stream: unlinks it from its parent, detaches its
    /// children (they become roots, keeping their depth), forgets its id,
    /// and frees its slot for reuse under a new generation.
    /// - Returns: the entry.
    /// - Precondition: `handle` is live.
    @discardableResult
    mutating func remove(_ handle: StreamHandle) -> StreamEntry {
        precondition(contains(handle), "\(handle) is not live")
        let index = Int(handle.index)
        unlinkFromParent(handle.index)
        var child = slots[index].firstChild
        while child != Self.none {
            let next = slots[Int(child)].nextSibling
            slots[Int(child)].parent = Self.none
            slots[Int(child)].previousSibling = Self.none
            slots[Int(child)].nextSibling = Self.none
            child = next
        }
        slots[index].firstChild = Self.none
        slots[index].depth = 0
        let entry = slots[index].entry.take()!
        handles[entry.id] = nil
        if slots[index].generation < Self.retiredGeneration {
            slots[index].generation += 1
            slots[index].nextFree = freeHead
            freeHead = handle.index
        }
        return entry
    }

    // MARK: - Tree links

    /// Makes `child` the first child of `parent`, at `parent`'s depth + 1.
    /// - Precondition: both live, distinct, and `child` a root with no children.
    mutating func link(_ child: StreamHandle, under parent: StreamHandle) {
        precondition(contains(child) && contains(parent) && child != parent, "link: \(child) under \(parent)")
        let c = Int(child.index), p = Int(parent.index)
        precondition(slots[c].parent == Self.none && slots[c].firstChild == Self.none,
                     "link: \(child) is already linked")
        let oldFirst = slots[p].firstChild
        slots[c].parent = parent.index
        slots[c].nextSibling = oldFirst
        slots[c].depth = slots[p].depth + 1
        if oldFirst != Self.none { slots[Int(oldFirst)].previousSibling = child.index }
        slots[p].firstChild = child.index
    }

    /// The parent of a live stream, if it has one.
    func parent(of handle: StreamHandle) -> StreamHandle? {
        precondition(contains(handle), "\(handle) is not live")
        return liveHandle(slots[Int(handle.index)].parent)
    }

    /// The first child of a live stream (the most recently linked), if any.
    func firstChild(of handle: StreamHandle) -> StreamHandle? {
        precondition(contains(handle), "\(handle) is not live")
        return liveHandle(slots[Int(handle.index)].firstChild)
    }

    /// The next sibling of a live stream (linked before it), if any.
    func nextSibling(of handle: StreamHandle) -> StreamHandle? {
        precondition(contains(handle), "\(handle) is not live")
        return liveHandle(slots[Int(handle.index)].nextSibling)
    }

    /// The children of a live stream, most recently linked first.
    func children(of handle: StreamHandle) -> [StreamHandle] {
        var out: [StreamHandle] = []
        var child = firstChild(of: handle)
        while let current = child {
            out.append(current)
            child = nextSibling(of: current)
        }
        return out
    }

    /// How deeply a live stream was opened: 0 for a root.
    func depth(of handle: StreamHandle) -> Int {
        precondition(contains(handle), "\(handle) is not live")
        return Int(slots[Int(handle.index)].depth)
    }

    // MARK: - Inspection

    /// Slots on the free list, counted by walking it (tests check it against
    /// ``capacity`` − ``count`` − retired slots).
    var freeListLength: Int {
        var length = 0
        var index = freeHead
        while index != Self.none, length <= slots.count {
            length += 1
            index = slots[Int(index)].nextFree
        }
        return length
    }

    /// Whether the slab is consistent: every free-list slot is free and
    /// listed once, every other slot is live or retired, and every live
    /// stream's links point at live streams that point back (tests).
    var isConsistent: Bool {
        var onFreeList = [Bool](repeating: false, count: slots.count)
        var index = freeHead
        while index != Self.none {
            guard Int(index) < slots.count, !onFreeList[Int(index)], slots[Int(index)].entry == nil else { return false }
            onFreeList[Int(index)] = true
            index = slots[Int(index)].nextFree
        }
        for (i, slot) in slots.enumerated() {
            guard let entry = slot.entry else {
                guard onFreeList[i] || slot.generation == Self.retiredGeneration else { return false }
                continue
            }
            guard handles[entry.id] == StreamHandle(index: UInt32(i), generation: slot.generation),
                  entry.handle == handles[entry.id] else { return false }
            if slot.parent != Self.none {
                let parent = slots[Int(slot.parent)]
                guard parent.entry != nil, slot.depth == parent.depth + 1 else { return false }
            }
            if slot.nextSibling != Self.none && slots[Int(slot.nextSibling)].previousSibling != UInt32(i) { return false }
            if slot.firstChild != Self.none && slots[Int(slot.firstChild)].parent != UInt32(i) { return false }
        }
        return handles.count == slots.count(where: { $0.entry != nil })
    }

    // MARK: - Private

    /// "No slot", in links and the free list.
    private static var none: UInt32 { .max }
    /// A slot whose generation reached this is never reused: one more reuse
    /// would wrap the generation and let a stale handle alias a new stream.
    private static var retiredGeneration: UInt32 { .max }

    private func liveHandle(_ index: UInt32) -> StreamHandle? {
        guard index != Self.none else { return nil }
        return StreamHandle(index: index, generation: slots[Int(index)].generation)
    }

    private mutating func unlinkFromParent(_ index: UInt32) {
        let i = Int(index)
        let parent = slots[i].parent, previous = slots[i].previousSibling, next = slots[i].nextSibling
        guard parent != Self.none else { return }
        if previous != Self.none {
            slots[Int(previous)].nextSibling = next
        } else {
            slots[Int(parent)].firstChild = next
        }
        if next != Self.none { slots[Int(next)].previousSibling = previous }
        slots[i].parent = Self.none
        slots[i].previousSibling = Self.none
        slots[i].nextSibling = Self.none
    }
}
