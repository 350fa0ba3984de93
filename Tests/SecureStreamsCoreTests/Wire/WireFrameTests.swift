import Testing
@testable import SecureStreamsCore

@Suite struct WireFrameTests {
    /// One or more frames of every kind, with boundary values.
    static func sampleFrames(_ arena: Arena) -> [Frame] {
        let max = VarInt.maxValue
        let ack = arena.ack(ranges: [PacketNumber(100)...PacketNumber(120), PacketNumber(50)...PacketNumber(97),
                                     PacketNumber(0)...PacketNumber(0)], ackDelayMicroseconds: 25_000)
        return [
            .padding(count: 1),
            .padding(count: 37),
            .ping,
            .ack(ack),
            .ack(arena.ack(ranges: [PacketNumber(max)...PacketNumber(max)], ackDelayMicroseconds: max)),
            .resetStream(ResetStreamFrame(streamID: StreamID(4), errorCode: ErrorCode(0x1234), finalSize: max)),
            .stopSending(StopSendingFrame(streamID: StreamID(max), errorCode: .noError)),
            .maxData(maximumData: 1 << 20),
            .maxStreamData(MaxStreamDataFrame(streamID: StreamID(1), maximumData: 0)),
            .dataBlocked(dataLimit: 16_384),
            .streamDataBlocked(StreamDataBlockedFrame(streamID: StreamID(63), dataLimit: 64)),
            .maxStreams(maximumStreamCount: StreamID.maximumStreamCount),
            .streamsBlocked(streamLimit: 100),
            .stream(StreamFrame(streamID: StreamID(0), offset: 0, data: arena.store([]), isFin: true)),
            .stream(StreamFrame(streamID: StreamID(5), offset: 1_000, data: arena.store(Array("hello".utf8)),
                                isFin: false, endsRecord: true)),
            .stream(StreamFrame(streamID: StreamID(9), offset: max - 3, data: arena.store([1, 2, 3]),
                                isFin: true, endsRecord: true)),
            .streamOpen(StreamOpenFrame(streamID: StreamID(8), parent: nil, priority: -3,
                                        serviceTag: arena.store(Array("chat".utf8)))),
            .streamOpen(StreamOpenFrame(streamID: StreamID(10), parent: StreamID(max - 1),
                                        priority: ZigZag.priorityRange.lowerBound, serviceTag: arena.store([]))),
            .priority(PriorityFrame(streamID: StreamID(2), priority: ZigZag.priorityRange.upperBound)),
            .priority(PriorityFrame(streamID: StreamID(2), priority: 0)),
            .datagram(DatagramFrame(datagramID: 7, totalCount: 10, offset: 4, data: arena.store([1, 2, 3, 4, 5, 6]))),
            .datagram(DatagramFrame(datagramID: max, totalCount: 0, offset: 0, data: arena.store([]))),
            .listen(ListenFrame(parent: StreamID(3), isAccepting: true)),
            .listen(ListenFrame(parent: StreamID(0), isAccepting: false)),
            .close(CloseFrame(errorCode: .flowControlError, offendingFrameType: 0x13,
                              reason: arena.store(Array("too much".utf8)))),
            .close(CloseFrame(errorCode: ErrorCode(0x100), reason: arena.store([UInt8](repeating: 0x41, count: 256)))),
            .pathChallenge(PathToken(rawValue: 0x0102_0304_0506_0708)),
            .pathResponse(PathToken(rawValue: .max)),
            .newConnectionID(NewConnectionIDFrame(sequenceNumber: 1, connectionID: ConnectionID(rawValue: 42))),
            .retireConnectionID(sequenceNumber: 0),
            .retireConnectionID(sequenceNumber: max),
            .handshake(HandshakeFrame(connectionID: ConnectionID(rawValue: 0xfeed), parameters: .defaults)),
            .handshake(HandshakeFrame(connectionID: ConnectionID(rawValue: 1), parameters: TransportParameters(
                service: "chat", applicationProtocol: "sss/1 ✓", initialMaxData: 0, initialMaxStreamData: max,
                initialMaxStreams: StreamID.maximumStreamCount, maxAckDelayMicroseconds: 1,
                idleTimeoutMilliseconds: 64, maxDatagramSize: 1_452, hasHardwareAES: true))),
        ]
    }

