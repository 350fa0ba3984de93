import Foundation
import Testing
@testable import SecureStreamsCore

/// The stream layer's tests: buffers, flow control, state machines, the
/// scheduler and the table. Nested suites live in the other files of this
/// folder (`extension StreamsTests`), so `swift test --filter Stream` runs them.
@Suite struct StreamsTests {
    /// Seeds for randomized tests: `SIM_SEED` when set (to replay a failure),
    /// else a fixed list (STYLE.md §9).
    static let seeds = TestSeeds.seeds([1, 2, 3, 42, 0x5EED, 0xDEAD_BEEF, 0x5712_EA45], filter: "Stream")

    /// `count` bytes that differ at every offset, so a byte in the wrong
    /// place shows (not a repeating 0…255 pattern, which a 256-byte shift would hide).
    static func pattern(_ count: Int, salt: UInt64 = 0) -> [UInt8] {
        (0..<count).map { i in
            let x = (UInt64(i) &+ salt) &* 0x9E37_79B9_7F4A_7C15
            return UInt8(truncatingIfNeeded: x >> 56 ^ x >> 17)
        }
    }
}

/// Random choices for the stream tests, from a ``SeededRandom`` (named so as
/// not to collide with other suites' helpers).
struct StreamsDice {
    var random: SeededRandom

    init(seed: UInt64, label: String) {
        random = SeededRandom(seed: seed).fork(label: label)
    }

    /// A uniform integer in `range`.
    mutating func int(in range: Range<Int>) -> Int {
        Int.random(in: range, using: &random)
    }

    /// A uniform integer in `range`.
    mutating func int(in range: ClosedRange<Int>) -> Int {
        Int.random(in: range, using: &random)
    }

    /// `true` with probability `1 / n`.
    mutating func oneIn(_ n: Int) -> Bool {
        Int.random(in: 0..<n, using: &random) == 0
    }

    mutating func shuffle<T>(_ array: inout [T]) {
        array.shuffle(using: &random)
    }
}
