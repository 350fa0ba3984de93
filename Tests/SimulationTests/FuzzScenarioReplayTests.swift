import Foundation
@testable import SecureStreamsSimulator
import Testing

/// Fuzz regressions for the scenario-file reader, the counterpart of the
/// core's FuzzCrasherTests (the core's tests do not depend on the simulator).
/// `FuzzHarness/FuzzScenario.swift` here is a symlink to the harness the
/// `FuzzScenario` libFuzzer target runs; every input saved under
/// `Fuzz/Crashers/FuzzScenario/` and every seed under
/// `Fuzz/Corpus/FuzzScenario/` is replayed through it and must not trap.
@Suite struct FuzzScenarioReplayTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func inputs(in folder: String) -> [URL] {
        let directory = fuzzDirectory.appendingPathComponent(folder).appendingPathComponent("FuzzScenario")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().filter { !$0.hasPrefix(".") }.map { directory.appendingPathComponent($0) }
    }

    @discardableResult
    static func replay(_ file: URL) throws -> Bool {
        let bytes = try [UInt8](Data(contentsOf: file))
        return bytes.withUnsafeBytes { FuzzScenario.run($0) }
    }

    @Test func crashersReplayWithoutTrapping() throws {
        for file in Self.inputs(in: "Crashers") {
            try Self.replay(file)
        }
    }

    /// The seeds are harmless and meaningful: every scenario of the library is
    /// in the corpus and parses, so the fuzzer starts from valid documents.
    @Test func seedCorpusReplaysAndTheLibraryParses() throws {
        let seeds = Self.inputs(in: "Corpus")
        let library = try FileManager.default.contentsOfDirectory(
            atPath: Self.fuzzDirectory.deletingLastPathComponent().appendingPathComponent("Simulations/Scenarios").path)
            .filter { $0.hasSuffix(".json") }
        #expect(Set(library).isSubset(of: Set(seeds.map(\.lastPathComponent))), "every library scenario is a seed")
        for file in seeds {
            let parsed = try Self.replay(file)
            if library.contains(file.lastPathComponent) { #expect(parsed, "\(file.lastPathComponent) parses") }
        }
        let inline = Dictionary(uniqueKeysWithValues: FuzzScenario.seeds().map { ($0.name, $0.bytes) })
        #expect(inline["minimal"]!.withUnsafeBytes { FuzzScenario.run($0) })
        #expect(!inline["bad-value"]!.withUnsafeBytes { FuzzScenario.run($0) })
    }

    /// The path check in the harness accepts what ScenarioFile writes and
    /// rejects paths that lead nowhere, so it is not vacuous.
    @Test func thePathCheckFollowsTheDocument() throws {
        let document = try JSON.parse(Array(#"{"hosts": [{"name": "s"}], "a.b": {"c": 1}, "": 2}"#.utf8))
        for path in ["$", "hosts", "hosts[0]", "hosts[0].name", "hosts[0].address", "a.b.c", "a.b.missing", "missing"] {
            #expect(FuzzScenario.leadsInto(document, Array(path.utf8)), "\(path)")
        }
        for path in ["hosts[1]", "hosts[0].name.x", "hosts.name", "hosts[x]", "a.b.c.d", "nope.x", "$[0]"] {
            #expect(!FuzzScenario.leadsInto(document, Array(path.utf8)), "\(path)")
        }
        let array = try JSON.parse(Array("[[1], 2]".utf8))
        #expect(FuzzScenario.leadsInto(array, Array("$[0][0]".utf8)))
        #expect(!FuzzScenario.leadsInto(array, Array("$[0][1]".utf8)))
    }
}
