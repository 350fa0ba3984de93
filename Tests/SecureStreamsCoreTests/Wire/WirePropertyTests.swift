import Testing
@testable import SecureStreamsCore

/// Seeded property tests over the whole codec (STYLE.md §9): random frames
/// round trip alone and in sequences, and random bytes never trap the frame
/// decoder or the header parser. A failure names its seed and iteration;
/// replay with `SIM_SEED=<seed>`.
@Suite struct WirePropertyTests {
    @Test(arguments: WireSeeds.list)
    func randomFramesRoundTrip(seed: UInt64) {
        let arena = Arena()
        defer { arena.deallocate() }
        var generator = FrameGenerator(seed: seed, arena: arena)
        var kindsSeen = Set<FrameKind>()
        defer { #expect(kindsSeen.count == FrameKind.allCases.count, "\(WireSeeds.replay(seed)): some kinds never drawn") }
        for iteration in 0..<5_000 {
            let isLast = generator.random.bool()
            let frame = generator.frame(isLast: isLast)
            kindsSeen.insert(frame.kind)
            let bytes = encodedBytes(frame)
            let ok = withBytes(bytes) { raw -> Bool in
                let (frames, error) = decodeAll(raw)
                #expect(error == nil && frames == [frame],
                        "\(WireSeeds.replay(seed)) iteration \(iteration): \(frame.kind) gave \(String(describing: error))")
                return error == nil && frames == [frame]
            }
            if !ok { return }
        }
    }

    @Test(arguments: WireSeeds.list)
    func randomSequencesOfFramesRoundTripInOnePayload(seed: UInt64) {
        let arena = Arena()
        defer { arena.deallocate() }
        var generator = FrameGenerator(seed: seed &+ 1, arena: arena)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        for iteration in 0..<1_000 {
            let count = generator.random.int(1...24)
            var frames: [Frame] = []
            for index in 0..<count {
                var frame = generator.frame(isLast: index == count - 1)
                // Adjacent PADDING runs decode as one run.
                if case .padding = frame, case .padding? = frames.last { frame = .ping }
                frames.append(frame)
            }
            let written = buffer.withUnsafeMutableBytes { raw -> Int in
                var writer = WireWriter(raw)
                for frame in frames { #expect(frame.encode(into: &writer)) }
                return writer.offset
            }
            #expect(written == frames.reduce(0) { $0 + $1.encodedCount })
            let ok = buffer.withUnsafeBytes { raw -> Bool in
                let (decoded, error) = decodeAll(UnsafeRawBufferPointer(rebasing: raw[0..<written]))
                #expect(error == nil && decoded == frames,
                        "\(WireSeeds.replay(seed)) iteration \(iteration): \(frames.map(\.kind))")
                return error == nil && decoded == frames
            }
            if !ok { return }
        }
    }

