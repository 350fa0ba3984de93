// What every driver test shares: seeds, and waiting on a condition instead of sleeping.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import SecureStreams
import SecureStreamsCore

/// Where every randomized test of this target gets its seeds: a fixed list
/// so CI is deterministic, or the one seed in the `SIM_SEED` environment
/// variable to replay a failure. The list is printed when it is made, and
/// ``replay(_:filter:)`` words the failure message.
///
/// Each test target has its own copy of this file's `TestSeeds` (targets
/// share no sources); keep them alike.
enum TestSeeds {
    /// `SIM_SEED` as a number, when it is set.
    static let replayed: UInt64? = {
        guard let raw = getenv("SIM_SEED") else { return nil }
        return UInt64(String(cString: raw))
    }()

    /// The seeds a randomized test runs with: `SIM_SEED` if set, else
    /// `fixed`. Prints them with the command that replays one.
    static func seeds(_ fixed: [UInt64], filter: String) -> [UInt64] {
        let seeds = replayed.map { [$0] } ?? fixed
        print("[seeds] \(filter): \(seeds.map(String.init).joined(separator: ", "))"
              + " (replay one: SIM_SEED=<seed> swift test --filter \(filter))")
        return seeds
    }

    /// The seed of a test that runs one: `SIM_SEED` if set, else `fixed`, printed.
    static func seed(_ fixed: UInt64, filter: String) -> UInt64 { seeds([fixed], filter: filter)[0] }

    /// What a failure message says about its seed.
    static func replay(_ seed: UInt64, filter: String) -> String {
        "SIM_SEED=\(seed) (replay: SIM_SEED=\(seed) swift test --filter \(filter))"
    }
}

/// Polls `condition` until it holds, yielding between polls (or pausing,
/// for a condition another thread makes true in its own time, such as a
/// thread ending); `false` after `maxPolls` polls. A bound on waiting,
/// never a timing assertion and never the thing that orders two events:
/// each poll of a host's state is a round trip to its loop thread.
func eventually(maxPolls: Int = 100_000, pause: Duration? = nil,
                _ condition: () async throws -> Bool) async rethrows -> Bool {
    for _ in 0..<maxPolls {
        if try await condition() { return true }
        if let pause { try? await Task.sleep(for: pause) } else { await Task.yield() }
    }
    return false
}

extension SecureStreams.Stream {
    /// How many reads wait on this stream in its host (0 once the stream is gone).
    var waitingReaders: Int {
        get async throws {
            let (handle, id) = (connection.handle, self.id)
            return try await runtime.call { _, core, done in
                done.resume(returning: core.connections[handle]?.streams[id]?.readers.count ?? 0)
            }
        }
    }
}
