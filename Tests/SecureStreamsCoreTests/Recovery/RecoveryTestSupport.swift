#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import SecureStreamsCore

/// Shared helpers for the recovery tests: exact times and seeds.
enum RecoveryTestSupport {
    /// CI's fixed seeds; `SIM_SEED=<n>` replaces them with one seed to replay.
    static let fixedSeeds: [UInt64] = [1, 2, 3, 42, 1_337, 0xDEAD_BEEF, 20_261_122, 987_654_321]

    /// The seeds a randomized test runs with: `SIM_SEED` if set, else ``fixedSeeds``.
    static var seeds: [UInt64] { TestSeeds.seeds(fixedSeeds, filter: "Recovery") }

    /// How to rerun one seed, for failure messages.
    static func replay(_ seed: UInt64, filter: String) -> String {
        TestSeeds.replay(seed, filter: filter)
    }
}

/// The parent suite of every recovery test (`swift test --filter Recovery`).
@Suite enum RecoveryTests {}
