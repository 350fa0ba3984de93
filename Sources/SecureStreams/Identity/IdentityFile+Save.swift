#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension IdentityFile {
    /// Saves `identity` as a SecureStreams key file at `path`, atomically
    /// and privately.
    ///
    /// 1. Missing parent directories are created with mode 0700.
    /// 2. The key is written to a fresh temporary file in the same directory,
    ///    created with `O_CREAT | O_EXCL` and mode 0600 (so it is never
    ///    readable by others, not even for a moment), then `fsync`ed.
    /// 3. The temporary file is moved into place: `rename(2)` when
    ///    `overwrite` is true; otherwise `link(2)`, which fails when the target
    ///    exists, so a concurrent writer's key is never replaced.
    /// 4. The directory is `fsync`ed, so the new name survives a crash.
    ///
    /// A reader sees either no file or the whole key, never a partial one;
    /// on failure the temporary file is removed.
    /// - Throws: ``IdentityFileError/alreadyExists(path:)`` when `path`
    ///   exists and `overwrite` is false; a system-call error otherwise.
    public static func save(_ identity: HostIdentity, path: String, overwrite: Bool = false) throws(IdentityFileError) {
        var contents = Array(KeyFile.encode(identity).utf8)
        defer { contents.withUnsafeMutableBytes { secureZero($0) } }
        try place(contents, path: path, overwrite: overwrite)
    }

    /// Writes `contents` to `path` as ``save(_:path:overwrite:)`` describes
    /// (mode 0600, atomic, never replacing unless `overwrite`).
    static func place(_ contents: [UInt8], path: String, overwrite: Bool) throws(IdentityFileError) {
        let (directory, name) = try splitPath(path)
        try createDirectories(directory)
        var status = stat()
        if !overwrite && lstat(path, &status) == 0 { throw .alreadyExists(path: path) }

        let temporaryPath = try writeTemporaryFile(contents, directory: directory, name: name)
        var isPlaced = false
        defer { if !isPlaced { unlink(temporaryPath) } }

        if overwrite {
            guard rename(temporaryPath, path) == 0 else { throw .systemCallFailed(path: path, "replace", errno) }
        } else {
            try linkWithoutReplacing(temporaryPath, to: path)
        }
        isPlaced = true
        try syncDirectory(directory)
    }

    /// Reads a whole regular file of at most ``maximumFileSize`` bytes, with
    /// its permission bits, through one file descriptor (so the mode checked
    /// is the mode of the bytes read).
    static func readFile(path: String) throws(IdentityFileError) -> (bytes: [UInt8], mode: mode_t) {
        // O_NONBLOCK: opening a FIFO must not hang; it is refused below.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            let code = errno
            throw code == ENOENT ? .notFound(path: path) : .systemCallFailed(path: path, "open", code)
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .systemCallFailed(path: path, "stat", errno) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw .notARegularFile(path: path) }
        guard status.st_size <= maximumFileSize else { throw .tooLarge(path: path, limit: maximumFileSize) }

        var bytes = [UInt8](repeating: 0, count: maximumFileSize + 1)
        var count = 0
        while count < bytes.count {
            let result = bytes.withUnsafeMutableBytes { buffer in
                read(descriptor, buffer.baseAddress! + count, buffer.count - count)
            }
            if result < 0 && errno == EINTR { continue }
            guard result >= 0 else { throw .systemCallFailed(path: path, "read", errno) }
            if result == 0 { break }
            count += result
        }
        // The file grew after fstat: still too large.
        guard count <= maximumFileSize else { throw .tooLarge(path: path, limit: maximumFileSize) }
        let contents = Array(bytes[0..<count])
        bytes.withUnsafeMutableBytes { secureZero($0) }
        return (contents, status.st_mode)
    }

    // MARK: - Private

    /// Mode of a new key file and of directories created for it.
    private static let fileMode: mode_t = 0o600
    private static let directoryMode: mode_t = 0o700
    /// Attempts at finding an unused temporary name before giving up.
    private static let temporaryNameAttempts = 16

    /// The directory (`.` for a bare name) and the last component of `path`.
    private static func splitPath(_ path: String) throws(IdentityFileError) -> (String, String) {
        var trimmed = Substring(path)
        guard !trimmed.isEmpty, trimmed.last != "/" else { throw .notARegularFile(path: path) }
        guard let slash = trimmed.lastIndex(of: "/") else { return (".", path) }
        let name = String(trimmed[trimmed.index(after: slash)...])
        trimmed = trimmed[..<slash]
        while trimmed.last == "/" { trimmed = trimmed.dropLast() }
        return (trimmed.isEmpty ? "/" : String(trimmed), name)
    }

    /// `mkdir -p` with mode 0700 for each directory it creates.
    private static func createDirectories(_ directory: String) throws(IdentityFileError) {
        var status = stat()
        if stat(directory, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFDIR else { throw .notADirectory(path: directory) }
            return
        }
        guard errno == ENOENT else { throw .systemCallFailed(path: directory, "stat", errno) }
        if let (parent, _) = try? splitPath(directory), parent != directory {
            try createDirectories(parent)
        }
        guard mkdir(directory, directoryMode) == 0 || errno == EEXIST else {
            throw .systemCallFailed(path: directory, "create directory", errno)
        }
    }

    /// Writes `contents` to a new, private, synced temporary file next to the
    /// target and returns its path.
    private static func writeTemporaryFile(
        _ contents: [UInt8], directory: String, name: String
    ) throws(IdentityFileError) -> String {
        var random = SystemRandom()
        for _ in 0..<temporaryNameAttempts {
            let path = joined(directory, ".\(name).tmp-\(Hex.encode(random.bytes(count: 6)))")
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, fileMode)
            if descriptor < 0 && errno == EEXIST { continue }
            guard descriptor >= 0 else { throw .systemCallFailed(path: path, "create", errno) }
            do throws(IdentityFileError) {
                // The umask may have removed bits; a key file is exactly 0600.
                guard fchmod(descriptor, fileMode) == 0 else { throw .systemCallFailed(path: path, "chmod", errno) }
                try writeAll(contents, to: descriptor, path: path)
                guard fsync(descriptor) == 0 else { throw .systemCallFailed(path: path, "sync", errno) }
            } catch {
                close(descriptor)
                unlink(path)
                throw error
            }
            guard close(descriptor) == 0 else {
                let code = errno
                unlink(path)
                throw .systemCallFailed(path: path, "close", code)
            }
            return path
        }
        throw .systemCallFailed(path: directory, "create a temporary file in", EEXIST)
    }

    private static func writeAll(_ contents: [UInt8], to descriptor: Int32, path: String) throws(IdentityFileError) {
        var offset = 0
        while offset < contents.count {
            let result = contents.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { throw .systemCallFailed(path: path, "write", result < 0 ? errno : EIO) }
            offset += result
        }
    }

    /// Gives the temporary file the name `path` unless `path` exists, then
    /// drops the temporary name. Falls back to check-then-rename on file
    /// systems without hard links.
    private static func linkWithoutReplacing(_ temporaryPath: String, to path: String) throws(IdentityFileError) {
        if link(temporaryPath, path) == 0 {
            unlink(temporaryPath)
            return
        }
        let code = errno
        if code == EEXIST { throw .alreadyExists(path: path) }
        guard code == EPERM || code == EOPNOTSUPP || code == ENOSYS else {
            throw .systemCallFailed(path: path, "create", code)
        }
        var status = stat()
        if lstat(path, &status) == 0 { throw .alreadyExists(path: path) }
        guard rename(temporaryPath, path) == 0 else { throw .systemCallFailed(path: path, "create", errno) }
    }

    /// Makes a new directory entry durable. File systems that cannot sync a
    /// directory (`EINVAL`) are accepted as they are.
    private static func syncDirectory(_ directory: String) throws(IdentityFileError) {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .systemCallFailed(path: directory, "open", errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 || errno == EINVAL else {
            throw .systemCallFailed(path: directory, "sync", errno)
        }
    }
}
