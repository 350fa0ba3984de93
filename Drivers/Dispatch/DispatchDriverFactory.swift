// Starting a DispatchDriver.
import Dispatch
public import SecureStreams

/// Starts ``DispatchDriver``s: binds a UDP socket and runs an endpoint loop on it.
public struct DispatchDriverFactory: DriverFactory {
    /// Messages per recvmmsg / sendmmsg call (each receive buffer is 64 KiB,
    /// and so is each send message's share of the send area).
    public var batchSize: Int
    /// Requested SO_RCVBUF and SO_SNDBUF; the kernel may grant less
    /// (net.core.rmem_max): ``DispatchDriverStatistics`` says what it gave.
    public var socketBufferBytes: Int
    /// Send runs of equal-size datagrams to one peer as one UDP GSO buffer, where the kernel can.
    public var enableGSO: Bool
    /// Receive coalesced buffers with UDP GRO, where the kernel can.
    public var enableGRO: Bool

    /// - Parameters:
    ///   - batchSize: 1...1024 messages per system call; 32 by default.
    ///   - socketBufferBytes: 4 MiB by default, room for a few milliseconds at line rate.
    public init(batchSize: Int = 32, socketBufferBytes: Int = 4 << 20, enableGSO: Bool = true, enableGRO: Bool = true) {
        self.batchSize = min(max(batchSize, 1), 1_024)
        self.socketBufferBytes = socketBufferBytes
        self.enableGSO = enableGSO
        self.enableGRO = enableGRO
    }

    /// Binds `address` (IPv4, or IPv6 dual-stack; port 0 for any) and starts
    /// running `loop` on a queue of its own.
    /// - Throws: ``DispatchDriverError`` when the socket cannot be created or bound.
    public func start(_ loop: EndpointLoop, binding address: PeerAddress) throws -> any Driver {
        try startDriver(loop, binding: address)
    }

    /// ``start(_:binding:)`` with the concrete type, for its ``DispatchDriver/statistics``.
    public func startDriver(
        _ loop: EndpointLoop, binding address: PeerAddress
    ) throws(DispatchDriverError) -> DispatchDriver {
        let socket = try UDPSocket(binding: address, bufferBytes: socketBufferBytes)
        let queue = DispatchQueue(label: "SecureStreamsDispatch \(socket.localAddress)", qos: .userInitiated)
        let state = DispatchLoop(loop: loop, socket: socket, factory: self, queue: queue)
        let key = DispatchSpecificKey<ObjectIdentifier>()
        queue.setSpecific(key: key, value: ObjectIdentifier(state))
        state.start()
        return DispatchDriver(state: state, localAddress: socket.localAddress, key: key)
    }
}
