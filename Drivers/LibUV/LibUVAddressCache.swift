// sockaddr ⇄ PeerAddress at the socket edge, remembering the last of each.
import Glibc
import SecureStreams
import SecureStreamsCore

/// Converts addresses with the shared helpers (`PeerAddress(socketAddress:)`,
/// `withSocketAddress`, `mappedToIPv6`), remembering the last source and the
/// last destination so a steady flow converts nothing per datagram (the
/// helpers build small arrays on every call).
///
/// Loop-confined. One entry each way: a server juggling many peers converts
/// on every change of peer, which is correct, only slower.
final class LibUVAddressCache {
    /// Whether destinations go out as IPv6 (a dual-stack IPv6 socket sends to
    /// an IPv4 peer at its IPv4-mapped address).
    private let mapsToIPv6: Bool

    private let source = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: 1)
    private var sourceLength = 0
    private var sourcePeer: PeerAddress?

    private let destination = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: 1)
    private var destinationPeer: PeerAddress?

    init(mapsToIPv6: Bool) {
        self.mapsToIPv6 = mapsToIPv6
        source.initialize(to: sockaddr_storage())
        destination.initialize(to: sockaddr_storage())
    }

    deinit {
        source.deallocate()
        destination.deallocate()
    }

    /// The peer named by a received source address; `nil` for a family
    /// other than IPv4 and IPv6. An IPv4-mapped IPv6 source becomes IPv4.
    func peer(from address: UnsafePointer<sockaddr>) -> PeerAddress? {
        let length: Int
        switch Int32(address.pointee.sa_family) {
        case AF_INET: length = MemoryLayout<sockaddr_in>.size
        case AF_INET6: length = MemoryLayout<sockaddr_in6>.size
        default: return nil
        }
        if let sourcePeer, length == sourceLength, memcmp(source, address, length) == 0 {
            return sourcePeer
        }
        guard let peer = PeerAddress(socketAddress: address) else { return nil }
        UnsafeMutableRawPointer(source).copyMemory(from: address, byteCount: length)
        sourceLength = length
        sourcePeer = peer
        return peer
    }

    /// `peer` as the `sockaddr` to send to (valid until the next call).
    func socketAddress(for peer: PeerAddress) -> UnsafePointer<sockaddr> {
        if peer != destinationPeer {
            let target = mapsToIPv6 ? peer.mappedToIPv6 : peer
            destination.pointee = target.socketAddress.storage
            destinationPeer = peer
        }
        return UnsafeRawPointer(destination).assumingMemoryBound(to: sockaddr.self)
    }
}
