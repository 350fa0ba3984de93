/// What every workload stream carries, derived from pure functions of
/// (client, phase, ordinal) so the receiving side knows what to expect
/// without being told: any lost, duplicated, reordered or corrupted byte shows.
///
/// Every stream opens with an 8-byte header record: client index (2 bytes),
/// phase index (2), ordinal within the phase (4), all big-endian.
enum Content {
    static let headerCount = 8

    static func header(client: Int, phase: Int, ordinal: Int) -> [UInt8] {
        [UInt8(client >> 8 & 0xff), UInt8(client & 0xff), UInt8(phase >> 8 & 0xff), UInt8(phase & 0xff),
         UInt8(ordinal >> 24 & 0xff), UInt8(ordinal >> 16 & 0xff), UInt8(ordinal >> 8 & 0xff), UInt8(ordinal & 0xff)]
    }

    static func parseHeader(_ bytes: [UInt8]) -> (client: Int, phase: Int, ordinal: Int)? {
        guard bytes.count == headerCount else { return nil }
        let client = Int(bytes[0]) << 8 | Int(bytes[1])
        let phase = Int(bytes[2]) << 8 | Int(bytes[3])
        let ordinal = Int(bytes[4]) << 24 | Int(bytes[5]) << 16 | Int(bytes[6]) << 8 | Int(bytes[7])
        return (client, phase, ordinal)
    }

    /// A tag naming one byte sequence (a stream's payload, a response, a record).
    static func tag(client: Int, phase: Int, ordinal: Int, response: Bool = false) -> UInt64 {
        mix(UInt64(client) << 48 ^ UInt64(phase) << 32 ^ UInt64(ordinal) ^ (response ? 1 << 63 : 0))
    }

    /// Byte `offset` of the sequence `tag`: position-dependent at several scales,
    /// so a shifted, repeated or swapped chunk does not match.
    @inline(__always)
    static func byte(tag: UInt64, offset: Int) -> UInt8 {
        let o = UInt64(offset)
        return UInt8(truncatingIfNeeded: tag &+ o &* 31 &+ (o >> 8) &* 7 &+ (o >> 16) &* 3 &+ (tag >> (o & 31)))
    }

    static func fill(_ buffer: inout [UInt8], count: Int, tag: UInt64, from offset: Int) {
        for i in 0..<count { buffer[i] = byte(tag: tag, offset: offset + i) }
    }

    /// The first offset in `bytes` (which start at `offset`) that differs, if any.
    static func firstMismatch(_ bytes: [UInt8], tag: UInt64, from offset: Int) -> Int? {
        for i in 0..<bytes.count where bytes[i] != byte(tag: tag, offset: offset + i) { return offset + i }
        return nil
    }

    /// SplitMix64's finalizer.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension WorkloadPhase {
    /// How many streams the phase opens.
    var streamCount: Int {
        switch self {
        case .bulk(_, let streams): streams
        case .requestResponse(let count, _, _): count
        case .records(_, _, _, let streams): streams
        case .idle, .keyUpdate: 0
        }
    }

    /// Payload bytes on stream `ordinal` (bulk only).
    func bulkBytes(ordinal: Int) -> Int {
        guard case .bulk(let bytes, let streams) = self else { return 0 }
        return bytes / streams + (ordinal < bytes % streams ? 1 : 0)
    }

    /// The size of record `index` (records only): a pure function of its coordinates.
    func recordSize(client: Int, phase: Int, index: Int) -> Int {
        guard case .records(_, let minBytes, let maxBytes, _) = self else { return 0 }
        let span = UInt64(maxBytes - minBytes + 1)
        return minBytes + Int(Content.mix(Content.tag(client: client, phase: phase, ordinal: index) ^ 0x5EC0_4D5) % span)
    }

    /// The record indices carried by stream `ordinal`: round robin over the streams.
    func recordIndices(ordinal: Int) -> StrideTo<Int> {
        guard case .records(let count, _, _, let streams) = self else { return stride(from: 0, to: 0, by: 1) }
        return stride(from: ordinal, to: count, by: streams)
    }

    /// Application payload bytes the phase moves, both directions.
    func payloadBytes(client: Int, phase: Int) -> Int {
        switch self {
        case .bulk(let bytes, _): return bytes
        case .requestResponse(let count, let request, let response): return count * (request + response)
        case .records(let count, _, _, _):
            return (0..<count).reduce(0) { $0 + recordSize(client: client, phase: phase, index: $1) }
        case .idle, .keyUpdate: return 0
        }
    }
}
