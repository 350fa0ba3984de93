#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import SecureStreamsCore

/// Seeds for the randomized wire tests: `SIM_SEED` when set (to replay a
/// failure), else a fixed list so CI is deterministic (STYLE.md §9).
enum WireSeeds {
    static let list = TestSeeds.seeds([1, 2, 3, 0x5EED_CAFE], filter: "Wire")

    static func replay(_ seed: UInt64) -> String { TestSeeds.replay(seed, filter: "Wire") }
}

/// Raw memory that frame slices can point into for the length of a test.
/// Call ``deallocate()`` in a `defer` (a class, so ARC cannot end it early
/// while slices are still in use, as long as the `defer` refers to it).
final class Arena {
    private let storage: UnsafeMutableRawBufferPointer
    private var used = 0

    init(capacity: Int = 1 << 22) {
        storage = .allocate(byteCount: capacity, alignment: 8)
    }

    func deallocate() { storage.deallocate() }

    /// A copy of `bytes` that lives as long as the arena.
    func store(_ bytes: [UInt8]) -> UnsafeRawBufferPointer {
        let slice = allocate(count: bytes.count)
        bytes.withUnsafeBytes { if $0.count > 0 { slice.copyMemory(from: $0) } }
        return UnsafeRawBufferPointer(slice)
    }

    /// `count` uninitialized-but-zeroed bytes.
    func allocate(count: Int) -> UnsafeMutableRawBufferPointer {
        if used + count > storage.count { used = 0 }  // wrap: callers only keep recent slices
        precondition(count <= storage.count)
        let slice = UnsafeMutableRawBufferPointer(rebasing: storage[used..<(used + count)])
        slice.initializeMemory(as: UInt8.self, repeating: 0)
        used += count
        return slice
    }
}

/// Encodes one frame into a fresh array, checking `encodedCount`.
func encodedBytes(_ frame: Frame, sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8] {
    var out = [UInt8](repeating: 0xee, count: frame.encodedCount)
    out.withUnsafeMutableBytes { buffer in
        var writer = WireWriter(buffer)
        #expect(frame.encode(into: &writer), sourceLocation: sourceLocation)
        #expect(writer.offset == buffer.count, "encodedCount disagrees with encode", sourceLocation: sourceLocation)
    }
    return out
}

/// Decodes every frame of `payload`: the frames before the end or the first
/// error, and the error if there was one.
func decodeAll(_ payload: UnsafeRawBufferPointer) -> (frames: [Frame], error: PeerError?) {
    var decoder = FrameDecoder(payload)
    var frames: [Frame] = []
    do {
        while let frame = try decoder.next() { frames.append(frame) }
    } catch {
        // After an error the decoder yields nothing more.
        let after = try? decoder.next()
        #expect(after == nil, "decoder yielded a frame after an error")
        return (frames, error)
    }
    return (frames, nil)
}

/// Runs `body` over `bytes` as a borrowed buffer.
func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try bytes.withUnsafeBytes { try body($0) }
}

/// Builds a payload with a writer over a scratch buffer.
func build(capacity: Int = 4096, _ body: (inout WireWriter) -> Void) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: capacity)
    let count = out.withUnsafeMutableBytes { buffer in
        var writer = WireWriter(buffer)
        body(&writer)
        return writer.offset
    }
    return Array(out[0..<count])
}

extension SeededRandom {
    /// A varint-range value, biased towards the size-class boundaries where
    /// encodings change length.
    mutating func varInt(max limit: UInt64 = VarInt.maxValue) -> UInt64 {
        let value: UInt64
        switch UInt8.random(in: 0..<8, using: &self) {
        case 0: value = [0, 63, 64, 16_383, 16_384, (1 << 30) - 1, 1 << 30, VarInt.maxValue].randomElement(using: &self)!
        case 1, 2: value = UInt64.random(in: 0...63, using: &self)
        case 3: value = UInt64.random(in: 0...16_383, using: &self)
        case 4: value = UInt64.random(in: 0...((1 << 30) - 1), using: &self)
        default: value = UInt64.random(in: 0...VarInt.maxValue, using: &self)
        }
        return Swift.min(value, limit)
    }

    mutating func bool() -> Bool { Bool.random(using: &self) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
}
