// FuzzPacketHeader: PacketHeader.parse on arbitrary datagrams.
#if FUZZ_PACKAGE
@_spi(Fuzzing) import SecureStreamsCore
#else
@testable @_spi(Fuzzing) public import SecureStreamsCore
#endif

public enum FuzzPacketHeader {
    public static func run(_ data: UnsafeRawBufferPointer) {
        let type = FuzzEntryPoints.parsePacketHeader(data)
        guard let type else { return }
        // What was recognised is what byte 0 and byte 1 say.
        if type == 0x00 {
            precondition(data[0] == 0x00)
        } else {
            precondition(data.count >= 2 && data[0] == FuzzEntryPoints.protocolVersion)
            precondition(data[1] == type || (type == 0x10 && data[1] == 0x11))
        }
    }

    public static func seeds() -> [(name: String, bytes: [UInt8])] {
        var seeds: [(name: String, bytes: [UInt8])] = []
        var seenTypes: Set<[UInt8]> = []
        for (index, datagram) in (FuzzWire.capturedSession() + FuzzWire.capturedSession(knowingServer: false)).enumerated() {
            let key = Array(datagram.bytes.prefix(2))
            if seenTypes.insert(key).inserted || index % 5 == 0 {
                seeds.append(("genuine-\(index)-type\(datagram.bytes.count > 1 ? datagram.bytes[1] : 0)", datagram.bytes))
            }
        }
        seeds.append(("version-negotiation", [0x00, 0x01, 0x01]))
        seeds.append(("unknown-version", [0x07, 0x01, 0x00]))
        // A version-1 Initiation header: the retired version, answered with negotiation.
        seeds.append(("retired-version-1", [0x01, 0x01, 0x01] + [UInt8](repeating: 0, count: 72)))
        return seeds
    }
}
