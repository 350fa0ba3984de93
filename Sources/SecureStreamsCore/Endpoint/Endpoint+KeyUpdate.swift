/// Application-triggered key update (PROTOCOL.md §5.3).
extension Endpoint {
    /// Asks for a key update on an established connection: the next packet
    /// sealed once the peer has acknowledged a packet under the current key
    /// goes out under the next key, exactly as a scheduled update would.
    /// `ConnectionStatistics.keyUpdates` counts it once it happened.
    /// - Throws: ``CommandError`` when the connection is not established.
    public mutating func requestKeyUpdate(on connection: ConnectionHandle) throws(CommandError) {
        try withEstablished(connection) { (c) throws(CommandError) in
            _ = c.withProtection { $0.requestKeyUpdate() }
        }
    }
}
