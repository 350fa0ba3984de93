/// One piece of a stream to put in a STREAM frame (PROTOCOL.md §6.2).
struct SendChunk: Hashable, Sendable {
    /// Stream offset of the first byte.
    var offset: UInt64
    /// Number of data bytes; 0 only for a chunk that carries just the FIN.
    var count: Int
    /// The chunk's last byte ends a record: set the frame's `RECORD` flag.
    var endsRecord: Bool
    /// The chunk ends at the stream's final size: set the frame's `FIN` flag.
    var isFinal: Bool

    /// The stream offsets the chunk covers.
    var range: Range<UInt64> { offset..<(offset + UInt64(count)) }
}

/// The sending half of one stream's data: what the application wrote and
/// what became of each byte.
///
/// ## What it owns
/// The bytes from the lowest unacknowledged offset (``ackedOffset``) up to
/// the end of what was written (``writtenOffset``), in a ``ByteRing``; which
/// of those are acknowledged (``acked``), declared lost (``lost``) and never
/// sent yet (from ``sentOffset`` on); the record ends the application marked;
/// and whether the stream is finished and where its FIN stands.
///
/// ```
///  ackedOffset            sentOffset        writtenOffset
///      |  in flight / acked / lost  |  unsent     |
///  ----+----------------------------+-------------+
///   freed                  bytes kept in the ring
/// ```
///
/// ## How to drive it
/// - ``write(_:endOfRecord:)`` accepts at most ``availableSpace`` bytes and
///   returns how many it took, so the API can suspend a writer at the limit.
///   ``finish()`` marks the end of the stream.
/// - ``nextChunk(maxBytes:maxOffset:)`` gives the next range to send:
///   lost ranges first (lowest offset first), then new data, then a FIN on
///   its own. Chunks never cross a record end, so `endsRecord` is exact.
///   New data stops at `maxOffset` (the flow-control limit); retransmissions
///   do not, since their credit was already counted.
/// - The packet builder copies the chunk's bytes with ``copy(_:into:)`` into
///   the outgoing packet (no allocation) and later reports the frame's fate
///   with ``onAcked(_:fin:)`` or ``onLost(_:fin:)``. Reports may repeat,
///   overlap, arrive late or cover bytes already acknowledged: acknowledged
///   wins over lost.
///
/// Acknowledged bytes at the front are freed at once; the storage is
/// released when everything written is acknowledged (beyond a small
/// retained capacity). All operations are amortized O(log r) in the number
/// r of disjoint acknowledged/lost ranges, plus the bytes copied.
struct SendBuffer {
    /// Where the FIN stands; only meaningful once finished.
    enum FinState: Hashable, Sendable {
        case unsent, inFlight, lost, acked
    }

    /// Most bytes kept (written but not yet acknowledged) at once.
    private(set) var limit: Int
    /// Every byte below this offset is acknowledged and freed.
    private(set) var ackedOffset: UInt64 = 0
    /// One past the highest byte ever sent: the flow control consumed.
    private(set) var sentOffset: UInt64 = 0
    /// One past the last byte written: the final size once finished.
    private(set) var writtenOffset: UInt64 = 0
    /// Whether the application finished the stream (no more writes).
    private(set) var isFinished = false
    private(set) var finState = FinState.unsent
    /// Acknowledged ranges above ``ackedOffset`` (never touching it).
    private(set) var acked = OffsetRanges()
    /// Ranges declared lost and not acknowledged since: sent again first.
    private(set) var lost = OffsetRanges()
    /// Offsets that end a record, ascending, all above ``ackedOffset``.
    private var recordEnds = RingBuffer<UInt64>()
    /// The highest record end ever marked (0 when none).
    private var lastRecordEnd: UInt64 = 0
    private var storage = ByteRing()

    /// - Parameter limit: the most bytes buffered at once (written, not acknowledged).
    init(limit: Int) {
        precondition(limit > 0, "SendBuffer limit must be positive")
        self.limit = limit
    }

    /// Bytes written and not yet acknowledged.
    var bufferedCount: Int { Int(writtenOffset - ackedOffset) }
    /// Bytes a write would accept now.
    var availableSpace: Int { isFinished ? 0 : max(0, limit - bufferedCount) }
    /// Bytes of storage currently allocated.
    var allocatedCount: Int { storage.capacity }
    /// The application finished and the peer acknowledged every byte and the FIN.
    var isFullyAcked: Bool { isFinished && ackedOffset == writtenOffset && finState == .acked }

