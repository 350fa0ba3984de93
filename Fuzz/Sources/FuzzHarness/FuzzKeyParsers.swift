// FuzzKeyParsers: the text parsers of identities — EndpointID(parsing:),
// KeyFile.decode, OpenSSHKey.decodePrivateKey/decodePublicKey — on the input as
// a string (and the binary OpenSSH decoder on the raw bytes). What parses must
// survive a round trip through the matching encoder.
#if FUZZ_PACKAGE
@_spi(Fuzzing) import SecureStreamsCore
#else
@testable @_spi(Fuzzing) import SecureStreamsCore
#endif

public enum FuzzKeyParsers {
    public static func run(_ data: UnsafeRawBufferPointer) {
        let text = String(decoding: data, as: UTF8.self)
        if let eid = try? EndpointID(parsing: text) {
            precondition((try? EndpointID(parsing: eid.description)) == eid, "EID round trip")
        }
        if let identity = try? KeyFile.decode(text) {
            let again = try? KeyFile.decode(KeyFile.encode(identity))
            precondition(again?.endpointID == identity.endpointID, "key file round trip")
        }
        if let identity = try? OpenSSHKey.decodePrivateKey(text) {
            _ = identity.endpointID.description
        }
        _ = try? OpenSSHKey.decodePrivateKey(binary: Array(data))
        if let eid = try? OpenSSHKey.decodePublicKey(text) {
            let again = try? OpenSSHKey.decodePublicKey(OpenSSHKey.encodePublicKey(eid, comment: "x"))
            precondition(again == eid, "OpenSSH public key round trip")
        }
        _ = KeyFile.looksLikeKeyFile(text)
        _ = OpenSSHKey.looksLikePrivateKey(text)
    }

    public static func seeds() -> [(name: String, bytes: [UInt8])] {
        let identity = FuzzFixtures.serverIdentity
        let eid = identity.endpointID.description
        return [
            ("eid", Array(eid.utf8)),
            ("eid-spaces", Array("  \(eid)\n".utf8)),
            ("key-file", Array(KeyFile.encode(identity).utf8)),
            ("openssh-public", Array(OpenSSHKey.encodePublicKey(identity.endpointID, comment: "fuzz@host").utf8)),
            ("openssh-private", Array(openSSHPrivateKey(seed: [UInt8](repeating: 0x5E, count: 32),
                                                        publicKey: identity.endpointID.publicKey).utf8)),
        ]
    }

    /// An unencrypted `openssh-key-v1` Ed25519 private key, written out field
    /// by field (PROTOCOL.key in OpenSSH), for the seed corpus.
    static func openSSHPrivateKey(seed: [UInt8], publicKey: Ed25519.PublicKey) -> String {
        let pk = publicKey.withUnsafeBytes { Array($0) }
        func string(_ bytes: [UInt8]) -> [UInt8] { uint32(bytes.count) + bytes }
        func uint32(_ value: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
        let keyType = Array("ssh-ed25519".utf8)
        let publicBlob = string(keyType) + string(pk)
        var section = uint32(0x1234_5678) + uint32(0x1234_5678) + string(keyType) + string(pk)
            + string(seed + pk) + string(Array("fuzz@host".utf8))
        var pad: UInt8 = 1
        while section.count % 8 != 0 { section.append(pad); pad += 1 }
        let body = Array("openssh-key-v1".utf8) + [0] + string(Array("none".utf8)) + string(Array("none".utf8))
            + string([]) + uint32(1) + string(publicBlob) + string(section)
        let encoded = base64(body)
        var lines = ["-----BEGIN OPENSSH PRIVATE KEY-----"]
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 70, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(String(encoded[index..<end]))
            index = end
        }
        lines.append("-----END OPENSSH PRIVATE KEY-----")
        return lines.joined(separator: "\n") + "\n"
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = ""
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let value = chunk.enumerated().reduce(0) { $0 | Int($1.element) << (16 - 8 * $1.offset) }
            for position in 0..<4 {
                out.append(position <= chunk.count ? alphabet[(value >> (18 - 6 * position)) & 63] : "=")
            }
            index += 3
        }
        return out
    }
}
