/// An ACK frame (type `0x02`, PROTOCOL.md §6.1), decoded in place.
///
/// Wire layout: largest (varint), ack delay µs (varint), range count (varint),
/// first range (varint), then range count × (gap, length) varints. "Ranges as
/// in QUIC: the first range covers `largest − first_range … largest`; each
/// further range starts `gap + 2` below the smallest packet of the previous
/// range and covers `length + 1` packets."
///
/// **No allocation.** The frame keeps the encoded (gap, length) pairs as a
/// slice of the payload; ``ranges`` walks them again on demand. Decoding
/// validates everything first: "`range count` ≤ 64 (a receiver sends at most
/// 32); a frame claiming more, or ranges that go below zero, closes with
/// `FRAME_ENCODING_ERROR` before any range is walked". The count is checked
/// the moment it is read, so a frame claiming 10^9 ranges costs O(1); a valid
/// one costs at most 64 pair reads. Only the decoder and the tests build
/// values of this type, so every `AckFrame` is a validated one.
package struct AckFrame: WireFrame, Equatable {
    /// The largest packet number acknowledged.
    package private(set) var largest: PacketNumber
    /// How long the sender held the ACK back (§6.1: "capped at the sender's
    /// `maxAckDelay` for RTT purposes" — the receiver's job).
    package private(set) var ackDelayMicroseconds: UInt64
    /// Packets below `largest` that the first range also covers.
    package private(set) var firstRangeLength: UInt64
    /// The (gap, length) pairs after the first range: ≤ ``maxDecodedAdditionalRanges``.
    package private(set) var additionalRangeCount: Int
    /// Those pairs as they were on the wire (validated).
    package private(set) var encodedAdditionalRanges: UnsafeRawBufferPointer

    /// "range count ≤ 64": pairs after the first range a receiver accepts (§9).
    package static let maxDecodedAdditionalRanges = 64
    /// "≤ 32 sent" (§9): ranges an encoder writes in all, the first included;
    /// further (older) ranges are left out and acknowledged by later ACKs.
    package static let maxEncodedRanges = 32

    /// The ACK delay as a duration.
    package var ackDelay: Duration { .microseconds(Int64(clamping: ackDelayMicroseconds)) }

    /// The smallest packet number of the first range.
    package var firstRangeSmallest: PacketNumber { PacketNumber(largest.rawValue - firstRangeLength) }

    /// Every acknowledged range, highest first, walked lazily from the
    /// encoded bytes (no allocation).
    package var ranges: Ranges { Ranges(frame: self) }

    /// The acknowledged ranges, highest first.
    package struct Ranges: Sequence {
        let frame: AckFrame

        package func makeIterator() -> Iterator {
            Iterator(
                reader: WireReader(frame.encodedAdditionalRanges), pendingFirst: true,
                largest: frame.largest.rawValue, smallest: frame.largest.rawValue - frame.firstRangeLength,
                remainingPairs: frame.additionalRangeCount)
        }

        package var underestimatedCount: Int { 1 + frame.additionalRangeCount }

        package struct Iterator: IteratorProtocol {
            var reader: WireReader
            var pendingFirst: Bool
            var largest: UInt64
            var smallest: UInt64
            var remainingPairs: Int

            package mutating func next() -> ClosedRange<PacketNumber>? {
                if pendingFirst {
                    pendingFirst = false
                    return PacketNumber(smallest)...PacketNumber(largest)
                }
                // The pairs were validated when the frame was decoded; the checks
                // here only keep the walk safe, they never fail.
                guard remainingPairs > 0, let gap = reader.readVarInt(), let length = reader.readVarInt(),
                      smallest >= 2, gap <= smallest - 2, length <= smallest - 2 - gap
                else { return nil }
                remainingPairs -= 1
                largest = smallest - 2 - gap
                smallest = largest - length
                return PacketNumber(smallest)...PacketNumber(largest)
            }
        }
    }

    // MARK: Encoding from ranges (the send side)

    /// Bytes ``encode(ranges:ackDelayMicroseconds:into:)`` writes.
    package static func encodedCount(
        ranges: some Collection<ClosedRange<PacketNumber>>, ackDelayMicroseconds: UInt64
    ) -> Int {
        var count = VarInt.encodedCount(FrameKind.ack.frameType) + VarInt.encodedCount(ackDelayMicroseconds)
        let written = ranges.prefix(maxEncodedRanges)
        count += VarInt.encodedCount(UInt64(written.count - 1))
        forEachField(of: written) { count += VarInt.encodedCount($0) }
        return count
    }

    /// Writes an ACK frame for `ranges`: at most the first (highest)
    /// ``maxEncodedRanges`` of them.
    /// - Precondition: `ranges` is not empty, and its ranges are in
    ///   descending order with at least one unacknowledged packet between
    ///   neighbours (what a receive history produces).
    /// - Returns: false, writing nothing, when the frame does not fit.
    package static func encode(
        ranges: some Collection<ClosedRange<PacketNumber>>, ackDelayMicroseconds: UInt64,
        into writer: inout WireWriter
    ) -> Bool {
        let count = encodedCount(ranges: ranges, ackDelayMicroseconds: ackDelayMicroseconds)
        guard writer.remaining >= count else { return false }
        let written = ranges.prefix(maxEncodedRanges)
        var fieldIndex = 0
        writer.writeVarInt(FrameKind.ack.frameType)
        forEachField(of: written) { value in
            writer.writeVarInt(value)
            if fieldIndex == 0 {
                // After "largest": the delay and the count of further ranges.
                writer.writeVarInt(ackDelayMicroseconds)
                writer.writeVarInt(UInt64(written.count - 1))
            }
            fieldIndex += 1
        }
        return true
    }

    /// Calls `body` with largest, first range, then each (gap, length).
    private static func forEachField(
        of ranges: some Collection<ClosedRange<PacketNumber>>, _ body: (UInt64) -> Void
    ) {
        precondition(!ranges.isEmpty, "an ACK frame acknowledges at least one packet")
        var previousSmallest: UInt64 = 0
        for (index, range) in ranges.enumerated() {
            let upper = range.upperBound.rawValue
            let lower = range.lowerBound.rawValue
            if index == 0 {
                body(upper)
            } else {
                precondition(previousSmallest >= 2 && upper <= previousSmallest - 2,
                             "ACK ranges must descend with a gap between neighbours")
                body(previousSmallest - 2 - upper)
            }
            body(upper - lower)
            previousSmallest = lower
        }
    }

    // MARK: WireFrame

    package var encodedFrameType: UInt64 { FrameKind.ack.frameType }

    package var fieldsEncodedCount: Int {
        VarInt.encodedCount(largest.rawValue) + VarInt.encodedCount(ackDelayMicroseconds)
            + VarInt.encodedCount(UInt64(additionalRangeCount)) + VarInt.encodedCount(firstRangeLength)
            + encodedAdditionalRanges.count
    }

    package func encodeFields(into writer: inout WireWriter) {
        writer.writeVarInt(largest.rawValue)
        writer.writeVarInt(ackDelayMicroseconds)
        writer.writeVarInt(UInt64(additionalRangeCount))
        writer.writeVarInt(firstRangeLength)
        writer.writeBytes(encodedAdditionalRanges)
    }

    package static func decodeFields(from reader: inout WireReader, frameType: UInt64) throws(PeerError) -> AckFrame {
        guard let largest = reader.readVarInt(), let delay = reader.readVarInt(),
              let rangeCount = reader.readVarInt()
        else { throw .truncatedFrame(frameType) }
        guard rangeCount <= UInt64(maxDecodedAdditionalRanges) else {
            throw .frameEncoding(frameType, "ACK claims more than 64 ranges")
        }
        guard let firstRange = reader.readVarInt() else { throw .truncatedFrame(frameType) }
        guard firstRange <= largest else { throw .frameEncoding(frameType, "ACK range below packet number 0") }
        var smallest = largest - firstRange
        let pairsStart = reader.offset
        for _ in 0..<Int(rangeCount) {
            guard let gap = reader.readVarInt(), let length = reader.readVarInt() else {
                throw .truncatedFrame(frameType)
            }
            guard smallest >= 2, gap <= smallest - 2, length <= smallest - 2 - gap else {
                throw .frameEncoding(frameType, "ACK range below packet number 0")
            }
            smallest = smallest - 2 - gap - length
        }
        return AckFrame(
            largest: PacketNumber(largest), ackDelayMicroseconds: delay, firstRangeLength: firstRange,
            additionalRangeCount: Int(rangeCount),
            encodedAdditionalRanges: UnsafeRawBufferPointer(rebasing: reader.bytes[pairsStart..<reader.offset]))
    }

    package static func == (a: AckFrame, b: AckFrame) -> Bool {
        a.largest == b.largest && a.ackDelayMicroseconds == b.ackDelayMicroseconds
            && a.ranges.elementsEqual(b.ranges)
    }
}
