import ArgumentParser
import Foundation
import SecureStreamsSimulator

/// `sss sim run SCENARIO.json...`: runs scenarios in the deterministic simulator.
struct Sim: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run deterministic network simulations (docs/SIMULATOR.md).",
        subcommands: [Run.self]
    )

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run scenario files over one seed or a sweep of seeds.",
            discussion: """
                Each (scenario, seed) runs in a child process (this binary, re-invoked with --child), \
                so a trap is reported as a crash instead of ending the sweep. Every run prints \
                SEED=<n> before anything else. Without --seed or --seeds each file runs with its own \
                "seed". A sweep prints a table, then every failing seed with its replay command. \
                Exit code: the worst outcome's (4 correctness > 3 liveness > 2 crash > 1 scenario \
                error > 0 success).
                """
        )

        @Argument(help: "Scenario files (JSON).")
        var files: [String]

        @Option(help: "Run this seed.")
        var seed: UInt64?

        @Option(help: "Run every seed in A..B (inclusive), e.g. 1..20.")
        var seeds: SeedRange?

        @Flag(help: "Print one JSON object per run (SEED= lines go to standard error).")
        var json = false

        @Option(help: "Write the datagrams delivered over --pcap-link (default: every link) to this pcap file (one run only).")
        var pcap: String?

        @Option(name: .customLong("pcap-link"), help: "The link to capture: FROM->TO, or A<->B for both directions.")
        var pcapLink: String?

        @Option(help: ArgumentHelp("Draw goodput, congestion window, bytes in flight, smoothed RTT and losses of one client's connection over virtual time as an SVG file.",
                                   discussion: "With several runs, one file per run: FILE-seedN.svg (one scenario) or FILE-SCENARIO-seedN.svg."))
        var plot: String?

        @Option(name: .customLong("plot-client"), help: "The client host whose connection --plot draws (default: the scenario's first client).")
        var plotClient: String?

        @Option(name: .customLong("plot-interval"), parsing: .unconditional, help: "Sampling interval for --plot, in milliseconds of virtual time.")
        var plotInterval: Double = 10

        @Flag(help: "Run every seed twice, in two processes, and fail (correctness) when the trace hashes differ.")
        var checkDeterminism = false

        @Option(parsing: .unconditional, help: "Wall-clock seconds a run may take before it is killed and reported as a liveness failure.")
        var timeout: Double = 600

        @Flag(help: "Run in this process instead of a child (a trap then ends the sweep).")
        var inProcess = false

        @Flag(help: .hidden)
        var child = false

        @Flag(help: .hidden)
        var trapForTesting = false

        func validate() throws {
            if seed != nil, seeds != nil { throw ValidationError("give --seed or --seeds, not both") }
            if pcap != nil {
                let runs = files.count * (seeds.map { Int($0.upper - $0.lower) + 1 } ?? 1)
                if runs != 1 { throw ValidationError("--pcap captures one run: give one file and one seed") }
            }
            if pcapLink != nil, pcap == nil { throw ValidationError("--pcap-link needs --pcap") }
            if plotClient != nil, plot == nil { throw ValidationError("--plot-client needs --plot") }
            if !(plotInterval > 0 && plotInterval <= 60_000) { throw ValidationError("--plot-interval must be in (0, 60000] ms") }
            if !(timeout > 0 && timeout <= 86_400) { throw ValidationError("--timeout must be in (0, 86400] seconds") }
            if let pcap, let problem = unwritable(pcap) { throw ValidationError("--pcap: \(problem)") }
            if let plot, let problem = unwritable(plot) { throw ValidationError("--plot: \(problem)") }
            if child, files.count != 1 || seed == nil { throw ValidationError("--child runs one file with --seed") }
        }

        func run() throws {
            if child {
                let record = runHere(file: files[0], seed: seed!, pcap: pcap, plot: plot)
                print(record.jsonLine)
                throw ExitCode(record.exitCode)
            }
            var records: [RunRecord] = []
            var worst: Int32 = 0
            let sweep = files.count > 1 || seeds.map { $0.upper > $0.lower } == true
            if !json { print(RunRecord.tableHeader) }
            for file in files {
                let scenario: Scenario
                do {
                    scenario = try loadScenario(file)
                } catch {
                    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                    worst = max(worst, 1)
                    continue
                }
                if let pcapLink, let problem = checkLink(pcapLink, in: scenario) {
                    FileHandle.standardError.write(Data("error: \(file): --pcap-link \(pcapLink): \(problem)\n".utf8))
                    worst = max(worst, 1)
                    continue
                }
                if plot != nil, let problem = checkClient(plotClient, in: scenario) {
                    FileHandle.standardError.write(Data("error: \(file): --plot-client: \(problem)\n".utf8))
                    worst = max(worst, 1)
                    continue
                }
                let list = seeds.map { Array($0.lower...$0.upper) } ?? [seed ?? scenario.seed]
                for seed in list {
                    announce(seed)
                    let plotFile = plot.map { plotPath($0, scenario: scenario.name, seed: seed, several: sweep) }
                    var record = inProcess ? runHere(file: file, seed: seed, pcap: pcap, plot: plotFile)
                        : runChild(file: file, seed: seed, pcap: pcap, plot: plotFile)
                    if checkDeterminism {
                        // The second run neither captures nor plots: equal hashes also show that observing changed nothing.
                        let again = runChild(file: file, seed: seed, pcap: nil, plot: nil)
                        if again.outcome != "crash", record.outcome != "crash", again.traceHash != record.traceHash {
                            record.fail("correctness", "not deterministic: trace \(record.traceHash) in one process, \(again.traceHash) in another")
                        }
                    }
                    records.append(record)
                    worst = max(worst, record.exitCode)
                    report(record, detailed: !sweep)
                }
            }
            if !json {
                let failing = records.filter { $0.exitCode != 0 }
                print("\(records.count) run\(records.count == 1 ? "" : "s"): \(records.count - failing.count) succeeded, \(failing.count) failed")
                if sweep, !failing.isEmpty {
                    print("failing seeds:")
                    for record in failing { print("  \(record.outcome) \(record.scenario) SEED=\(record.seed): \(record.replay)") }
                }
            }
            if worst != 0 { throw ExitCode(worst) }
        }

        // MARK: - Running

        private func loadScenario(_ file: String) throws -> Scenario {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw SimError("\(file): cannot read the file")
            }
            do {
                return try ScenarioFile.parse(Array(data))
            } catch {
                throw SimError("\(file): \(error)")
            }
        }

        /// Where the plot of one run goes: `FILE` for a single run; else the
        /// seed (and, with several files, the scenario) before the extension.
        private func plotPath(_ base: String, scenario: String, seed: UInt64, several: Bool) -> String {
            guard several else { return base }
            let url = URL(fileURLWithPath: base)
            let stem = url.pathExtension.isEmpty ? base : String(base.dropLast(url.pathExtension.count + 1))
            let ext = url.pathExtension.isEmpty ? "svg" : url.pathExtension
            return files.count > 1 ? "\(stem)-\(scenario)-seed\(seed).\(ext)" : "\(stem)-seed\(seed).\(ext)"
        }

        private func checkClient(_ name: String?, in scenario: Scenario) -> String? {
            let clients = scenario.hosts.filter { if case .client = $0.role { true } else { false } }.map(\.name)
            guard let name else { return clients.isEmpty ? "the scenario has no client" : nil }
            return clients.contains(name) ? nil : "no client \"\(name)\" (clients: \(clients.joined(separator: ", ")))"
        }

        /// Runs one seed in this process.
        private func runHere(file: String, seed: UInt64, pcap: String?, plot: String?) -> RunRecord {
            let scenario: Scenario
            do {
                scenario = try loadScenario(file)
            } catch {
                return RunRecord(error: "\(error)", file: file, seed: seed)
            }
            if trapForTesting { fatalError("trap requested with --trap-for-testing") }
            let capture = pcap.map { _ in Capture(filter: pcapLink) }
            let clock = ContinuousClock()
            let start = clock.now
            let sampling = plot.map { _ in Sampling(interval: .nanoseconds(Int64(plotInterval * 1e6))) }
            let verdict = Simulation.run(scenario, seed: seed, file: file, sampling: sampling,
                                         observer: capture.map { capture in { capture.add($0) } })
            let wall = clock.now - start
            var record = RunRecord(verdict: verdict, file: file, wall: wall)
            if let plot, let problem = writePlot(plot, verdict: verdict, scenario: scenario) {
                FileHandle.standardError.write(Data("error: \(problem)\n".utf8))
                record.fail("output", problem)
            }
            if let pcap, let capture {
                do {
                    try Data(capture.writer.bytes).write(to: URL(fileURLWithPath: pcap))
                } catch {
                    let problem = "cannot write \(pcap): \(error.localizedDescription)"
                    FileHandle.standardError.write(Data("error: \(problem)\n".utf8))
                    record.fail("output", problem)
                }
                if capture.writer.packets == 0 {
                    FileHandle.standardError.write(Data("warning: \(pcap): no datagram was delivered on the captured link\n".utf8))
                }
            }
            return record
        }

        /// Why nothing can be written at `path`, or `nil` when it looks writable
        /// (checked before a run, so a typo does not cost the whole run).
        private func unwritable(_ path: String) -> String? {
            let url = URL(fileURLWithPath: path)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
                if isDirectory.boolValue { return "'\(path)' is a folder" }
                return access(path, W_OK) == 0 ? nil : "cannot write '\(path)': \(String(cString: strerror(errno)))"
            }
            let folder = url.deletingLastPathComponent().path
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                return "cannot write '\(path)': the folder '\(folder)' does not exist"
            }
            return access(folder, W_OK) == 0 ? nil : "cannot write into '\(folder)': \(String(cString: strerror(errno)))"
        }

        /// Writes the SVG of one run; what went wrong, if anything.
        private func writePlot(_ path: String, verdict: Verdict, scenario: Scenario) -> String? {
            let index = plotClient.flatMap { name in verdict.flows.firstIndex { $0.client == name } } ?? 0
            guard index < verdict.flows.count else {
                return "\(path): the scenario has no client to plot"
            }
            let flow = verdict.flows[index]
            let statistics = verdict.statistics
            var note = "\(verdict.outcome) · goodput \(format(statistics.goodput / 1e6, 2)) Mbit/s over the run"
            if let after = flow.goodputAfterHandshake { note += ", \(format(after / 1e6, 2)) Mbit/s after the handshake" }
            note += " · \(flow.losses.reduce(0) { $0 + $1.count }) packets lost · trace \(statistics.traceHash.prefix(16))"
            let svg = FlowPlot.svg(flow, duration: statistics.duration,
                                   caption: FlowPlot.Caption(scenario: scenario.name, seed: verdict.seed, client: flow.client, note: note))
            do {
                try Data(svg.utf8).write(to: URL(fileURLWithPath: path))
                return nil
            } catch {
                return "cannot write \(path): \(error.localizedDescription)"
            }
        }

        /// Runs one seed in a child process; a child killed by a signal is a crash.
        private func runChild(file: String, seed: UInt64, pcap: String?, plot: String?) -> RunRecord {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.executablePath)
            var arguments = ["sim", "run", file, "--seed", String(seed), "--child"]
            if let pcap { arguments += ["--pcap", pcap] }
            if let pcapLink, pcap != nil { arguments += ["--pcap-link", pcapLink] }
            if let plot {
                arguments += ["--plot", plot, "--plot-interval", String(plotInterval)]
                if let plotClient { arguments += ["--plot-client", plotClient] }
            }
            if trapForTesting { arguments.append("--trap-for-testing") }
            process.arguments = arguments
            let output = Pipe()
            process.standardOutput = output
            let finished = DispatchSemaphore(value: 0)
            process.terminationHandler = { _ in finished.signal() }
            let clock = ContinuousClock()
            let start = clock.now
            do {
                try process.run()
            } catch {
                return RunRecord(error: "cannot start \(Self.executablePath): \(error)", file: file, seed: seed)
            }
            // The child writes one short line, well under a pipe's buffer: reading after it ends is safe.
            if finished.wait(timeout: .now() + timeout) == .timedOut {
                process.terminate()
                finished.wait()
                var record = RunRecord(error: "", file: file, seed: seed)
                record.fail("liveness", "wall-clock timeout: still running after \(timeout) s")
                record.wallSeconds = (clock.now - start).seconds
                return record
            }
            let data = output.fileHandleForReading.readDataToEndOfFile()
            if process.terminationReason == .uncaughtSignal {
                var record = RunRecord(error: "", file: file, seed: seed)
                record.fail("crash", "the run was killed by signal \(process.terminationStatus)")
                record.wallSeconds = (clock.now - start).seconds
                return record
            }
            let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
            guard let record = try? JSONDecoder().decode(RunRecord.self, from: Data(line.utf8)) else {
                var record = RunRecord(error: "", file: file, seed: seed)
                record.fail("crash", "the run exited with status \(process.terminationStatus) without a result")
                return record
            }
            return record
        }

        /// This binary. On Linux `/proc/self/exe` itself: it still names this process's image
        /// when the file has been replaced (a rebuild during a sweep), where its target would not.
        static var executablePath: String {
            if FileManager.default.isExecutableFile(atPath: "/proc/self/exe") { return "/proc/self/exe" }
            return Bundle.main.executablePath ?? CommandLine.arguments[0]
        }

        private func checkLink(_ label: String, in scenario: Scenario) -> String? {
            let names = [internetNodeName] + scenario.hosts.map(\.name) + scenario.nats.map(\.name)
            let separator = label.contains("<->") ? "<->" : "->"
            let parts = label.components(separatedBy: separator)
            guard parts.count == 2 else { return "expected FROM->TO or A<->B" }
            for part in parts where !names.contains(part) {
                return "no node \"\(part)\" (nodes: \(names.joined(separator: ", ")))"
            }
            return nil
        }

        // MARK: - Output

        private func announce(_ seed: UInt64) {
            if json {
                FileHandle.standardError.write(Data("SEED=\(seed)\n".utf8))
            } else {
                print("SEED=\(seed)", terminator: "")
                fflush(nil)
            }
        }

        private func report(_ record: RunRecord, detailed: Bool) {
            if json {
                print(record.jsonLine)
                return
            }
            print(record.tableRow(afterSeed: "SEED=\(record.seed)".count))
            if record.exitCode != 0 || detailed {
                for detail in record.details { print("    \(detail)") }
            }
            if detailed, !record.traceHash.isEmpty {
                print("    virtual duration \(format(record.virtualSeconds, 3)) s, completed at \(record.completionSeconds.map { format($0, 3) + " s" } ?? "never"), payload \(record.payloadBytes) B, goodput \(format(record.goodputMbps, 3)) Mbit/s")
                print("    retransmitted \(record.retransmittedBytes) B (client \(record.clientRetransmittedBytes), server \(record.serverRetransmittedBytes)), lost packets \(record.lostPackets) (client \(record.clientLostPackets), server \(record.serverLostPackets)), RTT smoothed \(format(record.smoothedRTTMs, 2)) ms, min \(format(record.minimumRTTMs, 2)) ms")
                for flow in record.flows { print("    \(flow.summary)") }
                for flow in record.crossFlows { print("    \(flow.summary)") }
                print("    drops: \(record.drops.isEmpty ? "none" : record.drops.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
                print("    datagrams sent \(record.datagramsSent), delivered \(record.datagramsDelivered); path changes \(record.pathChanges); NAT mappings \(record.natMappings)")
                print("    \(record.events) events in \(format(record.wallSeconds, 3)) s wall (\(Int(record.eventsPerSecond)) events/s, \(format(record.virtualPerWall, 1))× real time)")
                print("    trace \(record.traceHash)")
            }
            if detailed, record.exitCode != 0 { print("    replay: \(record.replay)") }
        }
    }
}

