import Foundation
import Testing

/// The tool facing strangers and hostile peers, over loopback: who may
/// connect, nothing lost silently, untrusted names, honest exits.
@Suite(.serialized) struct ToolSafetyTests {
    typealias Scratch = ToolTests.Scratch

    private func send(_ scratch: Scratch, _ files: [String], to spec: String, _ extra: [String] = []) throws
        -> (status: Int32, stderr: String)
    {
        try scratch.run(["send", "--key", scratch.path("sender.key"), "--known-hosts", scratch.path("kh")]
                        + files.map { scratch.path("in/\($0)") } + [spec, "--no-progress"] + extra)
    }

    private func contents(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    @Test(.timeLimit(.minutes(1))) func aStrangerIsRefusedAndChoosingNobodyIsAnError() throws {
        let scratch = try Scratch()
        try scratch.write("a.txt", Array("a".utf8))
        // No trust option at all: the command does not start, and says how to choose.
        let none = try scratch.run(["receive", "--key", scratch.path("receiver.key"), "--dir", scratch.path("out"),
                                    "--port", "0", "--bind", "127.0.0.1"])
        #expect(none.status != 0)
        #expect(none.stderr.contains("--allow EID") && none.stderr.contains("--allow-any"), "\(none.stderr)")

        // Only the receiver's own key is allowed: the sender is a stranger.
        let log = scratch.path("receiver.log")
        let (receiver, spec) = try scratch.startReceiver(once: false, trust: ["--allow", try scratch.eid("receiver.key")],
                                                         log: log)
        defer { receiver.terminate(); receiver.waitUntilExit() }
        let refused = try send(scratch, ["a.txt"], to: spec)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("peer not trusted") || refused.stderr.contains("does not allow this key"),
                "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("out/a.txt")))
        // The receiver logs whom it refused, and from where.
        let stranger = try scratch.eid("sender.key")
        let logged = Self.waitFor("refused \(stranger) at 127.0.0.1:", in: log, while: receiver)
        #expect(logged.contains("refused \(stranger) at 127.0.0.1:") && logged.contains("not allowed to connect"),
                "\(logged)")
    }

    @Test(.timeLimit(.minutes(1))) func listenRefusesAStrangerWhoNeverReadsItsInput() throws {
        let scratch = try Scratch()
        try scratch.write("secret", Array("what listen serves\n".utf8))
        let ready = scratch.path("listen-ready"), log = scratch.path("listen.log")
        FileManager.default.createFile(atPath: log, contents: nil)
        let listener = scratch.process(["listen", "--key", scratch.path("receiver.key"), "--port", "0", "--bind", "127.0.0.1",
                                        "--ready-file", ready, "--allow", try scratch.eid("receiver.key")])
        listener.standardInput = FileHandle(forReadingAtPath: scratch.path("in/secret"))
        listener.standardOutput = FileHandle.nullDevice
        listener.standardError = FileHandle(forWritingAtPath: log)
        try listener.run()
        defer { if listener.isRunning { listener.terminate() } }
        while listener.isRunning && !FileManager.default.fileExists(atPath: ready) { usleep(20_000) }
        let spec = try String(contentsOfFile: ready, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)

        let stranger = scratch.process(["connect", "--key", scratch.path("sender.key"), spec])
        let output = Pipe(), errors = Pipe()
        stranger.standardOutput = output
        stranger.standardError = errors
        try stranger.run()
        let read = output.fileHandleForReading.readDataToEndOfFile()
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        stranger.waitUntilExit()
        #expect(stranger.terminationStatus != 0)
        #expect(read.isEmpty, "a stranger read what listen serves")
        #expect(said.contains("does not allow this key") || said.contains("peer not trusted"), "\(said)")
        let strangerEID = try scratch.eid("sender.key")
        let logged = Self.waitFor("refused \(strangerEID)", in: log, while: listener)
        #expect(logged.contains("refused \(strangerEID) at 127.0.0.1:"), "\(logged)")
        #expect(listener.isRunning, "the listener still waits for an allowed peer")
    }

