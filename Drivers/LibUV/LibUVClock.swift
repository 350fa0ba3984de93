// The driver's clock: uv_hrtime, never going backwards.
import CLibUV
import SecureStreamsCore

/// Monotonic time for the endpoint: `uv_hrtime()` nanoseconds (the
/// `CLOCK_MONOTONIC` origin), clamped so a reading never precedes the last.
///
/// Loop-confined: one per session, read only on its loop thread.
struct LibUVClock {
    private var last: UInt64 = 0

    /// The current time, at or after every earlier reading.
    mutating func now() -> Timestamp {
        let reading = uv_hrtime()
        if reading > last { last = reading }
        return Timestamp(nanoseconds: last)
    }
}
