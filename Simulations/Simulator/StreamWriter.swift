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

    init(id: StreamID, segments: [Segment]) {
        self.id = id
        self.segments = segments
    }

    /// Writes what fits. Returns an error message when the core refuses a valid command.
    mutating func pump(_ endpoint: inout Endpoint, on connection: ConnectionHandle, chunk: inout [UInt8]) -> String? {
        while index < segments.count {
            let segment = segments[index]
            let count = min(chunk.count, segment.count - offset)
            switch segment {
            case .bytes(let bytes, _): for i in 0..<count { chunk[i] = bytes[offset + i] }
            case .pattern(let tag, _, _): Content.fill(&chunk, count: count, tag: tag, from: offset)
            }
            let last = offset + count == segment.count
            let accepted: Int
            do {
                accepted = try chunk.withUnsafeBytes { raw in
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
