import ArgumentParser
import Foundation
import SecureStreams

/// `sss id`: prints the endpoint id of a key.
struct ID: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "id",
        abstract: "Print the endpoint id (EID) of a key.",
        discussion: """
            PATH may be a SecureStreams identity, an OpenSSH private key (id_ed25519, unencrypted), \
            an OpenSSH public key (id_ed25519.pub) or a file holding an EID. Without --key, prints \
            the default identity's EID, creating that identity on first use (its location goes to \
            stderr).
            """
    )

    @Option(name: .long, help: ArgumentHelp("The key to read.", valueName: "path"))
    var key: String?

    func run() throws {
        if let key {
            print(try IdentityFile.load(path: key).endpointID)
            return
        }
        var random = SystemRandom()
        let loaded = try IdentityFile.loadOrCreateDefault(using: &random)
        if loaded.wasCreated {
            FileHandle.standardError.write(Data("created a new identity at \(loaded.path)\n".utf8))
        }
        print(loaded.identity.endpointID)
    }
}
