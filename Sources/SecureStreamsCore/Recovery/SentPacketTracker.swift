/// The sent-packet store of loss detection (RFC 9002 §A.1, `sent_packets`):
/// a bounded ring indexed by packet number.
///
/// Packet numbers are dense and increasing (PROTOCOL.md §3.4), so packet `n`
/// lives in slot `n mod capacity` and no map or search is needed. The window
/// runs from ``base`` (every packet number below it is finished: acknowledged,
/// lost, skipped or evicted) to ``next`` (one past the largest recorded);
/// `base` moves up past finished packets when ``advanceBase()`` runs (after
/// each batch of acknowledgements or losses, and on every send), so between
/// calls the window is "oldest unresolved packet … newest packet".
///
/// ## Bounds and memory
/// At most ``maxTracked`` packet numbers (rounded up to a power of two) are
/// in the window at once. The slots start at 64 and double when needed, up to
/// that cap, so an idle connection costs 1 KiB and a busy one at most 16 bytes
/// per slot (256 KiB at the default 16,384). Once the ring has grown to what
/// the traffic needs, recording, acknowledging and losing packets allocate
/// nothing.
///
/// With the default cap and 1,350-byte datagrams a window spans about 22 MB,
/// far more than any congestion window we expect; reaching it means the peer
/// is not acknowledging. Then ``canTrackMore`` turns false and the connection
/// **must not send new ack-eliciting packets** until acknowledgements or
/// losses free slots. The last ``reservedSlots`` slots are kept for what must
/// still go out: PTO probes (RFC 9002 §6.2.4) and pure ACKs. A pure ACK that
/// is neither ack-eliciting nor in flight is dropped from the front of the
/// window when room is needed (forgetting it only delays ack-of-ack pruning);
/// recording a packet into a ring whose front is held by anything else is a
/// broken call contract and traps.
///
/// Skipped packet numbers (a sender may skip numbers to detect optimistic
/// ACKs) occupy slots marked skipped; an ACK for one is a protocol violation
/// (RFC 9000 §13.1: "An endpoint SHOULD treat receipt of an acknowledgment
/// for a packet it did not send as a connection error").
struct SentPacketTracker: Sendable {
    /// What became of a packet number inside the window.
    enum SlotState: UInt8, Sendable {
        /// Sent, neither acknowledged nor declared lost.
        case outstanding
        /// Acknowledged by the peer.
        case acknowledged
        /// Declared lost (RFC 9002 §6.1).
        case lost
        /// Never sent: the sender skipped this number.
        case skipped
        /// A pure ACK forgotten to make room (see the type's discussion).
        case evicted
    }

    /// RFC 9002 leaves the store unbounded; 16,384 packets is ~22 MB of
    /// 1,350-byte datagrams in flight, four times the replay window
    /// (PROTOCOL.md §9), which no sane congestion window reaches.
    static let defaultMaxTracked = 16_384
    /// Slots kept back from new ack-eliciting data: room for 8 consecutive
    /// PTOs of 2 probes each (RFC 9002 §6.2.4), after which the idle timeout
    /// has long closed a connection whose peer acknowledges nothing.
    static let reservedSlots = 16
    /// The ring's starting size: enough for an idle connection's keep-alives
    /// (64 bytes; 64 slots were 1 KiB per connection); a larger window
    /// doubles it on demand, and it is kept once grown (no allocation per
    /// packet after).
    static let initialSlots = 4

    /// The cap on the window, a power of two.
    let maxTracked: Int
    /// Every packet number below this is finished.
    private(set) var base: UInt64 = 0
    /// One past the largest packet number recorded; the next to send.
    private(set) var next: UInt64 = 0
    /// Sum of `size` over outstanding in-flight packets (RFC 9002 §A.1's
    /// `bytes_in_flight`, as seen by loss detection).
    private(set) var bytesInFlight = 0
    /// Outstanding ack-eliciting packets; the PTO is armed only while this is
    /// positive (RFC 9002 §6.2.1).
    private(set) var ackElicitingOutstanding = 0
    /// Send time of the most recent ack-eliciting packet
    /// (`time_of_last_ack_eliciting_packet`, RFC 9002 §A.3).
    private(set) var timeOfLastAckEliciting: Timestamp?

    private var slots: ContiguousArray<Slot>

    /// - Parameter maxTracked: the window cap, rounded up to a power of two
    ///   and to at least `4 * reservedSlots`.
    init(maxTracked: Int = SentPacketTracker.defaultMaxTracked) {
        var cap = 4 * Self.reservedSlots
        while cap < maxTracked { cap *= 2 }
        self.maxTracked = cap
        slots = ContiguousArray(repeating: Slot.empty, count: min(Self.initialSlots, cap))
    }

    /// Packet numbers in the window (finished ones included).
    var count: Int { Int(next - base) }

    /// Slots the ring holds now (it starts at ``initialSlots`` and doubles).
    var capacity: Int { slots.count }

    /// Whether a new ack-eliciting packet may be sent (see the type's
    /// discussion): false when only the reserved slots are left.
    var canTrackMore: Bool { count + Self.reservedSlots < maxTracked }

    /// The packet number the next packet should carry.
    var nextPacketNumber: PacketNumber { PacketNumber(next) }