    @Test func everyKindIsCoveredBySamples() {
        let arena = Arena()
        defer { arena.deallocate() }
        let kinds = Set(Self.sampleFrames(arena).map(\.kind))
        #expect(kinds == Set(FrameKind.allCases))
    }

    @Test func everySampleFrameRoundTrips() {
        let arena = Arena()
        defer { arena.deallocate() }
        for frame in Self.sampleFrames(arena) {
            let bytes = encodedBytes(frame)
            withBytes(bytes) { raw in
                let (frames, error) = decodeAll(raw)
                #expect(error == nil, "\(frame.kind): \(String(describing: error))")
                #expect(frames == [frame], "\(frame.kind)")
            }
        }
    }

    @Test func allSampleFramesRoundTripInOnePayload() {
        let arena = Arena()
        defer { arena.deallocate() }
        // Two PADDING frames in a row would decode as one run: keep one.
        let frames = Self.sampleFrames(arena).filter { $0 != .padding(count: 1) }
        let payload = frames.flatMap { encodedBytes($0) }
        withBytes(payload) { raw in
            let (decoded, error) = decodeAll(raw)
            #expect(error == nil)
            #expect(decoded == frames)
        }
    }

    /// Every strict prefix of an encoded frame is rejected cleanly, except where
    /// the protocol makes it a valid shorter frame: a PADDING run, and a STREAM
    /// frame without LEN cut inside its data.
    @Test func everyStrictPrefixIsRejected() {
        let arena = Arena()
        defer { arena.deallocate() }
        var frames = Self.sampleFrames(arena)
        frames.append(.stream(StreamFrame(streamID: StreamID(1 << 20), offset: 77, data: arena.store([9, 8, 7]),
                                          isFin: true, hasLengthField: false)))
        for frame in frames {
            let bytes = encodedBytes(frame)
            for count in 0..<bytes.count {
                withBytes(Array(bytes[0..<count])) { raw in
                    let (decoded, error) = decodeAll(raw)
                    if count == 0 {
                        #expect(decoded.isEmpty && error == nil)
                    } else if case .padding = frame {
                        #expect(decoded == [.padding(count: count)])
                    } else if case .stream(let stream) = frame, !stream.hasLengthField,
                              count >= bytes.count - stream.data.count {
                        #expect(error == nil && decoded.count == 1, "\(frame.kind) prefix \(count)")
                    } else {
                        #expect(decoded.isEmpty, "\(frame.kind) prefix \(count) decoded")
                        #expect(error?.code == .frameEncodingError, "\(frame.kind) prefix \(count)")
                    }
                }
            }
        }
    }

    // MARK: ACK

    @Test func ackClaimingABillionRangesIsRejectedBeforeReadingThem() {
        // type, largest 5, delay 0, range count 10^9 (a 4-byte varint), and nothing else.
        let payload = build {
            $0.writeVarInt(0x02)
            $0.writeVarInt(5)
            $0.writeVarInt(0)
            $0.writeVarInt(1_000_000_000)
        }
        withBytes(payload) { raw in
            let (frames, error) = decodeAll(raw)
            #expect(frames.isEmpty)
            #expect(error?.code == .frameEncodingError && error?.frameType == 0x02)
            #expect(error.map { "\($0.reason)".contains("64") } == true, "rejected for its count, not its length")
        }
    }

