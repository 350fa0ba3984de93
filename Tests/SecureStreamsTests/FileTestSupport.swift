import Foundation

/// A fresh directory under the system's temporary directory, removed by
/// ``remove()``. Each test makes its own, so tests can run in parallel.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("securestreams-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// `path/name`.
    func file(_ name: String) -> String { path + "/" + name }

    /// The names in the directory, sorted.
    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// The permission bits of the file at `path`.
func permissions(of path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

/// Sets the permission bits of the file at `path`.
func setPermissions(_ mode: Int, of path: String) throws {
    try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
}

/// The test fixtures (keys made by `ssh-keygen`), found next to this source
/// file rather than through SwiftPM resources.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().appendingPathComponent("Fixtures").path

    static func path(_ name: String) -> String { directory + "/" + name }

    static func text(_ name: String) throws -> String {
        try String(contentsOfFile: path(name), encoding: .utf8)
    }

    /// Copies a fixture into `directory` with `mode` (git checks files out
    /// 0644, which a private key may not have).
    static func copy(_ name: String, to directory: TemporaryDirectory, mode: Int = 0o600) throws -> String {
        let destination = directory.file(name)
        try FileManager.default.copyItem(atPath: path(name), toPath: destination)
        try setPermissions(mode, of: destination)
        return destination
    }
}
