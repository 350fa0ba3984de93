import Testing
@testable import SecureStreamsCore

extension StreamsTests {
    @Suite struct ReceiveBufferTests {
        private func insert(_ buffer: inout ReceiveBuffer, _ offset: UInt64, _ data: [UInt8],
                            fin: Bool = false, record: Bool = false) {
            do {
                try buffer.insert(offset: offset, data, fin: fin, recordEnd: record)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }

        private func expectError(_ code: ErrorCode, _ body: () throws(PeerError) -> Void,
                                 sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                try body()
                Issue.record("expected \(code.name)", sourceLocation: sourceLocation)
            } catch {
                #expect(error.code == code, sourceLocation: sourceLocation)
            }
        }

        @Test func inOrderSegmentsAreReadable() {
            var buffer = ReceiveBuffer(limit: 1000)
            let data = StreamsTests.pattern(300)
            insert(&buffer, 0, Array(data[0..<100]))
            insert(&buffer, 100, Array(data[100..<300]))
            #expect(buffer.readableCount == 300)
            #expect(buffer.read(maxBytes: 50) == Array(data[0..<50]))
            #expect(buffer.read() == Array(data[50...]))
            #expect(buffer.readableCount == 0)
            #expect(buffer.readOffset == 300)
        }

        @Test func outOfOrderSegmentsWaitForTheGap() {
            var buffer = ReceiveBuffer(limit: 1000)
            let data = StreamsTests.pattern(300)
            insert(&buffer, 200, Array(data[200..<300]))
            insert(&buffer, 100, Array(data[100..<200]))
            #expect(buffer.readableCount == 0)
            #expect(buffer.highestOffset == 300)
            insert(&buffer, 0, Array(data[0..<100]))
            #expect(buffer.readableCount == 300)
            #expect(buffer.read() == data)
        }

        @Test func overlapsAndDuplicatesKeepTheFirstCopy() {
            var buffer = ReceiveBuffer(limit: 1000)
            insert(&buffer, 10, [UInt8](repeating: 1, count: 10))      // 10..<20
            insert(&buffer, 15, [UInt8](repeating: 2, count: 10))      // 15..<25: 20..<25 new
            insert(&buffer, 10, [UInt8](repeating: 3, count: 10))      // duplicate, different bytes
            insert(&buffer, 0, [UInt8](repeating: 4, count: 30))       // covers everything
            #expect(buffer.read() == [UInt8](repeating: 4, count: 10) + [UInt8](repeating: 1, count: 10)
                    + [UInt8](repeating: 2, count: 5) + [UInt8](repeating: 4, count: 5))
            // Data entirely below the read offset is ignored.
            insert(&buffer, 0, [UInt8](repeating: 9, count: 30))
            #expect(buffer.readableCount == 0)
        }

        @Test func finSetsTheFinalSizeAndCompletes() {
            var buffer = ReceiveBuffer(limit: 1000)
            insert(&buffer, 5, [5, 6, 7], fin: true)
            #expect(buffer.finalSize == 8)
            #expect(!buffer.isComplete)
            insert(&buffer, 0, [0, 1, 2, 3, 4])
            #expect(buffer.isComplete)
            #expect(buffer.read() == Array(0..<8))
            #expect(buffer.isFullyRead)
            // A repeated FIN with the same size is fine.
            insert(&buffer, 8, [], fin: true)
        }

        @Test func finalSizeViolations() {
            var buffer = ReceiveBuffer(limit: 1000)
            insert(&buffer, 0, StreamsTests.pattern(10), fin: true)
            expectError(.finalSizeError) { () throws(PeerError) in
                try buffer.insert(offset: 5, [1, 2, 3, 4, 5, 6])
            }
            expectError(.finalSizeError) { () throws(PeerError) in
                try buffer.insert(offset: 0, [1, 2], fin: true)
            }
            expectError(.finalSizeError) { () throws(PeerError) in
                try buffer.insert(offset: 11, [], fin: true)
            }

            var other = ReceiveBuffer(limit: 1000)
            insert(&other, 0, StreamsTests.pattern(20))
            expectError(.finalSizeError) { () throws(PeerError) in
                try other.insert(offset: 0, [1], fin: true)
            }
            expectError(.finalSizeError) { () throws(PeerError) in
                try other.reset(finalSize: 19)
            }
            #expect(other.finalSize == nil)
        }

