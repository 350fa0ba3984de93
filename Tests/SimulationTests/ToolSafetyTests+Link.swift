import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `sss send` over a link that stops: a UDP relay on loopback between the
/// sender and the receiver forwards the first bytes, then drops everything
/// until the test lets it through again. (In ToolSafetyTests, which runs one
/// test at a time: each tool test blocks a thread while its processes run.)
extension ToolSafetyTests {
    @Test(.timeLimit(.minutes(1))) func aStalledLinkShowsAtOnceThenDownThenUpAgainAndTheFileArrives() throws {
        let scratch = try Scratch()
        let body = (0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try scratch.write("big.bin", body)
        let (receiver, spec) = try scratch.startReceiver(once: true)
        defer { if receiver.isRunning { receiver.terminate() } }
        let at = try #require(spec.lastIndex(of: "@"))
        let eid = spec[..<at]
        let port = try #require(UInt16(spec[spec.index(after: spec.lastIndex(of: ":")!)...]))
        let relay = try UDPRelay(forwardingTo: port, cutAfter: 1 << 20)
        defer { relay.stop() }

        let log = scratch.path("sender.log")
        FileManager.default.createFile(atPath: log, contents: nil)
        let sender = scratch.process(["send", "--key", scratch.path("sender.key"), "--known-hosts", scratch.path("kh"),
                                      scratch.path("in/big.bin"), "\(eid)@127.0.0.1:\(relay.port)"])
        sender.standardError = FileHandle(forWritingAtPath: log)
        sender.standardOutput = FileHandle.nullDevice
        try sender.run()
        defer { if sender.isRunning { sender.terminate() } }

        // The relay cuts the link mid-file: the sender says it stalled, then
        // that it is down. (Waits on the text; the bound only ends a failing run.)
        let stalled = "the link stalled (no acknowledgement from the peer)"
        let down = "the link to the peer is down"
        var output = Self.waitFor(down, in: log, while: sender)
        #expect(relay.isCut)
        #expect(output.contains(stalled), "\(output)")
        #expect(output.contains(down), "\(output)")
        // The link comes back: the sender says so and the file arrives whole.
        relay.resume()
        sender.waitUntilExit()
        output = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: log))) ?? Data(), as: UTF8.self)
        #expect(sender.terminationStatus == 0, "\(output)")
        let order = [stalled, down, "the link is up again", "every one confirmed"].map { output.range(of: $0)?.lowerBound }
        #expect(order.allSatisfy { $0 != nil } && zip(order, order.dropFirst()).allSatisfy { $0! < $1! }, "\(output)")
        receiver.waitUntilExit()
        #expect(try Data(contentsOf: URL(fileURLWithPath: scratch.path("out/big.bin"))) == Data(body))
    }

    /// The text of `log` once it contains `text`, or once `process` ended
    /// or 30 s passed (then the caller's expectations fail).
    static func waitFor(_ text: String, in log: String, while process: Process) -> String {
        let deadline = Date().addingTimeInterval(30)
        var output = ""
        while Date() < deadline {
            output = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: log))) ?? Data(), as: UTF8.self)
            if output.contains(text) || !process.isRunning { break }
            usleep(50_000)
        }
        return output
    }
}

