// FuzzEndpointOps: a connected client/server pair driven by a sequence of
// operations decoded from the input (after quinn's fuzz/fuzz_targets/streams.rs
// idea, written afresh): deliver, drop, mutate, inject or replay datagrams,
// move the clock, and the application's stream commands on either side.
// Checked after every step: no trap, connection counts bounded, and every
// byte read from a stream is the next byte its writer wrote.
#if FUZZ_PACKAGE
@_spi(Fuzzing) import SecureStreamsCore
#else
@testable @_spi(Fuzzing) import SecureStreamsCore
#endif

public enum FuzzEndpointOps {
    nonisolated(unsafe) static let base = FuzzWire.connected()

    /// Per direction: stream id → bytes accepted by `write` (the writer's side)
    /// and bytes read so far (the reader's side).
    struct Ledger {
        var opened: [StreamID] = []
        var written: [StreamID: UInt64] = [:]
        var read: [StreamID: UInt64] = [:]
        var finished: Set<StreamID> = []
    }

    /// Returns how many bytes were read and checked against what was written.
    @discardableResult
    public static func run(_ data: UnsafeRawBufferPointer) -> Int {
        var checked = 0
        var input = FuzzBytes(data)
        var wire = base
        let handles = [wire.clientHandle!, wire.serverHandle!]
        // ledgers[0]: streams the client writes, ledgers[1]: the server's.
        var ledgers = [Ledger(), Ledger()]
        var operations = 0

        func endpoint(_ side: Int, _ body: (inout Endpoint) -> Void) {
            if side == 0 { body(&wire.client) } else { body(&wire.server) }
        }

        func checkRead(reader: Int, stream: StreamID, maxBytes: Int) {
            let writer = 1 - reader
            var bytes: [UInt8]? = []
            endpoint(reader) { bytes = try? $0.read(from: stream, on: handles[reader], maxBytes: maxBytes) }
            guard let bytes, !bytes.isEmpty else { return }
            let offset = ledgers[writer].read[stream, default: 0]
            let written = ledgers[writer].written[stream, default: 0]
            precondition(offset + UInt64(bytes.count) <= written, "read more bytes than were written")
            precondition(bytes == fuzzPattern(stream: stream.rawValue, from: offset, count: bytes.count),
                         "bytes read are not the bytes written")
            ledgers[writer].read[stream] = offset + UInt64(bytes.count)
            checked += bytes.count
        }

        func pick(_ side: Int, _ selector: UInt8) -> StreamID? {
            let opened = ledgers[side].opened
            return opened.isEmpty ? nil : opened[Int(selector) % opened.count]
        }

        while !input.isEmpty && operations < 200 {
            operations += 1
            let op = input.u8()
            let side = Int(op >> 7)
            switch op & 0x0F {
            case 0:
                if !wire.inFlight.isEmpty { wire.deliver(wire.inFlight.removeFirst()) }
            case 1:
                if !wire.inFlight.isEmpty {
                    var datagram = wire.inFlight.removeFirst()
                    let position = Int(input.u16()) % max(1, datagram.bytes.count)
                    if !datagram.bytes.isEmpty { datagram.bytes[position] ^= input.u8() | 1 }
                    wire.deliver(datagram)
                }
            case 2:
                if !wire.inFlight.isEmpty { wire.inFlight.removeFirst() }
            case 3:
                let sources = [FuzzFixtures.clientAddress, FuzzFixtures.serverAddress, FuzzFixtures.strangerAddress]
                let source = sources[Int(input.u8()) % sources.count]
                let bytes = input.bytes(Int(input.u8()))
                wire.deliver(.init(toServer: side == 1, source: source, bytes: bytes))
            case 4:
                wire.advance(by: .milliseconds(Int64(input.u16() % 5_000) + 1))
            case 5:
                endpoint(side) { endpoint in
                    if let stream = try? endpoint.openStream(on: handles[side]) {
                        ledgers[side].opened.append(stream)
                    }
                }
            case 6:
                let selector = input.u8()
                let count = Int(input.u16() % 6_000)
                guard let stream = pick(side, selector), !ledgers[side].finished.contains(stream) else { break }
                let offset = ledgers[side].written[stream, default: 0]
                let bytes = fuzzPattern(stream: stream.rawValue, from: offset, count: count)
                var accepted = 0
                endpoint(side) { accepted = (try? $0.write(bytes, to: stream, on: handles[side], endOfRecord: count & 1 == 1)) ?? 0 }
                precondition(accepted <= count)
                ledgers[side].written[stream] = offset + UInt64(accepted)
            case 7:
                // Read on `side` a stream the other side writes.
                let selector = input.u8()
                let maxBytes = Int(input.u16()) + 1
                if let stream = pick(1 - side, selector) { checkRead(reader: side, stream: stream, maxBytes: maxBytes) }
            case 8:
                if let stream = pick(side, input.u8()) {
                    endpoint(side) { try? $0.finish(stream, on: handles[side]) }
                    ledgers[side].finished.insert(stream)
                }
            case 9:
                if let stream = pick(side, input.u8()) {
                    let code = ErrorCode(UInt64(input.u8()))
                    endpoint(side) { try? $0.reset(stream, on: handles[side], code: code) }
                    ledgers[side].finished.insert(stream)
                }
            case 10:
                if let stream = pick(1 - side, input.u8()) {
                    let code = ErrorCode(UInt64(input.u8()))
                    endpoint(side) { try? $0.stopSending(stream, on: handles[side], code: code) }
                }
            case 11:
                if input.u8() == 0xC1 {
                    let now = wire.now
                    endpoint(side) { $0.close(handles[side], code: .noError, reason: "fuzz", now: now) }
                }
            case 12:
                if !wire.sent.isEmpty {
                    let datagram = wire.sent[Int(input.u8()) % wire.sent.count]
                    wire.deliver(datagram)
                }
            case 13:
                wire.deliverAll(rounds: 2)
            case 14:
                // Paths (PROTOCOL.md §7): a datagram from another address (a
                // rebinding, or an attacker's racing copy), or the client moving.
                let selector = input.u8()
                switch selector % 3 {
                case 0:
                    guard !wire.inFlight.isEmpty else { break }
                    var datagram = wire.inFlight.removeFirst()
                    if datagram.toServer {
                        datagram.source = [FuzzFixtures.reboundAddress, FuzzFixtures.strangerAddress][Int(selector >> 2) % 2]
                    }
                    wire.deliver(datagram)
                case 1:
                    let now = wire.now
                    _ = try? wire.client.migrate(handles[0], toLocalAddress: FuzzFixtures.movedAddress, now: now)
                default:
                    wire.flush()
                }
            default:
                wire.flush()
            }
            wire.flush()
            precondition(wire.client.connectionCount <= 1, "the client holds a connection it never opened")
            precondition(wire.server.connectionCount <= 1 + wire.deliveredToServer,
                         "more server connections than Initiations delivered")
        }

        // Let everything arrive, then read all that is readable.
        wire.settle(rounds: 8)
        for reader in 0..<2 {
            for stream in ledgers[1 - reader].opened {
                checkRead(reader: reader, stream: stream, maxBytes: 1 << 20)
            }
        }
        return checked
    }