/// `A..B` (or `A...B`, or a single `N`): an inclusive range of seeds.
struct SeedRange: ExpressibleByArgument {
    var lower: UInt64
    var upper: UInt64

    init?(argument: String) {
        let parts = argument.components(separatedBy: argument.contains("...") ? "..." : "..")
        guard let lower = UInt64(parts[0]), parts.count <= 2 else { return nil }
        guard let upper = parts.count == 2 ? UInt64(parts[1]) : lower, upper >= lower else { return nil }
        self.lower = lower
        self.upper = upper
    }
}

struct SimError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Collects delivered datagrams into a pcap file (a class: the observer closure mutates it).
final class Capture {
    var writer = PcapWriter()
    let labels: [String]?

    init(filter: String?) {
        if let filter, filter.contains("<->") {
            let parts = filter.components(separatedBy: "<->")
            labels = ["\(parts[0])->\(parts[1])", "\(parts[1])->\(parts[0])"]
        } else {
            labels = filter.map { [$0] }
        }
    }

    func add(_ datagram: DeliveredDatagram) {
        if let labels, !labels.contains(datagram.link) { return }
        writer.add(datagram)
    }
}

/// One run's result: what a child prints as a JSON line, and what `--json` prints.
struct RunRecord: Codable {
    var file: String
    var scenario: String
    var seed: UInt64
    /// `success`, `crash`, `liveness`, `correctness` or `scenarioError`.
    var outcome: String
    var exitCode: Int32
    var details: [String]
    var virtualSeconds: Double = 0
    var completionSeconds: Double?
    var payloadBytes = 0
    var goodputMbps: Double = 0
    var retransmittedBytes: UInt64 = 0
    var lostPackets: UInt64 = 0
    /// The two sides' shares of the above: clients' endpoints (upstream) and servers' (downstream).
    var clientRetransmittedBytes: UInt64 = 0
    var serverRetransmittedBytes: UInt64 = 0
    var clientLostPackets: UInt64 = 0
    var serverLostPackets: UInt64 = 0
    /// Drops per link (`from->to`), every cause together.
    var linkDrops: [String: Int] = [:]
    /// One per client, in scenario order.
    var flows: [FlowRecord] = []
    /// One per cross flow, in scenario order.
    var crossFlows: [CrossFlowRecord] = []
    var smoothedRTTMs: Double = 0
    var minimumRTTMs: Double = 0
    var drops: [String: Int] = [:]
    var datagramsSent = 0
    var datagramsDelivered = 0
    var pathChanges = 0
    var natMappings = 0
    var events = 0
    var wallSeconds: Double = 0
    var eventsPerSecond: Double = 0
    /// Virtual seconds simulated per wall-clock second.
    var virtualPerWall: Double = 0
    var traceHash = ""
    var replay: String

