import Foundation
public import SecureStreamsCore

/// An authorized-peers file: the peers a listener lets in, one per line.
///
/// ```
/// # who may send us files
/// 3mx…q7a
/// ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI… alice@laptop
/// ```
/// A line is an EID or an OpenSSH Ed25519 public-key line (its comment is
/// ignored). Blank lines and lines starting with `#` are ignored. A malformed
/// line is an error naming the file and the line, never skipped: a typo must
/// not silently lock out (or, worse, be read as) a peer.
public enum AuthorizedPeers {
    /// The largest file read (4 MiB: some 40,000 OpenSSH lines, far more
    /// peers than a listener names by hand; a larger file is an error).
    public static let maximumFileSize = 4 << 20

    /// The peers named in the file at `path`.
    /// - Throws: ``PeerTrustError`` for an unreadable or oversized file or a malformed line.
    public static func load(path: String) throws(PeerTrustError) -> [EndpointID] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let data = FileManager.default.contents(atPath: path)
        else { throw PeerTrustError(path: path, line: nil, problem: "cannot read the authorized-peers file") }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? data.count
        guard size <= maximumFileSize, data.count <= maximumFileSize else {
            throw PeerTrustError(path: path, line: nil, problem: "larger than \(maximumFileSize) bytes")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PeerTrustError(path: path, line: nil, problem: "not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    /// The peers named in `text` (the content of the file at `path`).
    public static func parse(_ text: String, path: String) throws(PeerTrustError) -> [EndpointID] {
        var peers: [EndpointID] = []
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (index, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let tokens = line.split(whereSeparator: \.isWhitespace)
            do {
                if tokens.count == 1 {
                    peers.append(try EndpointID(parsing: tokens[0]))
                } else {
                    peers.append(try OpenSSHKey.decodePublicKey(line))
                }
            } catch {
                throw PeerTrustError(path: path, line: index + 1,
                                     problem: "expected an EID or 'ssh-ed25519 AAAA… comment': \(error)")
            }
        }
        return peers
    }
}

/// A trust source that could not be read, naming the file and the line.
public struct PeerTrustError: Error, Sendable, CustomStringConvertible {
    public let path: String
    /// The 1-based line, when one line is at fault.
    public let line: Int?
    public let problem: String

    public var description: String {
        if let line { return "\(path):\(line): \(problem)" }
        return "\(path): \(problem)"
    }
}
