import Foundation
import Testing
@testable import SecureStreamsCore

/// The namespace of the packet-protection and DoS-check suites, so that
/// `swift test --filter Protection` runs exactly them.
enum ProtectionTests {
    /// Seeds for randomized tests: `SIM_SEED` when set (to replay a failure),
    /// else a fixed list (STYLE.md §9).
    static let seeds = TestSeeds.seeds([1, 2, 3, 0x5EED, 0xDEAD_BEEF], filter: "Protection")

    /// The ciphers this machine can run (AES-GCM needs hardware AES).
    static let algorithms = AEADAlgorithm.allCases.filter(\.isHardwareAccelerated)

    static let cid: UInt64 = 0x0102_0304_0506_0708

    static func seconds(_ s: Int64) -> Timestamp { .zero + .seconds(s) }
    static func milliseconds(_ ms: Int64) -> Timestamp { .zero + .milliseconds(ms) }

    /// `k1`, `k2` from a seed.
    static func transportKeys(seed: UInt64 = 42) -> (k1: SecretBytes, k2: SecretBytes) {
        var random = SeededRandom(seed: seed)
        return (SecretBytes(randomCount: 32, using: &random), SecretBytes(randomCount: 32, using: &random))
    }

    /// An initiator and a responder sharing seeded transport keys.
    static func pair(
        _ algorithm: AEADAlgorithm,
        configuration: ProtectionConfiguration = ProtectionConfiguration(),
        now: Timestamp = .zero
    ) throws -> (initiator: PacketProtection, responder: PacketProtection) {
        let (k1, k2) = transportKeys()
        return (
            try PacketProtection(initiatorToResponder: k1, responderToInitiator: k2, side: .initiator,
                                 algorithm: algorithm, configuration: configuration, now: now),
            try PacketProtection(initiatorToResponder: k1, responderToInitiator: k2, side: .responder,
                                 algorithm: algorithm, configuration: configuration, now: now))
    }

    /// A payload that names its packet number, so a mix-up shows.
    static func payload(_ pn: UInt64) -> [UInt8] {
        Array("frames of packet \(pn)".utf8)
    }

    /// Seals `payload` as packet `pn` the way a connection would: CID in the
    /// header, frames after it, room for the tag.
    static func seal(
        _ protection: inout PacketProtection, pn: UInt64, payload: [UInt8]? = nil, now: Timestamp = .zero
    ) throws -> [UInt8] {
        let frames = payload ?? Self.payload(pn)
        var buffer = [UInt8](repeating: 0xEE, count: DataPacketLayout.overhead + frames.count)
        withUnsafeBytes(of: cid.bigEndian) { buffer.replaceSubrange(2..<10, with: $0) }
        buffer.replaceSubrange(14..<(14 + frames.count), with: frames)
        let count = try buffer.withUnsafeMutableBytes { raw in
            try protection.seal(buffer: raw, headerCount: 14, payloadCount: frames.count,
                                packetNumber: PacketNumber(pn), now: now)
        }
        #expect(count == buffer.count)
        return buffer
    }

    /// Opens a copy of `packet`; the plaintext when it opened.
    static func open(
        _ protection: inout PacketProtection, _ packet: [UInt8], now: Timestamp = .zero
    ) -> (outcome: PacketProtection.OpenOutcome, plaintext: [UInt8]?) {
        var buffer = packet
        let outcome = buffer.withUnsafeMutableBytes { protection.open($0, count: packet.count, now: now) }
        if case .opened(let opened) = outcome {
            return (outcome, Array(buffer[opened.plaintext]))
        }
        return (outcome, nil)
    }

    /// A Data packet built by hand under `key`, bypassing the sealer: for
    /// packets an honest sender would never produce.
    /// Header protection (§5.5) uses the direction's first key, `k1` by default.
    static func forge(
        key: [UInt8], algorithm: AEADAlgorithm, phase: UInt8, pn: UInt64, payload: [UInt8],
        firstKey: [UInt8] = transportKeys().k1.unprotectedBytes
    ) throws -> [UInt8] {
        var header: [UInt8] = [ProtocolVersion.current.rawValue, 0x10 | phase]
        withUnsafeBytes(of: cid.bigEndian) { header.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: pn).bigEndian) { header.append(contentsOf: $0) }
        let aead = try AEADKey(algorithm: algorithm, key: key)
        return masked(header + aead.seal(nonce: AEADNonce(noiseCounter: pn, algorithm: algorithm),
                                         associatedData: header, plaintext: payload), firstKey: firstKey)
    }

    /// `packet` with its packet-number bytes' header protection applied or
    /// removed (§5.5: the same XOR) under the direction whose first key is
    /// `firstKey` (`k1`, the initiator's, by default).
    static func masked(_ packet: [UInt8], firstKey: [UInt8] = transportKeys().k1.unprotectedBytes) -> [UInt8] {
        var packet = packet
        let protection = HeaderProtection(trafficKey: SecretBytes(copying: firstKey))
        packet.withUnsafeMutableBytes { protection.apply(to: $0) }
        return packet
    }

    /// `BLAKE2b-256(key: k, "sss-key-update-v1")`, computed independently of
    /// `TrafficKey`.
    static func nextKey(_ key: [UInt8]) -> [UInt8] {
        BLAKE2b.hash(Array("sss-key-update-v1".utf8), key: key, outputCount: 32)
    }
}
