import Testing
@testable import SecureStreamsCore

extension ProtectionTests {
    @Suite struct PacketNumberReconstructionTests {
        private func reconstruct(_ truncated: UInt32, after largest: UInt64?) -> UInt64 {
            reconstructPacketNumber(truncated: truncated, largestAuthenticated: largest.map(PacketNumber.init)).rawValue
        }

        @Test func beforeAnythingWasAuthenticated() {
            #expect(reconstruct(0, after: nil) == 0)
            #expect(reconstruct(5, after: nil) == 5)
            #expect(reconstruct(0x7FFF_FFFF, after: nil) == 0x7FFF_FFFF)
            // Nothing below zero to wrap back to.
            #expect(reconstruct(0xFFFF_FFFF, after: nil) == 0xFFFF_FFFF)
        }

        @Test func acrossTheFirstWrap() {
            #expect(reconstruct(0x0000_0001, after: 0xFFFF_FFFE) == 0x1_0000_0001)
            #expect(reconstruct(0x0000_0000, after: 0xFFFF_FFFE) == 0x1_0000_0000)
            #expect(reconstruct(0xFFFF_FFFF, after: 0xFFFF_FFFE) == 0xFFFF_FFFF)
            #expect(reconstruct(0xFFFF_FFF0, after: 0xFFFF_FFFE) == 0xFFFF_FFF0)
            // Reordered from before the wrap, after the receiver has passed it.
            #expect(reconstruct(0xFFFF_FFFF, after: 0x1_0000_0002) == 0xFFFF_FFFF)
            #expect(reconstruct(0x0000_0003, after: 0x1_0000_0002) == 0x1_0000_0003)
        }

        @Test func halfWindowBoundaryPair() {
            // Expected E = L + 1. Candidates from E − 2^31 + 1 to E + 2^31 come back exactly.
            let largest: UInt64 = 0x5_1234_5678
            let expected = largest + 1
            let half: UInt64 = 1 << 31
            let lowest = expected - half + 1
            let highest = expected + half
            #expect(reconstruct(UInt32(truncatingIfNeeded: lowest), after: largest) == lowest)
            #expect(reconstruct(UInt32(truncatingIfNeeded: highest), after: largest) == highest)
            // One below the lowest has the same truncation as one above the
            // highest and is read as that.
            #expect(reconstruct(UInt32(truncatingIfNeeded: lowest - 1), after: largest) == highest)
        }

        @Test(arguments: ProtectionTests.seeds)
        func roundTripsWithinHalfAWindow(seed: UInt64) {
            var random = SeededRandom(seed: seed).fork(label: "packet-number")
            for step in 0..<10_000 {
                // Largest anywhere, biased towards 2^32 boundaries.
                let block = random.next() % (1 << 20)
                let largest = (block << 32) &+ (random.next() % 3 == 0 ? (random.next() % 16) &- 8 : random.next() % (1 << 32))
                guard largest < PacketNumber.max.rawValue - (1 << 32) else { continue }
                let offset = Int64(bitPattern: random.next() % (1 << 32)) - (1 << 31) + 1  // −2^31+1 … 2^31
                guard offset >= 0 || UInt64(-offset) <= largest + 1 else { continue }
                let pn = UInt64(Int64(bitPattern: largest + 1) + offset)
                let got = reconstruct(PacketNumberTruncation.truncate(PacketNumber(pn)), after: largest)
                if got != pn {
                    Issue.record("SIM_SEED=\(seed): step \(step), largest \(largest), pn \(pn), got \(got)")
                    return
                }
            }
        }

        @Test func topOfTheSpace() {
            let max = PacketNumber.max.rawValue
            #expect(reconstruct(UInt32(truncatingIfNeeded: max), after: max - 1) == max)
            #expect(reconstruct(UInt32(truncatingIfNeeded: max - 10), after: max - 1) == max - 10)
            // Nothing comes after the last number: a truncation naming "max + 1"
            // reconstructs beyond the space, and open() refuses it before the AEAD.
            #expect(reconstruct(UInt32(truncatingIfNeeded: max &+ 1), after: max) > max)
        }

        @Test func truncationKeepsTheLow32Bits() {
            #expect(PacketNumberTruncation.truncate(PacketNumber(0x1234_5678_9ABC)) == 0x5678_9ABC)
            #expect(PacketNumberTruncation.truncate(PacketNumber(7)) == 7)
        }
    }
}