    /// Whether ``nextChunk(maxBytes:maxOffset:)`` has anything to give,
    /// ignoring flow control.
    var hasPendingData: Bool { !lost.isEmpty || sentOffset < writtenOffset || isFinPending }

    /// Whether new data waits only for flow-control credit beyond `maxOffset`
    /// (nothing to retransmit, no FIN to send): the moment to send a
    /// STREAM_DATA_BLOCKED / DATA_BLOCKED.
    func isBlocked(maxOffset: UInt64) -> Bool {
        lost.isEmpty && sentOffset < writtenOffset && sentOffset >= maxOffset
    }

    /// Changes the buffering limit; bytes already kept stay even above it.
    mutating func setLimit(_ newLimit: Int) {
        precondition(newLimit > 0, "SendBuffer limit must be positive")
        limit = newLimit
    }

    /// Appends up to ``availableSpace`` bytes of `bytes`; if all are taken
    /// and `endOfRecord` is set, the last one ends a record (``endRecord()``).
    /// When only part is taken, no record end is marked: the writer sends the
    /// rest later with the same flag.
    /// - Returns: how many bytes were accepted (a prefix of `bytes`).
    /// - Precondition: not finished (the API layer refuses writes after finish).
    @discardableResult
    mutating func write(_ bytes: UnsafeRawBufferPointer, endOfRecord: Bool) -> Int {
        precondition(!isFinished, "SendBuffer.write after finish")
        let accepted = min(bytes.count, availableSpace)
        if accepted > 0 {
            ensureCapacity(bufferedCount + accepted)
            storage.write(UnsafeRawBufferPointer(rebasing: bytes[0..<accepted]), at: bufferedCount)
            writtenOffset += UInt64(accepted)
        }
        if endOfRecord && accepted == bytes.count { endRecord() }
        return accepted
    }

    /// `write` for an array; see ``write(_:endOfRecord:)-(UnsafeRawBufferPointer,_)``.
    @discardableResult
    mutating func write(_ bytes: [UInt8], endOfRecord: Bool = false) -> Int {
        bytes.withUnsafeBytes { write($0, endOfRecord: endOfRecord) }
    }

    /// Marks the end of a record at ``writtenOffset``.
    ///
    /// - Returns: `false`, marking nothing, when the record would be empty
    ///   (no byte since the previous record end: the wire cannot express an
    ///   empty record) or when its last byte was already sent without the
    ///   mark (a RECORD flag travels on the frame holding that byte). Writers
    ///   avoid the second case by passing `endOfRecord` with a record's last bytes.
    @discardableResult
    mutating func endRecord() -> Bool {
        precondition(!isFinished, "SendBuffer.endRecord after finish")
        guard writtenOffset > lastRecordEnd, sentOffset < writtenOffset else { return false }
        recordEnds.append(writtenOffset)
        lastRecordEnd = writtenOffset
        return true
    }

    /// Marks the end of the stream: ``writtenOffset`` becomes the final size.
    /// Idempotent.
    mutating func finish() {
        isFinished = true
    }

    /// The next range to send, or `nil` when there is nothing (or no credit).
    ///
    /// Lost ranges come first, lowest offset first, regardless of
    /// `maxOffset`; then new data up to `maxOffset`; then a lone FIN. A chunk
    /// holds at most `maxBytes` bytes and ends at the first record end after
    /// its start. With `maxBytes == 0` only a lone FIN can be returned.
    /// The returned range counts as in flight from now on.
    mutating func nextChunk(maxBytes: Int, maxOffset: UInt64 = .max) -> SendChunk? {
        if maxBytes > 0, let range = lost.first {
            let end = cut(range.lowerBound, min(range.upperBound, range.lowerBound + UInt64(maxBytes)))
            lost.remove(contentsOf: range.lowerBound..<end)
            return makeChunk(range.lowerBound..<end)
        }
        let newLimit = min(writtenOffset, maxOffset)
        if maxBytes > 0, sentOffset < newLimit {
            let start = sentOffset
            let end = cut(start, min(newLimit, start + UInt64(maxBytes)))
            sentOffset = end
            return makeChunk(start..<end)
        }
        if isFinPending && sentOffset == writtenOffset {
            finState = .inFlight
            return SendChunk(offset: writtenOffset, count: 0, endsRecord: false, isFinal: true)
        }
        return nil
    }

