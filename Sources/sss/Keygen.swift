import ArgumentParser
import SecureStreams

/// `sss keygen`: creates a host identity and prints where it went and its EID.
struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create a host identity (an Ed25519 key) and print its path and endpoint id.",
        discussion: """
            The key is written with mode 0600, atomically, to PATH or by default to $SSS_KEY, \
            else $XDG_CONFIG_HOME/securestreams/identity, else ~/.config/securestreams/identity. \
            An existing file is never replaced without --force.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Where to write the key.", valueName: "path"))
    var out: String?

    @Flag(name: .long, help: "Replace an existing key file (its identity is lost).")
    var force = false

    func run() throws {
        let path = out ?? IdentityFile.defaultIdentityPath()
        var random = SystemRandom()
        let identity = HostIdentity(using: &random)
        do {
            try IdentityFile.save(identity, path: path, overwrite: force)
        } catch {
            // (A `catch where` clause here crashes the Swift 6.3.1 compiler.)
            guard error == .alreadyExists(path: path) else { throw error }
            throw KeygenFailure(description: "\(error); use --force to replace it")
        }
        print("identity: \(path)")
        print("eid: \(identity.endpointID)")
    }
}

/// A user error with a message of its own; ArgumentParser prints it on one
/// line to stderr and exits with status 1.
private struct KeygenFailure: Error, CustomStringConvertible {
    let description: String
}
