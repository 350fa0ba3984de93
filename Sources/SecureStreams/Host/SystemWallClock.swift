import Glibc
public import SecureStreamsCore

/// The real-time clock, read for the core's replay defence (PROTOCOL.md
/// §4.4): the core reads no clock, so the host hands it this reading
/// (`Endpoint.handleWallClock`) before each connect and each listen, and so
/// should any other code that drives an `Endpoint` over a real network.
public enum SystemWallClock {
    /// `CLOCK_REALTIME` now.
    public static func read() -> WallClockTime {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return WallClockTime(seconds: UInt64(max(0, time.tv_sec)), nanoseconds: UInt32(clamping: time.tv_nsec))
    }
}