    public static func seeds() -> [(name: String, bytes: [UInt8])] {
        [
            // open on the client, write 1000 bytes, deliver all, read on the server.
            ("client-write-read", [0x05, 0x06, 0x00, 0x03, 0xE8, 0x0D, 0x87, 0x00, 0x10, 0x00]),
            // both sides open and write; finish; advance time; read both ways.
            ("both-ways", [0x05, 0x85, 0x06, 0x00, 0x10, 0x00, 0x86, 0x00, 0x08, 0x01, 0x08, 0x00,
                           0x0D, 0x04, 0x00, 0x20, 0x0D, 0x87, 0x00, 0xFF, 0xFF, 0x07, 0x00, 0xFF, 0xFF]),
            // write, drop the first datagram, mutate the next, let loss recovery run.
            ("loss-and-corruption", [0x05, 0x06, 0x00, 0x17, 0x70, 0x02, 0x01, 0x00, 0x21, 0x44,
                                     0x04, 0x01, 0xF4, 0x0D, 0x04, 0x03, 0xE8, 0x0D, 0x87, 0x00, 0xFF, 0xFF]),
            // reset, stop sending, replay an old datagram, inject junk to the server.
            ("reset-replay-inject", [0x05, 0x06, 0x00, 0x02, 0x00, 0x09, 0x00, 0x05, 0x8A, 0x00, 0x03,
                                     0x0C, 0x02, 0x83, 0x02, 0x04, 0x01, 0x10, 0x00, 0x00, 0x0D]),
            // close from the server, then time passes.
            ("close", [0x8B, 0xC1, 0x0D, 0x04, 0x13, 0x88, 0x0D]),
            // write; one datagram from a rebound address, one from a stranger;
            // the client moves; time passes: path probes, NEW_CONNECTION_ID, RETIRE.
            ("paths", [0x05, 0x06, 0x00, 0x0B, 0xB8, 0x0E, 0x00, 0x0E, 0x0C, 0x0D, 0x0E, 0x04, 0x0D, 0x0D,
                       0x04, 0x01, 0xF4, 0x0D, 0x04, 0x07, 0xD0, 0x0D, 0x87, 0x00, 0xFF, 0xFF]),
        ]
    }
}
