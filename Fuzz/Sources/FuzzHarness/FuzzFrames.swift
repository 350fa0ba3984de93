// FuzzFrames: FrameDecoder over arbitrary decrypted payloads, and
// TransportParameters.decode (with an encode/decode round trip) on the same bytes.
#if FUZZ_PACKAGE
@_spi(Fuzzing) import SecureStreamsCore
#else
@testable @_spi(Fuzzing) import SecureStreamsCore
#endif

public enum FuzzFrames {
    public static func run(_ data: UnsafeRawBufferPointer) {
        _ = FuzzEntryPoints.decodeFrames(data)
        let roundTrip = FuzzEntryPoints.decodeTransportParameters(data)
        precondition(roundTrip != false, "transport parameters changed across encode/decode")
        // The HANDSHAKE frame's parameters usually come after a few bytes.
        if data.count > 1 {
            let rest = UnsafeRawBufferPointer(rebasing: data[1...])
            precondition(FuzzEntryPoints.decodeTransportParameters(rest) != false)
        }
    }

    public static func seeds() -> [(name: String, bytes: [UInt8])] {
        var parameters = TransportParameters()
        parameters.service = "test"
        parameters.applicationProtocol = "bytes"
        let encoded = FuzzEntryPoints.encodeTransportParameters(parameters)
        return [
            ("padding-ping", [0x00, 0x00, 0x00, 0x01]),
            ("ack", [0x02, 0x05, 0x00, 0x01, 0x02, 0x01, 0x00]),
            ("stream-fin-record", [0x19, 0x00, 0x04, 0x03, 0x61, 0x62, 0x63]),
            ("stream-offset-len", [0x16, 0x04, 0x40, 0x10, 0x05, 0x68, 0x65, 0x6C, 0x6C, 0x6F]),
            ("flow-control", [0x05, 0x44, 0x00, 0x06, 0x00, 0x80, 0x01, 0x00, 0x00, 0x07, 0x10, 0x09, 0x08]),
            ("reset-stop", [0x03, 0x00, 0x01, 0x05, 0x04, 0x01, 0x02]),
            ("path-cid", [0x40, 0x40, 1, 2, 3, 4, 5, 6, 7, 8, 0x41, 0x40, 1, 2, 3, 4, 5, 6, 7, 8]),
            ("close", [0x30, 0x00, 0x00, 0x03, 0x62, 0x79, 0x65]),
            ("transport-parameters", encoded),
            ("handshake-frame", [0x40, 0x50, UInt8(encoded.count)] + encoded),
        ]
    }
}
