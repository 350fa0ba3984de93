// SecureStreams benchmarks: the crypto layer and the Noise handshake against
// raw libsodium, and the sans-IO core end to end against the AEAD work it
// cannot avoid, measured in the same run, reported as ratios.
// See README.md for what is measured and why the harness is built this way.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSodiumBaseline
import SecureStreamsCore

let usage = """
usage: SecureStreamsBenchmarks [--rounds N] [--quick] [--json] [--check]
                               [--only aead|handshake|core|core-transfer|core-idle]
                               [--clock monotonic|thread] [--scale [--connections N]]

  --rounds N   interleaved rounds per comparison (default 15; --quick: 3)
  --quick      a few short rounds: a smoke test for CI, not a measurement
  --json       print the results as JSON instead of the table
  --check      exit 1 if an AEAD seal+open allocates (deterministic, unlike the ratios)
  --only X     run one group only: aead, handshake, or core (core-transfer and
               core-idle: one half of the core group, for profiling)
  --clock C    time batches by this thread's CPU time (thread, the default: other
               processes holding the core do not count) or by wall time (monotonic)
  --scale      only the scale group: one bulk connection beside 0, 1,000 and N idle
               connections, heap per idle connection, Version Negotiation cost
               (N = --connections, default 100,000; takes minutes)
"""

var settings = Settings.full
var outputJSON = false
var isQuick = false
var check = false
var arguments = CommandLine.arguments.dropFirst()
var roundsOverride: Int?
var clockOverride: BatchClock?
var runAEAD = true
var runHandshake = true
var runCoreTransfer = true
var runCoreIdle = true
var runScale = false
var scaleConnections = 100_000
while let argument = arguments.popFirst() {
    switch argument {
    case "--quick":
        settings = .quick
        isQuick = true
    case "--json":
        outputJSON = true
    case "--check":
        check = true
    case "--rounds":
        guard let value = arguments.popFirst().flatMap({ Int($0) }), value >= 1 else {
            printError("error: --rounds needs a positive integer\n\(usage)")
            exit(2)
        }
        roundsOverride = value
    case "--only":
        let only = arguments.popFirst()
        guard let only, ["aead", "handshake", "core", "core-transfer", "core-idle"].contains(only) else {
            printError("error: --only takes 'aead', 'handshake', 'core', 'core-transfer' or 'core-idle'\n\(usage)")
            exit(2)
        }
        runAEAD = only == "aead"
        runHandshake = only == "handshake"
        runCoreTransfer = only == "core" || only == "core-transfer"
        runCoreIdle = only == "core" || only == "core-idle"
    case "--clock":
        guard let clock = arguments.popFirst().flatMap({ BatchClock(rawValue: $0) }) else {
            printError("error: --clock takes 'monotonic' or 'thread'\n\(usage)")
            exit(2)
        }
        clockOverride = clock
    case "--scale":
        runScale = true
    case "--connections":
        guard let value = arguments.popFirst().flatMap({ Int($0) }), value > 1_000 else {
            printError("error: --connections needs an integer above 1,000\n\(usage)")
            exit(2)
        }
        scaleConnections = value
    case "-h", "--help":
        print(usage)
        exit(0)
    default:
        printError("error: unknown argument '\(argument)'\n\(usage)")
        exit(2)
    }
}
if let roundsOverride { settings.rounds = roundsOverride }
if let clockOverride { settings.clock = clockOverride }

/// Writes a line to standard error (progress and errors; stdout carries only the report).
func printError(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}

let started = monotonicNanoseconds()
guard sodium_init() >= 0 else {
    printError("error: sodium_init() failed")
    exit(1)
}
var harness = Harness(settings: settings)

if runScale {
    let scaleSettings = ScaleBenchmark.Settings(
        connections: scaleConnections, bytesPerRound: isQuick ? 2 << 20 : 16 << 20,
        rounds: roundsOverride ?? (isQuick ? 3 : 7), clock: settings.clock, negotiations: isQuick ? 10_000 : 200_000)
    let result = ScaleBenchmark.run(scaleSettings)
    print(ScaleBenchmark.table(result, settings: scaleSettings))
    printError("done in \(fixed(Double(monotonicNanoseconds() - started) / 1e9, 1)) s")
    exit(0)
}

// MARK: AEAD

