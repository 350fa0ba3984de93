/// Entry points for the libFuzzer targets in `Fuzz/`.
///
/// The fuzz targets live in a package of their own, so they cannot see the
/// core's `package` declarations; these thin wrappers expose exactly what they
/// drive, behind `@_spi(Fuzzing)` so that no ordinary client sees them. None
/// of them changes behaviour: each forwards to the code it names and reports
/// a summary the harness can check. Unit tests reach the same code through
/// `@testable import` (`FuzzCrasherTests`).
@_spi(Fuzzing)
public enum FuzzEntryPoints {
    /// `PacketHeader.parse` on one datagram. Returns the packet type byte it
    /// recognised (`0x00` for version negotiation), or `nil` when dropped.
    public static func parsePacketHeader(_ datagram: UnsafeRawBufferPointer) -> UInt8? {
        switch PacketHeader.parse(datagram) {
        case .failure: return nil
        case .success(let packet):
            switch packet {
            case .initiation(let p):
                precondition(p.header.count == InitiationPacket.headerCount)
                precondition(p.noiseMessage.count + InitiationPacket.headerCount == datagram.count)
                return PacketType.initiation.rawValue
            case .response: return PacketType.response.rawValue
            case .finish: return PacketType.finish.rawValue
            case .cookie: return PacketType.cookie.rawValue
            case .data: return PacketType.data.rawValue
            case .versionNegotiation: return ProtocolVersion.negotiationMarker
            }
        }
    }

    /// Runs a ``FrameDecoder`` over a decrypted payload until it ends or
    /// throws. Returns the frames decoded and whether it ended with an error.
    public static func decodeFrames(_ payload: UnsafeRawBufferPointer) -> (frames: Int, failed: Bool) {
        var decoder = FrameDecoder(payload)
        var count = 0
        do {
            while let _ = try decoder.next() {
                count += 1
                precondition(decoder.remaining >= 0 && decoder.remaining <= payload.count)
            }
        } catch {
            // After an error the decoder must yield nothing more.
            precondition((try? decoder.next()) == nil, "FrameDecoder yielded a frame after an error")
            return (count, true)
        }
        precondition(decoder.frameCount == count)
        return (count, false)
    }

    /// `TransportParameters.decode`. When decoding succeeds, the parameters
    /// are encoded again and decoded once more; returns whether that second
    /// decode gave the same value (`nil` when the first decode threw or the
    /// encoding did not fit a 64 KiB buffer).
    public static func decodeTransportParameters(_ bytes: UnsafeRawBufferPointer) -> Bool? {
        guard let parameters = try? TransportParameters.decode(bytes) else { return nil }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        return buffer.withUnsafeMutableBytes { out -> Bool? in
            var writer = WireWriter(out)
            guard parameters.encode(into: &writer) else { return nil }
            guard let again = try? TransportParameters.decode(writer.writtenBytes) else { return false }
            return again == parameters
        }
    }