        @Test func resetChecksAndDropsData() throws {
            var buffer = ReceiveBuffer(limit: 1000)
            insert(&buffer, 0, StreamsTests.pattern(100))
            #expect(try buffer.reset(finalSize: 150) == 50)
            #expect(buffer.isReset)
            #expect(buffer.readableCount == 0)
            #expect(buffer.allocatedCount <= 64)
            expectError(.finalSizeError) { () throws(PeerError) in
                try buffer.reset(finalSize: 151)
            }
            expectError(.finalSizeError) { () throws(PeerError) in
                try buffer.insert(offset: 140, StreamsTests.pattern(20))
            }
            insert(&buffer, 100, StreamsTests.pattern(50), fin: true)  // consistent: dropped
            #expect(buffer.readableCount == 0)

            var fin = ReceiveBuffer(limit: 1000)
            insert(&fin, 0, [1], fin: true)
            expectError(.finalSizeError) { () throws(PeerError) in
                try fin.reset(finalSize: 2)
            }
            var limited = ReceiveBuffer(limit: 100)
            expectError(.flowControlError) { () throws(PeerError) in
                try limited.reset(finalSize: 101)
            }
        }

        @Test func dataBeyondTheLimitIsAFlowControlError() throws {
            var buffer = ReceiveBuffer(limit: 100)
            insert(&buffer, 0, StreamsTests.pattern(100))  // exactly at the limit
            expectError(.flowControlError) { () throws(PeerError) in
                try buffer.insert(offset: 100, [1])
            }
            expectError(.flowControlError) { () throws(PeerError) in
                try buffer.insert(offset: 1000, [])
            }
            #expect(buffer.highestOffset == 100)
            buffer.raiseLimit(to: 200)
            insert(&buffer, 199, [1])
            buffer.raiseLimit(to: 150)  // never lowers
            #expect(buffer.limit == 200)
            expectError(.frameEncodingError) { () throws(PeerError) in
                try buffer.insert(offset: UInt64(1) << 62 - 1, [1, 2])
            }
        }

        @Test func creditIncreaseCountsOnlyNewHighestOffsets() throws {
            var buffer = ReceiveBuffer(limit: 1000)
            #expect(try buffer.insert(offset: 100, StreamsTests.pattern(50)) == 150)
            #expect(try buffer.insert(offset: 0, StreamsTests.pattern(100)) == 0)
            #expect(try buffer.insert(offset: 140, StreamsTests.pattern(20)) == 10)
            #expect(try buffer.insert(offset: 300, []) == 140)  // an empty frame also claims credit
        }

        @Test func memoryStaysWithinTheWindow() throws {
            let window = 64 * 1024
            var buffer = ReceiveBuffer(limit: UInt64(window))
            // Every other byte, the worst pattern for a range list.
            for offset in stride(from: 1, to: window, by: 2) {
                try buffer.insert(offset: UInt64(offset), [UInt8(truncatingIfNeeded: offset)], recordEnd: true)
            }
            #expect(buffer.allocatedCount <= window + window / 2 + 64)
            #expect(buffer.readableCount == 0)
            try buffer.insert(offset: 0, StreamsTests.pattern(window))
            #expect(buffer.readableCount == window)
        }

        @Test func recordSplitAcrossManySegmentsIsDeliveredWhole() {
            var buffer = ReceiveBuffer(limit: 10_000)
            let record = StreamsTests.pattern(1000)
            // Ten segments, delivered last first; only the last one carries RECORD.
            for i in (0..<10).reversed() {
                #expect(buffer.readRecord() == nil)
                #expect(!buffer.hasCompleteRecord)
                insert(&buffer, UInt64(i * 100), Array(record[(i * 100)..<((i + 1) * 100)]), record: i == 9)
            }
            #expect(buffer.hasCompleteRecord)
            #expect(buffer.readRecord() == record)
            #expect(buffer.readRecord() == nil)
        }

