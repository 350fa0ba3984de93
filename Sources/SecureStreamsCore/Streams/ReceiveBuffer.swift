/// The receiving half of one stream's data: a reassembler that turns STREAM
/// frames, in any order, duplicated or overlapping, into ordered bytes and
/// whole records (PROTOCOL.md §6.2).
///
/// ## What it owns
/// The bytes from ``readOffset`` (everything below was read by the
/// application) up to ``highestOffset`` (the end of the furthest segment
/// received), in a ``ByteRing``; a ``BitWindow`` of which of those bytes
/// arrived, and another of which bytes end a record; the final size once
/// known; and the flow-control ``limit`` the owner advertised.
///
/// ```
///   readOffset      contiguousOffset        highestOffset    limit
///   |  readable, no gap  |  gaps and islands    |  (empty)     |
///   +--------------------+----------------------+--------------+
/// ```
///
/// ## Rules
/// - **Flow control.** A segment ending beyond ``limit`` is a
///   `FLOW_CONTROL_ERROR`; so is a RESET_STREAM final size beyond it. Nothing
///   beyond the limit is ever stored, so memory is bounded by the advertised
///   window (`limit − readOffset`) plus a bitmap of 1/4 of that.
/// - **Final size** (RFC 9000 §4.5 as a model). Once a FIN or RESET_STREAM
///   gave the final size, a different final size or data beyond it is a
///   `FINAL_SIZE_ERROR`; so is a final size below bytes already received.
/// - **Overlaps.** Bytes already received are kept: when a later segment
///   carries different bytes for the same offsets, the first copy wins and
///   the difference goes unnoticed (checking would cost a comparison per
///   byte for a misbehaviour the AEAD already makes pointless for anyone
///   but the authenticated peer itself).
/// - **Records.** A segment with `recordEnd` marks its last byte as the end
///   of a record (an empty segment marks nothing). A correct sender marks the
///   same ends in every copy; an inconsistent one gets the union. The final
///   size also ends a record, so a stream's tail after its last marked end is
///   delivered as a last record once everything arrived.
/// - **Reset.** After ``reset(finalSize:)`` the stored data is dropped, later
///   segments are checked (final size, limit) and discarded.
///
/// Reads come in two kinds that may be mixed: ``read(into:)`` takes bytes
/// regardless of records (skipping over record ends), ``readRecord()`` takes
/// exactly one whole record from the current read position.
///
/// Cost: an insertion is O(length) byte copies plus O(length / 64) bitmap
/// words; in-order delivery copies each byte once. Finding the next complete
/// record is amortized O(1) per byte (a scan pointer only moves forward).
struct ReceiveBuffer {
    /// Everything below was read by the application.
    private(set) var readOffset: UInt64 = 0
    /// Every byte in `readOffset ..< contiguousOffset` has arrived.
    private(set) var contiguousOffset: UInt64 = 0
    /// One past the furthest byte received: the flow-control credit consumed.
    private(set) var highestOffset: UInt64 = 0
    /// The stream's final size, once a FIN or RESET_STREAM gave it.
    private(set) var finalSize: UInt64?
    /// The highest offset the peer may send to (exclusive): the advertised credit.
    private(set) var limit: UInt64
    /// Whether the peer reset the stream (``reset(finalSize:)``).
    private(set) var isReset = false

    private var storage = ByteRing()
    private var present = BitWindow()
    /// Bit `o` set: byte `o` is the last byte of a record.
    private var recordLastBytes = BitWindow()
    /// No record ends in `readOffset ..< recordScanOffset` (bitwise: no last byte there).
    private var recordScanOffset: UInt64 = 0
    /// End of the first complete record, when one is found.
    private var firstRecordEnd: UInt64?

    /// - Parameter limit: the initial flow-control credit (max stream data).
    init(limit: UInt64) {
        self.limit = limit
    }

    /// Bytes that ``read(into:)`` would return now.
    var readableCount: Int { Int(contiguousOffset - readOffset) }
    /// Whether ``readRecord()`` would return a record now.
    var hasCompleteRecord: Bool { firstRecordEnd != nil || hasFinalTail }
    /// Every byte up to the final size has arrived.
    var isComplete: Bool { finalSize.map { contiguousOffset == $0 } ?? false }
    /// Every byte up to the final size has been read (not for a reset stream).
    var isFullyRead: Bool { !isReset && finalSize.map { readOffset == $0 } ?? false }
    /// Bytes of memory held for data and bitmaps.
    var allocatedCount: Int { storage.capacity + present.allocatedCount + recordLastBytes.allocatedCount }

    /// Raises the flow-control limit (a MAX_STREAM_DATA was sent). Never lowers it.
    mutating func raiseLimit(to newLimit: UInt64) {
        limit = max(limit, newLimit)
    }

