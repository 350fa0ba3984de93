import SecureStreamsCore

/// The client side of a workload: phases in turn, each driven as far as it
/// goes at the current instant.
extension Host {
    /// Runs the current phase as far as it goes now, and on into the next
    /// phases: a phase that completes hands over to the next one at once,
    /// and a request whose response is complete is followed by the next
    /// request in the same call, so the application never waits for an
    /// unrelated event (a timer, an ACK) to act on what it has read.
    mutating func runClient(invariants: inout Invariants, chunk: inout Chunk, now: Timestamp) {
        guard let clientIndex, let connection, isConnected, !isFinished, !roundDone, !closed.contains(connection) else { return }
        while phase < workload.count {
            let current = workload[phase]
            switch current {
            case .idle(let duration):
                guard now >= phaseStart + duration else { return }
            case .keyUpdate:
                // Asks, then moves on: the update happens at the next packet
                // once the current key is acknowledged (`minKeyUpdates` checks it).
                do {
                    try endpoint.requestKeyUpdate(on: connection)
                } catch {
                    invariants.fail(.correctness, "\(spec.name): key update refused: \(error)")
                }
            case .bulk, .records:
                openStreams(current, client: clientIndex, upTo: current.streamCount, invariants: &invariants)
                pumpWriters(invariants: &invariants, chunk: &chunk)
                guard invariants.completedStreams(client: clientIndex, phase: globalPhase) == current.streamCount else { return }
            case .requestResponse(let count, let requestBytes, _):
                guard runRequests(count: count, requestBytes: requestBytes, client: clientIndex, connection: connection,
                                  invariants: &invariants, chunk: &chunk) else { return }
            }
            phase += 1
            phaseStart = now
            opened = 0
            writers = []
        }
        if round + 1 < spec.connections {
            roundDone = true
        } else {
            isDone = true
            doneAt = now
        }
    }

    /// Requests one after another: true when the last response was read.
    private mutating func runRequests(count: Int, requestBytes: Int, client: Int, connection: ConnectionHandle,
                                      invariants: inout Invariants, chunk: inout Chunk) -> Bool {
        let current = workload[phase]
        while true {
            if responseReader == nil, opened < count {
                let before = opened
                openStreams(current, client: client, upTo: opened + 1, invariants: &invariants, requestBytes: requestBytes)
                if opened > before, let writer = writers.last {
                    var reader = Reader(key: StreamKey(connection: connection, stream: writer.id))
                    reader.client = client
                    reader.phase = globalPhase
                    reader.ordinal = opened - 1
                    reader.haveHeader = true
                    responseReader = reader
                }
            }
            pumpWriters(invariants: &invariants, chunk: &chunk)
            writers.removeAll(where: \.finished)
            guard var reader = responseReader else { return opened == count }
            readyStreams.remove(reader.key)
            readResponse(&reader, phase: current, invariants: &invariants)
            responseReader = reader.ended ? nil : reader
            guard reader.ended else { return false }
            if opened == count { return true }
        }
    }

    /// Forgets the finished connection's workload state before the next connection.
    mutating func startNextRound() {
        round += 1
        phase = 0
        opened = 0
        writers = []
        responseReader = nil
        roundDone = false
        roundCounted = false
        isConnected = false
        connection = nil
        connectStartedAt = nil
        readyStreams.removeAll()
    }

    private mutating func openStreams(_ current: WorkloadPhase, client: Int, upTo target: Int,
                                      invariants: inout Invariants, requestBytes: Int = 0) {
        guard let connection else { return }
        let phase = globalPhase
        while opened < target {
            guard let id = try? endpoint.openStream(on: connection) else { return }
            let ordinal = opened
            var segments: [StreamWriter.Segment] = [.bytes(Content.header(client: client, phase: phase, ordinal: ordinal), record: true)]
            let tag = Content.tag(client: client, phase: phase, ordinal: ordinal)
            switch current {
            case .bulk:
                let count = current.bulkBytes(ordinal: ordinal)
                if count > 0 { segments.append(.pattern(tag: tag, count: count, record: false)) }
            case .requestResponse:
                if requestBytes > 0 { segments.append(.pattern(tag: tag, count: requestBytes, record: false)) }
            case .records:
                for index in current.recordIndices(ordinal: ordinal) {
                    segments.append(.pattern(tag: Content.tag(client: client, phase: phase, ordinal: index),
                                             count: current.recordSize(client: client, phase: phase, index: index), record: true))
                }
            case .idle, .keyUpdate:
                break
            }
            writers.append(StreamWriter(id: id, segments: segments))
            opened += 1
        }
    }

    private mutating func pumpWriters(invariants: inout Invariants, chunk: inout Chunk) {
        guard let connection else { return }
        for i in writers.indices where !writers[i].finished {
            guard !writers[i].blocked || readyStreams.remove(StreamKey(connection: connection, stream: writers[i].id)) != nil else {
                continue
            }
            if let problem = writers[i].pump(&endpoint, on: connection, chunk: &chunk) {
                invariants.fail(.correctness, "\(spec.name): \(problem)")
            }
        }
    }

    private mutating func readResponse(_ reader: inout Reader, phase current: WorkloadPhase, invariants: inout Invariants) {
        guard case .requestResponse(_, _, let responseBytes) = current else { return }
        let tag = Content.tag(client: reader.client, phase: reader.phase, ordinal: reader.ordinal, response: true)
        readBytes(&reader, expected: responseBytes, tag: tag, what: "response", invariants: &invariants)
    }
}
