// TEMPORARY: stand-ins for the async API (Host, Connection, Stream) and the
// driver factories, with the announced signatures, so that the tool builds
// before they land on main. Every call fails at run time. Deleted by the
// merge that brings the real API.
import SecureStreams

typealias SSHost = ShimHost
typealias SSStream = ShimStream
typealias SSConnection = ShimConnection

private let notYet = ToolError("the async API has not landed in this build yet")

final class ShimHost: Sendable {
    init(identity: HostIdentity, driver: some DriverFactory, bindingTo address: PeerAddress = .any(),
         configuration: HostConfiguration = HostConfiguration()) throws { throw notYet }
    var endpointID: EndpointID { fatalError() }
    var localAddress: PeerAddress { fatalError() }
    func connect(to peer: EndpointID, at address: PeerAddress, service: String, protocol: String) async throws -> ShimConnection { throw notYet }
    func connect(at address: PeerAddress, service: String, protocol: String) async throws -> ShimConnection { throw notYet }
    func listen(service: String, protocols: [String]) async throws -> ShimListener { throw notYet }
    func shutdown() async {}
}

struct HostConfiguration: Sendable {
    var knownHostsPath: String?
    var configureEndpoint: @Sendable (inout EndpointConfiguration) -> Void
    init(knownHostsPath: String? = nil, configureEndpoint: @escaping @Sendable (inout EndpointConfiguration) -> Void = { _ in }) {
        self.knownHostsPath = knownHostsPath
        self.configureEndpoint = configureEndpoint
    }
}

struct ShimListener: AsyncSequence, Sendable {
    struct AsyncIterator: AsyncIteratorProtocol {
        mutating func next() async throws -> ShimConnection? { nil }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator() }
}

enum ConnectionEvent: Sendable {
    case linkUp, linkStalled, linkDown, pathChanged(PeerAddress), closed(ConnectionError)
}

final class ShimConnection: Sendable {
    var peer: EndpointID { fatalError() }
    let service = "", `protocol` = ""
    var side: Side { fatalError() }
    func openStream(priority: Int = 0) async throws -> ShimStream { throw notYet }
    var incomingStreams: ShimIncoming { ShimIncoming() }
    var events: AsyncStream<ConnectionEvent> { AsyncStream { $0.finish() } }
    func statistics() async -> ConnectionStatistics? { nil }
    func close(code: ErrorCode = .noError, reason: String = "") async {}
    func waitUntilClosed() async -> ConnectionError { ConnectionError(.idleTimeout) }
}

struct ShimIncoming: AsyncSequence, Sendable {
    struct AsyncIterator: AsyncIteratorProtocol {
        mutating func next() async throws -> ShimStream? { nil }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator() }
}

final class ShimStream: Sendable {
    var id: StreamID { fatalError() }
    func read(maxBytes: Int = 65_536) async throws -> [UInt8]? { throw notYet }
    func readRecord() async throws -> [UInt8]? { throw notYet }
    func write(_ bytes: [UInt8]) async throws { throw notYet }
    func writeRecord(_ bytes: [UInt8]) async throws { throw notYet }
    func finish() async throws { throw notYet }
    func reset(code: ErrorCode = .noError) async {}
}

struct HostError: Error, CustomStringConvertible {
    enum Kind {
        case keyMismatch(address: PeerAddress, pinned: EndpointID, presented: EndpointID, file: String, line: Int)
        case connectionFailed(address: PeerAddress, ConnectionError)
    }
    let kind: Kind
    var description: String { "" }
}

/// The factory for `kind`.
func makeDriverFactory(_ kind: DriverKind) throws -> any DriverFactory {
    throw ToolError("the \(kind) driver has not landed in this build yet")
}
