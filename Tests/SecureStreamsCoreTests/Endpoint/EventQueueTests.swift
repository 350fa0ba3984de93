import Testing
@testable import SecureStreamsCore

/// The event queue's contract on its own: readiness coalesces and is never
/// dropped, notices are bounded and counted, order follows first occurrence.
@Suite struct EventQueueTests {
    static let a = ConnectionHandle(index: 0, generation: 0)
    static let b = ConnectionHandle(index: 1, generation: 0)
    static func stream(_ index: UInt64) -> StreamID { StreamID(opener: .responder, index: index) }

    static func drain(_ queue: inout EventQueue) -> [Event] {
        var events: [Event] = []
        while let event = queue.next() { events.append(event) }
        return events
    }

    @Test func readinessCoalescesAndKeepsFirstOccurrenceOrder() {
        var queue = EventQueue(capacity: 1)
        queue.emit(.streamReadable(Self.a, Self.stream(0)))
        queue.emit(.linkUp(Self.a))
        queue.emit(.streamOpened(Self.a, Self.stream(1)))
        queue.emit(.streamReadable(Self.a, Self.stream(0)))  // coalesced into the first
        queue.emit(.streamReadable(Self.a, Self.stream(1)))
        queue.emit(.linkDown(Self.a))  // the notice queue holds one: dropped
        queue.emit(.closed(Self.a, ConnectionError(.idleTimeout)))
        #expect(queue.dropped == 1 && queue.unreportedCloses == 1)
        #expect(Self.drain(&queue) == [
            .streamReadable(Self.a, Self.stream(0)), .linkUp(Self.a), .streamOpened(Self.a, Self.stream(1)),
            .streamReadable(Self.a, Self.stream(1)), .closed(Self.a, ConnectionError(.idleTimeout)),
        ])
        #expect(queue.isEmpty && queue.unreportedCloses == 0 && queue.orderCount == 0)
    }

    @Test func aRecordSetAgainAfterItWasPolledQueuesAgainAtTheBack() {
        var queue = EventQueue(capacity: 8)
        queue.emit(.streamWritable(Self.a, Self.stream(0)))
        #expect(queue.next() == .streamWritable(Self.a, Self.stream(0)))
        queue.emit(.streamsAvailable(Self.b))
        queue.emit(.streamWritable(Self.a, Self.stream(0)))
        #expect(Self.drain(&queue) == [.streamsAvailable(Self.b), .streamWritable(Self.a, Self.stream(0))])
    }

    @Test func tenThousandConditionsPastACapacityOfOneAreAllKept() {
        var queue = EventQueue(capacity: 1)
        for index in 0..<10_000 {
            queue.emit(.streamOpened(Self.a, Self.stream(UInt64(index))))
            queue.emit(.streamReset(Self.a, Self.stream(UInt64(index)), ErrorCode(UInt64(index))))
        }
        #expect(queue.recordCount == 10_000)
        let events = Self.drain(&queue)
        #expect(events.count == 20_000 && queue.dropped == 0)
        #expect(events.last == .streamReset(Self.a, Self.stream(9_999), ErrorCode(9_999)))
    }

    /// Streams forgotten before the application heard of them leave nothing,
    /// and the order ring stays within twice the live records plus 64.
    @Test func streamsRetiredUnseenAreWithdrawnAndTheRingCompacts() {
        var queue = EventQueue(capacity: 4)
        queue.emit(.streamOpened(Self.a, Self.stream(0)))
        #expect(queue.next() == .streamOpened(Self.a, Self.stream(0)))  // the application knows stream 0
        queue.emit(.streamReset(Self.a, Self.stream(0), ErrorCode(1)))
        for index in 1...5_000 {
            let id = Self.stream(UInt64(index))
            queue.emit(.streamOpened(Self.a, id))
            queue.emit(.streamReset(Self.a, id, ErrorCode(2)))
            queue.streamRetired(id, on: Self.a)
            #expect(queue.orderCount <= 2 * queue.recordCount + 65)
        }
        queue.streamRetired(Self.stream(0), on: Self.a)  // known: its reset stays
        #expect(queue.recordCount == 1)
        #expect(Self.drain(&queue) == [.streamReset(Self.a, Self.stream(0), ErrorCode(1))])
        #expect(queue.orderCount == 0)
    }
}
