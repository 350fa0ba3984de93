// What every driver test shares: seeds, and waiting on a condition instead of sleeping.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import SecureStreams
import SecureStreamsCore
// The shared seeds (`TestSeeds`), re-exported so every file here sees them.
@_exported import TestSupport

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
