import SecureStreamsCore

/// Writes a stream's planned content (header record, payload, records) as
/// fast as the send buffer takes it, then finishes the stream.
struct StreamWriter {
    enum Segment {
        case bytes([UInt8], record: Bool)
        case pattern(tag: UInt64, count: Int, record: Bool)

        var count: Int {
            switch self {
            case .bytes(let bytes, _): bytes.count
            case .pattern(_, let count, _): count
            }
        }

        var isRecord: Bool {
            switch self {
            case .bytes(_, let record), .pattern(_, _, let record): record
            }
        }
    }

    let id: StreamID
    var segments: [Segment]
    private var index = 0
    private var offset = 0
    private(set) var finished = false
    /// The last pump stopped because the stream took less than offered: the
    /// next one waits for the stream's `streamWritable` event.
    private(set) var blocked = false

    init(id: StreamID, segments: [Segment]) {
        self.id = id
        self.segments = segments
    }

    /// Writes what fits. Returns an error message when the core refuses a valid command.
    mutating func pump(_ endpoint: inout Endpoint, on connection: ConnectionHandle, chunk: inout Chunk) -> String? {
        blocked = false
        while index < segments.count {
            let segment = segments[index]
            let count = min(chunk.bytes.count, segment.count - offset)
            switch segment {
            case .bytes(let bytes, _):
                for i in 0..<count { chunk.bytes[i] = bytes[offset + i] }
                chunk.pattern = nil
            case .pattern(let tag, _, _):
                chunk.fill(tag: tag, from: offset, count: count)
            }
            let last = offset + count == segment.count
            let accepted: Int
            do {
                accepted = try chunk.bytes.withUnsafeBytes { raw in
                    try endpoint.write(UnsafeRawBufferPointer(rebasing: raw[0..<count]), to: id, on: connection,
                                       endOfRecord: segment.isRecord && last)
                }
            } catch {
                return "write on \(id) refused: \(error)"
            }
            offset += accepted
            if offset == segment.count {
                index += 1
                offset = 0
            } else if accepted < count || accepted == 0 {
                blocked = true
                return nil
            }
        }
        if !finished {
            do { try endpoint.finish(id, on: connection) } catch { return "finish of \(id) refused: \(error)" }
            finished = true
        }
        return nil
    }
}

/// The staging buffer writers fill before handing bytes to the core, shared
/// by every writer of a run. It remembers which pattern bytes it holds. A
/// writer asks again at every simulator step, mostly with the same (tag,
/// offset) while its stream is blocked, or a little further on after an
/// acknowledgement freed some send buffer; computing 64 KiB of pattern each
/// time was most of the simulator's own work. Now bytes it already holds are
/// kept (moved to the front) and only the rest is computed. The bytes
/// offered to the core are the same either way.
struct Chunk {
    var bytes = [UInt8](repeating: 0, count: 64 * 1_024)
    /// The pattern bytes `bytes` holds from its start, if any.
    var pattern: (tag: UInt64, offset: Int, count: Int)?

    /// Makes `bytes[0..<count]` the pattern `tag` from `offset`.
    mutating func fill(tag: UInt64, from offset: Int, count: Int) {
        var kept = 0
        if let pattern, pattern.tag == tag, pattern.offset <= offset, offset < pattern.offset + pattern.count {
            let shift = offset - pattern.offset
            kept = min(pattern.count - shift, count)
            if shift > 0 {
                bytes.withUnsafeMutableBytes { raw in
                    guard let base = raw.baseAddress else { return }
                    base.copyMemory(from: base + shift, byteCount: kept)
                }
            }
        }
        if kept < count {
            for i in kept..<count { bytes[i] = Content.byte(tag: tag, offset: offset + i) }
        }
        pattern = (tag, offset, max(count, kept))
    }
}