    @Test(.timeLimit(.minutes(1))) func anAuthorizedPeersFileAdmitsItsPeersAndNamesABadLine() throws {
        let scratch = try Scratch()
        try scratch.write("a.txt", Array("a".utf8))
        let sender = try scratch.eid("sender.key")
        let file = scratch.path("authorized")
        try Data("# who may send\n\n\(sender)\n".utf8).write(to: URL(fileURLWithPath: file))
        let (receiver, spec) = try scratch.startReceiver(once: true, trust: ["--authorized-peers", file])
        defer { if receiver.isRunning { receiver.terminate() } }
        let sent = try send(scratch, ["a.txt"], to: spec)
        #expect(sent.status == 0, "\(sent.stderr)")
        receiver.waitUntilExit()
        #expect(try contents(scratch.path("out/a.txt")) == Data("a".utf8))

        let bad = scratch.path("bad-authorized")
        try Data("\(sender)\nssh-ed25519 AAAAnot-base64 someone\n".utf8).write(to: URL(fileURLWithPath: bad))
        let refused = try scratch.run(["receive", "--key", scratch.path("receiver.key"), "--dir", scratch.path("out"),
                                       "--port", "0", "--bind", "127.0.0.1", "--authorized-peers", bad])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("\(bad):2:"), "\(refused.stderr)")
    }

    @Test(.timeLimit(.minutes(1))) func allowAnyIsAWarnedChoice() throws {
        let scratch = try Scratch()
        try scratch.write("a.txt", Array("a".utf8))
        let log = scratch.path("receiver.log")
        let (receiver, spec) = try scratch.startReceiver(once: true, trust: ["--allow-any"], log: log)
        defer { if receiver.isRunning { receiver.terminate() } }
        let sent = try send(scratch, ["a.txt"], to: spec)
        #expect(sent.status == 0, "\(sent.stderr)")
        receiver.waitUntilExit()
        #expect(receiver.terminationStatus == 0)
        #expect(String(decoding: try contents(log), as: UTF8.self).contains("warning: --allow-any"))
    }

    @Test(.timeLimit(.minutes(1))) func twoFilesOfOneNameAreBothKeptAndTheSummaryIsTrue() throws {
        let scratch = try Scratch()
        let root = scratch.root.appendingPathComponent("in")
        for (folder, text) in [("d1", "first"), ("d2", "second")] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
            try scratch.write("\(folder)/x.txt", Array(text.utf8))
        }
        // A partial file of a receiver that is gone (a finished child's pid) is removed at start.
        try FileManager.default.createDirectory(atPath: scratch.path("out"), withIntermediateDirectories: true)
        let gone = scratch.process(["id", "--key", scratch.path("sender.key")])
        gone.standardOutput = FileHandle.nullDevice
        try gone.run()
        gone.waitUntilExit()
        let stale = scratch.path("out/.sss-\(gone.processIdentifier)-0123456789abcdef.part")
        try Data("stale".utf8).write(to: URL(fileURLWithPath: stale))

        let (receiver, spec) = try scratch.startReceiver(once: true)
        defer { if receiver.isRunning { receiver.terminate() } }
        let sent = try send(scratch, ["d1/x.txt", "d2/x.txt"], to: spec, ["--parallel", "1"])
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(sent.stderr.contains("x.txt: stored as 'x (1).txt'"), "\(sent.stderr)")
        #expect(sent.stderr.contains("every one confirmed; 1 stored under another name"), "\(sent.stderr)")
        receiver.waitUntilExit()
        #expect(try contents(scratch.path("out/x.txt")) == Data("first".utf8))
        #expect(try contents(scratch.path("out/x (1).txt")) == Data("second".utf8))
        #expect(!FileManager.default.fileExists(atPath: stale))
    }

    @Test(.timeLimit(.minutes(1))) func twoSendersRacingForOneNameBothKeepTheirFile() throws {
        let scratch = try Scratch()
        let root = scratch.root.appendingPathComponent("in")
        var bodies: [Data] = []
        for index in 0..<2 {
            try FileManager.default.createDirectory(at: root.appendingPathComponent("s\(index)"), withIntermediateDirectories: true)
            let body = [UInt8](repeating: UInt8(0x41 + index), count: 200_000)
            try scratch.write("s\(index)/race.bin", body)
            bodies.append(Data(body))
        }
        let (receiver, spec) = try scratch.startReceiver(once: false)
        defer { receiver.terminate(); receiver.waitUntilExit() }
        let senders = (0..<2).map { index in
            let process = scratch.process(["send", "--key", scratch.path("sender.key"), scratch.path("in/s\(index)/race.bin"),
                                           spec, "--no-progress"])
            process.standardError = FileHandle.nullDevice
            return process
        }
        for sender in senders { try sender.run() }
        for sender in senders {
            sender.waitUntilExit()
            #expect(sender.terminationStatus == 0)
        }
        let stored = try Set(["race.bin", "race (1).bin"].map { try contents(scratch.path("out/\($0)")) })
        #expect(stored == Set(bodies))
    }

    @Test(.timeLimit(.minutes(1))) func aRefusedHostileNameCostsNoBodyAndIsPrintedEscaped() throws {
        let scratch = try Scratch()
        let hostile = "e\u{1B}[31mvil\u{202E}txt.exe"
        try scratch.write(hostile, [UInt8](repeating: 7, count: 4 << 20))
        try scratch.write("v1..2.txt", Array("dots".utf8))
        let long = String(repeating: "n", count: 251) + ".txt"
        try scratch.write(long, Array("long".utf8))
        let log = scratch.path("receiver.log")
        let (receiver, spec) = try scratch.startReceiver(once: true, log: log)
        defer { if receiver.isRunning { receiver.terminate() } }
        let sent = try send(scratch, [hostile, "v1..2.txt", long], to: spec, ["--stats"])
        #expect(sent.status != 0)
        #expect(sent.stderr.contains("1 of 3 files were not confirmed"), "\(sent.stderr)")
        #expect(sent.stderr.contains("e\\u{1B}[31mvil\\u{202E}txt.exe"), "\(sent.stderr)")
        // The 4 MiB body never crossed: the sender's connection carried far less.
        let line = try #require(sent.stderr.split(separator: "\n").first { $0.contains("bytes      sent") })
        let bytesSent = try #require(Int(line.split(separator: " ")[2].dropLast()))
        #expect(bytesSent < 256 * 1024, "\(line)")
        receiver.waitUntilExit()
        #expect(receiver.terminationStatus != 0, "receive --once must fail after a failed file")
        let received = String(decoding: try contents(log), as: UTF8.self)
        for output in [sent.stderr, received] {
            #expect(!output.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x202E })
        }
        #expect(try contents(scratch.path("out/v1..2.txt")) == Data("dots".utf8))
        #expect(try contents(scratch.path("out/\(long)")) == Data("long".utf8))
    }

    @Test(.timeLimit(.minutes(1))) func aMalformedHeaderIsResetAtOnce() throws {
        let scratch = try Scratch()
        try scratch.write("garbage", Array("this is not a header".utf8))
        let log = scratch.path("receiver.log")
        let (receiver, spec) = try scratch.startReceiver(once: true, log: log)
        defer { if receiver.isRunning { receiver.terminate() } }
        // `sss connect` speaking the file protocol sends raw bytes as its first record.
        let client = scratch.process(["connect", "--key", scratch.path("sender.key"), "--protocol", "files/2", spec])
        client.standardInput = FileHandle(forReadingAtPath: scratch.path("in/garbage"))
        client.standardOutput = FileHandle.nullDevice
        let clientLog = scratch.path("client.log")
        FileManager.default.createFile(atPath: clientLog, contents: nil)
        client.standardError = FileHandle(forWritingAtPath: clientLog)
        try client.run()
        defer { if client.isRunning { client.terminate() } }
        // Waits on the condition; the bound (far below the 30 s idle timeout) only ends a failing run.
        let deadline = Date().addingTimeInterval(15)
        var output = ""
        while Date() < deadline {
            output = String(decoding: (try? contents(log)) ?? Data(), as: UTF8.self)
            if output.contains("malformed header") { break }
            usleep(50_000)
        }
        #expect(output.contains("malformed header this is not a header: reset"), "\(output)")
        // The client learns it from the reset's code and exits with an error, not at the idle timeout.
        let exitDeadline = Date().addingTimeInterval(15)
        while client.isRunning && Date() < exitDeadline { usleep(50_000) }
        #expect(!client.isRunning, "sss connect still runs after the reset")
        if client.isRunning { return }
        #expect(client.terminationStatus != 0)
        let clientOutput = String(decoding: try contents(clientLog), as: UTF8.self)
        #expect(clientOutput.contains("APPLICATION(258)"), "\(clientOutput)")
    }

    @Test(.timeLimit(.minutes(1))) func everyBadNumberOrAddressGetsAMessageNotATrap() throws {
        let scratch = try Scratch()
        try scratch.write("a.txt", Array("a".utf8))
        let file = scratch.path("in/a.txt"), key = scratch.path("sender.key")
        let receive = ["receive", "--key", key, "--dir", scratch.path("out"), "--allow-any"]
        let cases: [([String], String)] = [
            (["send", "--key", key, file, "127.0.0.1:9", "--connect-timeout", "1e30"], "--connect-timeout must be"),
            (["send", "--key", key, file, "127.0.0.1:9", "--connect-timeout", "inf"], "--connect-timeout must be"),
            (["send", "--key", key, file, "127.0.0.1:9", "--connect-timeout", "nan"], "--connect-timeout must be"),
            (["send", "--key", key, file, "127.0.0.1:9", "--connect-timeout", "-1"], "--connect-timeout must be"),
            (["send", "--key", key, file, "127.0.0.1:9", "--parallel", "0"], "--parallel must be"),
            (["connect", "--key", key, "127.0.0.1:9", "--connect-timeout", "inf"], "--connect-timeout must be"),
            (["bench", "--seconds", "1e30"], "--seconds must be"),
            (receive + ["--port", "-1"], "--port must be 0…65535"),
            (receive + ["--bind", ""], "--bind needs an address"),
            (receive + ["--bind", "127.0.0.1:80"], "without a port"),
            (["sim", "run", "Simulations/Scenarios/loss-01.json", "--seed", "1", "--plot", "/nonexistent/x.svg"],
             "cannot write '/nonexistent/x.svg'"),
        ]
        for (arguments, message) in cases {
            let result = try scratch.run(arguments)
            #expect(result.status != 0 && result.status < 128, "\(arguments): status \(result.status)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }
}
