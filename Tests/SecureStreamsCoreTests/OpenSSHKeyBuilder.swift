@testable import SecureStreamsCore

/// Writes `openssh-key-v1` private keys field by field, so tests can make
/// valid keys and keys with one chosen defect. Test-only: the library reads
/// OpenSSH keys but does not write them.
struct OpenSSHKeyBuilder {
    var cipher = "none"
    var kdf = "none"
    var kdfOptions: [UInt8] = []
    var keyCount: UInt32 = 1
    var publicKeyType = "ssh-ed25519"
    var publicKey: [UInt8]
    var checkInts: (UInt32, UInt32) = (0x5eed_c0de, 0x5eed_c0de)
    var privateKeyType = "ssh-ed25519"
    var privatePublicKey: [UInt8]
    var secretKey: [UInt8]
    var comment = "test"
    /// `nil`: the correct padding 1, 2, 3, … to a multiple of 8.
    var padding: [UInt8]? = nil

    init(_ identity: HostIdentity) {
        publicKey = identity.endpointID.publicKey.bytes.bytes
        privatePublicKey = publicKey
        secretKey = identity.signingKey.seed.unprotectedBytes + publicKey
    }

    /// The binary structure (the armour's content).
    var binary: [UInt8] {
        var out = Array("openssh-key-v1".utf8) + [0]
        Self.appendString(Array(cipher.utf8), to: &out)
        Self.appendString(Array(kdf.utf8), to: &out)
        Self.appendString(kdfOptions, to: &out)
        Self.appendUInt32(keyCount, to: &out)
        var publicBlob: [UInt8] = []
        Self.appendString(Array(publicKeyType.utf8), to: &publicBlob)
        Self.appendString(publicKey, to: &publicBlob)
        Self.appendString(publicBlob, to: &out)
        Self.appendString(privateSection, to: &out)
        return out
    }

    /// The armoured text, wrapped at 70 columns as ssh-keygen does.
    var armoured: String {
        let body = Base64.encode(binary)
        var lines = [OpenSSHKey.privateKeyBeginLine]
        var rest = Substring(body)
        while !rest.isEmpty {
            lines.append(String(rest.prefix(70)))
            rest = rest.dropFirst(70)
        }
        lines.append(OpenSSHKey.privateKeyEndLine)
        return lines.joined(separator: "\n") + "\n"
    }

    /// The offset in ``binary`` of the private section's first check number.
    var checkIntOffset: Int {
        // magic, three strings, the key count, the public blob, the section length.
        15 + (4 + cipher.utf8.count) + (4 + kdf.utf8.count) + (4 + kdfOptions.count) + 4
            + (4 + 4 + publicKeyType.utf8.count + 4 + publicKey.count) + 4
    }

    private var privateSection: [UInt8] {
        var section: [UInt8] = []
        Self.appendUInt32(checkInts.0, to: &section)
        Self.appendUInt32(checkInts.1, to: &section)
        Self.appendString(Array(privateKeyType.utf8), to: &section)
        Self.appendString(privatePublicKey, to: &section)
        Self.appendString(secretKey, to: &section)
        Self.appendString(Array(comment.utf8), to: &section)
        if let padding {
            section += padding
        } else {
            var next: UInt8 = 1
            while section.count % 8 != 0 {
                section.append(next)
                next += 1
            }
        }
        return section
    }

    static func appendUInt32(_ value: UInt32, to out: inout [UInt8]) {
        out += [UInt8(value >> 24 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    static func appendString(_ bytes: [UInt8], to out: inout [UInt8]) {
        appendUInt32(UInt32(bytes.count), to: &out)
        out += bytes
    }
}
