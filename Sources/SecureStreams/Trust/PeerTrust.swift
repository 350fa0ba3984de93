public import SecureStreamsCore

/// Which peers a host trusts: the one place SecureStreams decides it.
///
/// A decision is about one peer, named by its ``EndpointID``, never about a
/// connection or an address, so one connection shared by several services
/// is judged once per service it asks for, by that service's listener.
///
/// Two questions are answered here, each from its own sources:
/// - **Who may connect** (``admits(_:)``): anyone, or only the EIDs given
///   in code, on the command line or in an authorized-peers file
///   (``AuthorizedPeers``). A listener refuses every other peer with a
///   coded close (`SERVICE_REFUSED`, reason ``refusalReason``) before any
///   stream opens. The close usually travels with the handshake's answer,
///   so the peer's connect fails as for a service nobody offers
///   (``HostError`` `.connectionFailed` with `.serviceRefused`); when it
///   arrives after, the connection ends with that code and reason.
/// - **Is this the host I reached before** (``confirmFirstUse(of:at:pinned:)``):
///   the trust-on-first-use pins of a ``KnownHosts`` file, for connections
///   made by address alone.
///
/// Later sources (policy trust stores, signed introductions) belong here
/// too, as further inputs to these two decisions.
public struct PeerTrust: Sendable {
    /// The peers allowed in; `nil`: anyone.
    public let allowed: Set<EndpointID>?
    /// The address pins for connections made without an EID; `nil`: no pinning.
    public var knownHosts: KnownHosts?

    /// The reason text of the close that refuses an untrusted peer.
    public static let refusalReason = "peer not trusted"

    /// Anyone may connect; no pins.
    public static let anyone = PeerTrust(allowed: nil, knownHosts: nil)

    /// Only `peers` may connect (an empty sequence: nobody).
    public static func only(_ peers: some Sequence<EndpointID>, knownHosts: KnownHosts? = nil) -> PeerTrust {
        PeerTrust(allowed: Set(peers), knownHosts: knownHosts)
    }

    /// Anyone may connect, with the pins of `knownHosts` for outgoing connections.
    public static func anyone(knownHosts: KnownHosts?) -> PeerTrust {
        PeerTrust(allowed: nil, knownHosts: knownHosts)
    }

    init(allowed: Set<EndpointID>?, knownHosts: KnownHosts?) {
        self.allowed = allowed
        self.knownHosts = knownHosts
    }

    /// Whether `peer` may use a listener holding this trust.
    public func admits(_ peer: EndpointID) -> Bool {
        guard let allowed else { return true }
        return allowed.contains(peer)
    }

    /// The pin for `address`, looked up before connecting to it by address.
    /// - Throws: ``HostError`` `.knownHosts` when the pin file is malformed.
    public func pin(for address: PeerAddress) throws(HostError) -> KnownHosts.Entry? {
        try knownHosts?.lookup(address)
    }

    /// Decides about the key a host reached at `address` presented: it must
    /// match the pin taken before connecting; with no pin it is pinned now.
    /// - Throws: ``HostError`` `.keyMismatch` naming both EIDs and the pin's
    ///   line, or `.knownHosts` when the pin cannot be written.
    public func confirmFirstUse(of presented: EndpointID, at address: PeerAddress,
                                pinned: KnownHosts.Entry?) throws(HostError) {
        guard let knownHosts else { return }
        if let pinned {
            guard pinned.endpointID == presented else {
                throw HostError(.keyMismatch(address: address, pinned: pinned.endpointID, presented: presented,
                                             file: knownHosts.path, line: pinned.line))
            }
        } else {
            try knownHosts.pin(address, to: presented)
        }
    }
}
