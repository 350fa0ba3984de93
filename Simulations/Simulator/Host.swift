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
    var phase = 0
    var phaseStart = Timestamp.zero
    /// When the handshake completed and when the whole workload was done (clients).
    var connectedAt: Timestamp?
    var doneAt: Timestamp?
    var opened = 0
    var writers: [StreamWriter] = []
    var responseReader: Reader?
    var isDone = false
    // Both.
    var readers: [Reader] = []
    var closed: Set<ConnectionHandle> = []
    var finishedKeys: [StreamKey] = []

    var workload: [WorkloadPhase] {
        if case .client(_, let workload) = spec.role { return workload }
        return []
    }

    /// When the workload itself next needs to run (an idle phase ending).
    var wakeTime: Timestamp? {
        guard !isDone, isConnected, phase < workload.count, case .idle(let duration) = workload[phase] else { return nil }
        return phaseStart + duration
    }

    // MARK: - Events

    mutating func handle(_ event: Event, invariants: inout Invariants, now: Timestamp) {
        switch event {
        case .connected(let handle, _, _, _, _):
            if handle == connection {
                isConnected = true
                phaseStart = now
                connectedAt = now
            }
        case .streamOpened(let handle, let stream):
            if closed.contains(handle) { invariants.fail(.correctness, "\(spec.name): stream \(stream) opened after close") }
            if connection == nil { readers.append(Reader(key: StreamKey(connection: handle, stream: stream))) }
        case .streamReadable(let handle, let stream):
            if closed.contains(handle) {
                invariants.fail(.correctness, "\(spec.name): \(stream) readable after its connection closed")
            }
        case .closed(let handle, let error):
            closed.insert(handle)
            if handle == connection, !isDone {
                invariants.fail(.liveness, "\(spec.name): connection closed (\(error)) before the workload finished, in phase \(phase)")
            }
        default:
            break
        }
    }

    // MARK: - Client

    /// Runs the current phase as far as it goes now.
    mutating func runClient(invariants: inout Invariants, chunk: inout Chunk, now: Timestamp) {
        guard let clientIndex, let connection, isConnected, !isDone, !closed.contains(connection) else { return }
        while phase < workload.count {
            let current = workload[phase]
            switch current {
            case .idle(let duration):
                guard now >= phaseStart + duration else { return }
            case .bulk, .records:
                openStreams(current, client: clientIndex, upTo: current.streamCount, invariants: &invariants)
                pumpWriters(invariants: &invariants, chunk: &chunk)
                guard invariants.completedStreams(client: clientIndex, phase: phase) == current.streamCount else { return }
            case .requestResponse(let count, let requestBytes, _):
                if responseReader == nil, opened < count {
                    let before = opened
                    openStreams(current, client: clientIndex, upTo: opened + 1, invariants: &invariants, requestBytes: requestBytes)
                    if opened > before, let writer = writers.last {
                        var reader = Reader(key: StreamKey(connection: connection, stream: writer.id))
                        reader.client = clientIndex
                        reader.phase = phase
                        reader.ordinal = opened - 1
                        reader.haveHeader = true
                        responseReader = reader
                    }
                }
                pumpWriters(invariants: &invariants, chunk: &chunk)
                if var reader = responseReader {
                    readResponse(&reader, phase: current, invariants: &invariants)
                    responseReader = reader.ended ? nil : reader
                }
                guard responseReader == nil, opened == count else { return }
            }
            phase += 1
            phaseStart = now
            opened = 0
            writers = []
        }
        isDone = true
        doneAt = now
    }

    private mutating func openStreams(_ current: WorkloadPhase, client: Int, upTo target: Int,
                                      invariants: inout Invariants, requestBytes: Int = 0) {
        guard let connection else { return }
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
            case .idle:
                break
            }
            writers.append(StreamWriter(id: id, segments: segments))
            opened += 1
        }
    }

    private mutating func pumpWriters(invariants: inout Invariants, chunk: inout Chunk) {
        guard let connection else { return }
        for i in writers.indices where !writers[i].finished {
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

    // MARK: - Server

    /// Reads and checks every open stream, answers requests.
    mutating func runServer(clientSpecs: [HostSpec], invariants: inout Invariants,
                            chunk: inout Chunk) {
        var i = 0
        while i < readers.count {
            var reader = readers[i]
            serve(&reader, clientSpecs: clientSpecs, invariants: &invariants, chunk: &chunk)
            if reader.ended && (reader.responder?.finished ?? true) {
                finishedKeys.append(reader.key)
                readers.remove(at: i)
            } else {
                readers[i] = reader
                i += 1
            }
        }
        // Nothing may be read from a stream after its end.
        for key in finishedKeys where !closed.contains(key.connection) {
            if let bytes = try? endpoint.read(from: key.stream, on: key.connection, maxBytes: 1), !bytes.isEmpty {
                invariants.fail(.correctness, "\(spec.name): \(key.stream) delivered bytes after its end")
            }
        }
        if finishedKeys.count > 64 { finishedKeys.removeFirst(finishedKeys.count - 64) }
    }

    private mutating func serve(_ reader: inout Reader, clientSpecs: [HostSpec],
                                invariants: inout Invariants, chunk: inout Chunk) {
        let key = reader.key
        guard !closed.contains(key.connection) else { return }
        if !reader.haveHeader {
            guard let header = try? endpoint.readRecord(from: key.stream, on: key.connection) else { return }
            guard let parsed = Content.parseHeader(header), parsed.client < clientSpecs.count,
                  case .client(_, let workload) = clientSpecs[parsed.client].role, parsed.phase < workload.count else {
                invariants.fail(.correctness, "\(spec.name): \(key.stream) began with a bad header \(header)")
                reader.ended = true
                return
            }
            (reader.client, reader.phase, reader.ordinal) = parsed
            reader.haveHeader = true
        }
        guard case .client(_, let workload) = clientSpecs[reader.client].role else { return }
        let current = workload[reader.phase]
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
        case .idle:
            invariants.fail(.correctness, "\(spec.name): a stream for an idle phase")
            reader.ended = true
        }
        // Request/response phases complete on the client, when it has read every response.
        let isRequest = if case .requestResponse = current { true } else { false }
        if reader.ended, !wasEnded, !isRequest {
            invariants.streamCompleted(client: reader.client, phase: reader.phase)
        }
    }

    /// Reads payload bytes, checking each against the plan, up to the end.
    private mutating func readBytes(_ reader: inout Reader, expected: Int, tag: UInt64, what: String,
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
