import SecureStreamsCore

/// The loop-side half of a ``Stream``: parked readers and writers, served
/// in order as the endpoint reports the stream readable or writable.
final class StreamState {
    let object: Stream
    var readers: [Reader] = []
    var writers: [Writer] = []
    var failure: HostError?
    /// The code of the peer's RESET_STREAM, once it arrived.
    var resetByPeer: ErrorCode?
    /// The code of the peer's STOP_SENDING, once it arrived (our sending
    /// half was reset in answer: the core then refuses writes as `stopped`).
    var stoppedByPeer: ErrorCode?
    let events: AsyncStream<StreamEvent>.Continuation

    enum ReadKind {
        case bytes(max: Int)
        case record
    }

    struct Reader {
        var kind: ReadKind
        var token: WaitToken
        var continuation: Reply<[UInt8]?>
    }

    /// A queued write, a record's end, or the finish that follows the writes before it.
    struct Writer {
        enum Operation {
            case bytes([UInt8], offset: Int, endOfRecord: Bool)
            case finish
        }
        var operation: Operation
        /// `nil` for a write admitted into the write-ahead allowance: nobody
        /// waits for it, and a failure is kept for the stream's next call.
        var continuation: Reply<Void>?
        /// Bytes this writer holds against ``Stream``'s write-ahead allowance.
        var admitted: Int
    }

    init(object: Stream) {
        self.object = object
        events = object.eventsContinuation
    }

    var id: StreamID { object.id }
    var handle: ConnectionHandle { object.connection.handle }

    // MARK: - Reading

    func read(_ kind: ReadKind, token: WaitToken, continuation: Reply<[UInt8]?>,
              loop: EndpointLoop) {
        if token.isCancelled {
            continuation.resume(throwing: CancellationError())
            return
        }
        readers.append(Reader(kind: kind, token: token, continuation: continuation))
        serveReaders(loop: loop)
    }

    /// Hands data to parked readers in order, until one finds nothing ready.
    /// A reader is resumed only with bytes already taken from the endpoint,
    /// so a reader cancelled while parked has taken nothing: no data is lost.
    func serveReaders(loop: EndpointLoop) {
        while let reader = readers.first {
            if let failure {
                readers.removeFirst()
                reader.continuation.resume(throwing: failure)
                continue
            }
            let result: [UInt8]??
            do {
                result = try attempt(reader.kind, loop: loop)
            } catch {
                readers.removeFirst()
                reader.continuation.resume(throwing: error)
                continue
            }
            guard let ready = result else { return }  // nothing yet: stay parked
            readers.removeFirst()
            reader.continuation.resume(returning: ready)
        }
    }

    /// `.some(bytes)`, `.some(nil)` at the end, or `nil` when nothing is ready.
    private func attempt(_ kind: ReadKind, loop: EndpointLoop) throws(HostError) -> [UInt8]?? {
        if let code = resetByPeer { throw HostError(.streamReset(id, code)) }
        // Fully read (the core may already have retired a stream whose
        // halves both ended): the end of the stream, whatever the kind.
        if loop.endpoint.isFinished(id, on: handle) {
            _ = try? loop.endpoint.read(from: id, on: handle, maxBytes: 0)
            return .some(nil)
        }
        do {
            switch kind {
            case .bytes(let max):
                guard let bytes = try loop.endpoint.read(from: id, on: handle, maxBytes: max) else { return .some(nil) }
                return bytes.isEmpty ? nil : .some(bytes)
            case .record:
                if let record = try loop.endpoint.readRecord(from: id, on: handle) { return .some(record) }
                guard loop.endpoint.isFinished(id, on: handle) else { return nil }
                _ = try? loop.endpoint.read(from: id, on: handle, maxBytes: 0)  // lets the stream retire
                return .some(nil)
            }
        } catch {
            throw translate(error)
        }
    }

    // MARK: - Writing

    func write(_ operation: Writer.Operation, continuation: Reply<Void>?, admitted: Int,
               loop: EndpointLoop) {
        if let failure {
            complete(Writer(operation: operation, continuation: continuation, admitted: admitted), failure)
            return
        }
        writers.append(Writer(operation: operation, continuation: continuation, admitted: admitted))
        if writers.count == 1 { serveWriters(loop: loop) }
    }

    /// Moves queued bytes into the endpoint in order; a writer is resumed
    /// once all its bytes are accepted (the call "suspends while the peer's
    /// window is full": the send buffer fills, then drains as acks arrive).
    func serveWriters(loop: EndpointLoop) {
        while var writer = writers.first {
            do {
                switch writer.operation {
                case .bytes(let bytes, let offset, let endOfRecord):
                    let accepted = try bytes.withUnsafeBytes { (raw) throws(CommandError) in
                        try loop.endpoint.write(UnsafeRawBufferPointer(rebasing: raw[offset...]), to: id, on: handle,
                                                endOfRecord: endOfRecord)
                    }
                    if offset + accepted < bytes.count {
                        writer.operation = .bytes(bytes, offset: offset + accepted, endOfRecord: endOfRecord)
                        writers[0] = writer
                        return  // `streamWritable` brings us back
                    }
                case .finish:
                    try loop.endpoint.finish(id, on: handle)
                }
            } catch {
                writers.removeFirst()
                complete(writer, translate(error))
                continue
            }
            writers.removeFirst()
            complete(writer, nil)
        }
    }

    func failWriters(_ error: HostError) {
        let waiting = writers
        writers = []
        for writer in waiting { complete(writer, error) }
    }

    /// Resumes the writer's caller, or keeps the failure of a write nobody
    /// waits for; gives back its write-ahead allowance.
    private func complete(_ writer: Writer, _ error: HostError?) {
        object.release(writer.admitted, failure: writer.continuation == nil ? error : nil)
        guard let continuation = writer.continuation else { return }
        if let error { continuation.resume(throwing: error) } else { continuation.resume() }
    }

    // MARK: - Ending

    func cancel(_ token: WaitToken) -> Bool {
        guard let index = readers.firstIndex(where: { $0.token === token }) else { return false }
        readers.remove(at: index).continuation.resume(throwing: CancellationError())
        return true
    }

    func end(_ error: HostError) {
        failure = error
        let waitingReaders = readers
        readers = []
        for reader in waitingReaders { reader.continuation.resume(throwing: error) }
        failWriters(error)
        events.finish()
    }

    /// The core's typed refusal as the caller should see it: the stream's
    /// or connection's failure when one is known, the peer's STOP_SENDING
    /// for a sending half reset in answer to it, else the core's reason.
    private func translate(_ error: CommandError) -> HostError {
        if let failure { return failure }
        if error.kind == .stopped, let code = error.code { return HostError(.streamStopped(id, code)) }
        return HostError(error)
    }
}
