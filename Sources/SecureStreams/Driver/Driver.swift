// The contract between the public async API and the event-loop drivers.
//
// A driver owns one UDP socket, one timer and one loop thread (its own or
// the caller's). It wraps the `EndpointLoop` it is given in a `DriverLoop` —
// the drain/batch/timer/counter logic every driver shares — and calls it
// only on that thread. Everything above (the `Host`, its streams) reaches
// the endpoint through `Driver.execute`, which hops onto the loop.
//
// Dependency direction: SecureStreamsDispatch / SecureStreamsLibUV → this
// module → SecureStreamsCore. The poll(2) example shows how small a driver
// can be (docs/DRIVERS.md).
public import SecureStreamsCore

/// A running driver: a bound socket with an endpoint on its loop.
///
/// Conforming types are thread-safe: `execute` and `shutdown` may be called
/// from any thread.
public protocol Driver: AnyObject, Sendable {
    /// The address the socket is bound to (with the port the kernel chose).
    var localAddress: PeerAddress { get }

    /// Runs `body` on the loop thread with exclusive access to the endpoint,
    /// then sends whatever became sendable, delivers the events it caused and
    /// re-arms the timer. Wakes the loop; returns at once. After `shutdown`,
    /// `body` is dropped.
    func execute(_ body: @escaping @Sendable (EndpointLoop) -> Void)

    /// Closes the socket and stops the loop (a loop of its own is joined; a
    /// caller's loop is left running). Idempotent; pending `execute` bodies
    /// are dropped.
    func shutdown()
}

/// What a `Host` asks for: a driver that binds `address` and runs `loop`.
///
/// `SecureStreamsDispatch` and `SecureStreamsLibUV` each provide one; an
/// application with its own loop writes its own.
public protocol DriverFactory: Sendable {
    /// Binds a UDP socket to `address` (port 0: any) and starts running
    /// `loop` on it. The loop object is handed over: from now on only the
    /// driver's thread touches it.
    func start(_ loop: EndpointLoop, binding address: PeerAddress) throws -> any Driver
}
