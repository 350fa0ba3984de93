import Foundation
public import SecureStreamsCore

/// Trust on first use, one of ``PeerTrust``'s sources: a file of
/// `HOST:PORT EID` lines pinning each address to the key it presented the
/// first time.
///
/// ```
/// # SecureStreams known hosts: ADDRESS EID
/// 127.0.0.1:4433 3mx…q7a
/// ```
/// Blank lines and lines starting with `#` are ignored. A malformed line is
/// an error naming the file and line, never silently skipped: a pin that
/// does not parse must not turn into "unknown host, trust anything".
public struct KnownHosts: Sendable {
    public let path: String

    /// A pin: the EID an address presented, and where it is written.
    public struct Entry: Sendable, Equatable {
        public let address: PeerAddress
        public let endpointID: EndpointID
        public let line: Int
    }

    public init(path: String) { self.path = path }

    /// Every pin in the file (none when the file does not exist).
    /// - Throws: ``HostError`` `.knownHosts` naming the file and line of a bad entry.
    public func entries() throws(HostError) -> [Entry] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw HostError(.knownHosts(file: path, line: nil, "cannot read the file"))
        }
        var result: [Entry] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 2 else {
                throw HostError(.knownHosts(file: path, line: number + 1, "expected 'HOST:PORT EID', found '\(line)'"))
            }
            let address: PeerAddress
            do { address = try PeerAddress(parsing: String(fields[0])) } catch {
                throw HostError(.knownHosts(file: path, line: number + 1, "\(error)"))
            }
            let eid: EndpointID
            do { eid = try EndpointID(parsing: String(fields[1])) } catch {
                throw HostError(.knownHosts(file: path, line: number + 1, "\(error)"))
            }
            result.append(Entry(address: address, endpointID: eid, line: number + 1))
        }
        return result
    }

    /// The pin for `address`, if any.
    public func lookup(_ address: PeerAddress) throws(HostError) -> Entry? {
        try entries().first { $0.address == address }
    }

    /// Adds a pin (the file and its folder are created when missing; the
    /// file is replaced atomically).
    public func pin(_ address: PeerAddress, to endpointID: EndpointID) throws(HostError) {
        var text = ""
        if let data = FileManager.default.contents(atPath: path), let old = String(data: data, encoding: .utf8) {
            text = old
            if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        } else {
            text = "# SecureStreams known hosts (trust on first use): ADDRESS EID\n"
        }
        text += "\(address) \(endpointID)\n"
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw HostError(.knownHosts(file: path, line: nil, "cannot write the file: \(error.localizedDescription)"))
        }
    }
}
