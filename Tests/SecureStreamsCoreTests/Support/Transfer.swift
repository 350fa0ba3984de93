@testable import SecureStreamsCore

/// A bulk transfer over a ``Pair``: the client writes `bytesPerStream` on
/// each of `streams` streams (content derived from stream and offset, so
/// corruption anywhere is caught) and finishes them; the server reads them all.
struct Transfer {
    let streams: Int
    let bytesPerStream: Int
    var ids: [StreamID] = []
    var written: [Int]
    var received: [StreamID: [UInt8]] = [:]
    var finished: Set<StreamID> = []

    init(streams: Int, bytesPerStream: Int) {
        self.streams = streams
        self.bytesPerStream = bytesPerStream
        written = Array(repeating: 0, count: streams)
    }

    static func byte(stream: Int, offset: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: offset &* 31 &+ stream &* 17 &+ (offset >> 8))
    }

    /// Runs the transfer to completion; false when it stalls or times out.
    mutating func run(on pair: inout Pair, connection: ConnectionHandle, timeout: Duration,
                      maxSteps: Int = 5_000_000, during: (inout Pair, _ receivedBytes: Int) -> Void = { _, _ in }) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        return pair.drive(maxSteps: maxSteps, timeout: timeout) { pair in
            during(&pair, received.values.reduce(0) { $0 + $1.count })
            guard pair.connected(.responder) != nil || !ids.isEmpty || pair.connected(.initiator) != nil else { return false }
            if ids.isEmpty {
                for _ in 0..<streams {
                    guard let id = try? pair.client.openStream(on: connection) else { break }
                    ids.append(id)
                }
            }
            for (index, id) in ids.enumerated() where written[index] < bytesPerStream {
                let count = min(chunk.count, bytesPerStream - written[index])
                for i in 0..<count { chunk[i] = Self.byte(stream: index, offset: written[index] + i) }
                let accepted = (try? chunk[0..<count].withUnsafeBytes { try pair.client.write($0, to: id, on: connection) }) ?? 0
                written[index] += accepted
                if written[index] == bytesPerStream { try? pair.client.finish(id, on: connection) }
            }
            if let server = pair.connected(.responder) {
                for id in ids where !finished.contains(id) {
                    reading: while true {
                        switch pair.server.readAvailable(from: id, on: server) {
                        case .bytes(let bytes): received[id, default: []] += bytes
                        case .end: finished.insert(id); break reading
                        case .nothing: break reading
                        }
                    }
                }
            }
            return finished.count == streams
        }
    }

    /// True when every stream arrived whole and in order.
    func isIntact() -> Bool {
        for (index, id) in ids.enumerated() {
            guard let bytes = received[id], bytes.count == bytesPerStream else { return false }
            for offset in 0..<bytes.count where bytes[offset] != Self.byte(stream: index, offset: offset) { return false }
        }
        return ids.count == streams
    }
}
