#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CMallocCounter

/// A measured operation: `run(n)` performs it `n` times and returns a
/// checksum of what it produced, which the harness folds into a value it
/// prints at the end, so the optimiser cannot drop the work.
struct Kernel {
    let name: String
    let run: (Int) -> UInt64
}

/// How long and how often to measure.
struct Settings {
    /// Rounds per comparison; every reported figure is a median over rounds.
    var rounds: Int
    /// Time each kernel gets per round (split in two halves, see ``Harness/compare(_:)``).
    var batchNanoseconds: UInt64
    /// Time each kernel runs before measuring, which also calibrates its batch size.
    var warmupNanoseconds: UInt64

    /// The clock batches are timed with. Thread CPU time by default: on a
    /// shared machine wall time mostly measures who else holds the core.
    var clock: BatchClock = .thread

    static let full = Settings(rounds: 15, batchNanoseconds: 40_000_000, warmupNanoseconds: 200_000_000)
    static let quick = Settings(rounds: 3, batchNanoseconds: 5_000_000, warmupNanoseconds: 20_000_000)
}

/// What a batch's duration means.
enum BatchClock: String {
    /// Wall time (`CLOCK_MONOTONIC`), including any time other processes hold the core.
    case monotonic
    /// CPU time of this thread (`CLOCK_THREAD_CPUTIME_ID`): leaves out the
    /// time other processes hold the core, which is most of the noise on a
    /// shared machine (cache and frequency effects remain).
    case thread

    @inline(__always)
    func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(self == .monotonic ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }
}

/// Monotonic wall-clock nanoseconds, for warm-up deadlines and the run's total time.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}

/// Runs groups of kernels in interleaved rounds.
///
/// Other processes share the CPU, so absolute times drift by tens of per cent
/// within a run. The harness therefore never compares a kernel with a figure
/// from another moment: in every round each kernel of a group runs back to
/// back with the others, and ratios are computed within the round before
/// taking the median over rounds.
struct Harness {
    let settings: Settings
    /// Folded from every kernel's checksum; printed so no work is dead.
    private(set) var sink: UInt64 = 0

    init(settings: Settings) {
        self.settings = settings
    }

    /// Per-round nanoseconds per operation, one array per kernel (same order).
    ///
    /// Each kernel is warmed up and given a batch size that lasts about
    /// `batchNanoseconds`. A round runs every kernel twice with half a batch,
    /// in the order A B … B A (ABBA), so a linear drift in machine speed
    /// during the round hits every kernel equally; odd rounds start from the
    /// other end (B A … A B), so no kernel always goes first.
    mutating func compare(_ kernels: [Kernel]) -> [[Double]] {
        let halves = kernels.map { max(1, calibratedIterations($0) / 2) }
        var perOp = Array(repeating: [Double](), count: kernels.count)
        for round in 0..<settings.rounds {
            var order = Array(kernels.indices)
            if round % 2 == 1 { order.reverse() }
            var elapsed = [UInt64](repeating: 0, count: kernels.count)
            for index in order + order.reversed() {
                elapsed[index] += time(kernels[index], iterations: halves[index])
            }
            for index in kernels.indices {
                perOp[index].append(Double(elapsed[index]) / Double(2 * halves[index]))
            }
        }
        return perOp
    }

    /// Allocations per operation over `iterations` runs of a warmed-up kernel;
    /// `nil` when the process has no working allocation counter.
    mutating func allocationsPerOperation(_ kernel: Kernel, iterations: Int) -> Double? {
        guard MallocCounter.isActive else { return nil }
        ss_malloc_counting(1)
        let before = ss_malloc_count()
        sink &+= kernel.run(iterations)
        let after = ss_malloc_count()
        ss_malloc_counting(0)
        return Double(after - before) / Double(iterations)
    }

    private mutating func time(_ kernel: Kernel, iterations: Int) -> UInt64 {
        let start = settings.clock.nanoseconds()
        let checksum = kernel.run(iterations)
        let end = settings.clock.nanoseconds()
        sink &+= checksum
        return end - start
    }

    /// Warms the kernel up for `warmupNanoseconds` and returns the iteration
    /// count that lasts about `batchNanoseconds` at the speed seen last.
    private mutating func calibratedIterations(_ kernel: Kernel) -> Int {
        let start = monotonicNanoseconds()
        var iterations = 1
        var elapsed = time(kernel, iterations: iterations)
        // Grow until one batch is long enough for the clock to measure well.
        while elapsed < 1_000_000 {
            iterations *= 2
            elapsed = time(kernel, iterations: iterations)
        }
        while monotonicNanoseconds() - start < settings.warmupNanoseconds {
            elapsed = time(kernel, iterations: iterations)
        }
        let perOp = Double(elapsed) / Double(iterations)
        return max(2, Int(Double(settings.batchNanoseconds) / perOp))
    }
}

/// The process-wide allocation counter of the CMallocCounter target.
enum MallocCounter {
    /// True when the counting wrappers are linked in and really see the
    /// Swift runtime's allocations (checked once with a heap allocation the
    /// optimiser cannot move to the stack).
    static let isActive: Bool = {
        guard ss_malloc_counter_is_active() == 1 else { return false }
        ss_malloc_counting(1)
        let before = ss_malloc_count()
        let probe = UnsafeMutableRawPointer.allocate(byteCount: 48, alignment: 8)
        let after = ss_malloc_count()
        ss_malloc_counting(0)
        probe.deallocate()
        return after > before
    }()
}

/// Order statistics of per-round figures.
struct Summary {
    let median: Double
    let lowerQuartile: Double
    let upperQuartile: Double

    init(_ values: [Double]) {
        precondition(!values.isEmpty, "no rounds to summarise")
        let sorted = values.sorted()
        median = Self.quantile(sorted, 0.5)
        lowerQuartile = Self.quantile(sorted, 0.25)
        upperQuartile = Self.quantile(sorted, 0.75)
    }

    /// Linear interpolation between closest ranks.
    private static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let lower = Int(position)
        let upper = min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }
}
