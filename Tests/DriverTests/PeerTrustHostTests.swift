import Foundation
import SecureStreams
import SecureStreamsPollExample
import Testing

/// A listener given a `PeerTrust`: strangers are closed before any stream opens;
/// and a host says at once which address family it cannot reach.
@Suite struct PeerTrustHostTests {
    @Test(.timeLimit(.minutes(1))) func aStrangerIsClosedBeforeAnyStreamAndNeverReachesTheListener() async throws {
        let server = try HostTests.host()
        let friend = try HostTests.host()
        let stranger = try HostTests.host()
        let listener = try await server.listen(service: "files", protocols: ["v1"], trust: .only([friend.endpointID]))

        // The stranger's handshake completes (the listener learns who it is
        // only then), and the connection is closed with a code at once.
        try await Self.expectRefused(stranger, by: server)

        // The first (and only) connection the listener yields is the friend's.
        async let accepted: Connection? = listener.first { _ in true }
        let connection = try await friend.connect(to: server.endpointID, at: server.localAddress,
                                                  service: "files", protocol: "v1")
        let serverSide = try #require(await accepted)
        #expect(serverSide.peer == friend.endpointID)
        let stream = try await connection.openStream()
        try await stream.writeRecord(Array("hi".utf8))
        try await stream.finish()
        let incoming = try #require(await serverSide.incomingStreams.first { _ in true })
        #expect(try await incoming.readRecord() == Array("hi".utf8))

        await connection.close()
        for host in [stranger, friend, server] { await host.shutdown() }
    }

    @Test(.timeLimit(.minutes(1))) func theHostsTrustIsTheListenersDefault() async throws {
        let friend = try HostTests.host()
        var random = SystemRandom()
        let server = try SecureStreams.Host(
            identity: HostIdentity(using: &random), driver: PollDriverFactory(), bindingTo: .loopback(),
            configuration: HostConfiguration(trust: .only([])))
        _ = try await server.listen(service: "files", protocols: ["v1"])
        try await Self.expectRefused(friend, by: server)
        await friend.shutdown()
        await server.shutdown()
    }

    @Test(.timeLimit(.minutes(1))) func anIPv4HostSaysAtOnceThatItCannotReachAnIPv6Address() async throws {
        let client = try HostTests.host()
        let target = try PeerAddress(parsing: "[::1]:4433")
        let error = await #expect(throws: HostError.self) {
            try await client.connect(to: client.endpointID, at: target, service: "s", protocol: "p")
        }
        #expect(error?.kind == .addressFamilyUnreachable(local: client.localAddress, remote: target),
                "\(String(describing: error))")
        await client.shutdown()
    }

    /// `peer` connects to `server` and is refused as untrusted: either its
    /// connect fails with SERVICE_REFUSED (the close rode with the handshake
    /// answer) or the connection it got closes at once with that code and
    /// ``PeerTrust/refusalReason``.
    static func expectRefused(_ peer: SecureStreams.Host, by server: SecureStreams.Host) async throws {
        do {
            let refused = try await peer.connect(to: server.endpointID, at: server.localAddress,
                                                 service: "files", protocol: "v1")
            let why = await refused.waitUntilClosed()
            #expect(why == ConnectionError(.closedByPeer(code: .serviceRefused, reason: PeerTrust.refusalReason)))
        } catch let error as HostError {
            guard case .connectionFailed(_, let why) = error.kind, case .serviceRefused = why.kind else {
                Issue.record("not a refusal: \(error)")
                return
            }
        }
    }
}