    /// `TransportParameters.encode` (for seed corpora); empty when it does not fit.
    public static func encodeTransportParameters(_ parameters: TransportParameters) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let count = buffer.withUnsafeMutableBytes { out -> Int in
            var writer = WireWriter(out)
            return parameters.encode(into: &writer) ? writer.offset : 0
        }
        return Array(buffer[0..<count])
    }

    /// Writes the `mac1` an honest initiator would write into an Initiation
    /// being built in `packet` (bytes 0..<43 then the Noise message), for a
    /// responder whose static key is `responder` under an IK suite, or with the
    /// XX key otherwise (the suite is read from byte 2). Does nothing when
    /// `packet` is shorter than the Initiation header or names no suite.
    public static func writeInitiationMAC1(_ packet: UnsafeMutableRawBufferPointer, responder: EndpointID) {
        guard packet.count >= InitiationLayout.headerCount,
              let suite = Suite(rawValue: packet[InitiationLayout.suiteOffset]) else { return }
        let macs = suite.noiseProtocol.pattern.base == .IK
            ? HandshakeMACs(responderStaticKey: responder.noiseStaticKey)
            : HandshakeMACs.xx
        macs.writeMAC1(into: packet)
    }

    /// What an honest initiator does with a Cookie packet (§4.2): opens
    /// `cookiePacket` with the key for `responder` (or the XX key, per the
    /// suite in byte 2 of `initiation`) and the Initiation's `mac1`, then writes
    /// `mac2` under the cookie into `initiation`. Returns false, leaving
    /// `initiation` as it was, when the packet does not open for it.
    public static func answerCookie(
        _ cookiePacket: UnsafeRawBufferPointer,
        initiation: UnsafeMutableRawBufferPointer,
        responder: EndpointID
    ) -> Bool {
        guard initiation.count >= InitiationLayout.headerCount,
              let suite = Suite(rawValue: initiation[InitiationLayout.suiteOffset]) else { return false }
        let macs = suite.noiseProtocol.pattern.base == .IK
            ? HandshakeMACs(responderStaticKey: responder.noiseStaticKey)
            : HandshakeMACs.xx
        let mac1 = HandshakeMACs.mac1Field(of: UnsafeRawBufferPointer(initiation))
        guard let cookie = CookieSealing.open(cookiePacket, initiationMAC1: mac1, macs: macs) else { return false }
        HandshakeMACs.writeMAC2(cookie: cookie, into: initiation)
        return true
    }

    /// A Cookie packet forged for `initiation` by someone who saw it (§4.2:
    /// the sealing key is public): `cookie` (16 bytes, zero-padded) sealed
    /// under the key for `responder` (or the XX key, per byte 2) with the
    /// Initiation's `mac1`, so it opens at the initiator. Empty when
    /// `initiation` is shorter than the Initiation header or names no suite.
    public static func forgeCookiePacket(
        answering initiation: UnsafeRawBufferPointer, cookie: [UInt8], responder: EndpointID
    ) -> [UInt8] {
        guard initiation.count >= InitiationLayout.headerCount,
              let suite = Suite(rawValue: initiation[InitiationLayout.suiteOffset]),
              let cid = ConnectionID(UnsafeRawBufferPointer(
                rebasing: initiation[InitiationLayout.senderCIDOffset..<(InitiationLayout.senderCIDOffset + 8)]))
        else { return [] }
        let macs = suite.noiseProtocol.pattern.base == .IK
            ? HandshakeMACs(responderStaticKey: responder.noiseStaticKey)
            : HandshakeMACs.xx
        let bytes = Bytes16((cookie + [UInt8](repeating: 0, count: 16)).prefix(16))!
        var random = SeededRandom(seed: 0)
        var packet = [UInt8](repeating: 0, count: CookiePacketLayout.count)
        _ = packet.withUnsafeMutableBytes {
            CookieSealing.seal(cookie: Cookie(bytes), initiatorCID: cid,
                               initiationMAC1: HandshakeMACs.mac1Field(of: initiation),
                               macs: macs, using: &random, into: $0)
        }
        return packet
    }

    /// What a host holding its cookie makes at the cost of a hash (§4.5):
    /// `initiation` with another ephemeral key, `mac1` redone and `mac2` under
    /// the cookie `cookiePacket` sealed for the original. `nil` when the
    /// packet does not open for `initiation` or `initiation` is too short.
    public static func cookieHolderVariant(
        of initiation: [UInt8], cookiePacket: UnsafeRawBufferPointer, ephemeral: [UInt8], responder: EndpointID
    ) -> [UInt8]? {
        let start = InitiationLayout.headerCount
        guard initiation.count >= start + 32, ephemeral.count == 32,
              let suite = Suite(rawValue: initiation[InitiationLayout.suiteOffset]) else { return nil }
        let macs = suite.noiseProtocol.pattern.base == .IK
            ? HandshakeMACs(responderStaticKey: responder.noiseStaticKey)
            : HandshakeMACs.xx
        let mac1 = initiation.withUnsafeBytes { HandshakeMACs.mac1Field(of: $0) }
        guard let cookie = CookieSealing.open(cookiePacket, initiationMAC1: mac1, macs: macs) else { return nil }
        var variant = initiation
        variant.replaceSubrange(start..<(start + 32), with: ephemeral)
        variant.withUnsafeMutableBytes {
            macs.writeMAC1(into: $0)
            HandshakeMACs.writeMAC2(cookie: cookie, into: $0)
        }
        return variant
    }

    /// Byte 0 of every packet this build writes and accepts (the protocol version).
    public static var protocolVersion: UInt8 { ProtocolVersion.current.rawValue }

    /// The length of a Cookie packet (66).
    public static var cookiePacketCount: Int { CookiePacketLayout.count }

    /// Bytes before the Noise message of an Initiation (43).
    public static var initiationHeaderCount: Int { InitiationLayout.headerCount }

    /// A stream's receive buffer (`ReceiveBuffer`), for the reassembly target.
    public struct ReceiveBufferHarness {
        private var buffer: ReceiveBuffer

        public init(limit: UInt64) { buffer = ReceiveBuffer(limit: limit) }

        /// `insert`; returns false when it threw (the connection would close).
        public mutating func insert(offset: UInt64, _ data: UnsafeRawBufferPointer, fin: Bool, recordEnd: Bool) -> Bool {
            do {
                try buffer.insert(offset: offset, data, fin: fin, recordEnd: recordEnd)
                return true
            } catch {
                return false
            }
        }

        /// `reset(finalSize:)`; returns false when it threw.
        public mutating func reset(finalSize: UInt64) -> Bool {
            (try? buffer.reset(finalSize: finalSize)) != nil
        }

        public mutating func read(maxBytes: Int) -> [UInt8] { buffer.read(maxBytes: maxBytes) }
        public mutating func readRecord() -> [UInt8]? { buffer.readRecord() }
        public mutating func discard(maxBytes: Int) -> Int { buffer.discard(maxBytes: maxBytes) }
        public mutating func raiseLimit(to limit: UInt64) { buffer.raiseLimit(to: limit) }

        public var readOffset: UInt64 { buffer.readOffset }
        public var contiguousOffset: UInt64 { buffer.contiguousOffset }
        public var highestOffset: UInt64 { buffer.highestOffset }
        public var readableCount: Int { buffer.readableCount }
        public var finalSize: UInt64? { buffer.finalSize }
        public var isComplete: Bool { buffer.isComplete }
        public var isReset: Bool { buffer.isReset }
        public var allocatedCount: Int { buffer.allocatedCount }
    }
}
