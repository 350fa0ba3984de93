import Testing
@testable import SecureStreamsCore

@Suite struct EndpointHandshakeTests {
    @Test(arguments: [true, false])
    func connectsAndBothSidesLearnEachOther(knowingServer: Bool) throws {
        var pair = Pair(seed: 1)
        _ = try pair.connect(knowingServer: knowingServer)
        let ok = pair.drive(timeout: .seconds(5)) { $0.connected(.initiator) != nil && $0.connected(.responder) != nil }
        #expect(ok, "no connection; client events \(pair.clientEvents), server events \(pair.serverEvents)")
        guard case .connected(_, let serverSeen, let service, let proto, .initiator)? = pair.clientEvents.first else {
            Issue.record("client events: \(pair.clientEvents)"); return
        }
        #expect(serverSeen == pair.server.endpointID)
        #expect(service == "test" && proto == "bytes")
        let responderSaw = pair.serverEvents.compactMap { event -> EndpointID? in
            if case .connected(_, let peer, _, _, .responder) = event { return peer }
            return nil
        }
        #expect(responderSaw == [pair.client.endpointID])
    }

    @Test func transfersBytesBothWays() throws {
        var pair = Pair(seed: 2)
        let connection = try pair.connect()
        #expect(pair.drive(timeout: .seconds(5)) { $0.connected(.responder) != nil })
        let message = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let stream = try pair.client.openStream(on: connection)
        var written = 0
        var received: [UInt8] = []
        let done = pair.drive(timeout: .seconds(60)) { pair in
            if written < message.count {
                written += (try? message[written...].withUnsafeBytes { try pair.client.write($0, to: stream, on: connection) }) ?? 0
                if written == message.count { try? pair.client.finish(stream, on: connection) }
            }
            if let server = pair.connected(.responder) {
                while let chunk = try? pair.server.read(from: stream, on: server, maxBytes: 65_536), !chunk.isEmpty {
                    received += chunk
                }
            }
            return received.count == message.count
        }
        #expect(done, "received \(received.count) of \(message.count)")
        #expect(received == message)
    }
}
