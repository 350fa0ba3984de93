import Foundation
import SecureStreams
import SecureStreamsCore
import Testing

/// The authorized-peers file and `PeerTrust`'s decisions.
@Suite struct AuthorizedPeersTests {
    static func eid() -> EndpointID {
        var random = SystemRandom()
        return HostIdentity(using: &random).endpointID
    }

    @Test func eidsAndOpenSSHLinesAreReadCommentsAndBlanksSkipped() throws {
        let other = Self.eid()
        let sshLine = try Fixtures.text("id_ed25519.pub").trimmingCharacters(in: .newlines)
        let text = "# who may connect\n\n  \(other)  \n\(sshLine)\n# the end\n"
        let peers = try AuthorizedPeers.parse(text, path: "peers")
        #expect(peers == [other, try OpenSSHKey.decodePublicKey(sshLine)])
    }

    @Test func aMalformedLineIsNamedByFileAndLine() throws {
        let text = "\(Self.eid())\n# fine\nnot-an-eid\n"
        let error = try #require(throws: PeerTrustError.self) { try AuthorizedPeers.parse(text, path: "peers") }
        #expect(error.line == 3)
        #expect(error.description.hasPrefix("peers:3: "))
        // An RSA key is not an Ed25519 peer: refused by line too.
        let rsa = try Fixtures.text("id_rsa.pub").trimmingCharacters(in: .newlines)
        let rsaError = try #require(throws: PeerTrustError.self) { try AuthorizedPeers.parse("\n\(rsa)\n", path: "p") }
        #expect(rsaError.line == 2)
    }

    @Test func aMissingOrOversizedFileIsAnError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(throws: PeerTrustError.self) { try AuthorizedPeers.load(path: directory.file("absent")) }
        let big = directory.file("big")
        try Data(repeating: UInt8(ascii: "#"), count: AuthorizedPeers.maximumFileSize + 1).write(to: URL(fileURLWithPath: big))
        #expect(throws: PeerTrustError.self) { try AuthorizedPeers.load(path: big) }
    }

    @Test func trustDecidesPerPeer() {
        let allowed = Self.eid(), stranger = Self.eid()
        #expect(PeerTrust.anyone.admits(stranger))
        let only = PeerTrust.only([allowed])
        #expect(only.admits(allowed))
        #expect(!only.admits(stranger))
        #expect(!PeerTrust.only([]).admits(allowed))
    }
}
