// The receiver's folder: temporary files, claiming a final name without
// ever replacing a file, the space promised to transfers in flight, and the
// bound on files open at once.
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One receiving folder, shared by every connection of `sss receive`.
final class Inbox: Sendable {
    let directory: String
    /// Files open at once across all connections (a peer must not exhaust
    /// the process's descriptors; 64 leaves ample room under the usual
    /// limit of 1,024 for sockets and the rest).
    static let maximumOpenFiles = 64
    /// Files open at once for one connection (a sender's default
    /// `--parallel` is 8; more streams wait for their go-ahead).
    static let maximumOpenFilesPerConnection = 16
    /// Numbered names tried before giving up (`x (1)` … `x (1000)`).
    static let maximumNumberedNames = 1_000

    let openFiles = Slots(limit: maximumOpenFiles)
    /// Bytes announced by transfers in flight and not yet placed.
    private let promised = Guarded<UInt64>(0)

    init(directory: String) { self.directory = directory }

    // MARK: - Temporary files

    /// A temporary name of fixed length (`.sss-PID-16 hex digits.part`), so
    /// a name near the length limit never fails because of it.
    static func temporaryName() -> String {
        ".sss-\(getpid())-\(String(format: "%016llx", UInt64.random(in: 0...UInt64.max))).part"
    }

    /// Whether `name` has the shape of a temporary file of some receiver.
    static func isTemporaryName(_ name: String) -> Bool {
        name.hasPrefix(".sss-") && name.hasSuffix(".part")
    }

    /// Removes the temporary files of receivers that are no longer running
    /// (their process id is gone); returns how many.
    func removeStalePartialFiles() -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return 0 }
        var removed = 0
        for name in names where Self.isTemporaryName(name) {
            let fields = name.dropFirst(".sss-".count).split(separator: "-")
            guard fields.count == 2, let pid = pid_t(fields[0]), pid != getpid() else { continue }
            guard kill(pid, 0) != 0 && errno == ESRCH else { continue }
            if unlink(path(name)) == 0 { removed += 1 }
        }
        return removed
    }

    func path(_ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    // MARK: - Space

    /// Promises `size` bytes to one transfer when the folder's free space
    /// covers it on top of every promise still held.
    /// - Throws: `ToolError` saying how much is free and promised.
    func reserve(_ size: UInt64) throws {
        var status = statvfs()
        guard statvfs(directory, &status) == 0 else {
            throw ToolError("cannot tell the free space of the folder: \(String(cString: strerror(errno)))")
        }
        let free = UInt64(status.f_bavail).multipliedReportingOverflow(by: UInt64(status.f_frsize))
        let available = free.overflow ? UInt64.max : free.partialValue
        try promised.withLock { promised in
            let (needed, overflow) = promised.addingReportingOverflow(size)
            guard !overflow, needed <= available else {
                throw ToolError("not enough space: \(size) bytes announced, \(available) free, "
                                + "\(promised) promised to transfers in flight")
            }
            promised = needed
        }
    }

    /// Gives back a promise of ``reserve(_:)``.
    func release(_ size: UInt64) {
        promised.withLock { $0 -= min($0, size) }
    }

    // MARK: - Final names

    /// Gives the finished temporary file its final name without replacing
    /// anything: `name`, else `name (1)`, `name (2)` … (before the
    /// extension). The name is claimed atomically with link(2), so two
    /// transfers racing for one name both keep their file; on a file system
    /// without hard links, an empty placeholder claims it (O_EXCL) and the
    /// file is renamed over it.
    /// - Returns: the name the file was stored under.
    func claim(_ temporary: String, as name: String) throws -> String {
        for number in 0...Self.maximumNumberedNames {
            let candidate = number == 0 ? name : Self.numbered(name, number)
            guard candidate.utf8.count <= Transfer.maximumNameBytes else { break }
            let final = path(candidate)
            if link(temporary, final) == 0 {
                unlink(temporary)
                return candidate
            }
            let code = errno
            if code == EEXIST { continue }
            guard code == EPERM || code == ENOTSUP || code == EOPNOTSUPP || code == EMLINK else {
                throw ToolError("cannot store '\(escaped(candidate))': \(String(cString: strerror(code)))")
            }
            let placeholder = open(final, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if placeholder < 0 && errno == EEXIST { continue }
            guard placeholder >= 0 else {
                throw ToolError("cannot store '\(escaped(candidate))': \(String(cString: strerror(errno)))")
            }
            close(placeholder)
            guard rename(temporary, final) == 0 else {
                let failure = String(cString: strerror(errno))
                unlink(final)
                throw ToolError("cannot store '\(escaped(candidate))': \(failure)")
            }
            return candidate
        }
        throw ToolError("'\(escaped(name))' and its numbered variants are all taken")
    }

    /// `report (3).pdf` for `report.pdf`; `notes (3)` for `notes` or `.notes`.
    static func numbered(_ name: String, _ number: Int) -> String {
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            return "\(name[..<dot]) (\(number))\(name[dot...])"
        }
        return "\(name) (\(number))"
    }
}

/// A value behind a lock.
final class Guarded<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// At most `limit` holders at once; the rest wait in arrival order.
final class Slots: Sendable {
    private struct State {
        var held = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
        var first = 0
    }
    let limit: Int
    private let state = Guarded(State())

    init(limit: Int) { self.limit = limit }

    /// Waits for a slot.
    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state in
                if state.held < limit {
                    state.held += 1
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    /// Frees a slot: the longest waiter takes it over.
    func release() {
        let next: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard state.first < state.waiting.count else {
                state.held -= 1
                return nil
            }
            let next = state.waiting[state.first]
            state.first += 1
            if state.first == state.waiting.count {
                state.waiting.removeAll(keepingCapacity: true)
                state.first = 0
            }
            return next
        }
        next?.resume()
    }
}
