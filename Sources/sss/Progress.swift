// Transfer progress on standard error: a bar redrawn in place (at most 10
// times a second) on a terminal, plain lines every 10 % otherwise.
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Counts bytes from many tasks and draws the total.
final class Progress: @unchecked Sendable {
    private let lock = NSLock()
    private let total: UInt64
    private let label: String
    private let isTerminal: Bool
    private let start = ContinuousClock.now
    private var done: UInt64 = 0
    private var lastDraw: ContinuousClock.Instant?
    private var lastDecile = -1
    private var finished = false
    /// When the link stalled (acknowledgements stopped), until it is up again.
    private var stalledSince: ContinuousClock.Instant?

    init(total: UInt64, label: String, enabled: Bool = true) {
        self.total = total
        self.label = label
        self.isTerminal = enabled && isatty(2) == 1
        self.quiet = !enabled
    }

    private let quiet: Bool

    /// `count` more bytes went through.
    func add(_ count: Int) {
        lock.lock()
        defer { lock.unlock() }
        done += UInt64(count)
        draw(force: false)
    }

    /// The final line (the bar ends with a newline).
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        draw(force: true)
        finished = true
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    /// The link stalled: the bar says so, with the seconds since, instead of an ETA.
    func linkStalled() {
        lock.lock()
        defer { lock.unlock() }
        if stalledSince == nil { stalledSince = .now }
        if !isTerminal, !quiet, !finished {
            FileHandle.standardError.write(Data("\(label): the link stalled (no acknowledgement from the peer)\n".utf8))
        }
        draw(force: true)
    }

    /// Acknowledgements flow again.
    func linkUp() {
        lock.lock()
        defer { lock.unlock() }
        if stalledSince != nil, !isTerminal, !quiet, !finished {
            FileHandle.standardError.write(Data("\(label): the link is up again\n".utf8))
        }
        stalledSince = nil
        draw(force: true)
    }

    /// Redraws (once a second while stalled, so the seconds count).
    func tick() {
        lock.lock()
        defer { lock.unlock() }
        if isTerminal, stalledSince != nil { draw(force: true) }
    }

    private func draw(force: Bool) {
        guard !quiet, !finished else { return }
        let now = ContinuousClock.now
        let elapsed = (now - start).inSeconds
        let fraction = total == 0 ? 1 : min(1, Double(done) / Double(total))
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        if isTerminal {
            if !force, let lastDraw, now - lastDraw < .milliseconds(100) { return }
            lastDraw = now
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let remaining = rate > 0 ? Double(total - min(done, total)) / rate : 0
            var eta = done >= total ? "done" : rate > 0 ? "ETA " + Self.time(remaining) : "ETA --"
            if let stalledSince { eta = "link stalled \(Self.time((now - stalledSince).inSeconds))" }
            let percent = String(format: "%3.0f%%", fraction * 100)
            let line = "\r\(label) [\(bar)] \(percent) \(Self.bytes(Double(done))) / \(Self.bytes(Double(total))) "
                + "\(Self.bytes(rate))/s \(eta)\u{1B}[K"
            FileHandle.standardError.write(Data(line.utf8))
        } else {
            let decile = Int(fraction * 10)
            guard decile > lastDecile || force else { return }
            if force && decile == lastDecile { return }
            lastDecile = decile
            let percent = String(format: "%3.0f%%", fraction * 100)
            let line = "\(label) \(percent) \(Self.bytes(Double(done))) / \(Self.bytes(Double(total))) \(Self.bytes(rate))/s\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    /// `1.5 MiB`-style sizes.
    static func bytes(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = value
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(Int(value)) B" : String(format: "%.1f ", value) + units[unit]
    }

    /// `1:05`-style durations.
    static func time(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
            : String(format: "%d:%02d", s / 60, s % 60)
    }
}
