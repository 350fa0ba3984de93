#if canImport(Glibc)
import Glibc
#endif
import SecureStreams
import SecureStreamsCore
import Testing

/// The shared loop's send side over a real loopback socket: a core run
/// (a transmit with `segmentSize`) goes out as the one GSO message it is,
/// while datagrams polled one by one are still grouped as before.
@Suite struct SendBatcherTests {
    /// Two non-blocking UDP sockets on loopback: one to send from, one to read.
    struct Sockets {
        let sender: Int32
        let receiver: Int32
        let receiverAddress: PeerAddress

        init() throws {
            // SOCK_DGRAM | SOCK_NONBLOCK, Linux's values: in this test module the
            // clang importer does not always surface the socket-type enum.
            let flags: Int32 = 2 | 0o4000
            let (sending, reading) = (socket(AF_INET, flags, 0), socket(AF_INET, flags, 0))
            try #require(sending >= 0 && reading >= 0)
            try #require(PeerAddress.loopback().withSocketAddress { bind(reading, $0, $1) } == 0)
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let bound = withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                    getsockname(reading, address, &length) == 0 ? PeerAddress(socketAddress: address) : nil
                }
            }
            receiverAddress = try #require(bound)
            (sender, receiver) = (sending, reading)
        }

        /// The sizes of every datagram waiting on the receiver.
        func received() -> [Int] {
            var sizes: [Int] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = recv(receiver, &buffer, buffer.count, 0)
                guard count >= 0 else { return sizes }
                sizes.append(count)
            }
        }

        func close() {
            _ = Glibc.close(sender)
            _ = Glibc.close(receiver)
        }
    }

    /// Fills the batcher with one core run of four 1,000-byte datagrams, then
    /// three single 1,000-byte datagrams to the same peer, and flushes.
    static func sendRunThenSingles(
        _ batcher: inout SendBatcher, on sockets: Sockets
    ) -> (SendBatcher.Outcome, SendCounters) {
        var transmits = [Transmit(destination: sockets.receiverAddress, count: 4_000, segmentSize: 1_000)]
            + Array(repeating: Transmit(destination: sockets.receiverAddress, count: 1_000), count: 3)
        let ranDry = batcher.fill(minimumSpace: 1_000) { buffer in
            guard !transmits.isEmpty else { return nil }
            let transmit = transmits.removeFirst()
            buffer.initializeMemory(as: UInt8.self, repeating: 7)
            return transmit
        }
        #expect(ranDry)
        var counters = SendCounters()
        let outcome = batcher.flush(on: sockets.sender, counters: &counters)
        return (outcome, counters)
    }

    @Test func aCoreRunIsSentAsItCameAndSinglesAreStillGrouped() throws {
        let sockets = try Sockets()
        defer { sockets.close() }
        let usesGSO = UDPOption.supportsGSO(on: sockets.sender)
        var batcher = SendBatcher(batchSize: 8, usesGSO: usesGSO, socketFamily: .ipv4)
        let (outcome, counters) = Self.sendRunThenSingles(&batcher, on: sockets)
        #expect(outcome == .sent)
        #expect(counters.datagramsSent == 7 && counters.bytesSent == 7_000 && counters.sendErrors == 0)
        #expect(counters.sendBatches == 1, "one sendmmsg for everything: \(counters)")
        if batcher.usesGSO {
            // Two messages: the core's run as it came, and the three singles grouped.
            // Regrouping by destination and size would have made one message of seven.
            #expect(counters.gsoSends == 2, "\(counters)")
        } else {
            #expect(counters.gsoSends == 0)
        }
        #expect(sockets.received() == Array(repeating: 1_000, count: 7))
    }

    @Test func withoutGSOACoreRunIsSplitIntoDatagrams() throws {
        let sockets = try Sockets()
        defer { sockets.close() }
        var batcher = SendBatcher(batchSize: 8, usesGSO: false, socketFamily: .ipv4)
        let (outcome, counters) = Self.sendRunThenSingles(&batcher, on: sockets)
        #expect(outcome == .sent)
        #expect(counters.datagramsSent == 7 && counters.gsoSends == 0 && counters.sendErrors == 0, "\(counters)")
        #expect(sockets.received() == Array(repeating: 1_000, count: 7))
    }
}
