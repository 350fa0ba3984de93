import Testing
@testable import SecureStreamsCore

extension StreamsTests {
    @Suite struct OffsetRangesTests {
        @Test func insertMergesOverlappingAndTouchingRanges() {
            var set = OffsetRanges()
            set.insert(contentsOf: 10..<20)
            set.insert(contentsOf: 30..<40)
            set.insert(contentsOf: 0..<5)
            #expect(set.ranges == [0..<5, 10..<20, 30..<40])
            set.insert(contentsOf: 20..<30)  // touches both neighbours
            #expect(set.ranges == [0..<5, 10..<40])
            set.insert(contentsOf: 3..<12)
            #expect(set.ranges == [0..<40])
            set.insert(contentsOf: 50..<50)
            #expect(set.ranges == [0..<40])
        }

        @Test func removeCutsAndDrops() {
            var set = OffsetRanges(0..<100)
            set.remove(contentsOf: 40..<60)
            #expect(set.ranges == [0..<40, 60..<100])
            set.remove(contentsOf: 30..<70)
            #expect(set.ranges == [0..<30, 70..<100])
            set.remove(contentsOf: 0..<30)
            #expect(set.ranges == [70..<100])
            set.remove(contentsOf: 100..<200)
            #expect(set.ranges == [70..<100])
            set.remove(contentsOf: 0..<1_000)
            #expect(set.isEmpty && set.first == nil)
            #expect(OffsetRanges(5..<5).isEmpty)
        }

        /// Random inserts, removes, unions and subtractions give the same
        /// ranges as the standard library's `RangeSet`.
        @Test(arguments: StreamsTests.seeds) func agreesWithRangeSet(seed: UInt64) {
            var dice = StreamsDice(seed: seed, label: "offset-ranges")
            var ours = OffsetRanges()
            var reference = RangeSet<UInt64>()
            func randomRange(_ dice: inout StreamsDice) -> Range<UInt64> {
                let lower = UInt64(dice.int(in: 0..<400))
                return lower..<(lower + UInt64(dice.int(in: 0..<40)))
            }
            for _ in 0..<4_000 {
                let range = randomRange(&dice)
                switch dice.int(in: 0..<4) {
                case 0:
                    ours.insert(contentsOf: range)
                    reference.insert(contentsOf: range)
                case 1:
                    ours.remove(contentsOf: range)
                    reference.remove(contentsOf: range)
                case 2:
                    var other = OffsetRanges(range)
                    var otherReference = RangeSet(range)
                    let second = randomRange(&dice)
                    other.insert(contentsOf: second)
                    otherReference.insert(contentsOf: second)
                    ours.formUnion(other)
                    reference.formUnion(otherReference)
                default:
                    var other = OffsetRanges(range)
                    var otherReference = RangeSet(range)
                    let second = randomRange(&dice)
                    other.insert(contentsOf: second)
                    otherReference.insert(contentsOf: second)
                    ours.subtract(other)
                    reference.subtract(otherReference)
                }
                #expect(ours.ranges == Array(reference.ranges))
                if ours.ranges != Array(reference.ranges) { return }
            }
        }
    }
}
