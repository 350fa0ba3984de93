import Testing
@testable import SecureStreamsCore

extension ProtectionTests {
    @Suite struct ReplayWindowTests {
        typealias Verdict = ReplayWindow.Verdict
        static let size = ReplayWindow.size

        /// What a window of `size` must say of `n`, from the numbers committed
        /// so far (`seen`) and the largest of them: the reference both
        /// randomized tests check against.
        static func modelVerdict(of n: UInt64, largest: UInt64?, seen: Set<UInt64>) -> Verdict {
            guard let largest, n <= largest else { return .fresh }
            if largest - n >= size { return .tooOld }
            return seen.contains(n) ? .duplicate : .fresh
        }

        private func window(committing numbers: [UInt64]) -> ReplayWindow {
            var window = ReplayWindow()
            for n in numbers {
                #expect(window.check(PacketNumber(n)) == .fresh, "setup: \(n)")
                window.commit(PacketNumber(n))
            }
            return window
        }

        @Test func sizeMeetsTheProtocolMinimum() {
            #expect(ReplayWindow.size == 4096)
            #expect(ReplayWindow.size >= 2048)
        }

        @Test func freshThenDuplicate() {
            var window = ReplayWindow()
            #expect(window.largest == nil)
            #expect(window.check(PacketNumber(0)) == .fresh)
            window.commit(PacketNumber(0))
            #expect(window.check(PacketNumber(0)) == .duplicate)
            #expect(window.check(PacketNumber(1)) == .fresh)
            #expect(window.largest == PacketNumber(0))
        }