    /// Copies the bytes of `range` into `destination` (the outgoing packet).
    /// - Precondition: `range` lies within the kept bytes, between
    ///   ``ackedOffset`` and ``writtenOffset``, and `destination` holds it exactly.
    func copy(_ range: Range<UInt64>, into destination: UnsafeMutableRawBufferPointer) {
        precondition(range.lowerBound >= ackedOffset && range.upperBound <= writtenOffset,
                     "SendBuffer.copy: range not buffered")
        precondition(destination.count == range.count, "SendBuffer.copy: destination size mismatch")
        storage.copy(from: Int(range.lowerBound - ackedOffset), into: destination)
    }

    /// The bytes of `range` as an array (tests and cold paths).
    func bytes(in range: Range<UInt64>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: range.count)
        out.withUnsafeMutableBytes { copy(range, into: $0) }
        return out
    }

    /// The peer acknowledged the frame that carried `range` (and the FIN if `fin`).
    mutating func onAcked(_ range: Range<UInt64>, fin: Bool = false) {
        if fin { finState = .acked }
        let range = clamp(range)
        guard !range.isEmpty else { return }
        lost.remove(contentsOf: range)
        if range.lowerBound == ackedOffset {
            advanceAcked(to: range.upperBound)
        } else {
            acked.insert(contentsOf: range)
        }
        while let first = acked.first, first.lowerBound <= ackedOffset {
            acked.remove(contentsOf: first)
            advanceAcked(to: first.upperBound)
        }
    }

    /// The frame that carried `range` (and the FIN if `fin`) is lost: its
    /// bytes that are not acknowledged will be sent again.
    mutating func onLost(_ range: Range<UInt64>, fin: Bool = false) {
        if fin && finState != .acked { finState = .lost }
        let range = clamp(range)
        guard !range.isEmpty else { return }
        var fresh = OffsetRanges(range)
        fresh.subtract(acked)
        lost.formUnion(fresh)
    }

    /// Drops everything (the stream was reset): nothing more will be sent,
    /// and the memory is released. ``sentOffset`` stays: it is the final size
    /// a RESET_STREAM carries.
    mutating func discardAll() {
        writtenOffset = sentOffset
        ackedOffset = sentOffset
        acked = OffsetRanges()
        lost = OffsetRanges()
        recordEnds.removeAll()
        storage.release()
        isFinished = true
        finState = .acked
    }

    // MARK: - Private

    private var isFinPending: Bool { isFinished && (finState == .unsent || finState == .lost) }

    /// `end`, or the first record end after `start` if that comes earlier.
    private func cut(_ start: UInt64, _ end: UInt64) -> UInt64 {
        let index = recordEnds.partitionPoint { $0 > start }
        guard index < recordEnds.count else { return end }
        return min(end, recordEnds[index])
    }

    /// The chunk for `range`, whose FIN (if it carries one) is now in flight.
    private mutating func makeChunk(_ range: Range<UInt64>) -> SendChunk {
        let isFinal = isFinished && range.upperBound == writtenOffset
        if isFinal && finState != .acked { finState = .inFlight }
        return SendChunk(offset: range.lowerBound, count: range.count,
                         endsRecord: isRecordEnd(range.upperBound), isFinal: isFinal)
    }

    private func isRecordEnd(_ offset: UInt64) -> Bool {
        let index = recordEnds.partitionPoint { $0 >= offset }
        return index < recordEnds.count && recordEnds[index] == offset
    }

    /// The part of `range` that was sent and is not yet freed.
    private func clamp(_ range: Range<UInt64>) -> Range<UInt64> {
        let lower = max(range.lowerBound, ackedOffset)
        let upper = min(range.upperBound, sentOffset)
        return lower < upper ? lower..<upper : ackedOffset..<ackedOffset
    }

    private mutating func advanceAcked(to offset: UInt64) {
        guard offset > ackedOffset else { return }
        storage.advance(by: Int(offset - ackedOffset))
        ackedOffset = offset
        while let first = recordEnds.first, first <= ackedOffset { recordEnds.popFirst() }
        if bufferedCount == 0 && storage.capacity > Self.retainedCapacity { storage.release() }
    }

    private mutating func ensureCapacity(_ needed: Int) {
        guard needed > storage.capacity else { return }
        let doubled = max(Self.initialCapacity, storage.capacity * 2)
        storage.reserve(min(max(needed, doubled), max(limit, needed)), preserving: bufferedCount)
    }

    /// Smallest allocation: small enough that 10,000 streams with a short
    /// message each stay cheap; growth doubles from there.
    private static var initialCapacity: Int { 512 }
    /// Storage up to this size survives an empty buffer, so a request/response
    /// stream does not reallocate per message; above it, an idle stream frees it.
    private static var retainedCapacity: Int { 4096 }
}
