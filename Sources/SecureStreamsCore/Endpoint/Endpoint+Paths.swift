/// Application commands on paths (PROTOCOL.md §7.4).
extension Endpoint {
    /// Moves a connection to another local address of this host (a new
    /// interface, a new socket): the path from `localAddress` to the peer's
    /// current address is validated with a PATH_CHALLENGE sent from there,
    /// under one of the peer's spare CIDs when it gave us any, and becomes
    /// the active path when the answer arrives there (a `pathChanged` event).
    /// Until then traffic stays on the current path. The driver sends each
    /// ``Transmit`` from its ``Transmit/source`` and passes the local address
    /// of every datagram that arrives at `localAddress` as `to`; it keeps
    /// the old socket open until the peer has followed (a few round trips).
    ///
    /// - Returns: false when the validation could not start: as many paths
    ///   as ``PathManager/maxProbes`` are being validated for the peer's moves.
    /// - Throws: ``CommandError`` when the connection is not established.
    @discardableResult
    public mutating func migrate(_ handle: ConnectionHandle, toLocalAddress localAddress: PeerAddress,
                                 now: Timestamp) throws(CommandError) -> Bool {
        advance(to: now)
        // The random source is lent to the connection, then given back, so the
        // challenge tokens come from the endpoint's one stream of randomness.
        var source = random
        defer { random = source }
        return try withEstablished(handle) { connection in
            connection.migrate(toLocalAddress: localAddress, random: &source)
        }
    }

    /// The local address a connection sends from (`nil`: the default socket).
    public func localAddress(of handle: ConnectionHandle) -> PeerAddress? {
        established(handle)?.path.localAddress
    }
}
