// The one source of seeds for the randomized tests of every test target
// (SecureStreamsCoreTests and DriverTests re-export this module).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where every randomized test gets its seeds: a fixed list
/// so CI is deterministic, or the one seed in the `SIM_SEED` environment
/// variable to replay a failure. The list is printed when it is made, and
/// ``replay(_:filter:)`` words the failure message.
public enum TestSeeds {
    /// `SIM_SEED` as a number, when it is set.
    public static let replayed: UInt64? = {
        guard let raw = getenv("SIM_SEED") else { return nil }
        return UInt64(String(cString: raw))
    }()

    /// The seeds a randomized test runs with: `SIM_SEED` if set, else
    /// `fixed`. Prints them with the command that replays one.
    public static func seeds(_ fixed: [UInt64], filter: String) -> [UInt64] {
        let seeds = replayed.map { [$0] } ?? fixed
        print("[seeds] \(filter): \(seeds.map(String.init).joined(separator: ", "))"
              + " (replay one: SIM_SEED=<seed> swift test --filter \(filter))")
        return seeds
    }

    /// The seed of a test that runs one: `SIM_SEED` if set, else `fixed`, printed.
    public static func seed(_ fixed: UInt64, filter: String) -> UInt64 { seeds([fixed], filter: filter)[0] }

    /// What a failure message says about its seed.
    public static func replay(_ seed: UInt64, filter: String) -> String {
        "SIM_SEED=\(seed) (replay: SIM_SEED=\(seed) swift test --filter \(filter))"
    }
}
