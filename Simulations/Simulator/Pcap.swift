public import SecureStreamsCore

/// A datagram coming out of a link (what a capture on that link would see).
public struct DeliveredDatagram: Sendable {
    /// Virtual time of delivery.
    public var time: Duration
    /// The link's label, `"from->to"` (node names; `internet` for the internet).
    public var link: String
    /// Addresses as on the wire of that link (after any NAT translation upstream).
    public var source: PeerAddress
    public var destination: PeerAddress
    public var bytes: [UInt8]
}

/// Builds a classic pcap capture (libpcap format, microsecond timestamps,
/// magic 0xa1b2c3d4 written little-endian) of UDP datagrams with
/// synthesized IP and UDP headers, link type RAW (101): each record is a
/// bare IPv4 or IPv6 packet. Timestamps are virtual time since the start of the run.
///
/// The IPv4 header checksum is computed; over IPv4 the UDP checksum is 0 ("not
/// computed", allowed by RFC 768), over IPv6 it is computed (required there).
/// A datagram whose two addresses are of different families (only a
/// misconfigured scenario sends one) or too large for a UDP length is
/// skipped and counted.
public struct PcapWriter: Sendable {
    /// The file so far: the global header, then one record per datagram.
    public private(set) var bytes: [UInt8]
    public private(set) var packets = 0
    public private(set) var skipped = 0
    private var identification: UInt16 = 0

    public static let magic: UInt32 = 0xa1b2_c3d4
    public static let linkTypeRaw: UInt32 = 101
    public static let snapLength: UInt32 = 65_535

    public init() {
        bytes = []
        bytes.reserveCapacity(1 << 16)
        append32(Self.magic)
        append16(2)                 // version major
        append16(4)                 // version minor
        append32(0)                 // thiszone
        append32(0)                 // sigfigs
        append32(Self.snapLength)
        append32(Self.linkTypeRaw)
    }

    /// Appends one record for a datagram delivered at `time`.
    public mutating func add(_ datagram: DeliveredDatagram) {
        add(time: datagram.time, source: datagram.source, destination: datagram.destination, payload: datagram.bytes)
    }

    public mutating func add(time: Duration, source: PeerAddress, destination: PeerAddress, payload: [UInt8]) {
        guard source.family == destination.family, payload.count <= Int(UInt16.max) - 28 else {
            skipped += 1
            return
        }
        let packet: [UInt8]
        switch source.family {
        case .ipv4:
            packet = Self.ipv4UDP(source: source, destination: destination, payload: payload, identification: identification)
            identification &+= 1
        case .ipv6:
            packet = Self.ipv6UDP(source: source, destination: destination, payload: payload)
        }
        let (seconds, attoseconds) = max(time, .zero).components
        append32(UInt32(truncatingIfNeeded: seconds))
        append32(UInt32(attoseconds / 1_000_000_000_000))
        let captured = min(packet.count, Int(Self.snapLength))
        append32(UInt32(captured))
        append32(UInt32(packet.count))
        bytes += packet[0..<captured]
        packets += 1
    }

    /// An IPv4 packet (20-byte header, no options, TTL 64, DF clear) carrying a UDP datagram.
    public static func ipv4UDP(source: PeerAddress, destination: PeerAddress, payload: [UInt8],
                               identification: UInt16 = 0) -> [UInt8] {
        let total = 20 + 8 + payload.count
        var packet: [UInt8] = [
            0x45, 0x00, UInt8(total >> 8), UInt8(total & 0xff),
            UInt8(identification >> 8), UInt8(identification & 0xff), 0x00, 0x00,
            64, 17, 0x00, 0x00,
        ]
        packet += source.ipBytes
        packet += destination.ipBytes
        let checksum = internetChecksum(packet)
        packet[10] = UInt8(checksum >> 8)
        packet[11] = UInt8(checksum & 0xff)
        let udpLength = 8 + payload.count
        packet += [
            UInt8(source.port >> 8), UInt8(source.port & 0xff),
            UInt8(destination.port >> 8), UInt8(destination.port & 0xff),
            UInt8(udpLength >> 8), UInt8(udpLength & 0xff),
            0x00, 0x00,
        ]
        packet += payload
        return packet
    }

    /// An IPv6 packet (40-byte header, hop limit 64, no extension headers)
    /// carrying a UDP datagram, with the UDP checksum IPv6 requires (RFC 8200 §8.1).
    public static func ipv6UDP(source: PeerAddress, destination: PeerAddress, payload: [UInt8]) -> [UInt8] {
        let udpLength = 8 + payload.count
        var udp: [UInt8] = [
            UInt8(source.port >> 8), UInt8(source.port & 0xff),
            UInt8(destination.port >> 8), UInt8(destination.port & 0xff),
            UInt8(udpLength >> 8), UInt8(udpLength & 0xff),
            0x00, 0x00,
        ]
        udp += payload
        let pseudo = source.ipBytes + destination.ipBytes
            + [0, 0, UInt8(udpLength >> 8), UInt8(udpLength & 0xff), 0, 0, 0, 17]
        var checksum = internetChecksum(pseudo + udp)
        if checksum == 0 { checksum = 0xffff }
        udp[6] = UInt8(checksum >> 8)
        udp[7] = UInt8(checksum & 0xff)
        var packet: [UInt8] = [0x60, 0, 0, 0, UInt8(udpLength >> 8), UInt8(udpLength & 0xff), 17, 64]
        packet += source.ipBytes
        packet += destination.ipBytes
        return packet + udp
    }

    /// The RFC 1071 one's-complement sum of 16-bit big-endian words, complemented.
    public static func internetChecksum(_ data: some Collection<UInt8>) -> UInt16 {
        var sum: UInt32 = 0
        var high = true
        var word: UInt32 = 0
        for byte in data {
            if high {
                word = UInt32(byte) << 8
            } else {
                sum += word | UInt32(byte)
            }
            high.toggle()
        }
        if !high { sum += word }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }

    private mutating func append16(_ value: UInt16) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    private mutating func append32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}
