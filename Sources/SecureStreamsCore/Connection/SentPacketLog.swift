/// What one sent packet carried, as far as recovery cares: the frames to
/// retransmit (or to report as delivered) when the packet is acknowledged or
/// declared lost.
enum SentFrame: Hashable, Sendable {
    /// Stream bytes `range` of a stream, possibly with its FIN.
    case stream(StreamID, Range<UInt64>, fin: Bool)
    /// A flow-control or stream-control frame owned by the stream table.
    case control(StreamControlFrame)
    /// An ACK whose largest acknowledged packet was this; once the peer has it,
    /// we need not acknowledge below it again (ack-of-ack).
    case ack(largest: PacketNumber)
    case ping
    case pathChallenge(PathToken)
    case pathResponse(PathToken)
    /// Our spare CID of this sequence number, announced (§7.3).
    case newConnectionID(sequence: UInt64)
    /// The peer's CID of this sequence number, retired (§7.3).
    case retireConnectionID(sequence: UInt64)
    case close
}

/// The frames of every packet still in flight, indexed by packet number.
///
/// Two rings, both reused forever once grown: one record per packet number
/// (dense, since packet numbers go up by one) pointing at a run of entries in
/// a ring of ``SentFrame``s. Records are released in any order; the front of
/// both rings advances past released ones. So steady state allocates nothing,
/// and the bound is the loss detector's bound on tracked packets.
struct SentPacketLog {
    private struct Record {
        var frameStart: UInt64
        var frameCount: UInt32
        var isLive: Bool
    }

    private var records: [Record] = []
    /// Packet number of `records[recordHead]`.
    private var basePacketNumber: UInt64 = 0
    private var recordHead = 0
    private var recordCount = 0

    private var frames: [SentFrame] = []
    private var frameHead: UInt64 = 0
    private var frameTail: UInt64 = 0

    /// Frames being collected for the packet under construction.
    private var pendingStart: UInt64 = 0

    /// First sizes of the rings, which then double as the traffic needs:
    /// small, because every connection pays them and an idle one uses a few
    /// entries (a keep-alive PING and an ACK or two in flight; a 256-frame
    /// ring was 8 KiB per connection, 16 frames 512 B); a busy one grows to
    /// its window once.
    static let initialRecords = 4
    static let initialFrames = 4

    /// Both rings start empty: the first packet recorded grows them.
    init() {}

    /// Starts recording the frames of the next packet.
    mutating func beginPacket() {
        pendingStart = frameTail
    }

    /// Adds a frame to the packet under construction.
    mutating func append(_ frame: SentFrame) {
        let liveFrames = Int(frameTail - frameHead)
        if liveFrames == frames.count {
            growFrames()
        }
        frames[Int(frameTail % UInt64(frames.count))] = frame
        frameTail += 1
    }

    /// Drops the frames collected since `beginPacket` (the packet was not sent).
    mutating func abandonPacket() {
        frameTail = pendingStart
    }

    /// Files the collected frames under `packetNumber`.
    /// - Precondition: packet numbers are recorded in increasing order.
    mutating func commitPacket(_ packetNumber: PacketNumber) {
        let number = packetNumber.rawValue
        if recordCount == 0 {
            basePacketNumber = number
            recordHead = 0
        }
        precondition(number >= basePacketNumber + UInt64(recordCount), "packet numbers recorded out of order")
        // Skipped numbers get empty, released records, so indexing stays dense.
        while basePacketNumber + UInt64(recordCount) < number {
            appendRecord(Record(frameStart: pendingStart, frameCount: 0, isLive: false))
        }
        appendRecord(Record(frameStart: pendingStart, frameCount: UInt32(frameTail - pendingStart), isLive: true))
        pendingStart = frameTail
    }

    /// Appends the frames of `packetNumber` to `frames` and releases it. Does
    /// nothing for a packet already released or never recorded.
    mutating func release(_ packetNumber: PacketNumber, into out: inout [SentFrame]) {
        let number = packetNumber.rawValue
        guard number >= basePacketNumber, number < basePacketNumber + UInt64(recordCount) else { return }
        let slot = (recordHead + Int(number - basePacketNumber)) % records.count
        guard records[slot].isLive else { return }
        let record = records[slot]
        records[slot].isLive = false
        var position = record.frameStart
        let end = record.frameStart + UInt64(record.frameCount)
        while position < end {
            out.append(frames[Int(position % UInt64(frames.count))])
            position += 1
        }
        advanceFront()
    }

    /// Packets recorded and not yet released.
    var isEmpty: Bool { recordCount == 0 }

    /// Appends to `out`, without releasing anything, the frames of the
    /// `packets` oldest packets still awaiting their fate: what a probe
    /// carries again when there is no new data (RFC 9002 §6.2.4).
    func framesOfOldest(packets: Int, into out: inout [SentFrame]) {
        var taken = 0
        var offset = 0
        while taken < packets, offset < recordCount {
            let record = records[(recordHead + offset) % records.count]
            offset += 1
            guard record.isLive else { continue }
            taken += 1
            var position = record.frameStart
            while position < record.frameStart + UInt64(record.frameCount) {
                out.append(frames[Int(position % UInt64(frames.count))])
                position += 1
            }
        }
    }

    // MARK: - Private

    private mutating func appendRecord(_ record: Record) {
        if recordCount == records.count {
            // Grow, keeping the ring in order.
            var grown: [Record] = []
            grown.reserveCapacity(max(Self.initialRecords, records.count * 2))
            for i in 0..<recordCount { grown.append(records[(recordHead + i) % records.count]) }
            grown.append(record)
            records = grown
            recordHead = 0
            while records.count < records.capacity { records.append(Record(frameStart: 0, frameCount: 0, isLive: false)) }
            recordCount += 1
            return
        }
        records[(recordHead + recordCount) % records.count] = record
        recordCount += 1
    }

    private mutating func advanceFront() {
        while recordCount > 0, !records[recordHead].isLive {
            recordHead = (recordHead + 1) % records.count
            basePacketNumber += 1
            recordCount -= 1
        }
        frameHead = recordCount > 0 ? records[recordHead].frameStart : pendingStart
    }

    private mutating func growFrames() {
        let live = Int(frameTail - frameHead)
        var grown: [SentFrame] = []
        grown.reserveCapacity(max(Self.initialFrames, frames.count * 2))
        for i in 0..<live { grown.append(frames[Int((frameHead + UInt64(i)) % UInt64(frames.count))]) }
        // Positions are absolute; re-base the ring so position p lives at p % capacity.
        let capacity = grown.capacity
        var placed = [SentFrame](repeating: .ping, count: capacity)
        for i in 0..<live { placed[Int((frameHead + UInt64(i)) % UInt64(capacity))] = grown[i] }
        frames = placed
    }
}
