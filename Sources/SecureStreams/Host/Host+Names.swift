public import SecureStreamsCore

extension Host {
    /// Connects to the host named `peer` at the host name `name` (or a
    /// numeric address) and `port`, with Noise IK, for `(service, protocol)`:
    /// `EID@example.com:4433` as a user writes it.
    ///
    /// The name is resolved here (``HostNameResolver``; the driver stays
    /// numeric). The addresses this host's socket can reach are tried in
    /// the resolver's order, each started ``nameAttemptStagger`` after the
    /// previous one unless one already answered (as happy eyeballs do, so a
    /// dead first address costs that pause, not the handshake's retries);
    /// the first to connect wins and the others are cancelled (one that
    /// also connected is closed).
    /// - Throws: ``HostError`` `.nameNotResolved`; `.addressFamilyUnreachable`
    ///   when no address of the name is of a family this socket reaches; the
    ///   first address's `.connectionFailed` when every attempt failed (a
    ///   refusal or a wrong key ends every attempt at once);
    ///   `CancellationError`.
    public func connect(
        to peer: EndpointID, host name: String, port: UInt16, service: String, protocol applicationProtocol: String
    ) async throws -> Connection {
        let resolved = try await HostNameResolver.resolve(name, port: port)
        let candidates = resolved.filter(canReach)
        guard !candidates.isEmpty else {
            throw HostError(.addressFamilyUnreachable(local: localAddress, remote: resolved[0]))
        }
        return try await connect(to: peer, anyOf: candidates, service: service, protocol: applicationProtocol)
    }

    /// Connects to `peer` at the first of `candidates` (at most
    /// ``HostNameResolver/maximumAddresses``, each reachable) to answer,
    /// starting them ``nameAttemptStagger`` apart; see
    /// ``connect(to:host:port:service:protocol:)``.
    func connect(
        to peer: EndpointID, anyOf candidates: [PeerAddress], service: String, protocol applicationProtocol: String
    ) async throws -> Connection {
        precondition(!candidates.isEmpty && candidates.count <= HostNameResolver.maximumAddresses,
                     "connect(anyOf:) takes 1 to maximumAddresses addresses")
        if candidates.count == 1 {
            return try await connect(to: peer, at: candidates[0], service: service, protocol: applicationProtocol)
        }
        return try await withThrowingTaskGroup(of: (Int, Result<Connection, any Error>).self) { group in
            for (index, address) in candidates.enumerated() {
                group.addTask {
                    do {
                        try await Task.sleep(for: Self.nameAttemptStagger * index)
                        let connection = try await self.connect(
                            to: peer, at: address, service: service, protocol: applicationProtocol)
                        return (index, .success(connection))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var failures: [(Int, any Error)] = []
            var winner: Connection?
            while let (index, result) = try await group.next() {
                switch result {
                case .success(let connection):
                    if winner == nil {
                        winner = connection
                        group.cancelAll()
                    } else {
                        await connection.close(reason: "another address of the host answered first")
                    }
                case .failure(let error):
                    failures.append((index, error))
                    if winner == nil, !Self.isWorthAnotherAddress(error) { group.cancelAll() }
                }
            }
            if let winner { return winner }
            // The first address's failure, whatever order they ended in (a
            // refusal, which stopped the rest, before any cancellation).
            let decisive = failures.first { !($0.1 is CancellationError) && !Self.isWorthAnotherAddress($0.1) }
            throw (decisive ?? failures.min { $0.0 < $1.0 }!).1
        }
    }

    /// The pause between starting the handshakes to two addresses of one
    /// name: RFC 8305's recommended connection attempt delay.
    public static let nameAttemptStagger: Duration = .milliseconds(250)

    /// True for failures another address of the same name may not share
    /// (no answer, an unreachable family); a refusal or a wrong key is the
    /// host's answer, the same at every address.
    private static func isWorthAnotherAddress(_ error: any Error) -> Bool {
        guard let error = error as? HostError else { return false }
        switch error.kind {
        case .connectionFailed(_, let why):
            if case .handshakeTimeout = why.kind { return true }
            return false
        case .addressFamilyUnreachable: return true
        case .keyMismatch, .connectionClosed, .streamReset, .streamStopped, .knownHosts, .emptyRecord, .command,
             .nameNotResolved, .recordTooLarge, .shutDown:
            return false
        }
    }
}
