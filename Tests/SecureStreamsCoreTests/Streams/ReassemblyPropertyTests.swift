import Testing
@testable import SecureStreamsCore

extension StreamsTests {
    /// The reassembler against a reference model (STYLE.md §9): a random byte
    /// stream with random record ends is cut the way a sender would (at every
    /// record end, then at random), plus random overlapping retransmissions;
    /// the segments are shuffled and duplicated and interleaved with random
    /// reads. After every step the buffer must agree with the model. Replay a
    /// failure with `SIM_SEED=<seed> swift test --filter Reassembly`.
    @Suite struct ReassemblyPropertyTests {
        struct Segment: CustomStringConvertible {
            var range: Range<Int>
            var fin: Bool
            var recordEnd: Bool
            var description: String { "[\(range)\(fin ? " FIN" : "")\(recordEnd ? " REC" : "")]" }
        }

        enum Op: CustomStringConvertible {
            case deliver(Segment)
            case readBytes(Int)
            case readRecord
            var description: String {
                switch self {
                case .deliver(let segment): "deliver \(segment)"
                case .readBytes(let n): "read \(n)"
                case .readRecord: "readRecord"
                }
            }
        }

        /// What a correct reassembler shows, computed the slow, obvious way.
        struct Model {
            let data: [UInt8]
            var arrived: [Bool]
            var recordEnds = Set<Int>()
            var finalSize: Int?
            var readOffset = 0

            init(data: [UInt8]) {
                self.data = data
                arrived = Array(repeating: false, count: data.count)
            }

            var contiguous: Int {
                var end = readOffset
                while end < data.count && arrived[end] { end += 1 }
                return end
            }

            mutating func deliver(_ segment: Segment) {
                for i in segment.range { arrived[i] = true }
                if segment.fin { finalSize = segment.range.upperBound }
                if segment.recordEnd && !segment.range.isEmpty && segment.range.upperBound > readOffset {
                    recordEnds.insert(segment.range.upperBound)
                }
            }

            mutating func readBytes(_ n: Int) -> [UInt8] {
                let end = min(contiguous, readOffset + n)
                defer { readOffset = end }
                return Array(data[readOffset..<end])
            }

            mutating func readRecord() -> [UInt8]? {
                let end = contiguous
                if let recordEnd = recordEnds.filter({ $0 > readOffset && $0 <= end }).min() {
                    return readBytes(recordEnd - readOffset)
                }
                if let finalSize, end == finalSize, readOffset < end { return readBytes(end - readOffset) }
                return nil
            }
        }

        static func makeOps(seed: UInt64) -> (data: [UInt8], ops: [Op]) {
            var dice = StreamsDice(seed: seed, label: "reassembly")
            let length = dice.int(in: 0...6000)
            let data = StreamsTests.pattern(length, salt: seed)
            var recordEnds = Set<Int>()
            for _ in 0..<dice.int(in: 0...(length / 50 + 1)) where length > 0 {
                recordEnds.insert(dice.int(in: 1...length))
            }
            let finished = !dice.oneIn(5)

            // Cut at every record end, then at random points.
            var cuts = recordEnds
            for _ in 0..<dice.int(in: 0...(length / 100 + 2)) where length > 0 { cuts.insert(dice.int(in: 1...length)) }
            cuts.insert(length)
            var segments: [Segment] = []
            var start = 0
            for end in cuts.sorted() where end > start || (end == 0 && length == 0) {
                segments.append(Segment(range: start..<end, fin: finished && end == length,
                                        recordEnd: recordEnds.contains(end)))
                start = end
            }
            // Retransmissions in other cuts (still never crossing a record end).
            let sortedEnds = recordEnds.sorted()
            for _ in 0..<dice.int(in: 0...(segments.count / 2 + 1)) where length > 0 {
                let lower = dice.int(in: 0..<length)
                let nextEnd = sortedEnds.first { $0 > lower } ?? length
                let upper = dice.int(in: (lower + 1)...nextEnd)
                segments.append(Segment(range: lower..<upper, fin: finished && upper == length,
                                        recordEnd: recordEnds.contains(upper)))
            }
            // Duplicates, then shuffle; also drip-feed some segments byte by byte.
            for _ in 0..<dice.int(in: 0...(segments.count / 3 + 1)) {
                segments.append(segments[dice.int(in: 0..<segments.count)])
            }
            var pieces: [Segment] = []
            for segment in segments {
                if dice.oneIn(6) && segment.range.count > 1 {
                    for i in segment.range {
                        let last = i == segment.range.upperBound - 1
                        pieces.append(Segment(range: i..<(i + 1), fin: segment.fin && last,
                                              recordEnd: segment.recordEnd && last))
                    }
                } else {
                    pieces.append(segment)
                }
            }
            dice.shuffle(&pieces)

            var ops: [Op] = []
            for piece in pieces {
                ops.append(.deliver(piece))
                if dice.oneIn(4) { ops.append(dice.oneIn(2) ? .readRecord : .readBytes(dice.int(in: 1...700))) }
            }
            // Drain at the end.
            for _ in 0..<(recordEnds.count + 2) { ops.append(.readRecord) }
            ops.append(.readBytes(.max / 2))
            return (data, ops)
        }

        @Test(arguments: StreamsTests.seeds)
        func reassemblerMatchesTheModel(seed: UInt64) throws {
            let (data, ops) = Self.makeOps(seed: seed)
            var model = Model(data: data)
            var buffer = ReceiveBuffer(limit: UInt64(data.count))
            var delivered: [UInt8] = []
            for (step, op) in ops.enumerated() {
                let context = "SIM_SEED=\(seed) length \(data.count) step \(step) of \(ops.count): \(op). "
                    + "Replay: SIM_SEED=\(seed) swift test --filter Reassembly"
                switch op {
                case .deliver(let segment):
                    let bytes = Array(data[segment.range])
                    do {
                        try buffer.insert(offset: UInt64(segment.range.lowerBound), bytes, fin: segment.fin,
                                          recordEnd: segment.recordEnd)
                    } catch {
                        Issue.record("\(context): unexpected \(error)")
                        return
                    }
                    model.deliver(segment)
                case .readBytes(let n):
                    let got = buffer.read(maxBytes: n)
                    let expected = model.readBytes(n)
                    guard got == expected else {
                        Issue.record("\(context): read \(got.count) bytes, model \(expected.count)")
                        return
                    }
                    delivered += got
                case .readRecord:
                    let got = buffer.readRecord()
                    let expected = model.readRecord()
                    guard got == expected else {
                        let describe = { (record: [UInt8]?) in record.map { "\($0.count) bytes" } ?? "nil" }
                        Issue.record("\(context): record \(describe(got)), model \(describe(expected))")
                        return
                    }
                    delivered += got ?? []
                }
                guard buffer.readableCount == model.contiguous - model.readOffset,
                      buffer.readOffset == UInt64(model.readOffset),
                      buffer.finalSize == model.finalSize.map(UInt64.init),
                      buffer.allocatedCount <= max(4096, data.count) + data.count / 2 + 64 else {
                    Issue.record("""
                        \(context): state differs: readable \(buffer.readableCount) vs \
                        \(model.contiguous - model.readOffset), final \(String(describing: buffer.finalSize)) vs \
                        \(String(describing: model.finalSize)), allocated \(buffer.allocatedCount)
                        """)
                    return
                }
            }
            // Every segment was delivered: the whole stream came out, in order.
            #expect(delivered == data, "SIM_SEED=\(seed)")
        }
    }
}
