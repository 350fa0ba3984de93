// The file-transfer protocol of `sss send` / `sss receive` (service "sss",
// protocol "files/2"). One stream per file, opened by the sender:
//
//   sender → header record   {"kind":"file","name":"a.txt","size":123}
//   receiver → go-ahead      {"ok":true}, or a refusal {"ok":false,"error":"…"} then FIN
//   sender → exactly `size` bytes (plain stream bytes, no record marks)
//   sender → end record      {"blake2b256":"<64 hex digits>"}, then FIN
//   receiver → verdict       {"ok":true,"name":"a (1).txt"} (the name it was
//                            stored under) or {"ok":false,"error":"…"}, then FIN
//
// The sender sends no byte of the body before the go-ahead, so a refused
// file (bad name, no space) costs one round trip, not its size. A header
// that does not parse is answered with a reset (`malformedHeader`); a body
// longer than announced, or anything but the end record and FIN after it,
// with a reset (`overrun`).
//
// A stream whose header is {"kind":"echo"} echoes every record back until
// the sender finishes (the demo's and `send --records`' round trips).
import Foundation
import SecureStreams

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum Transfer {
    static let service = "sss"
    /// "files/1" sent the body without waiting for the go-ahead.
    static let fileProtocol = "files/2"
    /// Stream reset codes (application codes start at 0x100).
    static let fileChanged = ErrorCode(0x100)
    static let unknownKind = ErrorCode(0x101)
    static let malformedHeader = ErrorCode(0x102)
    static let overrun = ErrorCode(0x103)
    /// The longest file name accepted, in UTF-8 bytes (Linux's NAME_MAX).
    static let maximumNameBytes = 255
    /// Bytes read from a file (and written to a stream) at a time.
    static let chunkSize = 256 * 1024

    struct Header: Codable {
        var kind: String
        var name: String?
        var size: UInt64?
    }

    struct End: Codable {
        var blake2b256: String
    }

    struct Status: Codable {
        var ok: Bool
        var error: String?
        /// In a verdict: the name the file was stored under.
        var name: String?
    }

    static func encode(_ value: some Encodable) -> [UInt8] {
        // Encoding these plain structs cannot fail.
        Array((try? JSONEncoder().encode(value)) ?? Data())
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw ToolError("malformed \(what) record: \(escaped(String(decoding: bytes.prefix(200), as: UTF8.self)))")
        }
    }

    /// Why `name` may not be written into the target folder, or `nil` when it may.
    ///
    /// Accepted: any UTF-8 name of 1…255 bytes without '/', other than '.'
    /// and '..' (so `v1..2.txt` is fine), without control characters (C0,
    /// DEL, C1) or bidirectional controls (they would disguise the name on
    /// a terminal), and not shaped like the receiver's own temporary files
    /// (`.sss-….part`).
    static func problem(withName name: String) -> String? {
        if name.isEmpty { return "an empty file name" }
        if name == "." || name == ".." { return "the name '\(name)'" }
        if name.contains("/") { return "the name '\(escaped(name))' contains '/'" }
        if name.unicodeScalars.contains(where: isUnsafeForDisplay) {
            return "the name '\(escaped(name))' contains control or bidirectional characters"
        }
        if name.utf8.count > maximumNameBytes { return "the name is longer than \(maximumNameBytes) bytes" }
        if Inbox.isTemporaryName(name) { return "the name '\(escaped(name))' is reserved for partial files" }
        return nil
    }

    /// The hash as lowercase hex.
    static func hex(_ bytes: [UInt8]) -> String {
        Hex.encode(bytes)
    }
}

/// A file checked before connecting: it exists, is a regular file and opens.
struct SourceFile: Sendable {
    let path: String
    let name: String
    let size: UInt64

    init(path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ToolError("cannot read '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw ToolError("cannot stat '\(path)': \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & S_IFMT == S_IFREG else { throw ToolError("'\(path)' is not a regular file") }
        self.path = path
        self.name = URL(fileURLWithPath: path).lastPathComponent
        self.size = UInt64(status.st_size)
    }
}

/// A file read in chunks, never whole.
final class ChunkReader {
    let descriptor: Int32
    let path: String

    init(path: String) throws {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        self.path = path
        guard descriptor >= 0 else { throw ToolError("cannot read '\(path)': \(String(cString: strerror(errno)))") }
    }

    deinit { close(descriptor) }

    /// Up to `count` bytes; empty at end of file.
    func read(_ count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = buffer.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress! + filled, count - filled) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw ToolError("cannot read '\(path)': \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            filled += n
        }
        if filled < count { buffer.removeSubrange(filled...) }
        return buffer
    }
}

/// A streaming BLAKE2b-256 in a class, so it can live across suspension points.
final class StreamingHash {
    private var state = BLAKE2b(outputCount: 32)

    func update(_ bytes: [UInt8]) { state.update(bytes) }

    func finalize() -> [UInt8] { state.finalize() }
}

/// `read(2)`, reachable from types that have a `read` of their own.
func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