    @Test func ackRangeCountLimitIs64() {
        for (count, accepted) in [(64, true), (65, false)] {
            // 200 ranges' worth of room below `largest`: gap 0, length 0 each.
            let payload = build {
                $0.writeVarInt(0x02)
                $0.writeVarInt(1_000)
                $0.writeVarInt(0)
                $0.writeVarInt(UInt64(count))
                $0.writeVarInt(0)
                for _ in 0..<count { $0.writeVarInt(0); $0.writeVarInt(0) }
            }
            withBytes(payload) { raw in
                let (frames, error) = decodeAll(raw)
                #expect((error == nil) == accepted, "\(count) ranges")
                if case .ack(let ack)? = frames.first {
                    let ranges = Array(ack.ranges)
                    #expect(ranges.count == 65)
                    #expect(ranges.last == PacketNumber(1_000 - 2 * 64)...PacketNumber(1_000 - 2 * 64))
                }
            }
        }
    }

    @Test func ackRangesBelowZeroAreRejected() {
        func decodeACK(largest: UInt64, first: UInt64, pairs: [(UInt64, UInt64)]) -> PeerError? {
            let payload = build {
                $0.writeVarInt(0x02)
                $0.writeVarInt(largest)
                $0.writeVarInt(0)
                $0.writeVarInt(UInt64(pairs.count))
                $0.writeVarInt(first)
                for (gap, length) in pairs { $0.writeVarInt(gap); $0.writeVarInt(length) }
            }
            return withBytes(payload) { decodeAll($0).error }
        }
        #expect(decodeACK(largest: 10, first: 10, pairs: []) == nil)
        #expect(decodeACK(largest: 10, first: 11, pairs: [])?.code == .frameEncodingError)
        // 10...10, then gap 7 → next range's largest is 10 − 7 − 2 = 1, length 1 → 0...1.
        #expect(decodeACK(largest: 10, first: 0, pairs: [(7, 1)]) == nil)
        #expect(decodeACK(largest: 10, first: 0, pairs: [(7, 2)])?.code == .frameEncodingError)
        #expect(decodeACK(largest: 10, first: 0, pairs: [(8, 0)]) == nil)
        #expect(decodeACK(largest: 10, first: 0, pairs: [(9, 0)])?.code == .frameEncodingError)
        #expect(decodeACK(largest: 10, first: 9, pairs: [(0, 0)])?.code == .frameEncodingError)
        #expect(decodeACK(largest: VarInt.maxValue, first: 0, pairs: [(VarInt.maxValue, 0)])?.code == .frameEncodingError)
        // A pair is missing.
        #expect(decodeACK(largest: 10, first: 0, pairs: [(1, 1)]) == nil)
        let truncated = build {
            $0.writeVarInt(0x02); $0.writeVarInt(10); $0.writeVarInt(0); $0.writeVarInt(2); $0.writeVarInt(0)
            $0.writeVarInt(1); $0.writeVarInt(1)
        }
        #expect(withBytes(truncated) { decodeAll($0).error }?.code == .frameEncodingError)
    }

    @Test func ackEncoderWritesAtMost32Ranges() {
        let arena = Arena()
        defer { arena.deallocate() }
        let ranges = (0..<50).map { index -> ClosedRange<PacketNumber> in
            let top = UInt64(1_000 - 10 * index)
            return PacketNumber(top - 3)...PacketNumber(top)
        }
        let ack = arena.ack(ranges: ranges, ackDelayMicroseconds: 7)
        #expect(Array(ack.ranges) == Array(ranges.prefix(32)))
        #expect(ack.additionalRangeCount == 31)
        #expect(ack.largest == PacketNumber(1_000) && ack.firstRangeSmallest == PacketNumber(997))
        #expect(ack.ackDelay == .microseconds(7))
    }

    // MARK: STREAM

