import Testing
@testable import SecureStreamsCore

/// HANDSHAKE frames and their transport parameters (PROTOCOL.md §6.15).
@Suite struct WireTransportParametersTests {
    /// A HANDSHAKE frame around raw parameter bytes.
    static func handshakeFrame(parameters: [UInt8], lengthDelta: Int = 0) -> [UInt8] {
        build {
            $0.writeVarInt(0x50)
            $0.writeUInt64(0xabcd)
            $0.writeVarInt(UInt64(parameters.count + lengthDelta))
            $0.writeBytes(parameters)
        }
    }

    static func decode(parameters: [UInt8], lengthDelta: Int = 0) -> Result<TransportParameters, PeerError> {
        withBytes(handshakeFrame(parameters: parameters, lengthDelta: lengthDelta)) { raw in
            let (frames, error) = decodeAll(raw)
            if let error { return .failure(error) }
            guard case .handshake(let frame)? = frames.first, frames.count == 1 else {
                preconditionFailure("not one HANDSHAKE frame")
            }
            #expect(frame.connectionID == ConnectionID(rawValue: 0xabcd))
            return .success(frame.parameters)
        }
    }

    @Test func defaultsAreTheTable() {
        let defaults = TransportParameters.defaults
        #expect(defaults.initialMaxData == 1_048_576)
        #expect(defaults.initialMaxStreamData == 262_144)
        #expect(defaults.initialMaxStreams == 1_024)
        #expect(defaults.maxAckDelayMicroseconds == 25_000)
        #expect(defaults.idleTimeoutMilliseconds == 30_000)
        #expect(defaults.maxDatagramSize == 1_350)
        #expect(!defaults.hasHardwareAES)
        #expect(defaults.service == nil && defaults.applicationProtocol == nil)
        // Nothing to write: the frame is type (2) + CID (8) + an empty length (1).
        #expect(defaults.encodedCount == 0)
        #expect(HandshakeFrame(connectionID: ConnectionID(rawValue: 1), parameters: defaults).encodedCount == 11)
        #expect(Self.decode(parameters: []) == .success(defaults))
    }

    @Test func onlyNonDefaultParametersAreWritten() {
        let parameters = TransportParameters(service: "", idleTimeoutMilliseconds: 5_000, hasHardwareAES: true)
        let bytes = build { let ok = parameters.encode(into: &$0); #expect(ok) }
        #expect(bytes == [0x01, 0x00, 0x07, 0x02, 0x53, 0x88, 0x09, 0x01, 0x01])
        #expect(Self.decode(parameters: bytes) == .success(parameters))
    }

    @Test func maxRecordSizeIsWrittenOnlyAwayFromSixteenMebibytesAndRoundTrips() {
        #expect(TransportParameters.defaults.maxRecordSize == 16 << 20)
        let small = TransportParameters(maxRecordSize: 1 << 20)
        let bytes = build { let ok = small.encode(into: &$0); #expect(ok) }
        #expect(bytes == [0x14, 0x04, 0x80, 0x10, 0x00, 0x00])
        #expect(Self.decode(parameters: bytes) == .success(small))
        // A peer that leaves it out reads 16 MiB records.
        #expect(Self.decode(parameters: []).map(\.maxRecordSize) == .success(16 << 20))
        // Given twice, or not filling its length: an encoding error.
        #expect((try? Self.decode(parameters: bytes + bytes).get()) == nil)
        #expect((try? Self.decode(parameters: [0x14, 0x02, 0x05]).get()) == nil)
    }

    @Test func unknownIdsAreSkipped() {
        let parameters: [UInt8] = [0x40, 0x99, 0x03, 0xff, 0xff, 0xff, 0x05, 0x01, 0x07, 0x3f, 0x00]
        var expected = TransportParameters.defaults
        expected.initialMaxStreams = 7
        #expect(Self.decode(parameters: parameters) == .success(expected))
    }

    @Test func nonShortestVarIntValuesAreAcceptedWhenTheLengthMatches() {
        #expect(Self.decode(parameters: [0x08, 0x02, 0x40, 0x10]).map(\.maxDatagramSize) == .success(16))
    }

    @Test(arguments: [
        ("value longer than its varint", [UInt8]([0x08, 0x02, 0x10, 0x00])),
        ("value shorter than its varint", [0x08, 0x01, 0x40]),
        ("empty varint value", [0x06, 0x00]),
        ("repeated id", [0x05, 0x01, 0x01, 0x05, 0x01, 0x02]),
        ("repeated string id", [0x01, 0x00, 0x01, 0x00]),
        ("hardware AES 2", [0x09, 0x01, 0x02]),
        ("initial max streams beyond 2^61", [0x05, 0x08, 0xe0, 0, 0, 0, 0, 0, 0, 0x01]),
        ("service not UTF-8", [0x01, 0x02, 0xc3, 0x28]),
        ("protocol not UTF-8", [0x02, 0x01, 0xff]),
        ("triple truncated", [0x03, 0x04, 0x80, 0x00]),
        ("id truncated", [0x40]),
    ])
    func invalidParametersAreFrameEncodingErrors(name: String, parameters: [UInt8]) {
        guard case .failure(let error) = Self.decode(parameters: parameters) else {
            Issue.record("\(name) was accepted"); return
        }
        #expect(error.code == .frameEncodingError && error.frameType == 0x50, "\(name)")
    }

    @Test func parametersLengthIsCheckedAgainstThePayload() {
        withBytes(Self.handshakeFrame(parameters: [0x05, 0x01, 0x01], lengthDelta: 1)) {
            #expect(decodeAll($0).error?.frameType == 0x50)
        }
        // A stray byte inside the parameters is a truncated triple.
        withBytes(Self.handshakeFrame(parameters: [0x09, 0x01, 0x01, 0x01])) {
            #expect(decodeAll($0).error?.frameType == 0x50)
        }
        withBytes(Self.handshakeFrame(parameters: [0x09, 0x01, 0x01]) + [0x01]) { raw in
            let (frames, error) = decodeAll(raw)
            #expect(error == nil && frames.count == 2 && frames.last == .ping, "frames may follow a HANDSHAKE frame")
        }
    }

    @Test func stringsRoundTrip() {
        let parameters = TransportParameters(service: "files ✓", applicationProtocol: "sss-sync/2")
        let frame = Frame.handshake(HandshakeFrame(connectionID: ConnectionID(rawValue: 0xabcd), parameters: parameters))
        withBytes(encodedBytes(frame)) { #expect(decodeAll($0).frames == [frame]) }
    }
}