    @Test(arguments: WireSeeds.list)
    func randomStrictPrefixesAreRejectedCleanly(seed: UInt64) {
        let arena = Arena()
        defer { arena.deallocate() }
        var generator = FrameGenerator(seed: seed &+ 2, arena: arena)
        for iteration in 0..<1_000 {
            let frame = generator.frame(isLast: false)
            if case .padding = frame { continue }
            let bytes = encodedBytes(frame)
            guard bytes.count >= 2 else { continue }
            let count = generator.random.int(1...(bytes.count - 1))
            withBytes(Array(bytes[0..<count])) { raw in
                let (frames, error) = decodeAll(raw)
                #expect(frames.isEmpty && error?.code == .frameEncodingError,
                        "\(WireSeeds.replay(seed)) iteration \(iteration): \(frame.kind) prefix \(count)")
            }
        }
    }

    @Test(arguments: WireSeeds.list)
    func randomAckRangesRoundTrip(seed: UInt64) {
        let arena = Arena()
        defer { arena.deallocate() }
        var random = SeededRandom(seed: seed).fork(label: "ack ranges")
        for iteration in 0..<2_000 {
            let ranges = random.ackRanges()
            let ack = arena.ack(ranges: ranges, ackDelayMicroseconds: random.varInt())
            #expect(Array(ack.ranges) == Array(ranges.prefix(AckFrame.maxEncodedRanges)),
                    "\(WireSeeds.replay(seed)) iteration \(iteration)")
        }
    }

    /// 100,000 random payloads, biased to start with real frame types, fed to
    /// the frame decoder: it never traps, and whatever it accepts re-encodes
    /// to something that decodes to the same frames.
    @Test(arguments: WireSeeds.list)
    func randomBytesNeverTrapTheFrameDecoder(seed: UInt64) {
        var random = SeededRandom(seed: seed).fork(label: "frame fuzz")
        let types: [UInt8] = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x10, 0x13, 0x16, 0x1f,
                              0x20, 0x21, 0x22, 0x23, 0x30, 0x40, 0x41, 0x42, 0x50]
        var payload = [UInt8](repeating: 0, count: 96)
        var accepted = 0
        for iteration in 0..<100_000 {
            let count = random.int(0...payload.count)
            payload.withUnsafeMutableBytes { random.fill($0) }
            if count > 0, random.int(0...3) > 0 { payload[0] = types.randomElement(using: &random)! }
            let ok = payload.withUnsafeBytes { whole -> Bool in
                let raw = UnsafeRawBufferPointer(rebasing: whole[0..<count])
                let (frames, _) = decodeAll(raw)
                guard !frames.isEmpty else { return true }
                accepted += 1
                let again = frames.flatMap { encodedBytes($0) }
                return withBytes(again) { mergingPadding(decodeAll($0).frames) == mergingPadding(frames) }
            }
            #expect(ok, "\(WireSeeds.replay(seed)) iteration \(iteration)")
            if !ok { return }
        }
        #expect(accepted > 1_000, "the fuzz reached few valid frames: \(accepted)")
    }

    /// 100,000 random datagrams, biased towards the current version and known types, fed
    /// to the header parser: it never traps, and every slice it returns lies
    /// inside the datagram.
    @Test(arguments: WireSeeds.list)
    func randomBytesNeverTrapTheHeaderParser(seed: UInt64) {
        var random = SeededRandom(seed: seed).fork(label: "header fuzz")
        let types: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x10, 0x11, 0x56]
        var datagram = [UInt8](repeating: 0, count: 128)
        var parsed = 0
        for iteration in 0..<100_000 {
            let count = random.int(0...datagram.count)
            datagram.withUnsafeMutableBytes { random.fill($0) }
            if random.int(0...3) > 0 { datagram[0] = random.bool() ? ProtocolVersion.current.rawValue : 0x00 }
            if random.int(0...3) > 0 { datagram[1] = types.randomElement(using: &random)! }
            if random.bool() { datagram[2] = UInt8(random.int(0...5)) }
            let ok = datagram.withUnsafeBytes { whole -> Bool in
                let raw = UnsafeRawBufferPointer(rebasing: whole[0..<count])
                guard case .success(let packet) = PacketHeader.parse(raw) else { return true }
                parsed += 1
                return packet.slices.allSatisfy { slice in
                    slice.isEmpty || (slice.baseAddress! >= raw.baseAddress! && slice.baseAddress! + slice.count <= raw.baseAddress! + raw.count)
                }
            }
            #expect(ok, "\(WireSeeds.replay(seed)) iteration \(iteration)")
            if !ok { return }
        }
        #expect(parsed > 1_000, "the fuzz reached few valid packets: \(parsed)")
    }
}

/// Adjacent PADDING frames merged: a zero type in a long varint form followed
/// by a zero byte decodes as two runs, and re-encodes as one.
func mergingPadding(_ frames: [Frame]) -> [Frame] {
    var merged: [Frame] = []
    for frame in frames {
        if case .padding(let count) = frame, case .padding(let previous)? = merged.last {
            merged[merged.count - 1] = .padding(count: previous + count)
        } else {
            merged.append(frame)
        }
    }
    return merged
}

extension ParsedPacket {
    /// Every borrowed slice of the packet.
    var slices: [UnsafeRawBufferPointer] {
        switch self {
        case .initiation(let p): [p.header, p.noiseMessage]
        case .response(let p), .finish(let p): [p.noiseMessage]
        case .cookie(let p): [p.nonce, p.sealedCookie]
        case .data(let p): [p.header, p.ciphertext]
        case .versionNegotiation(let p): [p.versions]
        }
    }
}

/// Random frames of every kind, their byte fields stored in an arena.
struct FrameGenerator {
    var random: SeededRandom
    let arena: Arena

    init(seed: UInt64, arena: Arena) {
        random = SeededRandom(seed: seed).fork(label: "frames")
        self.arena = arena
    }

    mutating func bytes(maxCount: Int) -> UnsafeRawBufferPointer {
        let count = random.int(0...maxCount)
        let slice = arena.allocate(count: count)
        random.fill(slice)
        return UnsafeRawBufferPointer(slice)
    }

    mutating func streamID() -> StreamID { StreamID(random.varInt()) }

    mutating func text() -> String? {
        let pool = ["", "chat", "files", "sss/1", "ünïcødé ✓", "🐢🐇"]
        return random.int(0...3) == 0 ? nil : pool.randomElement(using: &random)
    }