    init(verdict: Verdict, file: String, wall: Duration) {
        let statistics = verdict.statistics
        self.file = file
        scenario = verdict.scenario
        seed = verdict.seed
        switch verdict.outcome {
        case .success: outcome = "success"
        case .crash: outcome = "crash"
        case .livenessFailure: outcome = "liveness"
        case .correctnessFailure: outcome = "correctness"
        }
        exitCode = verdict.exitCode
        details = verdict.details.filter { !$0.hasPrefix("replay: ") }
        virtualSeconds = statistics.duration.seconds
        completionSeconds = statistics.completion?.seconds
        payloadBytes = statistics.payloadBytes
        goodputMbps = statistics.goodput / 1e6
        retransmittedBytes = statistics.bytesRetransmitted
        lostPackets = statistics.packetsLost
        clientRetransmittedBytes = statistics.clientRetransmittedBytes
        serverRetransmittedBytes = statistics.serverRetransmittedBytes
        clientLostPackets = statistics.clientLostPackets
        serverLostPackets = statistics.serverLostPackets
        linkDrops = Dictionary(statistics.linkDrops.map { ($0.link, $0.count) }, uniquingKeysWith: +)
        flows = verdict.flows.map(FlowRecord.init)
        crossFlows = statistics.crossFlows.map(CrossFlowRecord.init)
        smoothedRTTMs = statistics.smoothedRTT.seconds * 1e3
        minimumRTTMs = statistics.minimumRTT.seconds * 1e3
        drops = Dictionary(statistics.drops.map { ($0.cause, $0.count) }, uniquingKeysWith: +)
        datagramsSent = statistics.datagramsSent
        datagramsDelivered = statistics.datagramsDelivered
        pathChanges = statistics.pathChanges
        natMappings = statistics.natMappings
        events = statistics.events
        wallSeconds = wall.seconds
        eventsPerSecond = wallSeconds > 0 ? Double(events) / wallSeconds : 0
        virtualPerWall = wallSeconds > 0 ? virtualSeconds / wallSeconds : 0
        traceHash = statistics.traceHash
        replay = verdict.replayCommand(file: file)
    }

