/// A congestion controller (RFC 9002 §7): decides how many bytes may be in
/// flight.
///
/// ## Who counts bytes in flight
/// The controller does (RFC 9002 §B.2 keeps `bytes_in_flight` among the
/// congestion control variables): it is the number the window is compared
/// with, and the controller needs it at send time to tell a window-limited
/// sender from an application-limited one (§7.8). The connection reports
/// every in-flight packet to ``onPacketSent(bytes:now:)`` and every in-flight
/// packet that leaves flight exactly once: acknowledged through
/// ``onPacketsAcked(bytes:timeSent:now:rtt:)``, lost or discarded through
/// ``removeFromFlight(bytes:)``. ``SentPacketTracker/bytesInFlight`` keeps an
/// independent sum from loss detection's side; the two agree whenever the
/// wiring is right, which makes a cheap debug assertion.
///
/// ## Swapping controllers
/// The connection holds a ``CongestionControl`` (an enum, one case per
/// algorithm) or is generic over `some CongestionController`; an
/// existential `any CongestionController` stays out of the per-packet path.
protocol CongestionController: Sendable {
    /// The congestion window in bytes (`congestion_window`).
    var congestionWindow: Int { get }
    /// Bytes sent and in flight (`bytes_in_flight`, RFC 9002 §2).
    var bytesInFlight: Int { get }
    /// The datagram size the window is counted in.
    var maxDatagramSize: Int { get }

    /// An in-flight packet of `bytes` was sent (RFC 9002 §B.4 `OnPacketSentCC`).
    /// Not for pure ACKs, which do not count (§7: "packets containing only
    /// ACK frames do not count toward bytes in flight").
    mutating func onPacketSent(bytes: Int, now: Timestamp)

    /// One newly acknowledged in-flight packet of `bytes`, sent at `timeSent`
    /// (RFC 9002 §B.5 `OnPacketAcked`): leaves flight and may grow the window.
    mutating func onPacketsAcked(bytes: Int, timeSent: Timestamp, now: Timestamp, rtt: RTTEstimator)

    /// In-flight bytes that left flight without an acknowledgement: declared
    /// lost (RFC 9002 §B.8 `OnPacketsLost`, before the congestion event) or
    /// discarded. Does not change the window.
    mutating func removeFromFlight(bytes: Int)

    /// Packets were lost; the newest of them was sent at
    /// `timeSentOfLostPacket` (RFC 9002 §B.6 `OnCongestionEvent`). At most
    /// one window reduction per recovery period.
    mutating func onCongestionEvent(timeSentOfLostPacket: Timestamp, now: Timestamp)

    /// Loss detection declared persistent congestion (RFC 9002 §7.6.2):
    /// "the sender's congestion window MUST be reduced to the minimum
    /// congestion window".
    mutating func onPersistentCongestion()
}

extension CongestionController {
    /// Bytes that may still be sent before the window is full.
    var availableWindow: Int { max(congestionWindow - bytesInFlight, 0) }

    /// Feeds one batch of loss-detection results in RFC 9002 §A.7 order:
    /// losses leave flight, one congestion event, persistent congestion, then
    /// the acknowledged packets.
    mutating func apply(_ events: RecoveryEvents, now: Timestamp, rtt: RTTEstimator) {
        if events.lostBytesInFlight > 0 { removeFromFlight(bytes: events.lostBytesInFlight) }
        if let lostTime = events.largestLostTimeSent {
            onCongestionEvent(timeSentOfLostPacket: lostTime, now: now)
            if events.isPersistentCongestion { onPersistentCongestion() }
        }
        for packet in events.acknowledged where packet.isInFlight {
            onPacketsAcked(bytes: packet.size, timeSent: packet.timeSent, now: now, rtt: rtt)
        }
    }
}

/// The congestion controllers a connection can run, as a closed enum so the
/// hot path dispatches with a switch rather than through an existential.
enum CongestionControl: CongestionController {
    /// RFC 9002's reference controller.
    case newReno(NewReno)

    var congestionWindow: Int {
        switch self {
        case .newReno(let controller): controller.congestionWindow
        }
    }

    var bytesInFlight: Int {
        switch self {
        case .newReno(let controller): controller.bytesInFlight
        }
    }

    var maxDatagramSize: Int {
        switch self {
        case .newReno(let controller): controller.maxDatagramSize
        }
    }

    mutating func onPacketSent(bytes: Int, now: Timestamp) {
        switch self {
        case .newReno(var controller):
            controller.onPacketSent(bytes: bytes, now: now)
            self = .newReno(controller)
        }
    }

    mutating func onPacketsAcked(bytes: Int, timeSent: Timestamp, now: Timestamp, rtt: RTTEstimator) {
        switch self {
        case .newReno(var controller):
            controller.onPacketsAcked(bytes: bytes, timeSent: timeSent, now: now, rtt: rtt)
            self = .newReno(controller)
        }
    }

    mutating func removeFromFlight(bytes: Int) {
        switch self {
        case .newReno(var controller):
            controller.removeFromFlight(bytes: bytes)
            self = .newReno(controller)
        }
    }

    mutating func onCongestionEvent(timeSentOfLostPacket: Timestamp, now: Timestamp) {
        switch self {
        case .newReno(var controller):
            controller.onCongestionEvent(timeSentOfLostPacket: timeSentOfLostPacket, now: now)
            self = .newReno(controller)
        }
    }

    mutating func onPersistentCongestion() {
        switch self {
        case .newReno(var controller):
            controller.onPersistentCongestion()
            self = .newReno(controller)
        }
    }
}
