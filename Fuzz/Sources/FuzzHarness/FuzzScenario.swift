// FuzzScenario: the simulator's scenario-file reader (`ScenarioFile.parse`,
// and under it the simulator's own `JSON.parse`) on arbitrary bytes. It must
// never trap, and what it says must be usable:
// - a document that is not JSON is refused at `$` with a line and column;
// - any other refusal names a JSON path that leads into the document (every
//   step but possibly the last, a missing member, exists in it);
// - what parses, parses the same way again and from the same text as a String.
//
// Compiled into the Fuzz package's FuzzHarness module and, through a symlink
// in Tests/SimulationTests/FuzzHarness/, into the simulator's tests, where
// FuzzScenarioReplayTests replays the seeds and saved crashers (the core's
// tests do not depend on the simulator).
#if FUZZ_PACKAGE
import SecureStreamsSimulator
#else
@testable import SecureStreamsSimulator
#endif

public enum FuzzScenario {
    /// Whether the input parsed as a scenario.
    @discardableResult
    public static func run(_ data: UnsafeRawBufferPointer) -> Bool {
        let bytes = Array(data)
        let scenario: Scenario
        do {
            scenario = try ScenarioFile.parse(bytes)
        } catch {
            check(error, bytes: bytes)
            return false
        }
        precondition(!scenario.hosts.isEmpty, "a scenario without hosts parsed")
        let names = scenario.hosts.map(\.name) + scenario.nats.map(\.name)
        precondition(Set(names).count == names.count, "duplicate node names parsed")
        precondition((try? ScenarioFile.parse(bytes)) == scenario, "parsing is not deterministic")
        if let text = String(validating: bytes, as: UTF8.self) {
            precondition((try? ScenarioFile.parse(text)) == scenario, "String and bytes parse differently")
        }
        return true
    }

    static func check(_ error: ScenarioError, bytes: [UInt8]) {
        precondition(!error.path.isEmpty && !error.message.isEmpty, "an error without a path or a message: \(error)")
        precondition(error.description.hasPrefix(error.path + ": "), "the description does not lead with the path")
        let document: JSON
        do {
            document = try JSON.parse(bytes)
        } catch let syntax {
            precondition(syntax.line >= 1 && syntax.column >= 1, "a syntax error outside the file")
            precondition(error.path == "$" && error.message == "not JSON: \(syntax)",
                         "a syntax error not reported at $ with its line: \(error)")
            return
        }
        precondition(leadsInto(document, Array(error.path.utf8)), "the path \(error.path) is not in the document")
    }

    /// Whether `path` (as ScenarioFile writes it: `$`, `$[2]`, `hosts[0].name`)
    /// leads into `root`. Member names are raw keys and may themselves hold
    /// `.` or `[`, so every key that matches is tried. The last step may name
    /// a member that is absent (a required member is missing) but only of an
    /// object, and then it holds no `.` or `[`.
    static func leadsInto(_ root: JSON, _ path: [UInt8]) -> Bool {
        if path == Array("$".utf8) { return true }
        if path.starts(with: Array("$[".utf8)) { return follow(root, path[1...]) }
        return member(root, path[...])
    }

    /// `path` continues with `.key…` or `[index]…` from `value`.
    private static func follow(_ value: JSON, _ path: ArraySlice<UInt8>) -> Bool {
        guard let first = path.first else { return true }
        if first == UInt8(ascii: ".") { return member(value, path.dropFirst()) }
        guard first == UInt8(ascii: "["), case .array(let elements) = value,
              let close = path.firstIndex(of: UInt8(ascii: "]")) else { return false }
        let digits = path[(path.startIndex + 1)..<close]
        guard !digits.isEmpty, digits.count < 10, digits.allSatisfy({ (0x30...0x39).contains($0) }) else { return false }
        let index = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        return index < elements.count && follow(elements[index], path[(close + 1)...])
    }

    /// `path` starts with a member name of `value` (an object), then goes on.
    private static func member(_ value: JSON, _ path: ArraySlice<UInt8>) -> Bool {
        guard case .object(let members) = value else { return false }
        for (key, next) in members {
            let utf8 = Array(key.utf8)
            if path.starts(with: utf8), follow(next, path.dropFirst(utf8.count)) { return true }
        }
        return !path.isEmpty && !path.contains(UInt8(ascii: ".")) && !path.contains(UInt8(ascii: "["))
    }

    /// Small hand-written inputs; the seed corpus also holds every file of
    /// Simulations/Scenarios/ (copied by hand: the harness reads no files).
    public static func seeds() -> [(name: String, bytes: [UInt8])] {
        let minimal = """
            {"name":"m","hosts":[{"name":"s","address":"203.0.113.10:7000","role":"server"},\
            {"name":"c","address":"10.0.0.1:4000","role":"client","server":"s",\
            "workload":[{"kind":"bulk","bytes":1000}]}],\
            "links":[{"from":"c","to":"internet","bidirectional":true,"loss":0.1}],\
            "events":[{"atMs":5,"kind":"setBandwidth","link":"c<->internet","bandwidthMbps":null}]}
            """
        return [
            ("minimal", minimal),
            ("bad-value", #"{"name":"x","hosts":[{"name":"s","address":"1.2.3.4:5","role":"server"}],"links":[{"from":"s","to":"internet","loss":"x"}]}"#),
            ("escapes", #"{"name":"\u00e9\ud83d\ude00\n\"\/","hosts":[],"seed":1e3,"budgetSeconds":-0.5e-2}"#),
            ("root-array", #"[{"a":[true,false,null]},-0,0.5,"\u0000"]"#),
            ("not-json", "{\"name\":\n  tru }"),
        ].map { ($0.0, Array($0.1.utf8)) }
    }
}
