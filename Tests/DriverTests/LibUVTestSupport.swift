// Helpers for LibUVDriverTests: peers on LibUVDrivers, a bulk transfer
// driven from the event handlers, latches, a caller-run libuv loop.
import CLibUV
import Dispatch
import Glibc
import SecureStreams
import SecureStreamsCore
import SecureStreamsLibUV

/// Opens once; waiters give up after a generous bound (a failure, not a timing check).
final class LibUVLatch: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let opened = Locked(false)

    func open() {
        let first = opened.withLock { opened in
            defer { opened = true }
            return !opened
        }
        if first { semaphore.signal() }
    }

    /// True once opened; false after `seconds` without.
    func wait(seconds: Int = 30) -> Bool {
        if semaphore.wait(timeout: .now() + .seconds(seconds)) == .timedOut { return false }
        semaphore.signal()  // stay open for later waiters
        return true
    }
}

/// An endpoint on a LibUVDriver, with its events forwarded to `handler`.
struct LibUVPeer {
    let driver: LibUVDriver
    let id: EndpointID
    var address: PeerAddress { driver.localAddress }

    /// `handler` runs on the loop thread for every event.
    init(factory: LibUVDriverFactory = LibUVDriverFactory(), binding: PeerAddress, listens: Bool = false,
         handler: @escaping (EndpointLoop, Event, Timestamp) -> Void = { _, _, _ in }) throws {
        var random = SystemRandom()
        let configuration = EndpointConfiguration(identity: HostIdentity(using: &random))
        var endpoint = Endpoint(configuration: configuration, random: SystemRandom(), now: LibUVDriver.now())
        if listens { endpoint.listen(service: "test", protocol: "bytes") }
        id = endpoint.endpointID
        let loop = EndpointLoop(endpoint: endpoint)
        loop.eventHandler = handler
        driver = try factory.startDriver(loop, binding: binding)
    }

    /// Connects (Noise IK) to `server` at `address`; the connected events follow.
    func connect(to server: EndpointID, at address: PeerAddress) {
        driver.execute { loop in
            _ = try? loop.endpoint.connect(to: server, at: address, service: "test", protocol: "bytes",
                                           now: LibUVDriver.now())
        }
    }
}

/// The byte at `offset` of stream `index`: position-dependent, so any loss,
/// duplication or reordering shows.
func libUVPatternByte(stream index: UInt64, offset: Int) -> UInt8 {
    UInt8(truncatingIfNeeded: offset &* 31 &+ Int(index) &* 17 &+ (offset >> 8))
}

/// The client side of a bulk transfer: opens `streams` streams once
/// connected, writes `bytesPerStream` on each as room appears, then finishes.
/// Loop-confined (only its driver's event handler calls it).
final class LibUVSender: @unchecked Sendable {
    let streams: Int
    let bytesPerStream: Int
    private var connection: ConnectionHandle?
    private var ids: [StreamID] = []
    private var written: [Int]
    /// Per stream, the pattern for `[stagedAt, stagedAt + 64 KiB)`: generated
    /// once per region, however many writes it takes to get it accepted.
    private var staged: [[UInt8]]
    private var stagedAt: [Int]
    private static let chunk = 64 * 1024
    let connected = LibUVLatch()

    init(streams: Int, bytesPerStream: Int) {
        self.streams = streams
        self.bytesPerStream = bytesPerStream
        written = Array(repeating: 0, count: streams)
        staged = Array(repeating: [], count: streams)
        stagedAt = Array(repeating: -1, count: streams)
    }

    func handle(_ loop: EndpointLoop, _ event: Event) {
        switch event {
        case .connected(let handle, _, _, _, _):
            connection = handle
            connected.open()
            for _ in 0..<streams {
                if let id = try? loop.endpoint.openStream(on: handle) { ids.append(id) }
            }
            pump(loop)
        case .streamWritable:
            pump(loop)
        default:
            break
        }
    }

