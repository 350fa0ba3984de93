// The driver's clock.
import Dispatch
import SecureStreams

/// Monotonic time as the endpoint wants it: `DispatchTime`'s uptime in
/// nanoseconds (CLOCK_MONOTONIC on Linux), the same clock the driver's timer
/// is scheduled on, and never decreasing.
struct MonotonicClock {
    private var last = Timestamp.zero

    /// The current time; never earlier than the previous reading.
    mutating func now() -> Timestamp {
        let reading = Timestamp(nanoseconds: DispatchTime.now().uptimeNanoseconds)
        if reading > last { last = reading }
        return last
    }
}
