/// The wall-clock input of the replay defence (PROTOCOL.md §4.4).
extension Endpoint {
    /// Reports the driver's real-time clock: `reading` was taken at `now`.
    ///
    /// The endpoint dates its IK Initiations, and judges those it receives
    /// from peers it does not remember, by this clock moved forward by the
    /// monotonic time since the last reading. Report it when the endpoint
    /// starts and again from time to time (every timer wake-up is cheap
    /// enough; a minute apart is enough), so that a suspended machine or a
    /// stepped clock is noticed. Until the first reading the endpoint uses
    /// ``EndpointConfiguration/wallClockOrigin`` as the reading at
    /// ``Timestamp/zero``.
    public mutating func handleWallClock(_ reading: WallClockTime, now: Timestamp) {
        replayGuard.handleWallClock(reading, now: now)
    }

    /// The endpoint's idea of the wall-clock time at `now`.
    public func wallClock(at now: Timestamp) -> WallClockTime {
        replayGuard.wallClock(at: now)
    }
}
