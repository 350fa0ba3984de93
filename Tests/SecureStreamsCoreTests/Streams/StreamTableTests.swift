import Testing
@testable import SecureStreamsCore

extension StreamsTests {
    @Suite struct StreamTableTests {
        static let code = ErrorCode(0x123)

        private func peerID(_ index: UInt64) -> StreamID { StreamID(opener: .initiator, index: index) }

        private func expectPeerError(_ code: ErrorCode, sourceLocation: SourceLocation = #_sourceLocation,
                                     _ body: () throws(PeerError) -> Void) {
            do {
                try body()
                Issue.record("expected \(code.name)", sourceLocation: sourceLocation)
            } catch {
                #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            }
        }

        // MARK: Held records

        @Test func aRecordReaderHoldingAnIncompleteRecordOpensTheWindowsAByteReaderDoesNot() throws {
            var configuration = StreamConfiguration()
            configuration.initialStreamWindow = 1000
            configuration.maxStreamWindow = 4000
            configuration.initialConnectionWindow = 10_000
            var table = StreamTable(side: .responder, configuration: configuration)
            let bytes = peerID(0), records = peerID(1)
            // A reader that reads bytes (or nothing yet): unread bytes are backpressure.
            try table.handleStream(bytes, offset: 0, data: [UInt8](repeating: 1, count: 900))
            #expect(table.drainControl().isEmpty)
            // A record reader waiting: past half the window, it doubles at once.
            try table.handleStream(records, offset: 0, data: [])
            #expect(try table.readRecord(records) == nil)
            try table.handleStream(records, offset: 0, data: [UInt8](repeating: 2, count: 500))
            #expect(table.drainControl().isEmpty)
            try table.handleStream(records, offset: 500, data: [UInt8](repeating: 2, count: 1))
            #expect(table.bytesHeldForRecords == 501)
            #expect(table.drainControl() == [.maxStreamData(records, 2000)])
            try table.handleStream(records, offset: 501, data: [UInt8](repeating: 2, count: 1499))
            #expect(table.drainControl() == [.maxStreamData(records, 4000)])  // capped
            try table.handleStream(records, offset: 2000, data: [UInt8](repeating: 2, count: 2000), recordEnd: true)
            #expect(table.bytesHeldForRecords == 0)
            #expect(try table.readRecord(records)?.count == 4000)
            // The byte reader's window never moved.
            #expect(table.entry(bytes)?.receiveCredit.limit == 1000)
        }

        @Test func manyStreamsHoldingPartsOfRecordsOpenTheConnectionWindow() throws {
            var configuration = StreamConfiguration()
            configuration.initialStreamWindow = 1000
            configuration.initialConnectionWindow = 1000
            configuration.maxConnectionWindow = 8000
            var table = StreamTable(side: .responder, configuration: configuration)
            try table.handleStream(peerID(4), offset: 0, data: [])  // opens streams 0...4
            for index: UInt64 in 0..<5 { #expect(try table.readRecord(peerID(index)) == nil) }
            for index: UInt64 in 0..<5 { try table.handleStream(peerID(index), offset: 0, data: [UInt8](repeating: 3, count: 100)) }
            #expect(table.drainControl().isEmpty)  // 500 held: half the connection window
            try table.handleStream(peerID(5), offset: 0, data: [1])
            #expect(try table.readRecord(peerID(5)) == nil)
            #expect(table.bytesHeldForRecords == 501)
            #expect(table.drainControl() == [.maxData(2000)])
        }

        // MARK: Opening

        @Test func localOpenAllocatesOurIdsUpToThePeersLimit() throws {
            var table = StreamTable(side: .responder,
                                    peer: .limits(data: 1000, streamData: 100, streams: 2))
            #expect(table.open() == StreamID(opener: .responder, index: 0))
            #expect(table.open() == StreamID(opener: .responder, index: 1))
            #expect(table.open() == nil)
            try table.handleMaxStreams(2)  // no change
            #expect(table.drainEvents().isEmpty)
            try table.handleMaxStreams(3)
            #expect(table.drainEvents() == [.streamsAvailable])
            #expect(table.open() == StreamID(opener: .responder, index: 2))
            expectPeerError(.frameEncodingError) { () throws(PeerError) in
                try table.handleMaxStreams(1 << 62)
            }
        }

        @Test func peerFrameOpensItsStreamAndAllLowerOnes() throws {
            var table = StreamTable(side: .responder)
            try table.handleStream(peerID(3), offset: 0, data: [1, 2, 3])
            #expect(table.count == 4)
            #expect(table.drainEvents() == [.opened(peerID(0)), .opened(peerID(1)), .opened(peerID(2)),
                                            .opened(peerID(3)), .readable(peerID(3))])
            try table.handleStream(peerID(1), offset: 0, data: [9])
            #expect(table.drainEvents() == [.readable(peerID(1))])
        }