        @Test func severalRecordsComeOutOneAtATime() {
            var buffer = ReceiveBuffer(limit: 10_000)
            insert(&buffer, 0, [1, 2, 3], record: true)
            insert(&buffer, 3, [4], record: true)
            insert(&buffer, 4, [5, 6], record: false)   // record still open
            #expect(buffer.readRecord() == [1, 2, 3])
            #expect(buffer.readRecord() == [4])
            #expect(buffer.readRecord() == nil)
            insert(&buffer, 6, [7], record: true)
            #expect(buffer.readRecord() == [5, 6, 7])
        }

        @Test func mixedByteAndRecordReads() {
            var buffer = ReceiveBuffer(limit: 10_000)
            insert(&buffer, 0, Array(0..<10), record: true)
            insert(&buffer, 10, Array(10..<20), record: true)
            #expect(buffer.read(maxBytes: 4) == [0, 1, 2, 3])
            #expect(buffer.readRecord() == Array(4..<10))      // the rest of the interrupted record
            #expect(buffer.read(maxBytes: 15) == Array(10..<20))  // bytes read across a record end
            #expect(buffer.readRecord() == nil)
        }

        @Test func theFinalSizeEndsTheLastRecord() {
            var buffer = ReceiveBuffer(limit: 10_000)
            insert(&buffer, 0, [1, 2], record: true)
            insert(&buffer, 2, [3, 4], fin: true)
            #expect(buffer.readRecord() == [1, 2])
            #expect(buffer.readRecord() == [3, 4])
            #expect(buffer.readRecord() == nil)
            #expect(buffer.isFullyRead)
        }

        @Test func aLateRecordMarkBeforeTheFoundRecordIsHonoured() {
            // An inconsistent sender: the copy marking offset 5 arrives after the
            // end at 10 was found. The union of marks applies.
            var buffer = ReceiveBuffer(limit: 100)
            insert(&buffer, 0, Array(0..<10), record: true)
            insert(&buffer, 0, Array(0..<5), record: true)
            #expect(buffer.readRecord() == Array(0..<5))
            #expect(buffer.readRecord() == Array(5..<10))
        }

        @Test func dripFeedEqualsBulk() throws {
            // Records of assorted sizes, FIN at the end.
            let sizes = [1, 7, 64, 65, 300, 2, 1000, 13]
            let data = StreamsTests.pattern(sizes.reduce(0, +), salt: 7)
            var ends: [Int] = []
            for size in sizes { ends.append((ends.last ?? 0) + size) }

            var bulk = ReceiveBuffer(limit: 1 << 20)
            var start = 0
            for end in ends {
                try bulk.insert(offset: UInt64(start), Array(data[start..<end]),
                                fin: end == data.count, recordEnd: true)
                start = end
            }

            var dice = StreamsDice(seed: 99, label: "drip")
            var order = Array(0..<data.count)
            dice.shuffle(&order)
            var drip = ReceiveBuffer(limit: 1 << 20)
            for i in order {
                try drip.insert(offset: UInt64(i), [data[i]], fin: i == data.count - 1, recordEnd: ends.contains(i + 1))
            }

            var bulkRecords: [[UInt8]] = []
            while let record = bulk.readRecord() { bulkRecords.append(record) }
            var dripRecords: [[UInt8]] = []
            while let record = drip.readRecord() { dripRecords.append(record) }
            #expect(bulkRecords == dripRecords)
            #expect(bulkRecords.map(\.count) == sizes)
            #expect(drip.isFullyRead && bulk.isFullyRead)
        }

        @Test func manyWrapsOfTheRingKeepEveryByte() throws {
            // 1 MB through a 16 KiB window, segments out of order within the window.
            let window = 16 * 1024
            var buffer = ReceiveBuffer(limit: UInt64(window))
            let data = StreamsTests.pattern(1 << 20, salt: 3)
            var received: [UInt8] = []
            var offset = 0
            while offset < data.count {
                let end = min(offset + 4096, data.count)
                // Second half first, then first half.
                let mid = (offset + end) / 2
                try buffer.insert(offset: UInt64(mid), Array(data[mid..<end]))
                try buffer.insert(offset: UInt64(offset), Array(data[offset..<mid]))
                received += buffer.read()
                buffer.raiseLimit(to: buffer.readOffset + UInt64(window))
                offset = end
            }
            #expect(received == data)
            #expect(buffer.allocatedCount <= window + window / 2 + 64)
        }
    }
}
