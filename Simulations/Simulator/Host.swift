import SecureStreamsCore

/// A simulated host: a real ``Endpoint`` plus its side of the workloads.
/// Clients run their phases one after another; servers check whatever
/// arrives against the plan in the scenario and answer requests.
struct Host {
    struct StreamKey: Hashable {
        var connection: ConnectionHandle
        var stream: StreamID
    }

    /// A stream being read and checked.
    struct Reader {
        var key: StreamKey
        var client = 0
        var phase = 0
        var ordinal = 0
        var haveHeader = false
        /// Payload bytes (bulk / request / response) read so far.
        var offset = 0
        /// Position in the stream's record plan.
        var recordPosition = 0
        var ended = false
        /// A response to write after the request was read (request/response, server side).
        var responder: StreamWriter?
    }

    let spec: HostSpec
    var endpoint: Endpoint
    /// The client's index among clients (content tags), for clients.
    let clientIndex: Int?
    // Client state.
    var connection: ConnectionHandle?
    var isConnected = false
    /// The connection (0-based) running the workload now; ``HostSpec/connections`` run in turn.
    var round = 0
    /// The phase within the workload of the current connection.
    var phase = 0
    var phaseStart = Timestamp.zero
    /// When the current connection was opened.
    var connectStartedAt: Timestamp?
    /// When the first handshake completed and when the whole workload was done (clients).
    var connectedAt: Timestamp?
    var doneAt: Timestamp?
    /// Handshake durations, one per connection that connected.
    var connectDurations: [Duration] = []
    var opened = 0
    var writers: [StreamWriter] = []
    var responseReader: Reader?
    /// The current connection's workload is done; the runner closes it and opens the next.
    var roundDone = false
    var isDone = false
    /// The client's connection ended before its workload did (a liveness failure, reported once).
    var failed = false
    /// The current connection's counters were added to the totals.
    var roundCounted = false
    /// Counters summed over the client's finished connections (its own side).
    var totals = SideTotals()
    /// Counters of the server side of this client's finished connections.
    var serverTotals = SideTotals()
    // Servers: which client each accepted connection serves (from the first stream header).
    var clientOfConnection: [ConnectionHandle: Int] = [:]
    /// Servers: the latest connection of each client, by client index.
    var connectionOfClient: [Int: ConnectionHandle] = [:]
    // Both.
    /// Streams with a `streamReadable` or `streamWritable` event not yet acted on:
    /// the workload reads or writes a stream only when it is new or ready, so
    /// a host with many streams does not poll every one of them at every step.
    var readyStreams: Set<StreamKey> = []
    var readers: [Reader] = []
    var closed: Set<ConnectionHandle> = []
    var finishedKeys: [StreamKey] = []

    /// Loss and retransmission counters of one side of a client's connections.
    struct SideTotals: Sendable, Equatable {
        var bytesRetransmitted: UInt64 = 0
        var packetsLost: UInt64 = 0
        var packetsSent: UInt64 = 0
        var keyUpdates: UInt64 = 0

        mutating func add(_ statistics: ConnectionStatistics) {
            bytesRetransmitted += statistics.bytesRetransmitted
            packetsLost += statistics.packetsLost
            packetsSent += statistics.packetsSent
            keyUpdates += statistics.keyUpdates
        }
    }

    /// Something happened to the host since it was last serviced (a datagram, a connect, a close).
    var needsService = true
    /// ``Invariants/completions`` when the host was last serviced.
    var seenCompletions = 0

    /// Done or failed: the client will do nothing more.
    var isFinished: Bool { isDone || failed }

    /// The index of the current phase among all the client's phases (every connection's).
    var globalPhase: Int { round * workload.count + phase }

    var workload: [WorkloadPhase] {
        if case .client(_, let workload) = spec.role { return workload }
        return []
    }

    /// When the workload itself next needs to run (an idle phase ending, or the client's start).
    var wakeTime: Timestamp? {
        if clientIndex != nil, connection == nil, !isFinished { return Timestamp.zero + spec.start }
        guard !isFinished, isConnected, phase < workload.count, case .idle(let duration) = workload[phase] else { return nil }
        return phaseStart + duration
    }