    @Test func streamEndingBeyond2To62IsRejected() {
        func decodeStream(offset: UInt64, data: [UInt8], hasLength: Bool) -> PeerError? {
            let payload = build {
                $0.writeVarInt(0x10 | 0x4 | (hasLength ? 0x2 : 0))
                $0.writeVarInt(0)
                $0.writeVarInt(offset)
                if hasLength { $0.writeVarInt(UInt64(data.count)) }
                $0.writeBytes(data)
            }
            return withBytes(payload) { decodeAll($0).error }
        }
        let max = VarInt.maxValue
        for hasLength in [true, false] {
            #expect(decodeStream(offset: max - 1, data: [1], hasLength: hasLength) == nil)
            #expect(decodeStream(offset: max, data: [], hasLength: hasLength) == nil)
            let error = decodeStream(offset: max, data: [1], hasLength: hasLength)
            #expect(error?.code == .frameEncodingError && error?.frameType == 0x16 - (hasLength ? 0 : 2))
            #expect(decodeStream(offset: max - 2, data: [1, 2, 3, 4], hasLength: hasLength)?.code == .frameEncodingError)
        }
    }

    @Test func streamWithoutLengthRunsToTheEndOfThePacket() {
        let payload: [UInt8] = [0x11, 0x04, 0xaa, 0xbb, 0x01, 0x00]
        withBytes(payload) { raw in
            let (frames, error) = decodeAll(raw)
            #expect(error == nil)
            guard case .stream(let stream)? = frames.first else { Issue.record("not STREAM"); return }
            #expect(frames.count == 1)
            #expect(stream.streamID == StreamID(4) && stream.offset == 0 && stream.isFin && !stream.endsRecord)
            #expect(Array(stream.data) == [0xaa, 0xbb, 0x01, 0x00])
            #expect(stream.endOffset == 4)
        }
    }

