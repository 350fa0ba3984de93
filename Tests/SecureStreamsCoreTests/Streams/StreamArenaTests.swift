import Testing
@testable import SecureStreamsCore

extension StreamsTests {
    @Suite struct StreamArenaTests {
        private func id(_ index: UInt64) -> StreamID { StreamID(opener: .initiator, index: index) }

        private func insert(_ arena: inout StreamArena, _ index: UInt64) -> StreamHandle {
            let id = id(index)
            return arena.insert(id: id) { handle in
                StreamEntry(id: id, handle: handle, priority: 0, configuration: .init(), peerMaxStreamData: 1000)
            }
        }

        @Test func aStaleHandleIsRefusedAfterItsSlotIsReused() {
            var arena = StreamArena()
            let old = insert(&arena, 0)
            arena[old].priority = 7  // mutated in place
            #expect(arena.entry(old)?.priority == 7)
            arena.remove(old)
            #expect(!arena.contains(old))
            #expect(arena.entry(old) == nil)
            #expect(arena.handle(for: id(0)) == nil, "the id is forgotten")
            let new = insert(&arena, 1)
            #expect(new.index == old.index, "the freed slot is reused at once")
            #expect(new.generation != old.generation)
            #expect(!arena.contains(old))
            #expect(arena.entry(old) == nil)
            #expect(arena[new].id == id(1))
            #expect(arena.capacity == 1)
        }

        @Test func theSchedulerRefusesAStaleHandleAndDropsItsNodeOnReuse() {
            var scheduler = StreamScheduler()
            let old = StreamHandle(index: 3, generation: 0)
            let new = StreamHandle(index: 3, generation: 1)
            scheduler.schedule(old, priority: 0)
            #expect(!scheduler.contains(new))
            scheduler.unschedule(new)  // not the scheduled stream: harmless
            #expect(scheduler.contains(old))
            scheduler.schedule(new, priority: 2)
            #expect(!scheduler.contains(old))
            #expect(scheduler.count == 1)
            #expect(scheduler.next() == new)
        }