/// The tool's addresses over loopback: a dual-stack receiver takes IPv4 and
/// IPv6 senders and advertises an address a sender can dial; host names work.
extension ToolSafetyTests {
    /// Whether this machine can bind UDP on [::1].
    static let hasIPv6Loopback: Bool = {
        let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        } == 0
    }()

    @Test(.timeLimit(.minutes(1)), .enabled(if: ToolSafetyTests.hasIPv6Loopback, "this machine has no IPv6 loopback"))
    func aDualStackReceiverTakesIPv6IPv4AndNamedSendersAndAdvertisesADialableAddress() throws {
        let scratch = try Scratch()
        for name in ["six.txt", "four.txt", "named.txt"] { try scratch.write(name, Array(name.utf8)) }
        let log = scratch.path("receiver.log")
        let (receiver, spec) = try scratch.startReceiver(once: false, log: log, bind: "::")
        defer { receiver.terminate(); receiver.waitUntilExit() }
        // The wildcard is nobody's address: the ready file names IPv6 loopback, short form.
        let at = try #require(spec.lastIndex(of: "@"))
        let eid = String(spec[..<at])
        #expect(spec[spec.index(after: at)...].hasPrefix("[::1]:"), "\(spec)")
        let port = String(spec[spec.index(after: spec.lastIndex(of: ":")!)...])
        let targets = [("six.txt", spec), ("four.txt", "\(eid)@127.0.0.1:\(port)"), ("named.txt", "\(eid)@localhost:\(port)")]
        for (file, target) in targets {
            let sent = try scratch.run(["send", "--key", scratch.path("sender.key"), "--known-hosts", scratch.path("kh"),
                                        scratch.path("in/\(file)"), target, "--no-progress"])
            #expect(sent.status == 0, "\(target): \(sent.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: scratch.path("out/\(file)"))) == Data(file.utf8))
        }
        let announced = String(decoding: try Data(contentsOf: URL(fileURLWithPath: log)), as: UTF8.self)
        #expect(announced.contains("receiving on [::]:\(port) (every IPv4 and IPv6 interface; here: [::1]:\(port))"),
                "\(announced)")
    }

    @Test(.timeLimit(.minutes(1))) func textThatIsNoHostNameIsSaidPlainlyNotLookedUp() throws {
        let scratch = try Scratch()
        try scratch.write("a.txt", Array("a".utf8))
        let bad = try scratch.run(["send", "--key", scratch.path("sender.key"), scratch.path("in/a.txt"),
                                   "no_such host:4433", "--no-progress"])
        #expect(bad.status != 0 && bad.status < 128)
        #expect(bad.stderr.contains("no_such host:4433"), "\(bad.stderr)")
    }
}

/// A UDP relay on 127.0.0.1: datagrams from the client go to `target`, the
/// target's answers go back to the client. After `cutAfter` bytes from the
/// client it drops everything both ways until ``resume()``.
final class UDPRelay: @unchecked Sendable {
    let port: UInt16
    private let fd: Int32
    private let lock = NSLock()
    private var forwarded = 0
    private var cut = false
    private var resumed = false
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)

    init(forwardingTo targetPort: UInt16, cutAfter limit: Int) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ready = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard descriptor >= 0, ready else { throw POSIXError(.EADDRNOTAVAIL) }
        fd = descriptor
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in run(target: Self.loopback(port: targetPort), limit: limit) }
        thread.start()
    }

    /// Whether the link is cut now.
    var isCut: Bool { lock.withLock { cut && !resumed } }

    /// Lets datagrams through again.
    func resume() { lock.withLock { resumed = true } }

    /// Ends the relay thread and closes its socket.
    func stop() {
        lock.withLock { stopped = true }
        finished.wait()
        close(fd)
    }

    private func run(target: sockaddr_in, limit: Int) {
        var client: sockaddr_in?
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !lock.withLock({ stopped }) {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 20) > 0 else { continue }
            var from = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let count = buffer.withUnsafeMutableBytes { bytes in
                withUnsafeMutablePointer(to: &from) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, bytes.baseAddress, bytes.count, 0, $0, &length) }
                }
            }
            guard count > 0 else { continue }
            let fromTarget = from.sin_port == target.sin_port
            let passes: Bool = lock.withLock {
                if !fromTarget { forwarded += count }
                if forwarded >= limit { cut = true }
                return !cut || resumed
            }
            guard passes else { continue }
            if !fromTarget { client = from }
            guard var destination = fromTarget ? client : Optional(target) else { continue }
            _ = buffer.withUnsafeBytes { bytes in
                withUnsafePointer(to: &destination) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, bytes.baseAddress, count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
        }
        finished.signal()
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }
}