        @Test func peerStreamBeyondMaxStreamsIsAStreamLimitError() throws {
            var configuration = StreamConfiguration()
            configuration.maxConcurrentPeerStreams = 4
            var table = StreamTable(side: .responder, configuration: configuration)
            try table.handleStream(peerID(3), offset: 0, data: [])
            expectPeerError(.streamLimitError) { () throws(PeerError) in
                try table.handleStream(peerID(4), offset: 0, data: [])
            }
            expectPeerError(.streamLimitError) { () throws(PeerError) in
                try table.handleMaxStreamData(peerID(9), maximum: 5)
            }
        }

        @Test func frameForOurUnopenedStreamIsAStreamStateError() throws {
            var table = StreamTable(side: .responder)
            let ours = StreamID(opener: .responder, index: 0)
            expectPeerError(.streamStateError) { () throws(PeerError) in
                try table.handleStream(ours, offset: 0, data: [1])
            }
            expectPeerError(.streamStateError) { () throws(PeerError) in
                try table.handleStopSending(ours, code: Self.code)
            }
            _ = table.open()
            try table.handleStream(ours, offset: 0, data: [1])
            #expect(table.entry(ours)?.receive.readableCount == 1)
        }

        // MARK: A whole exchange

        @Test func requestResponseExchangeClosesBothStreamsAndReplenishesMaxStreams() throws {
            var configuration = StreamConfiguration()
            configuration.maxConcurrentPeerStreams = 2
            var pair = StreamTablePair(configuration: configuration,
                                       peer: .limits(data: 1 << 20, streamData: 1 << 18, streams: 2))
            for round in 0..<3 {
                let id = pair.initiator.open()!
                #expect(id.index == UInt64(round))
                try pair.initiator.write(id, Array("request \(round)".utf8), endOfRecord: true)
                try pair.initiator.finish(id)
                try pair.flush(from: .initiator)
                let events = pair.responder.drainEvents()
                #expect(events.contains(.opened(id)) && events.contains(.recordReady(id)))
                #expect(try pair.responder.readRecord(id) == Array("request \(round)".utf8))
                #expect(try pair.responder.read(id, maxBytes: 10) == nil)  // end of stream
                try pair.responder.write(id, Array("response \(round)".utf8), endOfRecord: true)
                try pair.responder.finish(id)
                try pair.flush(from: .responder)   // response, then the responder's side is done
                #expect(pair.responder.entry(id) == nil)
                #expect(try pair.initiator.readRecord(id) == Array("response \(round)".utf8))
                #expect(pair.initiator.isFinishedReading(id))
                #expect(pair.initiator.entry(id) == nil, "closed once both halves are done")
                #expect(pair.initiator.drainEvents().contains(.closed(id)))
                // The responder re-advertises MAX_STREAMS as streams close.
                try pair.flush(from: .responder)
            }
            #expect(pair.responder.peerClosedCount == 3)
            #expect(pair.initiator.localStreamLimit >= 4)
        }

