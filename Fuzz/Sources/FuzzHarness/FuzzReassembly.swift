// FuzzReassembly: a stream's ReceiveBuffer fed segments of a known byte
// stream in any order, overlapping, with FIN, RECORD, resets, reads and credit
// raises, checked against a reference model after every operation.
#if FUZZ_PACKAGE
@_spi(Fuzzing) import SecureStreamsCore
#else
@testable @_spi(Fuzzing) public import SecureStreamsCore
#endif

public enum FuzzReassembly {
    /// Offsets stay below this, so the model is a plain array of flags.
    static let space = 1 << 17
    static let stream: UInt64 = 5

    struct Model {
        var limit: UInt64
        var received: [Bool]
        var readOffset: UInt64 = 0
        var contiguous: UInt64 = 0
        var highest: UInt64 = 0
        var finalSize: UInt64?
        var isReset = false

        mutating func extendContiguous() {
            while contiguous < UInt64(received.count), received[Int(contiguous)] { contiguous += 1 }
        }
    }

    public static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzBytes(data)
        let initialLimit = UInt64(input.u16()) + 1
        var buffer = FuzzEntryPoints.ReceiveBufferHarness(limit: initialLimit)
        var model = Model(limit: initialLimit, received: [Bool](repeating: false, count: space))
        var operations = 0
        while !input.isEmpty && operations < 500 {
            operations += 1
            let op = input.u8()
            switch op % 16 {
            case 0..<8:
                let offset = UInt64(input.u16()) << (op & 0x80 == 0 ? 0 : 1)
                let count = Int(input.u16() % 3_000)
                let fin = op & 0x10 != 0
                let recordEnd = op & 0x20 != 0
                let end = offset + UInt64(count)
                var expected = end <= model.limit
                if let known = model.finalSize {
                    if fin && end != known { expected = false }
                    if end > known { expected = false }
                } else if fin && end < model.highest {
                    expected = false
                }
                let segment = fuzzPattern(stream: stream, from: offset, count: count)
                let accepted = segment.withUnsafeBytes {
                    buffer.insert(offset: offset, $0, fin: fin, recordEnd: recordEnd)
                }
                precondition(accepted == expected, "insert accepted \(accepted), model says \(expected)")
                guard accepted else { return } // the connection closes: nothing more to check
                if fin { model.finalSize = end }
                model.highest = max(model.highest, end)
                if !model.isReset {
                    for index in Int(offset)..<Int(end) { model.received[index] = true }
                    model.extendContiguous()
                }
            case 8, 9, 10:
                let maxBytes = Int(input.u16())
                let bytes = buffer.read(maxBytes: maxBytes)
                let expectedCount = model.isReset ? 0 : min(maxBytes, Int(model.contiguous - model.readOffset))
                precondition(bytes.count == expectedCount, "read \(bytes.count) bytes, model says \(expectedCount)")
                precondition(bytes == fuzzPattern(stream: stream, from: model.readOffset, count: bytes.count),
                             "read bytes that are not the stream's")
                model.readOffset += UInt64(bytes.count)
            case 11:
                if let record = buffer.readRecord() {
                    precondition(!model.isReset)
                    precondition(model.readOffset + UInt64(record.count) <= model.contiguous)
                    precondition(record == fuzzPattern(stream: stream, from: model.readOffset, count: record.count),
                                 "a record that is not the stream's bytes")
                    model.readOffset += UInt64(record.count)
                }
            case 12:
                let maxBytes = Int(input.u16())
                let dropped = buffer.discard(maxBytes: maxBytes)
                let expectedCount = model.isReset ? 0 : min(maxBytes, Int(model.contiguous - model.readOffset))
                precondition(dropped == expectedCount)
                model.readOffset += UInt64(dropped)
            case 13, 14:
                let newLimit = min(UInt64(space), UInt64(input.u16()) << 1)
                buffer.raiseLimit(to: newLimit)
                model.limit = max(model.limit, newLimit)
            default:
                guard input.u8() == 0x5A else { break } // resets are rare: they end the checks
                let finalSize = UInt64(input.u16())
                var expected = true
                if let known = model.finalSize, known != finalSize { expected = false }
                if finalSize < model.highest || finalSize > model.limit { expected = false }
                precondition(buffer.reset(finalSize: finalSize) == expected, "reset disagrees with the model")
                guard expected else { return }
                model.isReset = true
                model.finalSize = finalSize
                model.highest = finalSize
                model.contiguous = model.readOffset
            }
            precondition(buffer.readOffset == model.readOffset)
            precondition(buffer.highestOffset == model.highest)
            precondition(buffer.finalSize == model.finalSize)
            precondition(buffer.contiguousOffset == model.contiguous, "contiguous prefix disagrees with the model")
            precondition(buffer.readableCount == Int(model.contiguous - model.readOffset))
            if !model.isReset {
                precondition(buffer.isComplete == (model.finalSize == model.contiguous))
            }
            // Memory stays within the credit window (plus bookkeeping).
            precondition(buffer.allocatedCount <= 2 * Int(model.limit) + 65_536,
                         "receive buffer grew beyond its window")
        }
    }

    public static func seeds() -> [(name: String, bytes: [UInt8])] {
        [
            ("in-order", [0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x64, 0x00, 0x64, 0x08, 0xFF, 0xFF]),
            ("reordered-overlap", [0xFF, 0xFF, 0x01, 0x00, 0x32, 0x00, 0x64, 0x02, 0x00, 0x00, 0x00, 0x40,
                                   0x23, 0x00, 0x10, 0x00, 0x80, 0x08, 0x01, 0x00, 0x0B]),
            ("fin-record", [0x10, 0x00, 0x30, 0x00, 0x00, 0x00, 0x20, 0x00, 0x20, 0x00, 0x20, 0x0B, 0x0B, 0x08, 0x00, 0x10]),
            ("beyond-limit", [0x00, 0x10, 0x00, 0x00, 0x10, 0x00, 0x20]),
            ("reset", [0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0F, 0x5A, 0x02, 0x00, 0x08, 0x01, 0x00]),
            ("raise-limit", [0x00, 0x10, 0x0D, 0xFF, 0xFF, 0x80, 0x80, 0x00, 0x0B, 0xB8, 0x08, 0xFF, 0xFF]),
        ]
    }
}
