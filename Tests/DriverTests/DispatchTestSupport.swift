// Helpers for DispatchDriverTests: an endpoint on a DispatchDriver, a bulk
// sender and receiver living on the loop thread, and a semaphore bridge.
#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import SecureStreams
import SecureStreamsDispatch

/// How long a test waits for the network before it reports failure. Not a
/// timing assertion: a healthy run needs a small fraction of it.
let dispatchTestPatience = DispatchTimeInterval.seconds(30)

/// An endpoint in an `EndpointLoop` on its own `DispatchDriver`.
struct DispatchPeer {
    let driver: DispatchDriver
    let endpointID: EndpointID

    /// Starts a peer bound to `address`; `handler` sees every event on the loop thread.
    init(binding address: PeerAddress, factory: DispatchDriverFactory = DispatchDriverFactory(),
         listening: Bool = false,
         handler: @escaping (EndpointLoop, Event, Timestamp) -> Void = { _, _, _ in }) throws {
        var random = SystemRandom()
        let configuration = EndpointConfiguration(identity: HostIdentity(using: &random))
        var endpoint = Endpoint(configuration: configuration, random: SystemRandom(), now: DispatchDriver.currentTime())
        if listening { endpoint.listen(service: "bulk", protocol: "v1") }
        endpointID = endpoint.endpointID
        let loop = EndpointLoop(endpoint: endpoint)
        loop.eventHandler = handler
        driver = try factory.startDriver(loop, binding: address)
    }

    /// Starts the handshake towards `peer` at `address`.
    func connect(to peer: EndpointID, at address: PeerAddress) {
        driver.execute { loop in
            _ = try? loop.endpoint.connect(to: peer, at: address, service: "bulk", protocol: "v1",
                                           now: DispatchDriver.currentTime())
        }
    }
}

/// Byte `offset` of stream `index` in every transfer: not periodic over a
/// packet, so a misplaced or duplicated chunk shows.
@inline(__always)
func dispatchPattern(_ index: Int, _ offset: Int) -> UInt8 {
    UInt8(truncatingIfNeeded: (UInt64(offset) &* 2_654_435_761) >> 16) ^ UInt8(truncatingIfNeeded: index &* 37)
}

/// The client's side of a bulk transfer: on `connected` it opens `streams`
/// streams and writes each (a one-byte index, then the pattern), continuing
/// on `streamWritable`, and finishes them. Touched only on the loop thread.
final class BulkSender: @unchecked Sendable {
    private let payloads: [[UInt8]]
    private var streams: [StreamID: (index: Int, sent: Int)] = [:]
    private(set) var connectedAt: Timestamp?

    init(streams count: Int, bytesPerStream: Int) {
        payloads = (0..<count).map { index in [UInt8(index)] + (0..<bytesPerStream).map { dispatchPattern(index, $0) } }
    }

    func handle(_ loop: EndpointLoop, _ event: Event, _ now: Timestamp) {
        switch event {
        case .connected(let connection, _, _, _, _):
            connectedAt = now
            for index in payloads.indices {
                guard let stream = try? loop.endpoint.openStream(on: connection) else { return }
                streams[stream] = (index, 0)
                write(stream, on: connection, loop)
            }
        case .streamWritable(let connection, let stream):
            write(stream, on: connection, loop)
        default:
            break
        }
    }

    private func write(_ stream: StreamID, on connection: ConnectionHandle, _ loop: EndpointLoop) {
        guard var entry = streams[stream] else { return }
        let payload = payloads[entry.index]
        while entry.sent < payload.count {
            let end = min(entry.sent + 65_536, payload.count)
            let accepted = payload.withUnsafeBytes { bytes in
                (try? loop.endpoint.write(UnsafeRawBufferPointer(rebasing: bytes[entry.sent..<end]),
                                          to: stream, on: connection)) ?? 0
            }
            guard accepted > 0 else { break }  // the buffer is full: `streamWritable` follows
            entry.sent += accepted
        }
        streams[stream] = entry
        if entry.sent == payload.count { try? loop.endpoint.finish(stream, on: connection) }
    }
}

/// The server's side: reads every stream on `streamReadable`, checks each
/// byte against the pattern, and signals `done` when `streams` streams have
/// ended. Touched only on the loop thread until `done` is signalled.
final class BulkReceiver: @unchecked Sendable {
    struct Received { var index: Int?; var count = 0; var mismatches = 0; var finished = false }

    let done = DispatchSemaphore(value: 0)
    private let expectedStreams: Int
    private(set) var received: [StreamID: Received] = [:]
    private(set) var peerAddress: PeerAddress?
    private(set) var finishedAt: Timestamp?
    private var buffer = [UInt8](repeating: 0, count: 65_536)

    init(streams: Int) { expectedStreams = streams }

    func handle(_ loop: EndpointLoop, _ event: Event, _ now: Timestamp) {
        switch event {
        case .connected(let connection, _, _, _, _):
            peerAddress = loop.endpoint.address(of: connection)
        case .streamReadable(let connection, let stream):
            read(stream, on: connection, loop, now)
        default:
            break
        }
    }

    private func read(_ stream: StreamID, on connection: ConnectionHandle, _ loop: EndpointLoop, _ now: Timestamp) {
        var entry = received[stream] ?? Received()
        guard !entry.finished else { return }
        while true {
            let count = buffer.withUnsafeMutableBytes {
                try? loop.endpoint.read(from: stream, on: connection, into: $0)
            }
            guard let count else {  // nil: the end (or an error, which the test then sees as missing bytes)
                entry.finished = true
                break
            }
            if count == 0 { break }
            buffer.withUnsafeBufferPointer { bytes in
                var start = 0
                if entry.index == nil {
                    entry.index = Int(bytes[0])
                    start = 1
                }
                let index = entry.index!
                var offset = entry.count
                for position in start..<count {
                    if bytes[position] != dispatchPattern(index, offset) { entry.mismatches += 1 }
                    offset += 1
                }
                entry.count = offset
            }
        }
        received[stream] = entry
        if entry.finished, received.values.filter(\.finished).count == expectedStreams {
            finishedAt = now
            done.signal()
        }
    }
}

/// Runs `body` on `driver`'s loop and returns what it computed (nil after 30 s).
func onLoop<T: Sendable>(_ driver: DispatchDriver, _ body: @escaping @Sendable (EndpointLoop) -> T) -> T? {
    let result = Locked<T?>(nil)
    let semaphore = DispatchSemaphore(value: 0)
    driver.execute { loop in
        let value = body(loop)
        result.withLock { $0 = value }
        semaphore.signal()
    }
    guard semaphore.wait(timeout: .now() + dispatchTestPatience) == .success else { return nil }
    return result.withLock { $0 }
}

/// Whether this machine can bind UDP on [::1].
let dispatchHasIPv6Loopback: Bool = {
    let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return PeerAddress.loopback(.ipv6).withSocketAddress { bind(fd, $0, $1) } == 0
}()
