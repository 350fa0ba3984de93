// One file arriving on one stream of `sss receive` (the protocol is in
// Transfer.swift): answered before its body crosses, written to a temporary
// file, checked, then stored under a name that replaces nothing.
import Foundation
import SecureStreams

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum IncomingFile {
    /// Receives the file the header announces; true when it was stored.
    /// - Throws: only when the stream itself fails (the peer went away).
    static func receive(_ header: Transfer.Header, from stream: SSStream, into inbox: Inbox,
                        slots: Slots) async throws -> Bool {
        guard let name = header.name, let size = header.size else {
            return try await refuse(stream, "?", "the header lacks a name or a size")
        }
        if let problem = Transfer.problem(withName: name) { return try await refuse(stream, name, "refused: \(problem)") }
        // Queued here while the connection or the whole receiver holds its
        // maximum of open files: the sender waits for the go-ahead.
        await slots.acquire()
        defer { slots.release() }
        await inbox.openFiles.acquire()
        defer { inbox.openFiles.release() }
        do { try inbox.reserve(size) } catch { return try await refuse(stream, name, "refused: \(error)") }
        defer { inbox.release(size) }
        let temporary = inbox.path(Inbox.temporaryName())
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            return try await refuse(stream, name, "cannot create a temporary file: \(String(cString: strerror(errno)))")
        }
        var placed = false
        defer {
            close(descriptor)
            if !placed { unlink(temporary) }
        }
        try await stream.writeRecord(Transfer.encode(Transfer.Status(ok: true)))
        let verdict: Transfer.Status
        do {
            let stored = try await receiveBody(size: size, from: stream, into: descriptor, inbox: inbox,
                                               temporary: temporary, name: name)
            placed = true
            verdict = Transfer.Status(ok: true, name: stored)
        } catch let failure as BodyFailure {
            switch failure {
            case .overrun(let what):
                printError("\(escaped(name)): \(what): reset")
                await Receive.abort(stream, code: Transfer.overrun)
                return false
            case .ended(let what):
                printError("\(escaped(name)): \(what)")
                return false
            case .refused(let what):
                printError("\(escaped(name)): \(what)")
                verdict = Transfer.Status(ok: false, error: what)
            }
        }
        // The file is stored (or not) whatever happens to the verdict: a
        // sender that got it may close the connection before our FIN leaves.
        do {
            try await stream.writeRecord(Transfer.encode(verdict))
            try await stream.finish()
        } catch {
            printError("\(escaped(name)): the sender left before the verdict was delivered")
        }
        return verdict.ok
    }

    /// Why a body did not become a stored file.
    enum BodyFailure: Error {
        /// More than announced, or not the end record and FIN after it.
        case overrun(String)
        /// The stream ended early: nobody is left to tell.
        case ended(String)
        /// Told to the sender in the verdict.
        case refused(String)
    }

    /// Reads exactly `size` bytes, the end record and FIN; checks the hash;
    /// stores the file. Returns the name it was stored under.
    private static func receiveBody(size: UInt64, from stream: SSStream, into descriptor: Int32, inbox: Inbox,
                                    temporary: String, name: String) async throws -> String {
        let hash = StreamingHash()
        var remaining = size
        while remaining > 0 {
            guard let chunk = try await stream.read(maxBytes: Int(min(remaining, UInt64(Transfer.chunkSize)))) else {
                throw BodyFailure.ended("the stream ended after \(size - remaining) of \(size) bytes")
            }
            hash.update(chunk)
            do { try writeAll(chunk, to: descriptor) } catch {
                throw BodyFailure.overrun("cannot write the temporary file: \(error)")
            }
            remaining -= UInt64(chunk.count)
        }
        guard let endRecord = try await stream.readRecord() else {
            throw BodyFailure.ended("the stream ended before the hash")
        }
        guard let end = try? JSONDecoder().decode(Transfer.End.self, from: Data(endRecord)) else {
            throw BodyFailure.overrun("more bytes than the \(size) announced, or a malformed end record")
        }
        guard try await stream.read() == nil else {
            throw BodyFailure.overrun("bytes after the end record")
        }
        let actual = Transfer.hex(hash.finalize())
        guard actual == end.blake2b256.lowercased() else {
            throw BodyFailure.refused("BLAKE2b-256 mismatch: the sender hashed \(escaped(end.blake2b256.prefix(64))), "
                                      + "the bytes received hash to \(actual)")
        }
        guard fsync(descriptor) == 0 else {
            throw BodyFailure.refused("cannot sync the file: \(String(cString: strerror(errno)))")
        }
        let stored: String
        do { stored = try inbox.claim(temporary, as: name) } catch { throw BodyFailure.refused("\(error)") }
        let renamed = stored == name ? "" : " as '\(escaped(stored))' (the name was taken)"
        printError("received \(escaped(name))\(renamed) (\(size) bytes, BLAKE2b-256 \(actual.prefix(16))… verified)")
        return stored
    }

    /// Answers the header with a refusal (no byte of the body was asked for).
    private static func refuse(_ stream: SSStream, _ name: String, _ problem: String) async throws -> Bool {
        printError("\(escaped(name)): \(problem)")
        try await stream.writeRecord(Transfer.encode(Transfer.Status(ok: false, error: problem)))
        try await stream.finish()
        return false
    }
}