    /// How much ``highestOffset`` would grow if a segment ended at `end`: the
    /// extra credit the owner must charge to the connection.
    func creditIncrease(toReach end: UInt64) -> UInt64 {
        end > highestOffset ? end - highestOffset : 0
    }

    /// Takes one STREAM frame's data.
    ///
    /// - Parameters:
    ///   - offset: the stream offset of `data`'s first byte.
    ///   - fin: the segment's end is the final size.
    ///   - recordEnd: the segment's last byte ends a record.
    /// - Returns: how much ``highestOffset`` grew (credit consumed).
    /// - Throws: `FINAL_SIZE_ERROR` or `FLOW_CONTROL_ERROR`; the buffer is
    ///   unchanged then (the connection closes anyway).
    @discardableResult
    mutating func insert(offset: UInt64, _ data: UnsafeRawBufferPointer, fin: Bool = false,
                         recordEnd: Bool = false) throws(PeerError) -> UInt64 {
        let (end, overflow) = offset.addingReportingOverflow(UInt64(data.count))
        if overflow || end > VarInt.maxValue {
            throw PeerError(.frameEncodingError, frameType: Self.frameType, "stream offset + length ≥ 2^62")
        }
        try checkFinalSize(end: end, fin: fin)
        if end > limit { throw PeerError(.flowControlError, frameType: Self.frameType, "data beyond stream credit") }

        let increase = creditIncrease(toReach: end)
        if fin { finalSize = end }
        guard !isReset else {
            highestOffset = max(highestOffset, end)
            return increase
        }
        let start = max(offset, contiguousOffset)
        if start < end {
            store(UnsafeRawBufferPointer(rebasing: data[Int(start - offset)...]), at: start)
        }
        highestOffset = max(highestOffset, end)
        if recordEnd && !data.isEmpty && end > readOffset { markRecordEnd(end) }
        updateRecordScan()
        releaseIfEmpty()
        return increase
    }

    /// `insert` for an array (tests and cold paths).
    @discardableResult
    mutating func insert(offset: UInt64, _ data: [UInt8], fin: Bool = false,
                         recordEnd: Bool = false) throws(PeerError) -> UInt64 {
        let result: Result<UInt64, PeerError> = data.withUnsafeBytes { raw in
            do throws(PeerError) {
                return .success(try insert(offset: offset, raw, fin: fin, recordEnd: recordEnd))
            } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// The peer reset the stream with `finalSize` (RESET_STREAM).
    /// - Returns: how much ``highestOffset`` grew: the final size counts as
    ///   consumed credit.
    /// - Throws: `FINAL_SIZE_ERROR` when it contradicts a known final size or
    ///   lies below bytes received; `FLOW_CONTROL_ERROR` beyond the limit.
    @discardableResult
    mutating func reset(finalSize newFinalSize: UInt64) throws(PeerError) -> UInt64 {
        let resetFrame: UInt64 = 0x03
        if let known = finalSize, known != newFinalSize {
            throw PeerError(.finalSizeError, frameType: resetFrame, "reset final size differs from the known one")
        }
        if newFinalSize < highestOffset {
            throw PeerError(.finalSizeError, frameType: resetFrame, "reset final size below data received")
        }
        if newFinalSize > limit {
            throw PeerError(.flowControlError, frameType: resetFrame, "reset final size beyond stream credit")
        }
        let increase = creditIncrease(toReach: newFinalSize)
        highestOffset = newFinalSize
        finalSize = newFinalSize
        isReset = true
        contiguousOffset = readOffset
        firstRecordEnd = nil
        storage.release()
        present.reset(at: readOffset)
        recordLastBytes.reset(at: readOffset)
        return increase
    }

    /// Copies up to `destination.count` contiguous bytes to `destination`
    /// and consumes them. - Returns: the number of bytes read.
    mutating func read(into destination: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(destination.count, readableCount)
        guard count > 0 else { return 0 }
        storage.copy(from: 0, into: UnsafeMutableRawBufferPointer(rebasing: destination[0..<count]))
        consume(count)
        return count
    }

    /// Reads up to `maxBytes` contiguous bytes as an array.
    mutating func read(maxBytes: Int = .max) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: min(maxBytes, readableCount))
        let count = out.withUnsafeMutableBytes { read(into: $0) }
        precondition(count == out.count)
        return out
    }

    /// Consumes up to `maxBytes` contiguous bytes without copying them (the
    /// application asked the peer to stop sending). - Returns: bytes dropped.
    mutating func discard(maxBytes: Int = .max) -> Int {
        let count = min(maxBytes, readableCount)
        if count > 0 { consume(count) }
        return count
    }

