import Foundation
import Testing
@testable import SecureStreamsCore

/// Fuzz regressions (STYLE.md §9 layer 5): every input saved under
/// `Fuzz/Crashers/<Target>/` is replayed through the same harness the fuzz
/// target runs (`FuzzHarness/` here is a set of symlinks to
/// `Fuzz/Sources/FuzzHarness/`, compiled with `@testable import`), and must
/// not trap. The committed seed corpora under `Fuzz/Corpus/<Target>/` are
/// replayed too, so the harnesses are exercised even with no crashers, and a
/// harness that no longer compiles or whose seeds trap fails the normal suite.
/// (`FuzzScenario` needs the simulator, which these tests do not link: its
/// inputs are replayed by SimulationTests' FuzzScenarioReplayTests.)
@Suite struct FuzzCrasherTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static let targets = [
        "FuzzPacketHeader", "FuzzFrames", "FuzzInitiation", "FuzzResponse",
        "FuzzEndpointOps", "FuzzReassembly", "FuzzKeyParsers",
    ]

    static func harness(_ target: String) -> ((UnsafeRawBufferPointer) -> Void)? {
        switch target {
        case "FuzzPacketHeader": FuzzPacketHeader.run
        case "FuzzFrames": FuzzFrames.run
        case "FuzzInitiation": { FuzzInitiation.run($0) }
        case "FuzzResponse": FuzzResponse.run
        case "FuzzEndpointOps": { FuzzEndpointOps.run($0) }
        case "FuzzReassembly": FuzzReassembly.run
        case "FuzzKeyParsers": FuzzKeyParsers.run
        default: nil
        }
    }

    /// (target, file) for every file in `Fuzz/<folder>/<target>/`.
    static func inputs(in folder: String) -> [(target: String, file: URL)] {
        let root = fuzzDirectory.appendingPathComponent(folder)
        var found: [(target: String, file: URL)] = []
        for target in targets {
            let directory = root.appendingPathComponent(target)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            for name in names.sorted() where !name.hasPrefix(".") {
                found.append((target, directory.appendingPathComponent(name)))
            }
        }
        return found
    }

    static func replay(_ target: String, _ file: URL) throws {
        let bytes = try [UInt8](Data(contentsOf: file))
        let run = try #require(harness(target), "no harness for \(target)")
        bytes.withUnsafeBytes { run($0) }
    }

    @Test func crashersReplayWithoutTrapping() throws {
        // Each file here once crashed its target; the fix is what makes it pass.
        for (target, file) in Self.inputs(in: "Crashers") {
            try Self.replay(target, file)
        }
    }

    @Test func seedCorporaReplayWithoutTrapping() throws {
        let seeds = Self.inputs(in: "Corpus")
        #expect(Set(seeds.map(\.target)) == Set(Self.targets), "every target has a committed seed corpus")
        for (target, file) in seeds {
            try Self.replay(target, file)
        }
    }

    /// The seeds are meaningful, not just harmless: the genuine Initiation in
    /// framed form gets a connection accepted, and the key seeds all parse.
    @Test func seedsReachTheirTargets() throws {
        var endpoint = FuzzFixtures.server()
        let seeds = FuzzInitiation.seeds()
        let framed = try #require(seeds.first { $0.name == "framed-ik" }).bytes
        var datagram = framed.withUnsafeBytes { raw in
            var reader = FuzzBytes(raw)
            _ = reader.u8()
            return FuzzInitiation.framed(&reader)
        }
        datagram.withUnsafeMutableBytes {
            endpoint.handleDatagram($0, from: FuzzFixtures.clientAddress, now: FuzzFixtures.start)
        }
        #expect(endpoint.connectionCount == 1)
        // Under load: the raw Initiation is answered with a cookie, and the
        // retry proving it is accepted, unless the cookie has gone stale.
        func outcome(_ name: String) throws -> FuzzInitiation.Outcome {
            try #require(seeds.first { $0.name == name }).bytes.withUnsafeBytes { FuzzInitiation.run($0) }
        }
        for suite in ["ik", "xx"] {
            #expect(try outcome("loaded-raw-\(suite)") == .init(retriedWithCookie: true, connectionsAdded: 1))
            #expect(try outcome("loaded-raw-\(suite)-stale") == .init(retriedWithCookie: true, connectionsAdded: 0))
            #expect(try outcome("raw-\(suite)") == .init(retriedWithCookie: false, connectionsAdded: 1))
        }
        // Ten minutes later an IK Initiation is refused by its timestamp; an
        // XX one, which carries none, is a new half-open handshake (§4.4).
        #expect(try outcome("raw-ik-late-replay") == .init(connectionsAdded: 1, lateReplayAccepted: false))
        #expect(try outcome("raw-xx-late-replay") == .init(connectionsAdded: 1, lateReplayAccepted: true))

        // The op-sequence seeds move stream bytes end to end, so the
        // prefix check in FuzzEndpointOps is not vacuous.
        let ops = Dictionary(uniqueKeysWithValues: FuzzEndpointOps.seeds().map { ($0.name, $0.bytes) })
        #expect(ops["client-write-read"]!.withUnsafeBytes { FuzzEndpointOps.run($0) } == 1_000)
        #expect(ops["both-ways"]!.withUnsafeBytes { FuzzEndpointOps.run($0) } > 0)

        let keys = Dictionary(uniqueKeysWithValues: FuzzKeyParsers.seeds().map { ($0.name, String(decoding: $0.bytes, as: UTF8.self)) })
        let identity = FuzzFixtures.serverIdentity
        #expect(try EndpointID(parsing: keys["eid"]!) == identity.endpointID)
        #expect(try KeyFile.decode(keys["key-file"]!).endpointID == identity.endpointID)
        #expect(try OpenSSHKey.decodePublicKey(keys["openssh-public"]!) == identity.endpointID)
        #expect(try OpenSSHKey.decodePrivateKey(keys["openssh-private"]!).endpointID == identity.endpointID)
    }
}