    @Test func streamMaximumDataCountFillsTheSpaceExactly() {
        for space in 0...70_000 where space < 300 || space % 97 == 0 || (16_380...16_390).contains(space) {
            for (id, offset) in [(StreamID(0), UInt64(0)), (StreamID(1 << 40), UInt64(1 << 31))] {
                for hasLength in [true, false] {
                    guard let count = StreamFrame.maximumDataCount(
                        streamID: id, offset: offset, hasLengthField: hasLength, fitting: space) else {
                        #expect(StreamFrame.encodedCount(streamID: id, offset: offset, dataCount: 0,
                                                         hasLengthField: hasLength) > space)
                        continue
                    }
                    let used = StreamFrame.encodedCount(streamID: id, offset: offset, dataCount: count, hasLengthField: hasLength)
                    let more = StreamFrame.encodedCount(streamID: id, offset: offset, dataCount: count + 1, hasLengthField: hasLength)
                    #expect(used <= space && more > space, "space \(space) data \(count)")
                }
            }
        }
    }

    // MARK: Other frames' limits

    @Test(arguments: [UInt64(0x0b), 0x0f, 0x24, 0x2f, 0x31, 0x44, 0x51, 0x3fff, VarInt.maxValue])
    func unknownFrameTypeIsAnError(type: UInt64) {
        let payload = build { $0.writeVarInt(0x01); $0.writeVarInt(type); $0.writeVarInt(0x01) }
        withBytes(payload) { raw in
            let (frames, error) = decodeAll(raw)
            #expect(frames == [.ping], "the error stops iteration: the PING after it is dropped")
            #expect(error == PeerError(.frameEncodingError, frameType: type, "unknown frame type"))
        }
    }

    @Test func limitsOfSmallFrames() {
        func error(_ body: (inout WireWriter) -> Void) -> PeerError? { withBytes(build(body)) { decodeAll($0).error } }
        // CLOSE reason: 256 bytes accepted, 257 rejected.
        #expect(error { $0.writeVarInt(0x30); $0.writeVarInt(0); $0.writeVarInt(0); $0.writeVarInt(256); $0.writeZeros(count: 256) } == nil)
        #expect(error { $0.writeVarInt(0x30); $0.writeVarInt(0); $0.writeVarInt(0); $0.writeVarInt(257); $0.writeZeros(count: 257) }?.frameType == 0x30)
        // LISTEN flag 0/1 only.
        #expect(error { $0.writeVarInt(0x23); $0.writeVarInt(0); $0.writeVarInt(2) }?.frameType == 0x23)
        // DATAGRAM fragment within its datagram.
        #expect(error { $0.writeVarInt(0x22); $0.writeVarInt(1); $0.writeVarInt(4); $0.writeVarInt(2); $0.writeVarInt(2); $0.writeZeros(count: 2) } == nil)
        #expect(error { $0.writeVarInt(0x22); $0.writeVarInt(1); $0.writeVarInt(4); $0.writeVarInt(3); $0.writeVarInt(2); $0.writeZeros(count: 2) }?.frameType == 0x22)
        #expect(error { $0.writeVarInt(0x22); $0.writeVarInt(1); $0.writeVarInt(4); $0.writeVarInt(5); $0.writeVarInt(0) }?.frameType == 0x22)
        // MAX_STREAMS within the stream id space.
        #expect(error { $0.writeVarInt(0x09); $0.writeVarInt(1 << 61) } == nil)
        #expect(error { $0.writeVarInt(0x09); $0.writeVarInt((1 << 61) + 1) }?.frameType == 0x09)
    }

    @Test func paddingRunsAndNonShortestTypes() {
        withBytes([0, 0, 0, 0, 0x01, 0x40, 0x01, 0, 0, 0x40, 0x00, 0]) { raw in
            let (frames, error) = decodeAll(raw)
            #expect(error == nil)
            // A zero type in a long form starts a new run.
            #expect(frames == [.padding(count: 4), .ping, .ping, .padding(count: 2), .padding(count: 3)])
        }
        withBytes([0x40]) { #expect(decodeAll($0).error?.code == .frameEncodingError) }
    }

    @Test func closeFrameFromAPeerErrorCarriesItsReason() {
        let error = PeerError(.streamStateError, frameType: 0x15, "data after FIN")
        let close = CloseFrame(error)
        #expect(close.errorCode == .streamStateError && close.offendingFrameType == 0x15)
        #expect(close.reasonText == "data after FIN")
        withBytes(encodedBytes(.close(close))) { #expect(decodeAll($0).frames == [.close(close)]) }
        withBytes([0x66, 0xff, 0x6f]) { raw in
            #expect(CloseFrame(errorCode: .noError, reason: raw).reasonText == "f\u{FFFD}o")
        }
    }

    @Test func frameKindsAgreeWithTheirTypes() {
        for kind in FrameKind.allCases {
            #expect(FrameKind(frameType: kind.frameType) == kind)
        }
        for type in UInt64(0x10)...0x1f { #expect(FrameKind(frameType: type) == .stream) }
        #expect(!FrameKind.handshake.isAllowedInDataPackets)
        #expect(!FrameKind.ack.isAckEliciting && FrameKind.stream.isAckEliciting)
    }

    @Test func encodersRefuseWhenOutOfSpace() {
        let arena = Arena()
        defer { arena.deallocate() }
        for frame in Self.sampleFrames(arena) {
            var storage = [UInt8](repeating: 0xee, count: frame.encodedCount - 1)
            storage.withUnsafeMutableBytes { buffer in
                var writer = WireWriter(buffer)
                #expect(!frame.encode(into: &writer), "\(frame.kind)")
                #expect(writer.offset == 0)
            }
            #expect(storage.allSatisfy { $0 == 0xee })
        }
    }
}

extension Arena {
    /// An ACK frame for `ranges`, built the way a receiver sees it: encoded,
    /// then decoded in place from this arena.
    func ack(ranges: [ClosedRange<PacketNumber>], ackDelayMicroseconds: UInt64) -> AckFrame {
        let count = AckFrame.encodedCount(ranges: ranges, ackDelayMicroseconds: ackDelayMicroseconds)
        let buffer = allocate(count: count)
        var writer = WireWriter(buffer)
        precondition(AckFrame.encode(ranges: ranges, ackDelayMicroseconds: ackDelayMicroseconds, into: &writer))
        precondition(writer.offset == count)
        var decoder = FrameDecoder(UnsafeRawBufferPointer(buffer))
        guard case .ack(let frame)? = try? decoder.next() else { preconditionFailure("ACK did not decode") }
        return frame
    }
}
