import Foundation
import SecureStreamsCore
import SecureStreamsSimulator
import Testing

/// The same seed gives the same trace hash in other processes: the built
/// `sss` binary, run with `--check-determinism`, runs the seed in two child
/// processes and compares their hashes; the test compares both with a run
/// in this process. The first child also draws a plot, the second does not,
/// so the check also shows that plotting changes nothing.
@Suite struct CrossProcessTests {
    /// `sss` from the same build as this test binary (`swift build --build-tests` builds both).
    static var sss: URL? {
        let here = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL
        let candidates = [here.appendingPathComponent("sss"), package.appendingPathComponent(".build/debug/sss")]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    @Test func theSameSeedGivesTheSameTraceHashInThreeProcesses() throws {
        let sss = try #require(Self.sss, "no sss binary next to the tests: run `swift build --build-tests` first")
        let file = "loss-05.json"
        let path = ScenarioLibrary.directory.appendingPathComponent(file).path
        let seed: UInt64 = 4
        let plot = FileManager.default.temporaryDirectory.appendingPathComponent("cross-process-\(getpid()).svg")
        defer { try? FileManager.default.removeItem(at: plot) }

        let process = Process()
        process.executableURL = sss
        process.arguments = ["sim", "run", path, "--seed", String(seed), "--json", "--check-determinism", "--plot", plot.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let line = try #require(String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init))
        let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")

        #expect(process.terminationStatus == 0, "\(line)")
        #expect(record["outcome"] as? String == "success", "\(line)")
        let here = Simulation.run(try ScenarioLibrary.load(file), seed: seed)
        #expect(record["traceHash"] as? String == here.statistics.traceHash)
        #expect(FileManager.default.fileExists(atPath: plot.path), "--plot wrote no file")
        let svg = String(decoding: try Data(contentsOf: plot), as: UTF8.self)
        #expect(try SVGOutline(svg).panels == 4)
    }
}
