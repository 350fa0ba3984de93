import Testing
@testable import SecureStreamsCore

extension StreamsTests {
    @Suite struct StreamSchedulerTests {
        /// The scheduler works on arena handles; these stand for streams in slots 0, 1, 2…
        private func id(_ index: UInt64) -> StreamHandle { StreamHandle(index: UInt32(index), generation: 0) }

        @Test func emptySchedulerPicksNothing() {
            var scheduler = StreamScheduler()
            #expect(scheduler.next() == nil)
            #expect(scheduler.peek() == nil)
            scheduler.unschedule(id(1))  // harmless
            #expect(scheduler.isEmpty)
        }

        @Test func equalPrioritiesTakeTurns() {
            var scheduler = StreamScheduler()
            for i in 0..<3 { scheduler.schedule(id(UInt64(i)), priority: 0) }
            let picks = (0..<7).map { _ in scheduler.next()! }
            #expect(picks == [0, 1, 2, 0, 1, 2, 0].map { id($0) })
        }

        @Test func schedulingAgainKeepsTheQueuePlace() {
            var scheduler = StreamScheduler()
            for i in 0..<3 { scheduler.schedule(id(UInt64(i)), priority: 0) }
            scheduler.schedule(id(0), priority: 0)
            #expect(scheduler.count == 3)
            #expect(scheduler.next() == id(0))
        }

        @Test func higherPriorityAlwaysGoesFirst() {
            var scheduler = StreamScheduler()
            scheduler.schedule(id(0), priority: 0)
            scheduler.schedule(id(1), priority: 5)
            scheduler.schedule(id(2), priority: -3)
            scheduler.schedule(id(3), priority: 5)
            #expect((0..<4).map { _ in scheduler.next()! } == [1, 3, 1, 3].map { id($0) })
            scheduler.unschedule(id(1))
            scheduler.unschedule(id(3))
            #expect(scheduler.next() == id(0))
            scheduler.unschedule(id(0))
            #expect(scheduler.next() == id(2))
            scheduler.unschedule(id(2))
            #expect(scheduler.next() == nil)
        }

        @Test func changingPriorityMovesTheStream() {
            var scheduler = StreamScheduler()
            scheduler.schedule(id(0), priority: 0)
            scheduler.schedule(id(1), priority: 0)
            scheduler.schedule(id(1), priority: 9)
            #expect(scheduler.priority(of: id(1)) == 9)
            #expect(scheduler.next() == id(1))
            scheduler.schedule(id(1), priority: -1)
            #expect(scheduler.next() == id(0))
        }

        @Test func unscheduleFromTheMiddleKeepsTheRestInOrder() {
            var scheduler = StreamScheduler()
            for i in 0..<5 { scheduler.schedule(id(UInt64(i)), priority: 0) }
            scheduler.unschedule(id(2))
            scheduler.unschedule(id(0))
            scheduler.unschedule(id(4))
            #expect((0..<4).map { _ in scheduler.next()! } == [1, 3, 1, 3].map { id($0) })
        }

        /// 10,000 streams of one priority: each gets exactly one turn per 10,000 picks.
        @Test func tenThousandStreamsAreServedFairly() {
            let n = 10_000
            var scheduler = StreamScheduler()
            for i in 0..<n { scheduler.schedule(id(UInt64(i)), priority: 0) }
            for round in 0..<3 {
                var seen = [Bool](repeating: false, count: n)
                for _ in 0..<n {
                    let index = Int(scheduler.next()!.index)
                    #expect(!seen[index], "round \(round): stream \(index) served twice")
                    seen[index] = true
                }
                #expect(seen.allSatisfy { $0 })
            }
        }

        /// Streams join and leave while others are served; among equal
        /// priorities, no stream is served twice while another one that was
        /// waiting before its previous turn is still waiting.
        @Test(arguments: StreamsTests.seeds)
        func noStreamIsOvertakenTwice(seed: UInt64) {
            var dice = StreamsDice(seed: seed, label: "scheduler-fairness")
            var scheduler = StreamScheduler()
            // Pick of the last turn, or of joining for a stream not served yet.
            var lastServed: [StreamHandle: Int] = [:]
            var live: [StreamHandle] = []
            for i in 0..<100 {
                scheduler.schedule(id(UInt64(i)), priority: 0)
                live.append(id(UInt64(i)))
                lastServed[id(UInt64(i))] = 0
            }
            var nextIndex: UInt64 = 100
            for pick in 1...5_000 {
                if dice.oneIn(10), !live.isEmpty {
                    let victim = live.remove(at: dice.int(in: 0..<live.count))
                    scheduler.unschedule(victim)
                    lastServed[victim] = nil
                }
                if dice.oneIn(10) {
                    let fresh = id(nextIndex)
                    nextIndex += 1
                    scheduler.schedule(fresh, priority: 0)
                    live.append(fresh)
                    lastServed[fresh] = pick
                }
                guard let served = scheduler.next() else { continue }
                if let previous = lastServed[served],
                   let waiting = lastServed.filter({ $0.key != served }).values.min(), waiting < previous {
                    Issue.record("SIM_SEED=\(seed): pick \(pick): \(served) served again, one waits since \(waiting)")
                    return
                }
                lastServed[served] = pick
            }
        }

        /// Strict priority under churn: whatever is picked has the highest
        /// priority among scheduled streams.
        @Test(arguments: StreamsTests.seeds)
        func pickIsAlwaysTheHighestPriority(seed: UInt64) {
            var dice = StreamsDice(seed: seed, label: "scheduler-priority")
            var scheduler = StreamScheduler()
            var priorities: [UInt64: Int] = [:]
            for step in 0..<5_000 {
                let index = UInt64(dice.int(in: 0..<300))
                if dice.oneIn(3) {
                    scheduler.unschedule(id(index))
                    priorities[index] = nil
                } else {
                    let priority = dice.int(in: -20...20)
                    scheduler.schedule(id(index), priority: priority)
                    priorities[index] = priority
                }
                let top = priorities.values.max()
                let picked = scheduler.next()
                if picked.flatMap({ priorities[UInt64($0.index)] }) != top {
                    let what = "picked \(String(describing: picked)), top \(String(describing: top))"
                    Issue.record("SIM_SEED=\(seed) step \(step): \(what)")
                    return
                }
            }
        }

        /// The cost check counts internal steps, not time: 10,000 streams
        /// over 100 priority levels, a million operations of churn, and the
        /// work per operation stays bounded by a small multiple of log2(levels).
        @Test func workPerOperationIsLogarithmicAtMost() {
            var dice = StreamsDice(seed: 7, label: "scheduler-cost")
            var scheduler = StreamScheduler()
            let n = 10_000
            for i in 0..<n { scheduler.schedule(id(UInt64(i)), priority: i % 100) }
            let before = scheduler.steps
            let operations = 300_000
            for _ in 0..<operations {
                let index = UInt64(dice.int(in: 0..<n))
                switch dice.int(in: 0..<3) {
                case 0: scheduler.unschedule(id(index))
                case 1: scheduler.schedule(id(index), priority: dice.int(in: 0..<100))
                default: _ = scheduler.next()
                }
            }
            let perOperation = Double(scheduler.steps - before) / Double(operations)
            // log2(100) ≈ 7: each operation does a constant number of link
            // updates plus at most a heap walk.
            #expect(perOperation < 12, "\(perOperation) steps per operation")
        }
    }
}
