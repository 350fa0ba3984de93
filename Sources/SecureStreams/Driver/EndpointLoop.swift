public import SecureStreamsCore

/// The sans-IO endpoint as a driver sees it: the five verbs, a reusable
/// transmit buffer, and the event hand-off to the layer above.
///
/// Confined to the driver's loop thread: a driver creates nothing of it and
/// shares nothing of it; it only calls these methods from its loop, in any
/// order, each with the current monotonic time.
public final class EndpointLoop: @unchecked Sendable {
    /// The core state machine. Commands from the layer above mutate it
    /// inside `Driver.execute` bodies.
    public var endpoint: Endpoint

    /// Called on the loop thread for every event the endpoint emits, right
    /// after the verb that caused it. The `Host` installs it before the loop
    /// starts; it may issue further commands on `endpoint`.
    public var eventHandler: (EndpointLoop, Event, Timestamp) -> Void = { _, _, _ in }

    /// The time of the verb being run (or of the last one): what an
    /// `execute` body passes to commands that take `now`.
    public private(set) var now: Timestamp = .zero

    /// Where the datagram bytes of `pollTransmit` are written; sized for the
    /// largest batch the endpoint may produce.
    private let transmitBuffer: UnsafeMutableRawBufferPointer

    public init(endpoint: Endpoint) {
        self.endpoint = endpoint
        transmitBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)  // the largest UDP payload
    }

    deinit { transmitBuffer.deallocate() }

    /// Feeds one received datagram (decrypted in place in `datagram`).
    public func receive(_ datagram: UnsafeMutableRawBufferPointer, from address: PeerAddress, now: Timestamp) {
        advance(to: now)
        endpoint.handleDatagram(datagram, from: address, now: now)
        deliverEvents(now: now)
    }

    /// The timer fired (early calls are harmless).
    public func timeout(now: Timestamp) {
        advance(to: now)
        endpoint.handleTimeout(now: now)
        deliverEvents(now: now)
    }

    /// Runs an application command against the endpoint.
    public func run(now: Timestamp, _ command: (EndpointLoop) -> Void) {
        advance(to: now)
        command(self)
        deliverEvents(now: now)
    }

    /// Hands every datagram the endpoint wants sent to `send`, until there is
    /// none left or `send` returns `false` (the socket would block: call again
    /// when it is writable). `send` gets the destination, the bytes, and a
    /// segment size when the bytes are several datagrams of that size
    /// (send them with GSO, or split them).
    public func transmit(now: Timestamp, _ send: (Transmit, UnsafeRawBufferPointer) -> Bool) {
        while let t = endpoint.pollTransmit(now: now, into: transmitBuffer) {
            if !send(t, UnsafeRawBufferPointer(rebasing: transmitBuffer[0..<t.count])) { break }
        }
    }

    /// When the driver's timer should fire next; `nil` for never.
    public var deadline: Timestamp? { endpoint.nextDeadline() }

    private func advance(to time: Timestamp) {
        if time > now { now = time }
    }

    private func deliverEvents(now: Timestamp) {
        while let event = endpoint.pollEvent() {
            eventHandler(self, event, now)
        }
    }
}