        @Test func largeTransferWithLossArrivesIntactAndUpdatesWindows() throws {
            var configuration = StreamConfiguration()
            configuration.initialStreamWindow = 32 * 1024
            configuration.initialConnectionWindow = 48 * 1024
            configuration.sendBufferLimit = 64 * 1024
            var pair = StreamTablePair(configuration: configuration,
                                       peer: .limits(data: 48 * 1024, streamData: 32 * 1024, streams: 10))
            let data = StreamsTests.pattern(500_000, salt: 11)
            let id = pair.initiator.open()!
            var written = 0
            var received: [UInt8] = []
            var counter = 0
            var sawStreamBlocked = false
            while received.count < data.count {
                if written < data.count {
                    written += try data[written...].withUnsafeBytes { raw throws(StreamCommandError) in
                        try pair.initiator.write(id, raw)
                    }
                    if written == data.count { try pair.initiator.finish(id) }
                }
                try pair.flush(from: .initiator) { _, _ in
                    counter += 1
                    return counter % 7 == 0  // every 7th frame is lost
                }
                sawStreamBlocked = sawStreamBlocked || pair.initiator.drainEvents().contains(.blocked(id))
                if let bytes = try pair.responder.read(id, maxBytes: 1 << 20) { received += bytes }
                pair.now += .milliseconds(10)
                try pair.flush(from: .responder)  // window updates
            }
            #expect(received == data)
            #expect(sawStreamBlocked)
            #expect(pair.responder.entry(id)?.receiveCredit.window ?? 0 > 32 * 1024, "auto-tuned")
        }

        // MARK: Flow control

        @Test func dataBeyondStreamOrConnectionCreditIsAFlowControlError() throws {
            var configuration = StreamConfiguration()
            configuration.initialStreamWindow = 100
            configuration.initialConnectionWindow = 150
            var table = StreamTable(side: .responder, configuration: configuration)
            expectPeerError(.flowControlError) { () throws(PeerError) in
                try table.handleStream(peerID(0), offset: 100, data: [1])
            }
            var other = StreamTable(side: .responder, configuration: configuration)
            try other.handleStream(peerID(0), offset: 0, data: StreamsTests.pattern(100))
            try other.handleStream(peerID(1), offset: 0, data: StreamsTests.pattern(50))
            expectPeerError(.flowControlError) { () throws(PeerError) in
                try other.handleStream(peerID(2), offset: 0, data: [1])
            }
            var reset = StreamTable(side: .responder, configuration: configuration)
            try reset.handleStream(peerID(0), offset: 0, data: StreamsTests.pattern(100))
            expectPeerError(.flowControlError) { () throws(PeerError) in
                try reset.handleResetStream(peerID(1), code: Self.code, finalSize: 51)
            }
        }

        @Test func blockedSenderSignalsOnceAndResumesOnMaxStreamData() throws {
            var table = StreamTable(side: .initiator,
                                    peer: .limits(data: 10_000, streamData: 100, streams: 4))
            let id = table.open()!
            try table.write(id, StreamsTests.pattern(250))
            #expect(table.nextStreamChunk(maxBytes: 1000)?.chunk.range == 0..<100)
            #expect(table.nextStreamChunk(maxBytes: 1000) == nil)
            #expect(table.drainControl() == [.streamDataBlocked(id, 100)])
            #expect(table.drainEvents() == [.blocked(id)])
            try table.write(id, [1])
            #expect(table.drainControl().isEmpty, "signalled once per limit")
            try table.handleMaxStreamData(id, maximum: 50)  // smaller: ignored
            #expect(table.nextStreamChunk(maxBytes: 1000) == nil)
            try table.handleMaxStreamData(id, maximum: 200)
            #expect(table.nextStreamChunk(maxBytes: 1000)?.chunk.range == 100..<200)
            #expect(table.drainControl() == [.streamDataBlocked(id, 200)])
        }

