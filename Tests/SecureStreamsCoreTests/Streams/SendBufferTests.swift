import Testing
@testable import SecureStreamsCore

extension StreamsTests {
    @Suite struct SendBufferTests {
        /// Sends everything available in chunks of `maxBytes`, returning the chunks.
        private func drain(_ buffer: inout SendBuffer, maxBytes: Int, maxOffset: UInt64 = .max) -> [SendChunk] {
            var chunks: [SendChunk] = []
            while let chunk = buffer.nextChunk(maxBytes: maxBytes, maxOffset: maxOffset) { chunks.append(chunk) }
            return chunks
        }

        @Test func chunksNewDataInOrderUpToMaxBytes() {
            var buffer = SendBuffer(limit: 10_000)
            let data = StreamsTests.pattern(2500)
            #expect(buffer.write(data) == 2500)
            let chunks = drain(&buffer, maxBytes: 1000)
            #expect(chunks.map(\.range) == [0..<1000, 1000..<2000, 2000..<2500])
            #expect(chunks.allSatisfy { !$0.endsRecord && !$0.isFinal })
            #expect(chunks.flatMap { buffer.bytes(in: $0.range) } == data)
            #expect(buffer.sentOffset == 2500)
            #expect(!buffer.hasPendingData)
        }

        @Test func copyIntoAPacketBufferGivesTheBytes() {
            var buffer = SendBuffer(limit: 100)
            buffer.write(Array(0..<50))
            let chunk = buffer.nextChunk(maxBytes: 20)!
            var packet = [UInt8](repeating: 0xFF, count: 20)
            packet.withUnsafeMutableBytes { buffer.copy(chunk.range, into: $0) }
            #expect(packet == Array(0..<20))
        }

        @Test func lostRangesAreSentBeforeNewData() {
            var buffer = SendBuffer(limit: 10_000)
            buffer.write(StreamsTests.pattern(3000))
            _ = drain(&buffer, maxBytes: 1000, maxOffset: 2000)  // 0..<1000, 1000..<2000
            buffer.onLost(1000..<2000)
            buffer.onLost(0..<300)
            let next = drain(&buffer, maxBytes: 600)
            #expect(next.map(\.range) == [0..<300, 1000..<1600, 1600..<2000, 2000..<2600, 2600..<3000])
        }

        @Test func retransmissionIgnoresFlowControlButNewDataDoesNot() {
            var buffer = SendBuffer(limit: 10_000)
            buffer.write(StreamsTests.pattern(3000))
            _ = drain(&buffer, maxBytes: 1000, maxOffset: 1000)
            #expect(buffer.isBlocked(maxOffset: 1000))
            buffer.onLost(0..<1000)
            #expect(!buffer.isBlocked(maxOffset: 1000))
            #expect(buffer.nextChunk(maxBytes: 5000, maxOffset: 1000)?.range == 0..<1000)
            #expect(buffer.nextChunk(maxBytes: 5000, maxOffset: 1000) == nil)
        }

        @Test func acknowledgedBytesAreNotRetransmitted() {
            var buffer = SendBuffer(limit: 10_000)
            buffer.write(StreamsTests.pattern(1000))
            _ = drain(&buffer, maxBytes: 1000)
            buffer.onAcked(200..<400)
            buffer.onLost(0..<1000)
            #expect(drain(&buffer, maxBytes: 1000).map(\.range) == [0..<200, 400..<1000])
            // A late ack for a range declared lost cancels its retransmission.
            buffer.onLost(0..<1000)
            buffer.onAcked(0..<100)
            #expect(drain(&buffer, maxBytes: 1000).map(\.range) == [100..<200, 400..<1000])
        }

        @Test func recordEndsCutChunksAndSetTheFlag() {
            var buffer = SendBuffer(limit: 10_000)
            buffer.write(StreamsTests.pattern(10), endOfRecord: true)
            buffer.write(StreamsTests.pattern(5), endOfRecord: false)
            buffer.write(StreamsTests.pattern(5), endOfRecord: true)
            buffer.write(StreamsTests.pattern(7), endOfRecord: false)
            let chunks = drain(&buffer, maxBytes: 1000)
            #expect(chunks.map(\.range) == [0..<10, 10..<20, 20..<27])
            #expect(chunks.map(\.endsRecord) == [true, true, false])
        }

        @Test func retransmissionsAreCutAtRecordEndsToo() {
            var buffer = SendBuffer(limit: 10_000)
            for _ in 0..<4 { buffer.write(StreamsTests.pattern(25), endOfRecord: true) }
            _ = drain(&buffer, maxBytes: 1000)
            buffer.onLost(10..<90)
            let chunks = drain(&buffer, maxBytes: 1000)
            #expect(chunks.map(\.range) == [10..<25, 25..<50, 50..<75, 75..<90])
            #expect(chunks.map(\.endsRecord) == [true, true, true, false])
        }

        @Test func emptyRecordsAndLateRecordEndsAreRefused() {
            var buffer = SendBuffer(limit: 100)
            var marks: [Bool] = []
            marks.append(buffer.endRecord())  // nothing written: empty record
            buffer.write([1, 2, 3])
            marks.append(buffer.endRecord())
            marks.append(buffer.endRecord())  // empty again
            buffer.write([4])
            _ = drain(&buffer, maxBytes: 100)
            marks.append(buffer.endRecord())  // byte 4 went out without the mark
            #expect(marks == [false, true, false, false])
        }