        @Test func outOfOrderInsideTheWindowIsFreshOnce() {
            var window = window(committing: [10, 7, 12])
            #expect(window.largest == PacketNumber(12))
            for n: UInt64 in [8, 9, 11] { #expect(window.check(PacketNumber(n)) == .fresh) }
            for n: UInt64 in [7, 10, 12] { #expect(window.check(PacketNumber(n)) == .duplicate) }
            window.commit(PacketNumber(9))
            #expect(window.check(PacketNumber(9)) == .duplicate)
            #expect(window.largest == PacketNumber(12))
        }

        @Test func exactBoundaryPair() {
            // size − 1 behind the largest is still in the window; size behind is not.
            let largest: UInt64 = 10_000
            var window = window(committing: [largest])
            #expect(window.check(PacketNumber(largest - (Self.size - 1))) == .fresh)
            #expect(window.check(PacketNumber(largest - Self.size)) == .tooOld)
            window.commit(PacketNumber(largest - (Self.size - 1)))
            #expect(window.check(PacketNumber(largest - (Self.size - 1))) == .duplicate)
            // One more step ahead pushes that number out.
            window.commit(PacketNumber(largest + 1))
            #expect(window.check(PacketNumber(largest - (Self.size - 1))) == .tooOld)
            #expect(window.check(PacketNumber(largest - (Self.size - 2))) == .fresh)
        }

        @Test func tooOldFromTheStart() {
            let window = window(committing: [0, Self.size])
            #expect(window.check(PacketNumber(0)) == .tooOld)
            #expect(window.check(PacketNumber(1)) == .fresh)
            #expect(window.check(PacketNumber(Self.size)) == .duplicate)
        }

        @Test func sameBitOneWindowApartIsNotMistakenForADuplicate() {
            // n and n + size share a bit: committing the later must not make
            // the bit say anything about numbers between.
            var window = window(committing: [10])
            window.commit(PacketNumber(10 + Self.size - 1))
            #expect(window.check(PacketNumber(10)) == .duplicate)
            window.commit(PacketNumber(10 + Self.size))
            #expect(window.check(PacketNumber(10)) == .tooOld)
            #expect(window.check(PacketNumber(10 + Self.size)) == .duplicate)
            for n in (11 as UInt64)..<(10 + Self.size - 1) where n % 97 == 0 {
                #expect(window.check(PacketNumber(n)) == .fresh, "\(n)")
            }
        }

        @Test(arguments: [1, 63, 64, 65, 100, 4095, 4096, 4097, 10_000, 1 << 40] as [UInt64])
        func jumpAheadClearsExactlyWhatLeftTheWindow(jump: UInt64) {
            // Fill a whole window, then jump: numbers still inside keep their
            // marks, numbers that left become tooOld, new numbers are fresh.
            let start: UInt64 = 5_000
            var window = window(committing: Array(start..<(start + Self.size)))
            let oldLargest = start + Self.size - 1
            let newLargest = oldLargest + jump
            window.commit(PacketNumber(newLargest))
            #expect(window.largest == PacketNumber(newLargest))
            let low = newLargest - (Self.size - 1)
            for n in stride(from: low, through: newLargest, by: 37) {
                let expected: Verdict = n <= oldLargest || n == newLargest ? .duplicate : .fresh
                #expect(window.check(PacketNumber(n)) == expected, "jump \(jump), n \(n)")
            }
            if low > 0 { #expect(window.check(PacketNumber(low - 1)) == .tooOld) }
            #expect(window.check(PacketNumber(newLargest - 1)) == (jump == 1 ? .duplicate : .fresh))
            #expect(window.check(PacketNumber(newLargest + 1)) == .fresh)
        }

        @Test func farJumpResetsTheWindow() {
            var window = window(committing: Array(0..<100))
            window.commit(PacketNumber(1_000_000_000))
            #expect(window.check(PacketNumber(99)) == .tooOld)
            for n: UInt64 in [1_000_000_000 - 4095, 999_999_999, 999_999_000] {
                #expect(window.check(PacketNumber(n)) == .fresh)
            }
        }

        @Test func checkWithoutCommitChangesNothing() {
            // A forged packet is checked, fails authentication and is never
            // committed: the window must not move.
            var window = window(committing: [100])
            for n: UInt64 in [101, 1 << 50, 50] {
                #expect(window.check(PacketNumber(n)) == .fresh)
            }
            #expect(window.largest == PacketNumber(100))
            #expect(window.check(PacketNumber(101)) == .fresh)
            #expect(window.check(PacketNumber(50)) == .fresh)
            window.commit(PacketNumber(50))
            #expect(window.check(PacketNumber(50)) == .duplicate)
        }

        @Test func topOfThePacketNumberSpace() {
            let max = PacketNumber.max.rawValue
            var window = window(committing: [max - 5_000, max - 1])
            #expect(window.check(PacketNumber(max)) == .fresh)
            window.commit(PacketNumber(max))
            #expect(window.check(PacketNumber(max)) == .duplicate)
            #expect(window.check(PacketNumber(max - 1)) == .duplicate)
            #expect(window.check(PacketNumber(max - 4095)) == .fresh)
            #expect(window.check(PacketNumber(max - 4096)) == .tooOld)
        }

        /// An in-order run keeps no bitmap; the first gap allocates it with
        /// the same verdicts, and a window full again frees it.
        @Test func aRunWithoutGapsKeepsNoBitmap() {
            let short = window(committing: [100, 101, 102])
            #expect(!short.hasBitmap)
            #expect(short.check(PacketNumber(99)) == .fresh)
            #expect(short.check(PacketNumber(101)) == .duplicate)
            var window = window(committing: Array(100..<5_000))
            #expect(!window.hasBitmap)
            #expect(window.check(PacketNumber(4_999 - Self.size)) == .tooOld)
            #expect(window.check(PacketNumber(4_999 - Self.size + 1)) == .duplicate)
            #expect(window.check(PacketNumber(4_999)) == .duplicate)
            window.commit(PacketNumber(5_001))  // 5,000 is lost
            #expect(window.hasBitmap)
            #expect(window.check(PacketNumber(5_000)) == .fresh)
            #expect(window.check(PacketNumber(4_998)) == .duplicate)
            #expect(window.check(PacketNumber(5_001 - Self.size + 1)) == .duplicate)
            #expect(window.check(PacketNumber(5_001 - Self.size)) == .tooOld)
            var n: UInt64 = 5_002
            while n < 5_000 + Self.size { window.commit(PacketNumber(n)); n += 1 }
            #expect(window.hasBitmap, "5,000 is still inside the window")
            while n < 5_000 + Self.size + 64 { window.commit(PacketNumber(n)); n += 1 }
            #expect(!window.hasBitmap, "the gap left the window")
            #expect(window.check(PacketNumber(n - 1)) == .duplicate)
            #expect(window.check(PacketNumber(n)) == .fresh)
            #expect(window.check(PacketNumber(n - Self.size)) == .duplicate)
            #expect(window.check(PacketNumber(n - 1 - Self.size)) == .tooOld)
        }

        /// Mostly in-order runs with now and then a lost or late number, so
        /// the window switches between its run and its bitmap, against a
        /// `Set` model.
        @Test(arguments: ProtectionTests.seeds)
        func runsAndGapsMatchAReferenceModel(seed: UInt64) {
            var random = SeededRandom(seed: seed).fork(label: "replay-window-runs")
            var window = ReplayWindow()
            var seen = Set<UInt64>()
            var largest: UInt64?
            var switches = 0
            var hadBitmap = false
            for step in 0..<100_000 {
                let base = largest.map { $0 + 1 } ?? 1_000
                let n: UInt64
                switch random.next() % 10_000 {
                case 0: n = base + 1 + random.next() % 3  // a loss
                case 1: n = base - 1 - min(base - 1, random.next() % 8)  // late, or a replay
                case 2: n = base - 1 - min(base - 1, random.next() % (2 * Self.size))
                default: n = base
                }
                let expected = Self.modelVerdict(of: n, largest: largest, seen: seen)
                let verdict = window.check(PacketNumber(n))
                guard verdict == expected else {
                    Issue.record("\(TestSeeds.replay(seed, filter: "ReplayWindow")): step \(step), n \(n): got \(verdict), model says \(expected)")
                    return
                }
                if verdict == .fresh {
                    window.commit(PacketNumber(n))
                    seen.insert(n)
                    largest = Swift.max(largest ?? n, n)
                }
                if window.hasBitmap != hadBitmap { switches += 1; hadBitmap = window.hasBitmap }
            }
            #expect(switches >= 4, "\(TestSeeds.replay(seed, filter: "ReplayWindow")): the run tests no switch")
        }

        /// A seeded op sequence against a `Set` model (STYLE.md §9). Numbers
        /// move forward in steps, jumps, and reach back inside, at and beyond
        /// the window's edge; some checked numbers are "forged" and not committed.
        @Test(arguments: ProtectionTests.seeds)
        func matchesAReferenceModel(seed: UInt64) {
            var random = SeededRandom(seed: seed).fork(label: "replay-window")
            var window = ReplayWindow()
            var seen = Set<UInt64>()
            var largest: UInt64?
            for step in 0..<20_000 {
                let base = largest ?? 0
                let n: UInt64
                switch random.next() % 10 {
                case 0, 1, 2: n = base + 1 + random.next() % 3
                case 3: n = base + random.next() % 10_000
                case 4: n = base + (1 << 20) + random.next() % 100
                case 5, 6: n = base - min(base, random.next() % Self.size)
                case 7: n = base - min(base, Self.size - 2 + random.next() % 4)
                case 8: n = seen.isEmpty ? base : base - min(base, random.next() % 64)
                default: n = base - min(base, random.next() % 3 * Self.size)
                }
                let expected = Self.modelVerdict(of: n, largest: largest, seen: seen)
                let verdict = window.check(PacketNumber(n))
                guard verdict == expected else {
                    Issue.record("SIM_SEED=\(seed): step \(step), n \(n), largest \(largest.map(String.init) ?? "nil"): got \(verdict), model says \(expected). Replay: SIM_SEED=\(seed) swift test --filter Protection")
                    return
                }
                // One in five fresh numbers is a forgery: checked, never committed.
                if verdict == .fresh, random.next() % 5 != 0 {
                    window.commit(PacketNumber(n))
                    seen.insert(n)
                    largest = Swift.max(largest ?? n, n)
                }
                #expect(window.largest.map(\.rawValue) == largest)
            }
        }
    }
}