        @Test func connectionBlockedStreamsResumeInOrderOnMaxData() throws {
            var table = StreamTable(side: .initiator,
                                    peer: .limits(data: 100, streamData: 10_000, streams: 4))
            let a = table.open()!
            let b = table.open()!
            try table.write(a, StreamsTests.pattern(80))
            try table.write(b, StreamsTests.pattern(80))
            #expect(table.nextStreamChunk(maxBytes: 1000)?.chunk.range == 0..<80)
            #expect(table.nextStreamChunk(maxBytes: 1000)?.chunk.range == 0..<20)
            #expect(table.nextStreamChunk(maxBytes: 1000) == nil)
            #expect(table.drainControl() == [.dataBlocked(100)])
            #expect(table.drainEvents() == [.connectionBlocked])
            table.handleMaxData(maximum: 160)
            let resumed = table.nextStreamChunk(maxBytes: 1000)
            #expect(resumed?.id == b && resumed?.chunk.range == 20..<80)
        }

        @Test func readingTriggersWindowUpdates() throws {
            var configuration = StreamConfiguration()
            configuration.initialStreamWindow = 1000
            configuration.initialConnectionWindow = 4000
            var table = StreamTable(side: .responder, configuration: configuration)
            try table.handleStream(peerID(0), offset: 0, data: StreamsTests.pattern(1000))
            #expect(table.drainControl().isEmpty)
            _ = try table.read(peerID(0), maxBytes: 499)
            #expect(table.drainControl().isEmpty)
            _ = try table.read(peerID(0), maxBytes: 1)
            #expect(table.drainControl() == [.maxStreamData(peerID(0), 1500)])
            #expect(table.entry(peerID(0))?.receive.limit == 1500)
            // A lost update is sent again with the current value; a stale one is not.
            table.onControlFrameLost(.maxStreamData(peerID(0), 1500))
            #expect(table.drainControl() == [.maxStreamData(peerID(0), 1500)])
            table.onControlFrameLost(.maxStreamData(peerID(0), 1200))
            #expect(table.drainControl().isEmpty)
        }

        // MARK: Resets

        @Test func stopSendingIsAnsweredWithResetStream() throws {
            var table = StreamTable(side: .initiator)
            let id = table.open()!
            try table.write(id, StreamsTests.pattern(3000))
            _ = table.nextStreamChunk(maxBytes: 1000)
            try table.handleStopSending(id, code: Self.code)
            #expect(table.drainEvents() == [.stopSendingRequested(id, Self.code)])
            #expect(table.nextStreamChunk(maxBytes: 1000) == nil)
            let frames = table.drainControl()
            #expect(frames == [.resetStream(id, Self.code, finalSize: 1000)])
            #expect(throws: StreamCommandError.stoppedByPeer(id, Self.code)) { try table.write(id, [1]) }
            // Lost: sent again; acknowledged: the sending half is over.
            table.onControlFrameLost(frames[0])
            #expect(table.drainControl() == frames)
            table.onControlFrameAcked(frames[0])
            #expect(table.entry(id)?.state.send == .resetRecvd(Self.code))
        }

        @Test func resetByPeerDropsDataAndReleasesConnectionCredit() throws {
            var configuration = StreamConfiguration()
            configuration.initialConnectionWindow = 1000
            var table = StreamTable(side: .responder, configuration: configuration)
            try table.handleStream(peerID(0), offset: 0, data: StreamsTests.pattern(400))
            try table.handleResetStream(peerID(0), code: Self.code, finalSize: 600)
            #expect(table.connectionReceiveCredit.consumed == 600)
            #expect(table.drainControl() == [.maxData(1600)])
            #expect(throws: StreamCommandError.resetByPeer(peerID(0), Self.code)) {
                try table.read(peerID(0), maxBytes: 10)
            }
            let events = table.drainEvents()
            #expect(events == [.opened(peerID(0)), .readable(peerID(0)), .resetByPeer(peerID(0), Self.code)])
            // Data after the reset is checked and dropped; a changed final size is an error.
            try table.handleStream(peerID(0), offset: 500, data: StreamsTests.pattern(100), fin: true)
            expectPeerError(.finalSizeError) { () throws(PeerError) in
                try table.handleResetStream(peerID(0), code: Self.code, finalSize: 601)
            }
        }