let aesGCMAvailable = AEADBenchmark.aesGCMAvailable
var aeadResults: [AEADResult] = []
for algorithm in AEADAlgorithm.allCases where runAEAD && (algorithm != .aesGCM || aesGCMAvailable) {
    for size in [1350, 64] {
        let c = AEADBenchmark.Case(algorithm: algorithm, size: size)
        guard AEADBenchmark.agree(c) else {
            printError("error: AEADKey and libsodium disagree on \(algorithm) \(size) B")
            exit(1)
        }
        printError("AEAD \(algorithm) \(size) B ...")
        let wrapper = AEADBenchmark.wrapper(c)
        let baseline = AEADBenchmark.baseline(c)
        let times = harness.compare([wrapper, baseline])
        let ratios = zip(times[0], times[1]).map { wrapperTime, baselineTime in baselineTime / wrapperTime }
        aeadResults.append(AEADResult(
            algorithm: algorithm.rawValue, size: size,
            wrapper: Summary(times[0]), baseline: Summary(times[1]), ratio: Summary(ratios),
            allocationsPerOperation: harness.allocationsPerOperation(wrapper, iterations: 10_000)))
    }
}

// MARK: Noise handshake

/// Measures handshake pairs against raw X25519 in interleaved rounds.
func measureHandshakes(_ harness: inout Harness) -> HandshakeResult {
    printError("Noise IK handshakes ...")
    let parties = HandshakeBenchmark.parties()
    do {
        var random = SeededRandom(seed: 1)
        let outcome = try HandshakeBenchmark.handshakePair(parties, random: &random)
        guard outcome.isConsistent else {
            printError("error: the two ends of a handshake disagree on keys or hash")
            exit(1)
        }
    } catch {
        printError("error: handshake failed: \(error)")
        exit(1)
    }
    let handshakes = HandshakeBenchmark.handshakes(parties)
    let times = harness.compare([
        handshakes,
        HandshakeBenchmark.scalarMultiplication(parties),
        HandshakeBenchmark.baseMultiplication(parties),
    ])
    // Within each round: the X25519 time a pair cannot avoid over the pair's time.
    let ratios = times[0].indices.map { round in
        let bound = Double(HandshakeBenchmark.baseMultiplicationsPerPair) * times[2][round]
            + Double(HandshakeBenchmark.scalarMultiplicationsPerPair) * times[1][round]
        return bound / times[0][round]
    }
    return HandshakeResult(
        protocolName: HandshakeBenchmark.protocolName,
        randomSource: "SeededRandom",
        pair: Summary(times[0]),
        scalarMultiplication: Summary(times[1]),
        baseMultiplication: Summary(times[2]),
        ratio: Summary(ratios),
        allocationsPerPair: harness.allocationsPerOperation(handshakes, iterations: 100))
}

let handshakeResult = runHandshake ? measureHandshakes(&harness) : nil

// MARK: Core

var coreSink: UInt64 = 0
let coreTransferResult: CoreTransferResult? = runCoreTransfer ? {
    let transferSettings = CoreBenchmark.TransferSettings(
        bytesPerRound: isQuick ? 8 << 20 : 64 << 20, rounds: settings.rounds, clock: settings.clock)
    printError("core: bulk transfer, \(transferSettings.bytesPerRound >> 20) MB per round ...")
    return CoreBenchmark.measureTransfer(transferSettings, sink: &coreSink)
}() : nil
let coreIdleResult: CoreIdleResult? = runCoreIdle ? {
    printError("core: 1,000 idle connections ...")
    return CoreBenchmark.measureIdle(connections: 1_000)
}() : nil

// MARK: Report

let report = Report(
    settings: settings,
    libsodiumVersion: String(cString: sodium_version_string()),
    aesGCMAvailable: aesGCMAvailable,
    aead: aeadResults,
    handshake: handshakeResult,
    coreTransfer: coreTransferResult,
    coreIdle: coreIdleResult,
    checksum: harness.sink &+ coreSink,
    seconds: Double(monotonicNanoseconds() - started) / 1e9)
print(outputJSON ? report.json : report.table)

if check {
    let allocating = aeadResults.filter { ($0.allocationsPerOperation ?? 0) > 0 }
    for result in allocating {
        printError("check failed: AEAD \(result.algorithm) \(result.size) B seal+open allocates "
            + "\(fixed(result.allocationsPerOperation!, 2)) times per operation")
    }
    if aeadResults.contains(where: { $0.allocationsPerOperation == nil }) {
        printError("check: no allocation counter on this platform; allocations not checked")
    }
    if !allocating.isEmpty { exit(1) }
}
