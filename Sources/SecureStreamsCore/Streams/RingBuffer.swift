/// A growable FIFO with random access: a ring over one array.
///
/// The stream layer's queues (scheduler levels, pending events, control
/// frames, record ends) are all first-in first-out with occasional indexed
/// reads, and must not cost O(n) per removal as `Array.removeFirst` does.
/// Appends are amortized O(1) (the storage doubles when full); removals from
/// either end are O(1); `self[i]` is the `i`th element from the front.
///
/// Meant for plain values (offsets, ids, small frame descriptions): a
/// removed element's slot keeps a stale copy until it is overwritten, which
/// saves the `Optional` tag per slot (a bitmap word would double in size).
/// The storage does not shrink on its own; ``removeAll(keepingCapacity:)``
/// with `false` releases it.
struct RingBuffer<Element> {
    private var storage: [Element] = []
    /// Index in `storage` of the first element.
    private var head = 0
    /// Number of elements.
    private(set) var count = 0

    init() {}

    var isEmpty: Bool { count == 0 }
    var capacity: Int { storage.count }
    var first: Element? { isEmpty ? nil : self[0] }
    var last: Element? { isEmpty ? nil : self[count - 1] }

    /// The `index`th element from the front.
    /// - Precondition: `0 <= index < count`.
    subscript(index: Int) -> Element {
        get {
            precondition(index >= 0 && index < count, "RingBuffer index out of range")
            return storage[slot(index)]
        }
        set {
            precondition(index >= 0 && index < count, "RingBuffer index out of range")
            storage[slot(index)] = newValue
        }
    }

    /// Adds `element` at the back.
    mutating func append(_ element: Element) {
        if count == storage.count {
            grow(filler: element)
        } else {
            storage[slot(count)] = element
        }
        count += 1
    }

    /// Removes and returns the front element, or `nil` when empty.
    @discardableResult
    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        head = head + 1 == storage.count ? 0 : head + 1
        count -= 1
        return element
    }

    /// Removes and returns the back element, or `nil` when empty.
    @discardableResult
    mutating func popLast() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[slot(count - 1)]
        count -= 1
        return element
    }

    /// Removes the first `n` elements.
    /// - Precondition: `0 <= n <= count`.
    mutating func removeFirst(_ n: Int) {
        precondition(n >= 0 && n <= count, "RingBuffer.removeFirst beyond count")
        guard n > 0 else { return }
        head = slot(n == storage.count ? 0 : n)
        count -= n
    }

    mutating func removeAll(keepingCapacity: Bool = false) {
        if !keepingCapacity { storage = [] }
        head = 0
        count = 0
    }

    /// The index of the first element for which `isAbove` holds, assuming the
    /// elements are partitioned (all `false` first, then all `true`); `count`
    /// if none. O(log n).
    func partitionPoint(where isAbove: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if isAbove(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }

    private func slot(_ index: Int) -> Int {
        let raw = head + index
        return raw >= storage.count ? raw - storage.count : raw
    }

    /// Doubles the storage, placing the elements in order from slot 0 and
    /// `newElement` after them (it also fills the unused slots).
    private mutating func grow(filler newElement: Element) {
        let newCapacity = Swift.max(Self.minimumGrowth, storage.count * 2)
        var grown: [Element] = []
        grown.reserveCapacity(newCapacity)
        for i in 0..<count { grown.append(storage[slot(i)]) }
        grown.append(contentsOf: repeatElement(newElement, count: newCapacity - count))
        storage = grown
        head = 0
    }

    /// The first allocation holds this many elements: small, because most
    /// queues (per-stream record ends, per-level stream lists) stay short.
    private static var minimumGrowth: Int { 4 }
}

extension RingBuffer: Sequence {
    struct Iterator: IteratorProtocol {
        fileprivate let ring: RingBuffer
        fileprivate var index = 0
        mutating func next() -> Element? {
            guard index < ring.count else { return nil }
            defer { index += 1 }
            return ring[index]
        }
    }

    func makeIterator() -> Iterator { Iterator(ring: self) }
    var underestimatedCount: Int { count }
}