        /// 10,000 streams put in and taken out in a seeded random order: the
        /// free list ends whole, and refilling reuses every slot.
        @Test(arguments: StreamsTests.seeds)
        func tenThousandInsertionsAndRemovalsLeaveTheFreeListWhole(seed: UInt64) {
            var dice = StreamsDice(seed: seed, label: "arena-free-list")
            var arena = StreamArena()
            var live = (0..<10_000).map { insert(&arena, UInt64($0)) }
            dice.shuffle(&live)
            for (i, handle) in live.enumerated() {
                arena.remove(handle)
                if i % 1000 == 0 { #expect(arena.isConsistent, "SIM_SEED=\(seed)") }
            }
            #expect(arena.isEmpty)
            #expect(arena.freeListLength == 10_000, "SIM_SEED=\(seed)")
            #expect(arena.isConsistent, "SIM_SEED=\(seed)")
            let again = (10_000..<20_000).map { insert(&arena, UInt64($0)) }
            #expect(arena.capacity == 10_000, "every slot reused")
            #expect(arena.freeListLength == 0)
            #expect(Set(again.map(\.index)).count == 10_000)
            #expect(live.allSatisfy { !arena.contains($0) })
        }

        @Test func childrenAreLinkedAndUnlinkedInPlace() {
            var arena = StreamArena()
            let root = insert(&arena, 0)
            let a = insert(&arena, 1), b = insert(&arena, 2), c = insert(&arena, 3)
            for child in [a, b, c] { arena.link(child, under: root) }
            let grandchild = insert(&arena, 4)
            arena.link(grandchild, under: b)
            #expect(arena.children(of: root) == [c, b, a], "most recently linked first")
            #expect(arena.parent(of: b) == root)
            #expect(arena.parent(of: root) == nil)
            #expect(arena.depth(of: root) == 0 && arena.depth(of: b) == 1 && arena.depth(of: grandchild) == 2)
            // A middle child, then the first one.
            arena.remove(b)
            #expect(arena.children(of: root) == [c, a])
            #expect(arena.parent(of: grandchild) == nil, "orphaned: a root now")
            #expect(arena.depth(of: grandchild) == 2, "keeps the depth it was opened at")
            arena.remove(c)
            #expect(arena.children(of: root) == [a])
            #expect(arena.isConsistent)
            // A slot reused by a new stream starts unlinked.
            let reused = insert(&arena, 5)
            #expect(arena.parent(of: reused) == nil && arena.children(of: reused).isEmpty && arena.depth(of: reused) == 0)
            arena.link(reused, under: grandchild)
            #expect(arena.depth(of: reused) == 3)
            #expect(arena.isConsistent)
        }

        /// Removing a parent is a structural operation only: its children
        /// stay live, become roots, keep their depth and their own children.
        @Test func removingAParentDetachesItsChildren() {
            var arena = StreamArena()
            let parent = insert(&arena, 0)
            let children = (1...5).map { insert(&arena, UInt64($0)) }
            for child in children { arena.link(child, under: parent) }
            let nested = insert(&arena, 6)
            arena.link(nested, under: children[2])
            arena.remove(parent)
            for child in children {
                #expect(arena.contains(child))
                #expect(arena.parent(of: child) == nil)
                #expect(arena.nextSibling(of: child) == nil)
                #expect(arena.depth(of: child) == 1)
            }
            #expect(arena.children(of: children[2]) == [nested])
            #expect(arena.isConsistent)
            // The children can be linked again, under a new parent.
            let adopter = insert(&arena, 7)
            arena.link(children[0], under: adopter)
            #expect(arena.children(of: adopter) == [children[0]])
            #expect(arena.isConsistent)
        }

        // MARK: Through the table

        @Test func aClosedStreamsSlotIsReusedAndLateFramesForItAreIgnored() throws {
            var pair = StreamTablePair()
            let first = try closeOneStream(&pair)
            #expect(pair.initiator.count == 0 && pair.responder.count == 0)
            let second = try closeOneStream(&pair)
            #expect(second != first, "stream ids are never reused")
            #expect(pair.initiator.arena.capacity == 1, "one slot, reused")
            #expect(pair.responder.arena.capacity == 1)
            // A late retransmission for the closed id lands nowhere.
            try pair.responder.handleStream(first, offset: 0, data: [1, 2, 3], fin: true)
            #expect(pair.responder.count == 0)
            #expect(pair.responder.drainEvents().isEmpty)
        }

        @Test func linkedStreamsSurviveTheirParentsClose() throws {
            var table = StreamTable(side: .initiator)
            let parent = table.open()!
            let child = table.open()!
            let linked = table.link(child, under: parent)
            let linkedToNothing = table.link(child, under: StreamID(opener: .initiator, index: 99))
            #expect(linked && !linkedToNothing)
            let parentHandle = table.arena.handle(for: parent)!
            let childHandle = table.arena.handle(for: child)!
            #expect(table.arena.parent(of: childHandle) == parentHandle)
            // Close the parent: both halves reset and acknowledged.
            try table.reset(parent, code: ErrorCode(1))
            for frame in table.drainControl() { table.onControlFrameAcked(frame) }
            try table.handleResetStream(parent, code: ErrorCode(2), finalSize: 0)
            _ = table.drainEvents()
            #expect(table.entry(parent) == nil)
            #expect(table.arena.parent(of: childHandle) == nil)
            #expect(table.arena.depth(of: childHandle) == 1)
            #expect(table.arena.isConsistent)
        }

        /// 10,000 streams opened and closed by the two tables, 100 at a time:
        /// both arenas end empty with every slot on the free list.
        @Test func tenThousandStreamsOpenedAndClosedLeaveTheFreeListWhole() throws {
            var configuration = StreamConfiguration()
            configuration.maxConcurrentPeerStreams = 100
            var pair = StreamTablePair(configuration: configuration,
                                       peer: .limits(data: 1 << 30, streamData: 1 << 20, streams: 100))
            for _ in 0..<100 {
                var ids: [StreamID] = []
                while let id = pair.initiator.open() {
                    try pair.initiator.write(id, [7])
                    try pair.initiator.finish(id)
                    ids.append(id)
                }
                #expect(ids.count == 100)
                try finishAll(ids, &pair)
            }
            for table in [pair.initiator, pair.responder] {
                #expect(table.count == 0)
                #expect(table.arena.capacity <= 100)
                #expect(table.arena.freeListLength == table.arena.capacity)
                #expect(table.arena.isConsistent)
                #expect(table.scheduler.isEmpty)
            }
        }

        // MARK: Helpers

        /// Opens a stream, sends a byte each way with FIN, reads both ends:
        /// both sides close it.
        private func closeOneStream(_ pair: inout StreamTablePair) throws -> StreamID {
            let id = pair.initiator.open()!
            try pair.initiator.write(id, [7])
            try pair.initiator.finish(id)
            try finishAll([id], &pair)
            return id
        }

        /// The responder reads each of `ids` to its end and finishes its half;
        /// the initiator reads the end: every stream closes on both sides, and
        /// the responder's new MAX_STREAMS reaches the initiator.
        private func finishAll(_ ids: [StreamID], _ pair: inout StreamTablePair) throws {
            try pair.flush(from: .initiator)
            for id in ids {
                let data = try pair.responder.read(id), end = try pair.responder.read(id)
                #expect(data == [7] && end == nil)
                try pair.responder.finish(id)
            }
            try pair.flush(from: .responder)
            for id in ids {
                let end = try pair.initiator.read(id)
                #expect(end == nil)
            }
            try pair.flush(from: .initiator)
            try pair.flush(from: .responder)  // the MAX_STREAMS the closes made due
            _ = pair.initiator.drainEvents()
            _ = pair.responder.drainEvents()
            for id in ids { #expect(pair.initiator.entry(id) == nil && pair.responder.entry(id) == nil) }
        }
    }
}
