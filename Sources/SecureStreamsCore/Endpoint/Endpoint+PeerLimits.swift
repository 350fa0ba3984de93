/// What the peer of a connection announced about itself that a writer must
/// respect before sending (PROTOCOL.md §6.15).
extension Endpoint {
    /// The largest record the peer of `handle` reads whole (its `max record
    /// size` parameter; 16 MiB when it left it out), or `nil` when the
    /// connection is not established. A record larger than this fills the
    /// peer's stream window and never completes: check before writing one.
    public func peerMaxRecordSize(of handle: ConnectionHandle) -> UInt64? {
        established(handle)?.peerParameters.maxRecordSize
    }
}
