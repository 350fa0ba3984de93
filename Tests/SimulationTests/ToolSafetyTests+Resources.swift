import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a peer can make `sss receive` spend: disk space and file descriptors.
extension ToolSafetyTests {
    @Test(.timeLimit(.minutes(1))) func aFileLargerThanTheFreeSpaceIsRefusedBeforeItsBody() throws {
        let scratch = try Scratch()
        // A sparse file announcing a terabyte more than the folder has free: it costs no disk here.
        var status = statvfs()
        try #require(statvfs(scratch.root.path, &status) == 0)
        let free = UInt64(status.f_bavail) * UInt64(status.f_frsize)
        let path = scratch.path("in/huge.bin")
        FileManager.default.createFile(atPath: path, contents: nil)
        try #require(truncate(path, off_t(free + (1 << 40))) == 0, "cannot make a sparse file here")
        let log = scratch.path("receiver.log")
        let (receiver, spec) = try scratch.startReceiver(once: true, log: log)
        defer { if receiver.isRunning { receiver.terminate() } }
        let sent = try scratch.run(["send", "--key", scratch.path("sender.key"), "--known-hosts", scratch.path("kh"),
                                    path, spec, "--no-progress", "--stats"])
        #expect(sent.status != 0)
        #expect(sent.stderr.contains("refused it before it was sent") && sent.stderr.contains("not enough space"),
                "\(sent.stderr)")
        let line = try #require(sent.stderr.split(separator: "\n").first { $0.contains("bytes      sent") })
        let bytesSent = try #require(Int(line.split(separator: " ")[2].dropLast()))
        #expect(bytesSent < 64 * 1024, "\(line)")
        receiver.waitUntilExit()
        #expect(!FileManager.default.fileExists(atPath: scratch.path("out/huge.bin")))
    }

    @Test(.timeLimit(.minutes(2))) func manyFilesAtOnceQueueForDescriptorsInsteadOfFailing() throws {
        let scratch = try Scratch()
        let count = 120
        for index in 0..<count { try scratch.write("f\(index).txt", Array("file \(index)".utf8)) }
        // The receiver may hold only a few dozen descriptors; the sender opens every stream at once.
        let ready = scratch.path("ready")
        let receive = [scratch.sss.path, "receive", "--key", scratch.path("receiver.key"), "--dir", scratch.path("out"),
                       "--port", "0", "--bind", "127.0.0.1", "--ready-file", ready, "--once",
                       "--allow", try scratch.eid("sender.key")]
        let receiver = scratch.process([])
        receiver.executableURL = URL(fileURLWithPath: "/bin/sh")
        receiver.arguments = ["-c", "ulimit -n 48 && exec \"$@\"", "sh"] + receive
        receiver.standardError = FileHandle.nullDevice
        receiver.standardOutput = FileHandle.nullDevice
        try receiver.run()
        defer { if receiver.isRunning { receiver.terminate() } }
        while receiver.isRunning && !FileManager.default.fileExists(atPath: ready) { usleep(20_000) }
        let spec = try String(contentsOfFile: ready, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let sent = try scratch.run(["send", "--key", scratch.path("sender.key"), "--known-hosts", scratch.path("kh")]
                                   + (0..<count).map { scratch.path("in/f\($0).txt") }
                                   + [spec, "--no-progress", "--parallel", "\(count)"])
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(sent.stderr.contains("sent \(count) files"), "\(sent.stderr)")
        receiver.waitUntilExit()
        #expect(receiver.terminationStatus == 0)
        for index in [0, count / 2, count - 1] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: scratch.path("out/f\(index).txt"))) == Data("file \(index)".utf8))
        }
    }
}