        @Test func stopSendingFromUsDiscardsIncomingData() throws {
            var table = StreamTable(side: .responder)
            try table.handleStream(peerID(0), offset: 0, data: StreamsTests.pattern(100))
            try table.stopSending(peerID(0), code: Self.code)
            #expect(table.drainControl() == [.stopSending(peerID(0), Self.code)])
            try table.handleStream(peerID(0), offset: 100, data: StreamsTests.pattern(100))
            #expect(table.entry(peerID(0))?.receive.readableCount == 0)
            #expect(table.connectionReceiveCredit.consumed == 200)
        }

        // MARK: Scheduling through the table

        @Test func tenThousandStreamsEachSendOneChunkPerRound() throws {
            var configuration = StreamConfiguration()
            configuration.sendBufferLimit = 4096
            var table = StreamTable(side: .initiator, configuration: configuration,
                                    peer: .limits(data: 1 << 40, streamData: 1 << 20, streams: 20_000))
            let n = 10_000
            var ids: [StreamID] = []
            for _ in 0..<n {
                let id = table.open()!
                try table.write(id, StreamsTests.pattern(300), endOfRecord: true)
                ids.append(id)
            }
            for round in 0..<3 {
                var seen = Set<StreamID>()
                for _ in 0..<n {
                    guard let (id, chunk) = table.nextStreamChunk(maxBytes: 100) else {
                        Issue.record("round \(round): ran dry")
                        return
                    }
                    #expect(chunk.offset == UInt64(round * 100))
                    #expect(seen.insert(id).inserted, "round \(round): \(id) twice")
                }
            }
            #expect(table.nextStreamChunk(maxBytes: 100) == nil)
            #expect(table.scheduler.isEmpty)
        }

        @Test func higherPriorityStreamDrainsFirst() throws {
            var table = StreamTable(side: .initiator)
            let low = table.open(priority: 0)!
            let high = table.open(priority: 10)!
            try table.write(low, StreamsTests.pattern(300))
            try table.write(high, StreamsTests.pattern(300))
            let order = (0..<6).compactMap { _ in table.nextStreamChunk(maxBytes: 100)?.id }
            #expect(order == [high, high, high, low, low, low])
            try table.write(low, StreamsTests.pattern(200))
            try table.setPriority(low, 20)
            try table.write(high, StreamsTests.pattern(100))
            #expect(table.nextStreamChunk(maxBytes: 100)?.id == low)
        }

        @Test func lostChunkIsRetransmittedBeforeNewData() throws {
            var table = StreamTable(side: .initiator)
            let id = table.open()!
            try table.write(id, StreamsTests.pattern(300))
            let first = table.nextStreamChunk(maxBytes: 100)!
            table.onStreamFrameLost(id, range: first.chunk.range, fin: false)
            #expect(table.nextStreamChunk(maxBytes: 100)?.chunk.range == 0..<100)
            #expect(table.nextStreamChunk(maxBytes: 100)?.chunk.range == 100..<200)
        }

        @Test func fullSendBufferReportsWritableWhenAcked() throws {
            var configuration = StreamConfiguration()
            configuration.sendBufferLimit = 100
            var table = StreamTable(side: .initiator, configuration: configuration)
            let id = table.open()!
            #expect(try table.write(id, StreamsTests.pattern(150)) == 100)
            let chunk = table.nextStreamChunk(maxBytes: 60)!
            #expect(table.drainEvents().isEmpty)
            table.onStreamFrameAcked(id, range: chunk.chunk.range, fin: false)
            #expect(table.drainEvents() == [.writable(id)])
            try table.finish(id)
            #expect(throws: StreamCommandError.finished(id)) { try table.write(id, [1]) }
            #expect(throws: StreamCommandError.unknownStream(StreamID(999))) { try table.write(StreamID(999), [1]) }
        }
    }
}