        @Test func finRidesOnTheLastChunk() {
            var buffer = SendBuffer(limit: 100)
            buffer.write(StreamsTests.pattern(30))
            buffer.finish()
            let chunks = drain(&buffer, maxBytes: 20)
            #expect(chunks.map(\.range) == [0..<20, 20..<30])
            #expect(chunks.map(\.isFinal) == [false, true])
            #expect(buffer.finState == .inFlight)
        }

        @Test func finAfterEverythingWasSentGoesAlone() {
            var buffer = SendBuffer(limit: 100)
            buffer.write(StreamsTests.pattern(30))
            _ = drain(&buffer, maxBytes: 100)
            buffer.finish()
            #expect(buffer.hasPendingData)
            let fin = buffer.nextChunk(maxBytes: 100)
            #expect(fin == SendChunk(offset: 30, count: 0, endsRecord: false, isFinal: true))
            #expect(buffer.nextChunk(maxBytes: 100) == nil)
            // Lost: sent again, even with no room for data.
            buffer.onLost(30..<30, fin: true)
            #expect(buffer.nextChunk(maxBytes: 0)?.isFinal == true)
            buffer.onAcked(0..<30)
            #expect(!buffer.isFullyAcked)
            buffer.onAcked(30..<30, fin: true)
            #expect(buffer.isFullyAcked)
        }

        @Test func lostFinalChunkCarriesTheFinAgain() {
            var buffer = SendBuffer(limit: 100)
            buffer.write(StreamsTests.pattern(30))
            buffer.finish()
            _ = drain(&buffer, maxBytes: 100)
            buffer.onLost(0..<30, fin: true)
            let again = drain(&buffer, maxBytes: 100)
            #expect(again.map(\.range) == [0..<30])
            #expect(again.first?.isFinal == true)
            #expect(drain(&buffer, maxBytes: 100).isEmpty)  // no extra lone FIN
        }

        @Test func acknowledgedPrefixIsFreedAndStorageReleased() {
            var buffer = SendBuffer(limit: 1 << 20)
            buffer.write(StreamsTests.pattern(100_000))
            #expect(buffer.allocatedCount >= 100_000)
            let chunks = drain(&buffer, maxBytes: 1000)
            // Acks out of order: the middle first, then the prefix.
            for chunk in chunks[50...] { buffer.onAcked(chunk.range) }
            #expect(buffer.ackedOffset == 0)
            #expect(buffer.bufferedCount == 100_000)
            for chunk in chunks[..<25] { buffer.onAcked(chunk.range) }
            #expect(buffer.ackedOffset == 25_000)
            #expect(buffer.bufferedCount == 75_000)
            for chunk in chunks[25..<50].reversed() { buffer.onAcked(chunk.range) }
            #expect(buffer.ackedOffset == 100_000)
            #expect(buffer.bufferedCount == 0)
            #expect(buffer.allocatedCount == 0)
            #expect(buffer.acked.isEmpty)
        }

        @Test func writesBeyondTheLimitArePartial() {
            var buffer = SendBuffer(limit: 1000)
            #expect(buffer.write(StreamsTests.pattern(700), endOfRecord: true) == 700)
            #expect(buffer.availableSpace == 300)
            #expect(buffer.write(StreamsTests.pattern(500), endOfRecord: true) == 300)
            #expect(buffer.write([1]) == 0)
            // The partial write marked no record end: only the first record is cut.
            let chunks = drain(&buffer, maxBytes: 2000)
            #expect(chunks.map(\.range) == [0..<700, 700..<1000])
            #expect(chunks.map(\.endsRecord) == [true, false])
            buffer.onAcked(0..<700)
            #expect(buffer.availableSpace == 700)
            #expect(buffer.allocatedCount <= 1000)
        }

        @Test func bulkTransferThroughASmallBufferKeepsEveryByte() {
            // 2 MB through a 64 KiB buffer, acked chunk by chunk: the ring wraps many times.
            var buffer = SendBuffer(limit: 64 * 1024)
            let data = StreamsTests.pattern(2_000_000)
            var written = 0
            var received: [UInt8] = []
            received.reserveCapacity(data.count)
            while received.count < data.count {
                written += data[written...].withUnsafeBytes { buffer.write($0, endOfRecord: false) }
                while let chunk = buffer.nextChunk(maxBytes: 1200) {
                    received += buffer.bytes(in: chunk.range)
                    buffer.onAcked(chunk.range)
                }
            }
            #expect(received == data)
            #expect(buffer.allocatedCount <= 64 * 1024)
        }

        @Test func discardAllKeepsTheFinalSizeForAReset() {
            var buffer = SendBuffer(limit: 1000)
            buffer.write(StreamsTests.pattern(900))
            _ = buffer.nextChunk(maxBytes: 400)
            buffer.discardAll()
            #expect(buffer.sentOffset == 400)
            #expect(buffer.writtenOffset == 400)
            #expect(buffer.nextChunk(maxBytes: 1000) == nil)
            #expect(buffer.allocatedCount == 0)
            buffer.onLost(0..<400)
            #expect(buffer.nextChunk(maxBytes: 1000) == nil)
        }
    }
}
