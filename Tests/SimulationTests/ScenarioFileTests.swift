import Foundation
import SecureStreamsCore
import SecureStreamsSimulator
import Testing

@Suite struct ScenarioFileTests {
    static let minimal = """
        {
          "name": "minimal",
          "hosts": [
            { "name": "server", "address": "203.0.113.10:7000", "role": "server" },
            { "name": "client", "address": "10.0.0.1:4000", "role": "client", "server": "server",
              "workload": [ { "kind": "bulk", "bytes": 1000 } ] }
          ],
          "links": [ { "from": "client", "to": "internet", "loss": 0.1 }, { "from": "internet", "to": "client", "loss": "x" } ]
        }
        """

    @Test func theExampleFileParsesAndRunsToSuccess() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Simulations/Scenarios/example.json")
        let scenario = try ScenarioFile.parse(Array(try Data(contentsOf: url)))
        #expect(scenario.name == "example" && scenario.seed == 42)
        #expect(scenario.hosts.count == 3 && scenario.nats.count == 1)
        #expect(scenario.links.map(\.label) == ["laptop->home", "home->laptop", "home->internet", "internet->home",
                                                "phone->internet", "internet->phone"])
        #expect(scenario.links[2].burstLoss == BurstLoss(goodToBad: 0.002, badToGood: 0.3, lossInGood: 0, lossInBad: 0.8))
        #expect(scenario.links[2].bandwidth == 20_000_000)
        #expect(scenario.events.count == 4)
        let verdict = Simulation.run(scenario, file: "Simulations/Scenarios/example.json")
        #expect(verdict.outcome == .success, "\(verdict)")
        #expect(verdict.statistics.pathChanges >= 1, "\(verdict)")
    }

    @Test func aBadValueNamesItsPath() {
        #expect(throws: ScenarioError(path: "links[1].loss", message: "expected a number between 0 and 1, got \"x\"")) {
            try ScenarioFile.parse(Self.minimal)
        }
    }

    @Test(arguments: [
        (#"{"name": 3}"#, "name: expected a string, got 3"),
        (#"{"name": "n"}"#, "hosts: required member is missing"),
        (#"{"name": "n", "hosts": [], "colour": 1}"#, "colour: unknown member; expected one of name, description, seed, budgetSeconds, hosts, nats, links, events, criteria, crossTraffic"),
        (#"{"name": "n", "hosts": [{"name": "s", "address": "1.2.3:4", "role": "server"}]}"#,
         #"hosts[0].address: expected an address with a port ("10.0.0.1:4000", "[2001:db8::1]:4000"), got "1.2.3:4""#),
        (#"{"name": "n", "hosts": [{"name": "c", "address": "1.2.3.4:5", "role": "client", "server": "nobody", "workload": [{"kind": "bulk", "bytes": 1}]}]}"#,
         #"hosts[0].server: expected the name of a server host on the internet, got "nobody""#),
        (#"{"name": "n", "hosts": [{"name": "c", "address": "1.2.3.4:5", "role": "client", "server": "c", "workload": [{"kind": "bulk", "bytes": 1.5}]}]}"#,
         "hosts[0].workload[0].bytes: expected a whole number between 1 and 1099511627776, got 1.5"),
        (#"{"name": "n", "hosts": [{"name": "s", "address": "1.2.3.4:5", "role": "server"}], "nats": [{"name": "x", "publicAddress": "1.1.1.1", "mapping": "full-cone"}]}"#,
         #"nats[0].mapping: expected one of "endpointIndependent", "addressDependent", "addressAndPortDependent", got "full-cone""#),
        (#"{"name": "n", "hosts": [{"name": "s", "address": "1.2.3.4:5", "role": "server"}], "events": [{"atMs": 1, "kind": "linkDown", "link": "s->internet"}]}"#,
         #"events[0].link: expected "from->to" or "a<->b" naming links in "links", got "s->internet""#),
        (#"{"name": "n", "hosts": [{"name": "s", "address": "1.2.3.4:5", "role": "server"}], "links": [{"from": "s", "to": "mars"}]}"#,
         #"links[0].to: expected a host, a NAT or "internet", got "mars""#),
        (#"{"name": "n", "hosts": [}"#, "$: not JSON: line 1, column 25: expected a value"),
    ])
    func badFilesGetPathNamingErrors(text: String, expected: String) {
        do {
            let scenario = try ScenarioFile.parse(text)
            Issue.record("parsed: \(scenario)")
        } catch {
            #expect(error.description == expected)
        }
    }

    /// 9223372036854775807 reads as the Double 2^63, which passed the old
    /// `<= Double(Int.max)` check and then trapped converting to Int.
    @Test func aSeedBeyondIntMaxIsRefusedNotATrap() throws {
        let hosts = #"[{"name": "s", "address": "1.2.3.4:5", "role": "server"}]"#
        for seed in ["9223372036854775807", "9223372036854775808", "9.3e18", "1e300"] {
            #expect(throws: ScenarioError.self, "\(seed)") {
                try ScenarioFile.parse(#"{"name": "n", "seed": \#(seed), "hosts": \#(hosts)}"#)
            }
        }
        // The largest Double below 2^63 is a whole number Int holds: accepted as it is.
        let top = try ScenarioFile.parse(#"{"name": "n", "seed": 9223372036854774784, "hosts": \#(hosts)}"#)
        #expect(top.seed == 9_223_372_036_854_774_784)
        #expect(try ScenarioFile.parse(#"{"name": "n", "seed": -0, "hosts": \#(hosts)}"#).seed == 0)
    }

    @Test func jsonReaderKeepsMemberOrderAndRejectsDuplicates() throws {
        let value = try JSON.parse(Array(#"{"b": [1, 2.5e1, true, null], "a": "\u00e9\ud83d\ude00"}"#.utf8))
        #expect(value == .object([("b", .array([.number(1), .number(25), .bool(true), .null])), ("a", .string("é😀"))]))
        #expect(throws: JSON.SyntaxError.self) { try JSON.parse(Array(#"{"a": 1, "a": 2}"#.utf8)) }
        #expect(throws: JSON.SyntaxError.self) { try JSON.parse(Array("[01]".utf8)) }
    }
}
