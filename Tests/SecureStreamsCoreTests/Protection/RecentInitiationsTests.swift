import Testing
@testable import SecureStreamsCore

extension ProtectionTests {
    @Suite struct RecentInitiationsTests {
        static func key(_ byte: UInt8) -> Bytes32 { Bytes32([UInt8](repeating: byte, count: 32))! }
        static let t0 = Timestamp(nanoseconds: 5_000_000_000)

        @Test func aKeyIsRememberedForItsLifetimeThenForgotten() {
            var recent = RecentInitiations(capacity: 4, lifetime: .seconds(10))
            recent.insert(Self.key(1), now: Self.t0)
            var seen = recent.contains(Self.key(1), now: Self.t0 + .seconds(9))
            #expect(seen)
            seen = recent.contains(Self.key(2), now: Self.t0 + .seconds(9))
            #expect(!seen)
            seen = recent.contains(Self.key(1), now: Self.t0 + .seconds(10))
            #expect(!seen, "the lifetime is exclusive")
            #expect(recent.count == 0)
        }

        @Test func whenFullTheOldestLeavesFirst() {
            var recent = RecentInitiations(capacity: 3, lifetime: .seconds(60))
            for byte in UInt8(1)...5 { recent.insert(Self.key(byte), now: Self.t0 + .seconds(Int64(byte))) }
            #expect(recent.count == 3)
            let kept = (UInt8(1)...5).map { recent.contains(Self.key($0), now: Self.t0 + .seconds(6)) }
            #expect(kept == [false, false, true, true, true])
        }

        @Test func insertingTwiceKeepsOneEntry() {
            var recent = RecentInitiations(capacity: 2, lifetime: .seconds(60))
            recent.insert(Self.key(1), now: Self.t0)
            recent.insert(Self.key(1), now: Self.t0 + .seconds(1))
            recent.insert(Self.key(2), now: Self.t0 + .seconds(2))
            #expect(recent.count == 2)
            let both = recent.contains(Self.key(1), now: Self.t0 + .seconds(3)) && recent.contains(Self.key(2), now: Self.t0 + .seconds(3))
            #expect(both)
        }
    }
}