    /// The next whole record, consumed; `nil` until all of its bytes arrived.
    /// Reading starts at ``readOffset``: after a partial ``read(into:)`` the
    /// first record returned is the rest of the interrupted one.
    mutating func readRecord() -> [UInt8]? {
        if let end = firstRecordEnd { return read(maxBytes: Int(end - readOffset)) }
        if hasFinalTail { return read(maxBytes: readableCount) }
        return nil
    }

    // MARK: - Private

    private static let frameType: UInt64 = 0x10

    /// The bytes after the last record end, once the stream is complete.
    private var hasFinalTail: Bool { !isReset && isComplete && readOffset < contiguousOffset }

    private func checkFinalSize(end: UInt64, fin: Bool) throws(PeerError) {
        if let known = finalSize {
            if fin && end != known {
                throw PeerError(.finalSizeError, frameType: Self.frameType, "FIN changes the final size")
            }
            if end > known {
                throw PeerError(.finalSizeError, frameType: Self.frameType, "data beyond the final size")
            }
        } else if fin && end < highestOffset {
            throw PeerError(.finalSizeError, frameType: Self.frameType, "FIN below data already received")
        }
    }

    /// Stores the bytes of `data` (starting at stream offset `start`, at or
    /// beyond ``contiguousOffset``) that have not arrived yet, then extends
    /// the contiguous prefix.
    private mutating func store(_ data: UnsafeRawBufferPointer, at start: UInt64) {
        let end = start + UInt64(data.count)
        ensureCapacity(upTo: end)
        if present.first(true, in: start..<end) == end {
            // Nothing of this range arrived before (the common case): one copy.
            storage.write(data, at: Int(start - readOffset))
        } else {
            var cursor = start
            while cursor < end {
                let gapStart = present.first(false, in: cursor..<end)
                guard gapStart < end else { break }
                let gapEnd = present.first(true, in: gapStart..<end)
                let slice = Int(gapStart - start)..<Int(gapEnd - start)
                storage.write(UnsafeRawBufferPointer(rebasing: data[slice]), at: Int(gapStart - readOffset))
                cursor = gapEnd
            }
        }
        present.insert(start..<end)
        if start == contiguousOffset {
            contiguousOffset = present.first(false, in: contiguousOffset..<max(highestOffset, end))
        }
    }

    private mutating func markRecordEnd(_ end: UInt64) {
        let lastByte = end - 1
        if recordLastBytes.contains(lastByte) { return }
        recordLastBytes.insert(lastByte..<end)
        if lastByte < recordScanOffset {
            recordScanOffset = lastByte
            firstRecordEnd = nil
        }
    }

    /// Finds the first complete record if not known yet, scanning forward
    /// from where the last scan stopped.
    private mutating func updateRecordScan() {
        guard firstRecordEnd == nil, recordScanOffset < contiguousOffset else { return }
        let lastByte = recordLastBytes.first(true, in: recordScanOffset..<contiguousOffset)
        if lastByte < contiguousOffset {
            firstRecordEnd = lastByte + 1
            recordScanOffset = lastByte
        } else {
            recordScanOffset = contiguousOffset
        }
    }

    private mutating func consume(_ count: Int) {
        storage.advance(by: count)
        readOffset += UInt64(count)
        present.discard(below: readOffset)
        recordLastBytes.discard(below: readOffset)
        if let end = firstRecordEnd, end <= readOffset { firstRecordEnd = nil }
        recordScanOffset = max(recordScanOffset, readOffset)
        updateRecordScan()
        releaseIfEmpty()
    }

    private mutating func ensureCapacity(upTo end: UInt64) {
        let needed = Int(end - readOffset)
        guard needed > storage.capacity else { return }
        let window = Int(clamping: limit - readOffset)
        let grown = min(max(needed, storage.capacity * 2, Self.initialCapacity), max(window, needed))
        // Only offsets below `readOffset + capacity` were ever stored (an empty
        // frame can raise `highestOffset` further without storing anything).
        storage.reserve(grown, preserving: min(Int(highestOffset - readOffset), storage.capacity))
    }

    /// Frees the storage of a drained buffer that grew beyond the retained size.
    private mutating func releaseIfEmpty() {
        guard readOffset == highestOffset, storage.capacity > Self.retainedCapacity else { return }
        storage.release()
        present.reset(at: readOffset)
        recordLastBytes.reset(at: readOffset)
    }

    /// Smallest allocation for stored bytes (see ``SendBuffer``); doubles from there.
    private static var initialCapacity: Int { 512 }
    /// Storage up to this size survives a drained buffer (see ``SendBuffer``).
    private static var retainedCapacity: Int { 4096 }
}
