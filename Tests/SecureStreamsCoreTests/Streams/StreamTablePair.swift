import Testing
@testable import SecureStreamsCore

/// Two tables joined by a perfect or lossy "wire" that carries chunks and
/// control frames, standing in for the Connection that will own them.
struct StreamTablePair {
    var initiator: StreamTable
    var responder: StreamTable
    var now = Timestamp.zero
    let rtt = Duration.milliseconds(50)

    init(configuration: StreamConfiguration = .init(), peer: PeerStreamParameters = .init()) {
        initiator = StreamTable(side: .initiator, configuration: configuration, peer: peer)
        responder = StreamTable(side: .responder, configuration: configuration, peer: peer)
    }

    /// Moves every control frame and chunk `from` one side to the other,
    /// acknowledging each (or reporting it lost when `lose` says so).
    /// - Returns: the chunks sent, in order.
    @discardableResult
    mutating func flush(from side: Side, maxBytes: Int = 1200,
                        lose: (StreamID, SendChunk) -> Bool = { _, _ in false }) throws -> [(StreamID, SendChunk)] {
        var sender = side == .initiator ? initiator : responder
        var receiver = side == .initiator ? responder : initiator
        defer {
            if side == .initiator {
                (initiator, responder) = (sender, receiver)
            } else {
                (responder, initiator) = (sender, receiver)
            }
        }
        var sent: [(StreamID, SendChunk)] = []
        while let frame = sender.pollControlFrame(now: now, rtt: rtt) {
            try Self.deliver(frame, to: &receiver)
            sender.onControlFrameAcked(frame)
        }
        while let (id, chunk) = sender.nextStreamChunk(maxBytes: maxBytes) {
            sent.append((id, chunk))
            var bytes = [UInt8](repeating: 0, count: chunk.count)
            bytes.withUnsafeMutableBytes { sender.copyData(id, chunk.range, into: $0) }
            if lose(id, chunk) {
                sender.onStreamFrameLost(id, range: chunk.range, fin: chunk.isFinal)
                continue
            }
            try receiver.handleStream(id, offset: chunk.offset, data: bytes,
                                      fin: chunk.isFinal, recordEnd: chunk.endsRecord)
            sender.onStreamFrameAcked(id, range: chunk.range, fin: chunk.isFinal)
        }
        return sent
    }

    static func deliver(_ frame: StreamControlFrame, to table: inout StreamTable) throws(PeerError) {
        switch frame {
        case .resetStream(let id, let code, let finalSize):
            try table.handleResetStream(id, code: code, finalSize: finalSize)
        case .stopSending(let id, let code): try table.handleStopSending(id, code: code)
        case .maxData(let value): table.handleMaxData(maximum: value)
        case .maxStreamData(let id, let value): try table.handleMaxStreamData(id, maximum: value)
        case .dataBlocked(let value): table.handleDataBlocked(limit: value)
        case .streamDataBlocked(let id, let value): try table.handleStreamDataBlocked(id, limit: value)
        case .maxStreams(let value): try table.handleMaxStreams(value)
        case .streamsBlocked(let value): table.handleStreamsBlocked(limit: value)
        }
    }
}

extension StreamTable {
    /// Every pending event (tests).
    mutating func drainEvents() -> [StreamEvent] {
        var out: [StreamEvent] = []
        while let event = pollEvent() { out.append(event) }
        return out
    }

    /// Every pending control frame (tests).
    mutating func drainControl(now: Timestamp = .zero, rtt: Duration = .milliseconds(50)) -> [StreamControlFrame] {
        var out: [StreamControlFrame] = []
        while let frame = pollControlFrame(now: now, rtt: rtt) { out.append(frame) }
        return out
    }
}

extension PeerStreamParameters {
    /// The peer's credit, briefly (tests).
    static func limits(data: UInt64, streamData: UInt64, streams: UInt64) -> PeerStreamParameters {
        PeerStreamParameters(initialMaxData: data, initialMaxStreamData: streamData, initialMaxStreams: streams)
    }
}
