/// A first-in first-out queue with a fixed capacity, on a ring buffer that
/// grows to its capacity once and then reuses its storage (as
/// every queue has a limit). `append` refuses (returns false) when full.
struct BoundedQueue<Element> {
    private var storage: [Element?] = []
    private var head = 0
    private(set) var count = 0
    let capacity: Int

    init(capacity: Int) {
        precondition(capacity > 0, "a queue holds at least one element")
        self.capacity = capacity
    }

    var isEmpty: Bool { count == 0 }
    var isFull: Bool { count == capacity }

    /// Adds `element` at the back; false (and nothing added) when full.
    @discardableResult
    mutating func append(_ element: Element) -> Bool {
        guard count < capacity else { return false }
        if count < storage.count {
            storage[(head + count) % storage.count] = element
        } else {
            // Every slot is taken: grow (amortised), keeping the ring contiguous.
            if head != 0 {
                storage = Array(storage[head...] + storage[..<head])
                head = 0
            }
            storage.append(element)
        }
        count += 1
        return true
    }

    /// Removes and returns the front element.
    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) % storage.count
        count -= 1
        return element
    }

    var first: Element? { count > 0 ? storage[head] : nil }
}