    // MARK: - Events

    mutating func handle(_ event: Event, invariants: inout Invariants, now: Timestamp) {
        switch event {
        case .connected(let handle, _, _, _, _):
            if handle == connection {
                isConnected = true
                phaseStart = now
                if connectedAt == nil { connectedAt = now }
                if let connectStartedAt { connectDurations.append(now - connectStartedAt) }
            }
        case .streamOpened(let handle, let stream):
            if closed.contains(handle) { invariants.fail(.correctness, "\(spec.name): stream \(stream) opened after close") }
            if connection == nil { readers.append(Reader(key: StreamKey(connection: handle, stream: stream))) }
        case .streamReadable(let handle, let stream):
            if closed.contains(handle) {
                invariants.fail(.correctness, "\(spec.name): \(stream) readable after its connection closed")
            }
            readyStreams.insert(StreamKey(connection: handle, stream: stream))
        case .streamWritable(let handle, let stream):
            readyStreams.insert(StreamKey(connection: handle, stream: stream))
        case .closed(let handle, let error):
            closed.insert(handle)
            if handle == connection, !isDone, !roundDone, !failed {
                failed = true
                invariants.fail(.liveness, """
                    \(spec.name): connection closed (\(error)) before the workload finished, in phase \(phase) \
                    of connection \(round + 1) of \(spec.connections), at \(now)
                    """)
            }
        default:
            break
        }
    }

    // MARK: - Server

    /// Reads and checks every open stream, answers requests.
    mutating func runServer(clientSpecs: [HostSpec], invariants: inout Invariants,
                            chunk: inout Chunk) {
        var i = 0
        while i < readers.count {
            var reader = readers[i]
            guard readyStreams.remove(reader.key) != nil || !reader.haveHeader else {
                i += 1
                continue
            }
            serve(&reader, clientSpecs: clientSpecs, invariants: &invariants, chunk: &chunk)
            if reader.ended && (reader.responder?.finished ?? true) {
                finishedKeys.append(reader.key)
                readers.remove(at: i)
            } else {
                readers[i] = reader
                i += 1
            }
        }
        // Nothing may be read from a stream after its end (which would make it readable again).
        for key in finishedKeys where !closed.contains(key.connection) && readyStreams.remove(key) != nil {
            if let bytes = try? endpoint.read(from: key.stream, on: key.connection, maxBytes: 1), !bytes.isEmpty {
                invariants.fail(.correctness, "\(spec.name): \(key.stream) delivered bytes after its end")
            }
        }
        if finishedKeys.count > 64 { finishedKeys.removeFirst(finishedKeys.count - 64) }
        // Events for streams nobody reads any more (reset, or finished beyond the 64 kept) are not kept.
        if readers.isEmpty { readyStreams.removeAll() }
    }