    /// A random frame; a STREAM frame may omit LEN only when it is the last of its packet.
    mutating func frame(isLast: Bool) -> Frame {
        let kind = FrameKind.allCases.randomElement(using: &random)!
        switch kind {
        case .padding: return .padding(count: random.int(1...40))
        case .ping: return .ping
        case .ack: return .ack(arena.ack(ranges: random.ackRanges(), ackDelayMicroseconds: random.varInt()))
        case .resetStream:
            return .resetStream(ResetStreamFrame(streamID: streamID(), errorCode: ErrorCode(random.varInt()),
                                                 finalSize: random.varInt()))
        case .stopSending: return .stopSending(StopSendingFrame(streamID: streamID(), errorCode: ErrorCode(random.varInt())))
        case .maxData: return .maxData(maximumData: random.varInt())
        case .maxStreamData: return .maxStreamData(MaxStreamDataFrame(streamID: streamID(), maximumData: random.varInt()))
        case .dataBlocked: return .dataBlocked(dataLimit: random.varInt())
        case .streamDataBlocked:
            return .streamDataBlocked(StreamDataBlockedFrame(streamID: streamID(), dataLimit: random.varInt()))
        case .maxStreams: return .maxStreams(maximumStreamCount: random.varInt(max: StreamID.maximumStreamCount))
        case .streamsBlocked: return .streamsBlocked(streamLimit: random.varInt(max: StreamID.maximumStreamCount))
        case .stream:
            let data = bytes(maxCount: random.bool() ? 16 : 300)
            let offset = random.bool() ? 0 : random.varInt(max: VarInt.maxValue - UInt64(data.count))
            return .stream(StreamFrame(streamID: streamID(), offset: offset, data: data, isFin: random.bool(),
                                       endsRecord: random.bool(), hasLengthField: !isLast || random.bool()))
        case .streamOpen:
            return .streamOpen(StreamOpenFrame(
                streamID: streamID(), parent: random.bool() ? nil : StreamID(random.varInt(max: VarInt.maxValue - 1)),
                priority: Int64.random(in: ZigZag.priorityRange, using: &random), serviceTag: bytes(maxCount: 20)))
        case .priority:
            let priority = random.bool() ? Int64(random.int(-70...70)) : Int64.random(in: ZigZag.priorityRange, using: &random)
            return .priority(PriorityFrame(streamID: streamID(), priority: priority))
        case .datagram:
            let data = bytes(maxCount: 100)
            let offset = random.varInt(max: VarInt.maxValue - UInt64(data.count))
            let total = offset + UInt64(data.count) + random.varInt(max: VarInt.maxValue - offset - UInt64(data.count))
            return .datagram(DatagramFrame(datagramID: random.varInt(), totalCount: total, offset: offset, data: data))
        case .listen: return .listen(ListenFrame(parent: streamID(), isAccepting: random.bool()))
        case .close:
            return .close(CloseFrame(errorCode: ErrorCode(random.varInt()),
                                     offendingFrameType: random.bool() ? nil : random.varInt(),
                                     reason: bytes(maxCount: random.bool() ? 20 : CloseFrame.maxReasonCount)))
        case .pathChallenge: return .pathChallenge(PathToken(using: &random))
        case .pathResponse: return .pathResponse(PathToken(using: &random))
        case .newConnectionID:
            return .newConnectionID(NewConnectionIDFrame(sequenceNumber: random.varInt(),
                                                         connectionID: ConnectionID(using: &random)))
        case .retireConnectionID: return .retireConnectionID(sequenceNumber: random.varInt())
        case .handshake:
            var parameters = TransportParameters(service: text(), applicationProtocol: text())
            if random.bool() { parameters.initialMaxData = random.varInt() }
            if random.bool() { parameters.initialMaxStreamData = random.varInt() }
            if random.bool() { parameters.initialMaxStreams = random.varInt(max: StreamID.maximumStreamCount) }
            if random.bool() { parameters.maxAckDelayMicroseconds = random.varInt() }
            if random.bool() { parameters.idleTimeoutMilliseconds = random.varInt() }
            if random.bool() { parameters.maxDatagramSize = random.varInt() }
            parameters.hasHardwareAES = random.bool()
            return .handshake(HandshakeFrame(connectionID: ConnectionID(using: &random), parameters: parameters))
        }
    }
}

extension SeededRandom {
    /// 1 to 40 descending, non-adjacent ranges that stay at or above zero.
    mutating func ackRanges() -> [ClosedRange<PacketNumber>] {
        var upper = randomLargest()
        var ranges: [ClosedRange<PacketNumber>] = []
        for _ in 0..<int(1...40) {
            let length = Swift.min(varInt(max: 1_000), upper)
            ranges.append(PacketNumber(upper - length)...PacketNumber(upper))
            let lower = upper - length
            guard lower >= 2 else { break }
            let gap = Swift.min(varInt(max: 5_000), lower - 2)
            upper = lower - 2 - gap
        }
        return ranges
    }

    private mutating func randomLargest() -> UInt64 {
        bool() ? UInt64(int(0...100_000)) : varInt()
    }
}
