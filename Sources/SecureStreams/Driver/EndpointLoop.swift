public import SecureStreamsCore

/// The sans-IO endpoint as a driver sees it: the five verbs and the event
/// hand-off to the layer above.
///
/// Confined to the driver's loop thread: a driver creates nothing of it and
/// shares nothing of it. A driver does not call it directly either: its
/// ``DriverLoop`` does, each verb with the current monotonic time, and
/// drains transmits into its own send area.
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

    public init(endpoint: Endpoint) {
        self.endpoint = endpoint
    }

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

    /// The next transmit, written into `buffer`; `nil` when the endpoint has
    /// nothing to send now. When `segmentSize` is set the bytes are several
    /// datagrams of that size to one destination (the last may be shorter),
    /// at most `maxDatagrams` of them: send them as one UDP GSO message, or
    /// split them. This is the one place transmits leave the endpoint; the
    /// ``DriverLoop`` passes ``DriverLoop/maxDatagramsPerTransmit``.
    public func pollTransmit(now: Timestamp, into buffer: UnsafeMutableRawBufferPointer,
                             maxDatagrams: Int) -> Transmit? {
        advance(to: now)
        return endpoint.pollTransmit(now: now, into: buffer, maxDatagrams: maxDatagrams)
    }

    /// Reports the real-time clock to the endpoint's replay defence
    /// (PROTOCOL.md §4.4). The ``DriverLoop`` does it when it starts and
    /// then at most once per ``wallClockInterval`` of timer wake-ups.
    public func reportWallClock(now: Timestamp) {
        advance(to: now)
        endpoint.handleWallClock(SystemWallClock.read(), now: now)
        lastWallClockReport = now
    }

    /// Whether the last wall-clock report is older than ``wallClockInterval``.
    func isWallClockReportDue(now: Timestamp) -> Bool {
        guard let last = lastWallClockReport else { return true }
        return now >= last + Self.wallClockInterval
    }

    /// How often the real-time clock is re-read: often enough that a
    /// suspended machine or a stepped clock is noticed well inside the
    /// responder's 120 s freshness window.
    static let wallClockInterval = Duration.seconds(10)

    private var lastWallClockReport: Timestamp?

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
