import Foundation
import SecureStreamsCore
import SecureStreamsSimulator
import Testing

/// Every file in `Simulations/Scenarios/` must succeed on the real core for a fixed list of seeds.
enum ScenarioLibrary {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Simulations/Scenarios").standardizedFileURL

    /// Library files left out of the sweep, each with the reason (a known core bug and its replay command).
    static let excluded: [String: String] = [:]

    /// The library's file names, sorted.
    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") && excluded[$0] == nil }.sorted()
    }()

    static let seeds: [UInt64] = [1, 2]

    static func load(_ file: String) throws -> Scenario {
        try ScenarioFile.parse(Array(try Data(contentsOf: directory.appendingPathComponent(file))))
    }
}

@Suite struct ScenarioLibraryTests {
    @Test func theLibraryIsThere() {
        #expect(ScenarioLibrary.files.count >= 18, "\(ScenarioLibrary.files) in \(ScenarioLibrary.directory.path)")
    }

    @Test(arguments: ScenarioLibrary.files, ScenarioLibrary.seeds)
    func scenarioSucceeds(file: String, seed: UInt64) throws {
        let scenario = try ScenarioLibrary.load(file)
        let path = "Simulations/Scenarios/\(file)"
        let verdict = Simulation.run(scenario, seed: seed, file: path)
        #expect(verdict.outcome == .success, "replay: \(verdict.replayCommand(file: path))\n\(verdict)")
    }

    @Test(arguments: ScenarioLibrary.files)
    func everyScenarioSaysWhatItChecks(file: String) throws {
        let scenario = try ScenarioLibrary.load(file)
        #expect(scenario.summary.map { !$0.isEmpty } == true, "\(file) has no \"description\"")
        #expect(file == "\(scenario.name).json", "\(file) is named \"\(scenario.name)\"")
    }
}