    private func pump(_ loop: EndpointLoop) {
        guard let connection else { return }
        for (index, id) in ids.enumerated() where written[index] < bytesPerStream {
            while written[index] < bytesPerStream {
                let region = written[index] / Self.chunk * Self.chunk
                if stagedAt[index] != region {
                    let count = min(Self.chunk, bytesPerStream - region)
                    staged[index] = (0..<count).map { libUVPatternByte(stream: id.index, offset: region + $0) }
                    stagedAt[index] = region
                }
                let from = written[index] - region
                let wanted = staged[index].count - from
                let accepted = (try? staged[index][from...].withUnsafeBytes {
                    try loop.endpoint.write($0, to: id, on: connection)
                }) ?? 0
                written[index] += accepted
                if accepted < wanted { break }
            }
            if written[index] == bytesPerStream { try? loop.endpoint.finish(id, on: connection) }
        }
    }
}

/// The server side: reads every stream to its end, checking each byte
/// against the pattern; opens `done` when `streams` streams ended.
/// Loop-confined; read the results after `done` opened.
final class LibUVReceiver: @unchecked Sendable {
    let streams: Int
    private(set) var received: [UInt64: Int] = [:]
    private(set) var mismatches = 0
    private(set) var finished: Set<UInt64> = []
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    let connected = LibUVLatch()
    let done = LibUVLatch()

    init(streams: Int) { self.streams = streams }

    var totalReceived: Int { received.values.reduce(0, +) }

    func handle(_ loop: EndpointLoop, _ event: Event) {
        switch event {
        case .connected:
            connected.open()
        case .streamReadable(let connection, let id):
            read(loop, connection, id)
        default:
            break
        }
    }

    private func read(_ loop: EndpointLoop, _ connection: ConnectionHandle, _ id: StreamID) {
        while true {
            let count: Int?
            do {
                count = try buffer.withUnsafeMutableBytes { try loop.endpoint.read(from: id, on: connection, into: $0) }
            } catch {
                return
            }
            guard let count else {
                finished.insert(id.index)
                if finished.count == streams { done.open() }
                return
            }
            if count == 0 { return }
            let start = received[id.index, default: 0]
            for i in 0..<count where buffer[i] != libUVPatternByte(stream: id.index, offset: start + i) {
                mismatches += 1
            }
            received[id.index] = start + count
        }
    }
}

/// A libuv loop the test owns and runs on a thread of its own, kept alive
/// by an async handle until ``stopAndJoin()``.
final class LibUVTestLoop: @unchecked Sendable {
    let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
    private let stopper = UnsafeMutablePointer<uv_async_t>.allocate(capacity: 1)
    private var thread = pthread_t()

    init() {
        precondition(uv_loop_init(loop) == 0)
        precondition(uv_async_init(loop, stopper) { handle in
            uv_close(UnsafeMutableRawPointer(handle!).assumingMemoryBound(to: uv_handle_t.self), nil)
        } == 0)
    }

    func start() {
        let context = Unmanaged.passUnretained(self).toOpaque()
        precondition(pthread_create(&thread, nil, { context in
            let me = Unmanaged<LibUVTestLoop>.fromOpaque(context!).takeUnretainedValue()
            uv_run(me.loop, UV_RUN_DEFAULT)
            return nil
        }, context) == 0)
    }

    /// Lets the loop end once nothing else is open, joins its thread, and
    /// returns `uv_loop_close`'s status (`UV_EBUSY` if a handle was left open).
    func stopAndJoin() -> Int32 {
        uv_async_send(stopper)
        pthread_join(thread, nil)
        let status = uv_loop_close(loop)
        stopper.deallocate()
        if status == 0 { loop.deallocate() }
        return status
    }
}

/// A plain UDP socket for sending junk.
struct LibUVRawSocket {
    let fd: Int32

    init() { fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0) }

    func send(_ bytes: [UInt8], to address: PeerAddress) {
        _ = bytes.withUnsafeBytes { raw in
            address.withSocketAddress { pointer, length in
                sendto(fd, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, raw.count, 0, pointer, length)
            }
        }
    }

    func close() { _ = Glibc.close(fd) }
}

/// Whether a UDP socket can bind `[::1]`.
let libUVIPv6LoopbackAvailable: Bool = {
    let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return PeerAddress.loopback(.ipv6).withSocketAddress { bind(fd, $0, $1) == 0 }
}()
