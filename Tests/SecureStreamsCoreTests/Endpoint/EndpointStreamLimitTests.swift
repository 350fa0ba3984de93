import Testing
@testable import SecureStreamsCore

/// Stream limits that never stall (PROTOCOL.md §6.2.1), the idle-timeout
/// floor and probes that carry data (§10).
@Suite struct EndpointStreamLimitTests {
    /// 2,000 streams of 32 bytes through a stream limit of 50: the opener
    /// finishes each, the other end reads each to its end but never
    /// finishes its own half. MAX_STREAMS rises as receiving halves end, the
    /// opener says STREAMS_BLOCKED when it waits, and all complete.
    @Test func twoThousandStreamsPassALimitOfFifty() throws {
        let seed = TestSeeds.seed(41, filter: "twoThousandStreamsPassALimitOfFifty")
        var pair = Pair(seed: seed) { configuration, _ in configuration.initialMaxStreams = 50 }
        let client = try pair.connect()
        #expect(pair.drive(timeout: .seconds(5)) { $0.connected(.responder) != nil })
        let server = try #require(pair.connected(.responder))
        let total = 2_000
        let payload = [UInt8](repeating: 0x5A, count: 32)
        var opened = 0
        var refusals = 0
        var completed = 0
        var reading: [StreamID: [UInt8]] = [:]
        var order: [StreamID] = []
        var seenEvents = 0
        for _ in 0..<200_000 where completed < total {
            while opened < total {
                do {
                    let id = try pair.client.openStream(on: client)
                    let accepted = try pair.client.write(payload, to: id, on: client)
                    #expect(accepted == payload.count)
                    try pair.client.finish(id, on: client)
                    opened += 1
                } catch {
                    #expect(error.kind == .streamLimitReached, "open failed: \(error)")
                    refusals += 1
                    break
                }
            }
            guard pair.step() else { break }
            for event in pair.serverEvents[seenEvents...] {
                if case .streamOpened(_, let id) = event, reading[id] == nil {
                    reading[id] = []
                    order.append(id)
                }
            }
            seenEvents = pair.serverEvents.count
            // Read every open stream to its end; never finish ours.
            order.removeAll { id in
                guard pair.server.readToEnd(from: id, on: server, into: &reading[id]!) else { return false }
                #expect(reading[id] == payload)
                completed += 1
                return true
            }
        }
        #expect(completed == total, "\(completed) of \(total) streams completed; \(TestSeeds.replay(seed, filter: "twoThousandStreamsPassALimitOfFifty"))")
        #expect(refusals > 0, "the limit of 50 never refused an open")
        let clientStats = try #require(pair.client.statistics(of: client))
        let serverStats = try #require(pair.server.statistics(of: server))
        #expect(clientStats.streamsBlockedSent > 0, "no STREAMS_BLOCKED was sent")
        #expect(serverStats.streamsBlockedReceived > 0)
        #expect(pair.closed(.initiator) == nil && pair.closed(.responder) == nil)
    }

    /// A configured idle timeout far below the path's round trip does not
    /// end the connection: it is raised to three probe timeouts (RFC 9000 §10.1).
    @Test func idleTimeoutIsAtLeastThreeProbeTimeouts() throws {
        var pair = Pair(seed: 42) { configuration, _ in configuration.idleTimeout = .milliseconds(200) }
        pair.toServer.latency = .milliseconds(300)
        pair.toClient.latency = .milliseconds(300)
        let client = try pair.connect()
        #expect(pair.drive(timeout: .seconds(10)) { $0.connected(.responder) != nil })
        let server = try #require(pair.connected(.responder))
        let data = [UInt8](repeating: 7, count: 200_000)
        let id = try pair.client.openStream(on: client)
        var written = 0
        var received: [UInt8] = []
        let done = pair.drive(timeout: .seconds(60)) { pair in
            if written < data.count {
                written += (try? data[written...].withUnsafeBytes { try pair.client.write($0, to: id, on: client) }) ?? 0
                if written == data.count { try? pair.client.finish(id, on: client) }
            }
            return pair.server.readToEnd(from: id, on: server, into: &received) || pair.closed(.initiator) != nil
        }
        #expect(done && received.count == data.count, "transfer ended: \(String(describing: pair.closed(.initiator)))")
        #expect(pair.closed(.initiator) == nil && pair.closed(.responder) == nil)
    }

    /// A probe timeout with every byte sent but unacknowledged sends the
    /// data again in the probe, not a PING alone.
    @Test func probeCarriesUnacknowledgedData() throws {
        var pair = Pair(seed: 43)
        let client = try pair.connect()
        #expect(pair.drive(timeout: .seconds(5)) { $0.connected(.responder) != nil })
        let settled = pair.settle()
        #expect(settled)
        let id = try pair.client.openStream(on: client)
        let accepted = try pair.client.write([UInt8](repeating: 1, count: 600), to: id, on: client)
        #expect(accepted == 600)
        let lost = pair.client.drainTransmits(now: pair.now)
        #expect(lost.count == 1 && lost[0].bytes.count > 600)
        var now = pair.now
        var probe: [(to: PeerAddress, bytes: [UInt8])] = []
        for _ in 0..<20 where probe.isEmpty {
            guard let next = pair.client.nextDeadline() else { break }
            now = next
            pair.client.handleTimeout(now: now)
            probe = pair.client.drainTransmits(now: now)
        }
        #expect(probe.count >= 1)
        #expect(probe.first.map { $0.bytes.count > 600 } == true, "the probe did not carry the lost data")
    }
}
