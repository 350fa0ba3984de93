import Foundation
import Testing

/// `sss send` / `sss receive` as a user runs them: the built binary in child
/// processes over loopback UDP (found as `CrossProcessTests` finds it).
@Suite(.serialized) struct ToolTests {
    /// A scratch folder with two identities and an empty HOME.
    final class Scratch {
        let root: URL
        let sss: URL

        init() throws {
            sss = try #require(CrossProcessTests.sss, "no sss binary next to the tests: run `swift build --build-tests` first")
            root = FileManager.default.temporaryDirectory.appendingPathComponent("sss-tool-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: root.appendingPathComponent("in"), withIntermediateDirectories: true)
            for key in ["sender.key", "receiver.key"] {
                let result = try run(["keygen", "--out", path(key)])
                #expect(result.status == 0, "\(result.stderr)")
            }
        }

        deinit { try? FileManager.default.removeItem(at: root) }

        func path(_ name: String) -> String { root.appendingPathComponent(name).path }

        func process(_ arguments: [String]) -> Process {
            let process = Process()
            process.executableURL = sss
            process.arguments = arguments
            process.environment = ["HOME": root.path, "PATH": "/usr/bin:/bin"]
            process.standardInput = FileHandle.nullDevice
            return process
        }

        /// Runs sss to the end; its status and standard error.
        func run(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
            let process = process(arguments)
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let data = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }

        /// The EID of one of the scratch keys.
        func eid(_ key: String) throws -> String {
            let identity = process(["id", "--key", path(key)])
            let output = Pipe()
            identity.standardOutput = output
            try identity.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            identity.waitUntilExit()
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// Starts `sss receive` on a free port; returns it and its EID@HOST:PORT.
        /// - Parameters:
        ///   - trust: the options saying who may connect (default: the sender's key).
        ///   - log: a file for its standard error (default: discarded).
        ///   - bind: the address to bind (default: IPv4 loopback).
        func startReceiver(once: Bool, trust: [String]? = nil, log: String? = nil,
                           bind: String = "127.0.0.1") throws -> (Process, String) {
            let ready = path("ready-\(UInt32.random(in: 0...UInt32.max))")
            var arguments = ["receive", "--key", path("receiver.key"), "--known-hosts", path("receiver_known_hosts"),
                             "--dir", path("out"), "--port", "0", "--bind", bind, "--ready-file", ready]
            arguments += try trust ?? ["--allow", eid("sender.key")]
            if once { arguments.append("--once") }
            let receiver = process(arguments)
            if let log {
                FileManager.default.createFile(atPath: log, contents: nil)
                receiver.standardError = FileHandle(forWritingAtPath: log)
            } else {
                receiver.standardError = FileHandle.nullDevice
            }
            receiver.standardOutput = FileHandle.nullDevice
            try receiver.run()
            // The receiver writes the file once its socket is bound.
            while receiver.isRunning && !FileManager.default.fileExists(atPath: ready) { usleep(20_000) }
            let spec = try String(contentsOfFile: ready, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            return (receiver, spec)
        }

        func write(_ name: String, _ bytes: [UInt8]) throws {
            try Data(bytes).write(to: root.appendingPathComponent("in").appendingPathComponent(name))
        }
    }

    @Test func threeFilesArriveWholeOneEmptyOneOfThreeMegabytes() throws {
        let scratch = try Scratch()
        var big = [UInt8](repeating: 0, count: 3 << 20)
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in big.indices {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            big[i] = UInt8(truncatingIfNeeded: x)
        }
        try scratch.write("big.bin", big)
        try scratch.write("empty", [])
        try scratch.write("note.txt", Array("hello, receiver\n".utf8))
        let log = scratch.path("receiver.log")
        let (receiver, spec) = try scratch.startReceiver(once: true, log: log)
        defer { if receiver.isRunning { receiver.terminate() } }

        let names = ["big.bin", "empty", "note.txt"]
        let result = try scratch.run(["send", "--key", scratch.path("sender.key"), "--known-hosts", scratch.path("kh")]
                                     + names.map { scratch.path("in/\($0)") } + [spec, "--no-progress"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("every one confirmed"), "\(result.stderr)")
        receiver.waitUntilExit()
        #expect(receiver.terminationStatus == 0, "\(String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: log))) ?? Data(), as: UTF8.self))")
        for name in names {
            let sent = try Data(contentsOf: URL(fileURLWithPath: scratch.path("in/\(name)")))
            let received = try Data(contentsOf: URL(fileURLWithPath: scratch.path("out/\(name)")))
            #expect(sent == received, "\(name) differs")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.path("out")).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }

    @Test func aMissingFileIsReportedBeforeConnecting() throws {
        let scratch = try Scratch()
        // Nobody listens on this address: the error must come first anyway.
        let result = try scratch.run(["send", "--key", scratch.path("sender.key"), scratch.path("in/absent"), "127.0.0.1:9"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("cannot read '\(scratch.path("in/absent"))': No such file or directory"), "\(result.stderr)")
    }

    @Test func aRefusedServiceAndAStalePinAreClearErrors() throws {
        let scratch = try Scratch()
        try scratch.write("a.txt", Array("a".utf8))
        let (receiver, spec) = try scratch.startReceiver(once: false)
        defer { receiver.terminate(); receiver.waitUntilExit() }
        let address = String(spec[spec.index(after: spec.firstIndex(of: "@")!)...])
        let eid = String(spec[..<spec.firstIndex(of: "@")!])

        let refused = try scratch.run(["send", "--key", scratch.path("sender.key"), "--service", "nothing-here",
                                       scratch.path("in/a.txt"), spec, "--no-progress"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("refused the service 'nothing-here'"), "\(refused.stderr)")

        // A known-hosts file pinning the address to another key (the sender's own).
        let identity = scratch.process(["id", "--key", scratch.path("sender.key")])
        let output = Pipe()
        identity.standardOutput = output
        try identity.run()
        let stale = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        identity.waitUntilExit()
        let knownHosts = scratch.path("stale_known_hosts")
        try Data("# pinned long ago\n\(address) \(stale)\n".utf8).write(to: URL(fileURLWithPath: knownHosts))

        let mismatch = try scratch.run(["send", "--key", scratch.path("sender.key"), "--known-hosts", knownHosts,
                                        scratch.path("in/a.txt"), address, "--no-progress"])
        #expect(mismatch.status != 0)
        #expect(mismatch.stderr.contains("presents the key \(eid)"), "\(mismatch.stderr)")
        #expect(mismatch.stderr.contains("\(knownHosts):2 pins it to \(stale)"), "\(mismatch.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("out/a.txt")))
    }

    @Test func listenAndConnectCopyBothWays() throws {
        let scratch = try Scratch()
        try scratch.write("to-listener", (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try scratch.write("to-connector", Array("from the listener\n".utf8))
        let ready = scratch.path("listen-ready")
        let listener = scratch.process(["listen", "--key", scratch.path("receiver.key"), "--port", "0",
                                        "--bind", "127.0.0.1", "--ready-file", ready, "--allow", try scratch.eid("sender.key")])
        listener.standardInput = FileHandle(forReadingAtPath: scratch.path("in/to-connector"))
        listener.standardOutput = FileHandle(forWritingAtPath: try touch(scratch.path("listener.out")))
        listener.standardError = FileHandle.nullDevice
        try listener.run()
        defer { if listener.isRunning { listener.terminate() } }
        while listener.isRunning && !FileManager.default.fileExists(atPath: ready) { usleep(20_000) }
        let spec = try String(contentsOfFile: ready, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)

        let connector = scratch.process(["connect", "--key", scratch.path("sender.key"), spec])
        connector.standardInput = FileHandle(forReadingAtPath: scratch.path("in/to-listener"))
        connector.standardOutput = FileHandle(forWritingAtPath: try touch(scratch.path("connector.out")))
        connector.standardError = FileHandle.nullDevice
        try connector.run()
        connector.waitUntilExit()
        listener.waitUntilExit()
        #expect(connector.terminationStatus == 0)
        #expect(listener.terminationStatus == 0)
        let read = { (name: String) in try Data(contentsOf: URL(fileURLWithPath: scratch.path(name))) }
        #expect(try read("listener.out") == read("in/to-listener"))
        #expect(try read("connector.out") == read("in/to-connector"))
    }

    /// Creates an empty file; its path.
    func touch(_ path: String) throws -> String {
        try Data().write(to: URL(fileURLWithPath: path))
        return path
    }
}