    /// A run that produced no verdict (unreadable scenario, or filled in by `fail`).
    init(error: String, file: String, seed: UInt64) {
        self.file = file
        scenario = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        self.seed = seed
        outcome = error.isEmpty ? "success" : "scenarioError"
        exitCode = error.isEmpty ? 0 : 1
        details = error.isEmpty ? [] : [error]
        replay = "sss sim run \(file) --seed \(seed)"
    }

    /// Records a failure; the worse of the old and new outcomes wins.
    mutating func fail(_ kind: String, _ detail: String) {
        let code: Int32 = switch kind {
        case "crash": 2
        case "liveness": 3
        case "correctness": 4
        default: 1
        }
        if code > exitCode {
            exitCode = code
            outcome = kind
        }
        details.append(detail)
    }

    var jsonLine: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    static let tableHeader = [
        pad("seed", 10), pad("scenario", 31), pad("outcome", 12), lpad("virtual", 9), lpad("Mbit/s", 9),
        lpad("retx B", 10), lpad("lost", 6), lpad("srtt/min ms", 13), lpad("drops", 7), lpad("wall s", 8),
        lpad("events/s", 10), "  trace",
    ].joined()

    func tableRow(afterSeed printed: Int) -> String {
        if traceHash.isEmpty {
            // No verdict (a crash, a timeout, an unreadable file): no statistics to show.
            return String(repeating: " ", count: max(1, 10 - printed)) + pad(scenario, 31) + pad(outcome, 12)
                + lpad("-", 9) + lpad("-", 9) + lpad("-", 10) + lpad("-", 6) + lpad("-", 13) + lpad("-", 7)
                + lpad(format(wallSeconds, 2), 8) + lpad("-", 10)
        }
        let virtual = format(virtualSeconds, 2) + "s"
        return [
            String(repeating: " ", count: max(1, 10 - printed)), pad(scenario, 31), pad(outcome, 12),
            lpad(virtual, 9), lpad(format(goodputMbps, 2), 9), lpad("\(retransmittedBytes)", 10), lpad("\(lostPackets)", 6),
            lpad(format(smoothedRTTMs, 1) + "/" + format(minimumRTTMs, 1), 13), lpad("\(drops.values.reduce(0, +))", 7),
            lpad(format(wallSeconds, 2), 8), lpad("\(Int(eventsPerSecond))", 10), "  " + String(traceHash.prefix(16)),
        ].joined()
    }
}

private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}

private func lpad(_ text: String, _ width: Int) -> String {
    text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text
}

func format(_ value: Double, _ decimals: Int) -> String {
    String(format: "%.\(decimals)f", value)
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