    /// Records a packet just sent.
    ///
    /// - Precondition: `packet.packetNumber >= nextPacketNumber` (numbers
    ///   increase; any numbers jumped over are marked skipped), the window has
    ///   room once pure ACKs at its front are dropped, and `size` fits in 16 bits.
    mutating func record(_ packet: SentPacket) {
        let number = packet.packetNumber.rawValue
        precondition(number >= next, "packet numbers must increase")
        precondition(packet.size >= 0 && packet.size <= Int(UInt16.max), "packet size out of range")
        let needed = number - base + 1
        if needed > UInt64(slots.count) { grow(toHold: needed) }
        while number - base + 1 > UInt64(slots.count) {
            if base == next {
                // Nothing unresolved: forget the jumped-over numbers outright.
                base = number + 1 - UInt64(slots.count)
                next = base
            } else {
                evictFront()
            }
        }
        while next < number {
            slots[index(next)] = Slot(timeSent: packet.timeSent, token: 0, size: 0, flags: 0, state: .skipped)
            next += 1
        }
        var flags: UInt8 = 0
        if packet.isAckEliciting { flags |= Slot.ackEliciting }
        if packet.isInFlight { flags |= Slot.inFlight }
        slots[index(number)] = Slot(timeSent: packet.timeSent, token: packet.token,
                                    size: UInt16(packet.size), flags: flags, state: .outstanding)
        next = number + 1
        if packet.isInFlight { bytesInFlight += packet.size }
        if packet.isAckEliciting {
            ackElicitingOutstanding += 1
            timeOfLastAckEliciting = packet.timeSent
        }
        advanceBase()
    }

    /// The state of `number`, or `nil` below the window (finished and
    /// forgotten) or at or above ``next`` (not sent yet).
    func state(of number: PacketNumber) -> SlotState? {
        let raw = number.rawValue
        guard raw >= base, raw < next else { return nil }
        return slots[index(raw)].state
    }

    /// The record of a packet in the window (whatever its state).
    ///
    /// - Precondition: `state(of: number) != nil`.
    func packet(_ number: PacketNumber) -> SentPacket {
        precondition(state(of: number) != nil, "packet number outside the window")
        return slots[index(number.rawValue)].packet(number)
    }

    /// Marks an outstanding packet acknowledged and returns its record.
    ///
    /// - Precondition: `state(of: number) == .outstanding`.
    mutating func markAcknowledged(_ number: PacketNumber) -> SentPacket {
        finish(number, as: .acknowledged)
    }

    /// Marks an outstanding packet lost and returns its record.
    ///
    /// - Precondition: `state(of: number) == .outstanding`.
    mutating func markLost(_ number: PacketNumber) -> SentPacket {
        finish(number, as: .lost)
    }

    /// Moves ``base`` past the finished packets at the front, freeing their
    /// slots. The `mark…` calls leave ``base`` alone so that a walk over the
    /// window still sees what each slot became; call this after the walk.
    mutating func advanceBase() {
        while base < next, slots[index(base)].state != .outstanding { base += 1 }
    }
}

extension SentPacketTracker {
    /// One ring slot: 16 bytes.
    private struct Slot: Sendable {
        static let ackEliciting: UInt8 = 1
        static let inFlight: UInt8 = 2
        static let empty = Slot(timeSent: .zero, token: 0, size: 0, flags: 0, state: .skipped)

        var timeSent: Timestamp
        var token: UInt32
        var size: UInt16
        var flags: UInt8
        var state: SlotState

        var isAckEliciting: Bool { flags & Self.ackEliciting != 0 }
        var isInFlight: Bool { flags & Self.inFlight != 0 }

        func packet(_ number: PacketNumber) -> SentPacket {
            SentPacket(packetNumber: number, timeSent: timeSent, size: Int(size),
                       isAckEliciting: isAckEliciting, isInFlight: isInFlight, token: token)
        }
    }

    @inline(__always)
    private func index(_ number: UInt64) -> Int {
        Int(truncatingIfNeeded: number & UInt64(slots.count - 1))
    }

    private mutating func finish(_ number: PacketNumber, as state: SlotState) -> SentPacket {
        precondition(self.state(of: number) == .outstanding, "packet is not outstanding")
        let slotIndex = index(number.rawValue)
        slots[slotIndex].state = state
        let slot = slots[slotIndex]
        if slot.isInFlight { bytesInFlight -= Int(slot.size) }
        if slot.isAckEliciting { ackElicitingOutstanding -= 1 }
        return slot.packet(number)
    }

    /// Drops the oldest packet to make room; only a pure ACK may be dropped.
    private mutating func evictFront() {
        let slotIndex = index(base)
        let slot = slots[slotIndex]
        precondition(slot.state == .outstanding && !slot.isAckEliciting && !slot.isInFlight,
                     "sent-packet window full: check canTrackMore before sending ack-eliciting packets")
        slots[slotIndex].state = .evicted
        advanceBase()
    }

    /// Doubles the ring (up to `maxTracked`) until it holds `needed` numbers,
    /// re-placing each live slot at its new index. Allocates; only while the
    /// window grows past its previous high-water mark.
    private mutating func grow(toHold needed: UInt64) {
        var newCount = slots.count
        while UInt64(newCount) < needed && newCount < maxTracked { newCount *= 2 }
        guard newCount > slots.count else { return }
        var newSlots = ContiguousArray(repeating: Slot.empty, count: newCount)
        let newMask = UInt64(newCount - 1)
        var number = base
        while number < next {
            newSlots[Int(truncatingIfNeeded: number & newMask)] = slots[index(number)]
            number += 1
        }
        slots = newSlots
    }
}
