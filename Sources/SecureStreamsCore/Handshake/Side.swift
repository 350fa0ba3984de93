/// Which end of a connection or handshake this is.
public enum Side: String, Sendable, Hashable, CustomStringConvertible {
    /// The end that sent the first handshake message.
    case initiator
    /// The end that answered it.
    case responder

    public var peer: Side { self == .initiator ? .responder : .initiator }
    public var description: String { rawValue }
}
