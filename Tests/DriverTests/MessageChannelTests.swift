import Foundation
@testable import SecureStreams
import SecureStreamsCore
import Testing

/// Message channels (docs/CHANNELS.md) between two hosts on loopback.
@Suite(.timeLimit(.minutes(3))) struct MessageChannelTests {
    /// A connected pair: the client's and the server's ends.
    static func pair(clientOptions: ChannelOptions = ChannelOptions(), serverOptions: ChannelOptions = ChannelOptions())
        async throws -> (client: MessageChannels, server: MessageChannels, hosts: [SecureStreams.Host])
    {
        let server = try HostTests.host()
        let client = try HostTests.host()
        let listener = try await server.listen(service: "chan", protocols: ["v1"])
        async let accepted: Connection? = listener.first { _ in true }
        let connection = try await client.connect(to: server.endpointID, at: server.localAddress, service: "chan", protocol: "v1")
        let serverSide = try #require(await accepted)
        return (MessageChannels(connection: connection, options: clientOptions),
                MessageChannels(connection: serverSide, options: serverOptions), [client, server])
    }

    /// The channels of the many-writers test: small, large and the highest number.
    static let channelIDs: [UInt32] = [0, 1, 2, 3, 4, 5, 1000, MessageChannels.maxChannelID]
    static let writersPerChannel = 4
    static let messagesPerWriter = 250

    /// Message `index` of `writer` on `channel`: 1…1,000 bytes drawn from
    /// the seed; the first byte names the writer, the rest depends on all four.
    static func message(seed: UInt64, channel: UInt32, writer: Int, index: Int) -> [UInt8] {
        var state = seed ^ UInt64(channel) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(writer) << 56 ^ UInt64(index) << 20
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let count = 1 + Int(next() % 1000)
        return [UInt8(writer)] + (1..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }

    @Test func manyWritersOnEightChannelsDeliverWholeMessagesInOrder() async throws {
        let filter = "manyWritersOnEightChannels"
        let seed = TestSeeds.seed(0x6368_616e, filter: filter)
        let (client, server, hosts) = try await Self.pair()
        let perChannel = Self.writersPerChannel * Self.messagesPerWriter

        // Receivers: a handler for the last channel, the sequence for the others.
        let received = try await withThrowingTaskGroup(of: (UInt32, [SendTicket]).self) { group in
            for id in Self.channelIDs {
                group.addTask {
                    var next = [Int](repeating: 0, count: Self.writersPerChannel)
                    var count = 0
                    let check: ([UInt8]) -> Void = { message in
                        let writer = Int(message[0])
                        #expect(writer < Self.writersPerChannel, "channel \(id): \(TestSeeds.replay(seed, filter: filter))")
                        guard writer < Self.writersPerChannel else { return }
                        let expected = Self.message(seed: seed, channel: id, writer: writer, index: next[writer])
                        #expect(message == expected,
                                "channel \(id) writer \(writer) message \(next[writer]): \(TestSeeds.replay(seed, filter: filter))")
                        next[writer] += 1
                        count += 1
                    }
                    if id == MessageChannels.maxChannelID {
                        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
                        server.channel(id).setHandler({ continuation.yield($0) }, onError: { _ in continuation.finish() })
                        for await message in stream {
                            check(message)
                            if count == perChannel { break }
                        }
                    } else {
                        for try await message in server.channel(id).messages {
                            check(message)
                            if count == perChannel { break }
                        }
                    }
                    #expect(count == perChannel, "channel \(id): \(TestSeeds.replay(seed, filter: filter))")
                    return (id, [])
                }
            }
            // Writers: four tasks per channel, all at once.
            for id in Self.channelIDs {
                for writer in 0..<Self.writersPerChannel {
                    group.addTask {
                        var tickets: [SendTicket] = []
                        for index in 0..<Self.messagesPerWriter {
                            let ticket = try client.send(Self.message(seed: seed, channel: id, writer: writer, index: index), on: id)
                            tickets.append(ticket)
                            // Keep the queue within its bound: wait for every 32nd message to be sent.
                            if index % 32 == 31 { try await ticket.sent() }
                        }
                        return (id, tickets)
                    }
                }
            }
            var tickets: [SendTicket] = []
            for try await (_, some) in group { tickets += some }
            return tickets
        }
        #expect(received.count == Self.channelIDs.count * perChannel)
        for ticket in received { try await ticket.sent() }
        for ticket in received { try await ticket.acknowledged() }
        #expect(received.allSatisfy { $0.status == .acknowledged })
        for host in hosts { await host.shutdown() }
    }

    @Test func defaultChannelReadsAndWrites() async throws {
        let (client, server, hosts) = try await Self.pair()
        try await client.write(Array("hello".utf8))
        try await client.write(Array("world".utf8))
        #expect(try await server.read() == Array("hello".utf8))
        #expect(try await server.read() == Array("world".utf8))
        try await server.write(Array("back".utf8))
        #expect(try await client.read() == Array("back".utf8))
        #expect(client.defaultChannel.id == nil)
        for host in hosts { await host.shutdown() }
    }

    @Test func messagesOverTheLimitAreRefusedOnBothSides() async throws {
        let (client, server, hosts) = try await Self.pair(
            clientOptions: ChannelOptions(maxMessageSize: 4_000), serverOptions: ChannelOptions(maxMessageSize: 1_000))
        // The sender refuses what exceeds its own limit, and queues nothing.
        #expect(throws: ChannelError(.messageTooLarge(size: 4_001, limit: 4_000))) {
            try client.send([UInt8](repeating: 1, count: 4_001), on: 3)
        }
        #expect(throws: ChannelError(.emptyMessage)) { try client.send([], on: 3) }
        // The receiver refuses what exceeds its limit: its channel ends with
        // the error, and the sender's tickets learn that the peer refused.
        try await client.send([UInt8](repeating: 2, count: 1_000), on: 3).acknowledged()
        let refused = try client.send([UInt8](repeating: 3, count: 2_000), on: 3)
        let channel = server.channel(3)
        #expect(try await channel.receive() == [UInt8](repeating: 2, count: 1_000))
        await #expect(throws: ChannelError(.messageTooLarge(size: 2_000, limit: 1_000))) { try await channel.receive() }
        let error = await #expect(throws: ChannelError.self) { try await refused.acknowledged() }
        #expect(error?.kind == .peerRefused(MessageChannels.messageTooLargeCode))
        // Other channels go on.
        try await client.send([7], on: 4).acknowledged()
        #expect(try await server.channel(4).receive() == [7])
        for host in hosts { await host.shutdown() }
    }

    @Test func aConnectionThatDiesFailsEveryPendingTicket() async throws {
        // The server keeps one message and stops reading: flow control holds
        // the rest of 2 MB (its stream window starts at 256 KiB), so most
        // tickets cannot be acknowledged before the connection closes.
        let (client, server, hosts) = try await Self.pair(serverOptions: ChannelOptions(receiveBufferMessages: 1))
        _ = server.channel(9)
        var tickets: [SendTicket] = []
        for index in 0..<2_000 {
            tickets.append(try client.send([UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 1_000), on: 9))
        }
        try await tickets[0].acknowledged()
        await client.connection.close(code: ErrorCode(77), reason: "test")
        var failed = 0
        var acknowledged = 0
        for ticket in tickets {
            do {
                try await ticket.acknowledged()
                acknowledged += 1
                #expect(failed == 0, "acknowledgements come in order")
            } catch {
                guard case .connectionClosed = error.kind else {
                    Issue.record("a pending ticket failed with \(error), not the connection's end")
                    continue
                }
                failed += 1
            }
        }
        #expect(acknowledged >= 1 && failed >= 1 && acknowledged + failed == tickets.count)
        #expect(tickets.last?.status != .acknowledged)
        // A message sent after the end fails at once, through its ticket.
        let late = try client.send([1], on: 9)
        await #expect(throws: ChannelError.self) { try await late.sent() }
        let serverError = await #expect(throws: ChannelError.self) {
            while true { _ = try await server.channel(9).receive() }
        }
        if case .connectionClosed = serverError?.kind {} else { Issue.record("the server's channel ended with \(String(describing: serverError))") }
        for host in hosts { await host.shutdown() }
    }
}