    private mutating func serve(_ reader: inout Reader, clientSpecs: [HostSpec],
                                invariants: inout Invariants, chunk: inout Chunk) {
        let key = reader.key
        guard !closed.contains(key.connection) else { return }
        if !reader.haveHeader {
            guard let header = try? endpoint.readRecord(from: key.stream, on: key.connection) else { return }
            guard let parsed = Content.parseHeader(header), parsed.client < clientSpecs.count,
                  case .client(_, let workload) = clientSpecs[parsed.client].role,
                  parsed.phase < workload.count * clientSpecs[parsed.client].connections else {
                invariants.fail(.correctness, "\(spec.name): \(key.stream) began with a bad header \(header)")
                reader.ended = true
                return
            }
            (reader.client, reader.phase, reader.ordinal) = parsed
            reader.haveHeader = true
            clientOfConnection[key.connection] = parsed.client
            connectionOfClient[parsed.client] = key.connection
        }
        guard case .client(_, let workload) = clientSpecs[reader.client].role else { return }
        let current = workload[reader.phase % workload.count]
        let tag = Content.tag(client: reader.client, phase: reader.phase, ordinal: reader.ordinal)
        let wasEnded = reader.ended
        switch current {
        case .bulk:
            readBytes(&reader, expected: current.bulkBytes(ordinal: reader.ordinal), tag: tag, what: "bulk", invariants: &invariants)
        case .requestResponse(_, let requestBytes, let responseBytes):
            readBytes(&reader, expected: requestBytes, tag: tag, what: "request", invariants: &invariants)
            if reader.ended, reader.responder == nil {
                let responseTag = Content.tag(client: reader.client, phase: reader.phase, ordinal: reader.ordinal, response: true)
                reader.responder = StreamWriter(id: key.stream, segments: responseBytes > 0
                    ? [.pattern(tag: responseTag, count: responseBytes, record: false)] : [])
            }
            if var responder = reader.responder, !responder.finished {
                if let problem = responder.pump(&endpoint, on: key.connection, chunk: &chunk) {
                    invariants.fail(.correctness, "\(spec.name): \(problem)")
                }
                reader.responder = responder
            }
        case .records:
            readRecords(&reader, phase: current, invariants: &invariants)
        case .idle, .keyUpdate:
            invariants.fail(.correctness, "\(spec.name): a stream for a phase that opens none")
            reader.ended = true
        }
        // Request/response phases complete on the client, when it has read every response.
        let isRequest = if case .requestResponse = current { true } else { false }
        if reader.ended, !wasEnded, !isRequest {
            invariants.streamCompleted(client: reader.client, phase: reader.phase)
        }
    }

    /// Reads payload bytes, checking each against the plan, up to the end.
    mutating func readBytes(_ reader: inout Reader, expected: Int, tag: UInt64, what: String,
                                    invariants: inout Invariants) {
        let key = reader.key
        while !reader.ended {
            let bytes: [UInt8]?
            do {
                bytes = try endpoint.read(from: key.stream, on: key.connection, maxBytes: 64 * 1_024)
            } catch {
                return
            }
            guard let bytes else {
                if reader.offset != expected {
                    invariants.fail(.correctness, "\(spec.name): \(what) \(key.stream) ended at \(reader.offset) of \(expected) bytes")
                }
                reader.ended = true
                return
            }
            if bytes.isEmpty { return }
            if reader.offset + bytes.count > expected {
                invariants.fail(.correctness, "\(spec.name): \(what) \(key.stream) carried more than \(expected) bytes")
            } else if let bad = Content.firstMismatch(bytes, tag: tag, from: reader.offset) {
                invariants.fail(.correctness, "\(spec.name): \(what) \(key.stream) byte \(bad) is wrong")
            }
            reader.offset += bytes.count
            invariants.delivered(bytes.count, client: reader.client)
        }
    }

    private mutating func readRecords(_ reader: inout Reader, phase current: WorkloadPhase, invariants: inout Invariants) {
        let key = reader.key
        let plan = Array(current.recordIndices(ordinal: reader.ordinal))
        while !reader.ended {
            guard reader.recordPosition < plan.count else {
                // Every record read: the stream must now end with nothing more.
                do {
                    guard let rest = try endpoint.read(from: key.stream, on: key.connection, maxBytes: 1) else {
                        reader.ended = true
                        return
                    }
                    if !rest.isEmpty { invariants.fail(.correctness, "\(spec.name): \(key.stream) has bytes after its last record") }
                } catch {}
                return
            }
            guard let record = try? endpoint.readRecord(from: key.stream, on: key.connection) else { return }
            let index = plan[reader.recordPosition]
            let size = current.recordSize(client: reader.client, phase: reader.phase, index: index)
            let tag = Content.tag(client: reader.client, phase: reader.phase, ordinal: index)
            if record.count != size {
                invariants.fail(.correctness, "\(spec.name): record \(index) on \(key.stream) has \(record.count) bytes, expected \(size)")
            } else if let bad = Content.firstMismatch(record, tag: tag, from: 0) {
                invariants.fail(.correctness, "\(spec.name): record \(index) on \(key.stream): byte \(bad) is wrong")
            }
            reader.recordPosition += 1
            invariants.delivered(record.count, client: reader.client)
        }
    }
}
