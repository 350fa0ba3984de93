/// The endpoint's queue of events for the application: bounded, so an
/// application that never drains cannot grow memory; what does not fit is
/// dropped and counted in ``EndpointStatistics/eventsDropped``.
struct EventQueue {
    private var queue: BoundedQueue<Event>
    private(set) var dropped: UInt64 = 0

    init(capacity: Int) {
        queue = BoundedQueue(capacity: capacity)
    }

    mutating func emit(_ event: Event) {
        if !queue.append(event) { dropped += 1 }
    }

    mutating func next() -> Event? { queue.popFirst() }

    var isEmpty: Bool { queue.isEmpty }
    var count: Int { queue.count }
}
