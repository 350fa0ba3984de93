/// What loss detection remembers about one sent packet (RFC 9002 §A.1.1,
/// "Sent Packet Fields"), and what it hands back when the packet is
/// acknowledged or declared lost.
///
/// The frames a packet carried are not here: the connection keeps them in its
/// own bounded store and gives each packet a `token` (an index or handle into
/// that store) so that an acknowledgement or a loss can find them again
/// without this module knowing what a frame is.
struct SentPacket: Sendable, Hashable {
    /// The packet number (RFC 9002 §A.1.1 `packet_number`).
    var packetNumber: PacketNumber
    /// When the packet was handed to the driver (`time_sent`).
    var timeSent: Timestamp
    /// Bytes of the whole UDP payload (`sent_bytes`): what counts against the
    /// congestion window when `isInFlight`. At most `UInt16.max` (packets are
    /// ≤ 1,452 bytes, PROTOCOL.md §9).
    var size: Int
    /// Whether the packet contains a frame other than ACK or PADDING, so the
    /// peer must acknowledge it (`ack_eliciting`, RFC 9002 §2).
    var isAckEliciting: Bool
    /// Whether it counts toward bytes in flight (`in_flight`): ack-eliciting
    /// or padded packets, never a pure ACK (RFC 9002 §2).
    var isInFlight: Bool
    /// The connection's opaque handle to what the packet carried.
    var token: UInt32

    init(packetNumber: PacketNumber, timeSent: Timestamp, size: Int,
         isAckEliciting: Bool, isInFlight: Bool, token: UInt32) {
        self.packetNumber = packetNumber
        self.timeSent = timeSent
        self.size = size
        self.isAckEliciting = isAckEliciting
        self.isInFlight = isInFlight
        self.token = token
    }
}
