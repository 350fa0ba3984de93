// Who may connect to `sss receive` and `sss listen`: the command line's
// face of `PeerTrust`.
import ArgumentParser
import SecureStreams

/// `--allow EID` (repeatable), `--authorized-peers FILE`, `--allow-any`.
///
/// A command that accepts connections refuses to start without one of
/// them: accepting anyone must be a choice, never a default.
struct TrustOptions: ParsableArguments {
    @Option(name: .customLong("allow"), help: ArgumentHelp(
        "A peer that may connect, by its EID (repeatable).", valueName: "EID"))
    var allow: [String] = []

    @Option(name: .customLong("authorized-peers"), help: ArgumentHelp(
        "A file of peers that may connect: one EID or one 'ssh-ed25519 AAAA… comment' line per line, '#' comments.",
        valueName: "path"))
    var authorizedPeers: String?

    @Flag(name: .customLong("allow-any"), help: "Accept any peer with any key (prints a warning).")
    var allowAny = false

    /// How to choose, for the message of a command given none of the options.
    static let howToChoose = """
        say who may connect: --allow EID (repeatable), --authorized-peers FILE (EIDs or \
        'ssh-ed25519 AAAA…' lines), or --allow-any to accept any peer with any key
        """

    func validate() throws {
        if allowAny && (!allow.isEmpty || authorizedPeers != nil) {
            throw ValidationError("--allow-any accepts everyone: it cannot be combined with --allow or --authorized-peers")
        }
        if !allowAny && allow.isEmpty && authorizedPeers == nil {
            throw ValidationError(Self.howToChoose)
        }
        for text in allow {
            do { _ = try EndpointID(parsing: text) } catch {
                throw ValidationError("--allow '\(escaped(text))' is not an EID: \(error)")
            }
        }
    }

    /// The trust the options describe, with the known-hosts pins of `knownHostsPath`.
    /// Prints the warning of `--allow-any` to stderr, naming what `exposes`.
    func trust(knownHostsPath: String, exposes: String) throws -> PeerTrust {
        let knownHosts = KnownHosts(path: knownHostsPath)
        if allowAny {
            printError("warning: --allow-any: any peer with any key may connect and \(exposes)")
            return .anyone(knownHosts: knownHosts)
        }
        var peers: [EndpointID] = []
        for text in allow {
            do { peers.append(try EndpointID(parsing: text)) } catch {
                throw ToolError("--allow '\(escaped(text))' is not an EID: \(error)")
            }
        }
        if let authorizedPeers {
            do { peers += try AuthorizedPeers.load(path: authorizedPeers) } catch {
                throw ToolError("--authorized-peers: \(error)")
            }
        }
        if peers.isEmpty { printError("warning: no peer is allowed: every connection will be refused") }
        return .only(peers, knownHosts: knownHosts)
    }
}

/// Prints one line per peer `listener` refuses, until it ends: the EID
/// (escaped, as every string about a peer) and where it came from.
@discardableResult
func logRefusals(of listener: Listener) -> Task<Void, Never> {
    Task {
        for await refused in listener.refusals {
            let from = refused.address.map { " at \($0.display)" } ?? ""
            printError("refused \(escaped("\(refused.peer)"))\(from): not allowed to connect "
                       + "(allow it with --allow or --authorized-peers)")
        }
    }
}
