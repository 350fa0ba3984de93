import Testing
@testable import SecureStreamsCore

/// What an idle connection keeps (docs/CORE.md, "Memory per connection"):
/// its buffers stay at their small starting sizes, the endpoint's slots hold
/// a reference each, and a copied endpoint still owns its connections.
@Suite struct EndpointMemoryTests {
    /// A connected pair with keep-alives, run for `idle` of virtual time.
    static func idlePair(seed: UInt64, idle: Duration) throws -> (Pair, ConnectionHandle) {
        var pair = Pair(seed: seed) { configuration, _ in configuration.keepAliveInterval = .seconds(10) }
        let handle = try pair.connect()
        #expect(pair.drive(timeout: .seconds(2)) { $0.connected(.responder) != nil })
        let end = pair.now + idle
        #expect(pair.drive(timeout: idle + .seconds(1)) { $0.now >= end })
        return (pair, handle)
    }

    @Test func aSlotHoldsAReferenceNotAConnection() {
        #expect(MemoryLayout<Endpoint.Slot>.stride == 16)
    }

    @Test func idleConnectionsKeepTheirBuffersSmall() throws {
        let (pair, _) = try Self.idlePair(seed: 71, idle: .seconds(35))
        for endpoint in [pair.client, pair.server] {
            let connection = try #require(endpoint.slots.lazy.compactMap(\.connection).first)
            #expect(connection.isEstablished)
            #expect(connection.statistics.packetsReceived >= 3, "keep-alives went both ways")
            // Lent by the endpoint for each ACK or timeout, never kept.
            #expect(connection.recoveryEvents.acknowledged.capacity == 0)
            #expect(connection.recoveryEvents.lost.capacity == 0)
            #expect(connection.releasedFrames.capacity == 0)
            #expect(connection.loss.sent.capacity == SentPacketTracker.initialSlots)
            #expect(connection.acks.ranges.capacity <= 4)
        }
    }

    /// Slots share boxes between copies until one copy changes a connection.
    @Test func aCopiedEndpointKeepsItsOwnConnections() throws {
        var (pair, handle) = try Self.idlePair(seed: 72, idle: .seconds(1))
        let before = try #require(pair.client.statistics(of: handle)).packetsSent
        var copy = pair.client
        let stream = try copy.openStream(on: handle)
        _ = try copy.write([UInt8](repeating: 7, count: 4_000), to: stream, on: handle)
        let sent = copy.drainTransmits(now: pair.now)
        #expect(!sent.isEmpty)
        #expect(try #require(copy.statistics(of: handle)).packetsSent > before)
        #expect(try #require(pair.client.statistics(of: handle)).packetsSent == before)
        // The original never saw the copy's stream: it opens the same id, and
        // what it sends leaves the copy's count alone.
        let copySent = try #require(copy.statistics(of: handle)).packetsSent
        let own = try pair.client.openStream(on: handle)
        #expect(own == stream)
        _ = try pair.client.write([UInt8](repeating: 8, count: 100), to: own, on: handle)
        #expect(!pair.client.drainTransmits(now: pair.now).isEmpty)
        #expect(try #require(pair.client.statistics(of: handle)).packetsSent > before)
        #expect(try #require(copy.statistics(of: handle)).packetsSent == copySent)
    }
}
