/// Reads OpenSSH Ed25519 keys: a private key (`id_ed25519`) as a
/// ``HostIdentity``, a public key line (`id_ed25519.pub`) as an
/// ``EndpointID``. So a host that has an SSH key already has an identity.
///
/// ## Private keys
///
/// The `openssh-key-v1` format (OpenSSH's `PROTOCOL.key`), base64 inside
/// `-----BEGIN OPENSSH PRIVATE KEY-----` armour, in the SSH wire encoding:
///
///     byte[15] "openssh-key-v1\0"
///     string   ciphername        "none" (anything else: encrypted, refused)
///     string   kdfname           "none"
///     string   kdfoptions        empty
///     uint32   number of keys    1
///     string   public key blob   string "ssh-ed25519", string pk (32 bytes)
///     string   private section:
///         uint32 checkint, uint32 checkint    equal (they differ after a wrong decryption)
///         string "ssh-ed25519", string pk (32), string sk (64 = seed ‖ pk), string comment
///         byte   padding 1, 2, 3, … up to a multiple of the block size (8)
///
/// The parser checks every length against what remains before it reads
/// (``SSHWireReader``), so any input, including every truncation, gives an
/// error and never a trap; no allocation is sized by a length field. The
/// three copies of the public key (the blob, the private section's `pk` and
/// the second half of `sk`) must all equal the key derived from the seed.
///
/// ## Public keys
///
/// One line `ssh-ed25519 <base64 blob> [comment]` (blank and `#` lines
/// around it are skipped). The blob's key must be a valid Ed25519 point.
///
/// Only Ed25519 is supported: RSA and ECDSA keys are not Ed25519 keys, and
/// security-key (`sk-`) keys keep their secret in hardware.
public enum OpenSSHKey {
    /// The armour's first line.
    public static let privateKeyBeginLine = "-----BEGIN OPENSSH PRIVATE KEY-----"
    /// The armour's last line.
    public static let privateKeyEndLine = "-----END OPENSSH PRIVATE KEY-----"
    /// The only key type read.
    public static let ed25519KeyType = "ssh-ed25519"

    /// True when `text` has the OpenSSH private key armour.
    public static func looksLikePrivateKey(_ text: some StringProtocol) -> Bool {
        text.contains(privateKeyBeginLine)
    }

    /// Decodes an armoured, unencrypted OpenSSH Ed25519 private key.
    /// - Throws: ``OpenSSHKeyError``; notably
    ///   ``OpenSSHKeyError/encryptedKeysNotSupported`` and
    ///   ``OpenSSHKeyError/unsupportedKeyType(_:)``.
    public static func decodePrivateKey(_ text: some StringProtocol) throws(OpenSSHKeyError) -> HostIdentity {
        var binary = try armouredBody(text)
        defer { binary.withUnsafeMutableBytes { secureZero($0) } }
        return try decodePrivateKey(binary: binary)
    }

    /// Decodes the binary `openssh-key-v1` structure (the armour's content).
    /// This is the entry point for fuzzing.
    public static func decodePrivateKey(binary: [UInt8]) throws(OpenSSHKeyError) -> HostIdentity {
        var reader = SSHWireReader(binary)
        guard let header = reader.readBytes(count: Self.magic.count), header.elementsEqual(Self.magic) else {
            throw .malformed("the data does not start with \"openssh-key-v1\"")
        }
        guard let cipher = reader.readString(), let kdf = reader.readString(), let kdfOptions = reader.readString()
        else { throw .malformed("truncated in the cipher and KDF names") }
        guard cipher.elementsEqual("none".utf8) else { throw .encryptedKeysNotSupported }
        guard kdf.elementsEqual("none".utf8), kdfOptions.isEmpty else {
            throw .malformed("an unencrypted key names a KDF")
        }
        guard let keyCount = reader.readUInt32() else { throw .malformed("truncated before the number of keys") }
        guard keyCount == 1 else { throw .unsupportedKeyCount(Int(clamping: keyCount)) }
        guard let publicBlob = reader.readString() else { throw .malformed("truncated in the public key") }
        let publicKey = try ed25519PublicKey(blob: publicBlob)
        guard let privateSection = reader.readString() else { throw .malformed("truncated in the private section") }
        guard reader.isAtEnd else { throw .malformed("data follows the private section") }
        return try decodePrivateSection(privateSection, publicKey: publicKey)
    }

    /// Decodes an OpenSSH public key line into the endpoint id of its key.
    /// - Throws: ``OpenSSHKeyError``; ``OpenSSHKeyError/invalidPublicKey``
    ///   when the key is not a valid Ed25519 point.
    public static func decodePublicKey(_ text: some StringProtocol) throws(OpenSSHKeyError) -> EndpointID {
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .filter { line in
                let content = line.drop(while: { $0.isWhitespace })
                return !content.isEmpty && content.first != "#"
            }
        guard let line = lines.first else { throw .notAPublicKey }
        guard lines.count == 1 else { throw .unsupportedKeyCount(lines.count) }
        let fields = line.split(maxSplits: 2, whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count >= 2 else { throw .notAPublicKey }
        guard fields[0] == ed25519KeyType else { throw .unsupportedKeyType(displayName(fields[0].utf8)) }
        guard let blob = Base64.decode(fields[1]) else { throw .invalidBase64 }
        let publicKey = try ed25519PublicKey(blob: blob[...])
        do {
            return try EndpointID(publicKey: publicKey)
        } catch {
            throw .invalidPublicKey
        }
    }

    /// The OpenSSH public key line of `endpointID`'s key, as in a `.pub`
    /// file or `authorized_keys` (no newline).
    public static func encodePublicKey(_ endpointID: EndpointID, comment: String = "") -> String {
        var blob: [UInt8] = []
        appendString(Array(ed25519KeyType.utf8), to: &blob)
        appendString(endpointID.publicKey.bytes.bytes, to: &blob)
        let line = ed25519KeyType + " " + Base64.encode(blob)
        return comment.isEmpty ? line : line + " " + comment
    }

    /// The unencrypted OpenSSH private key file of `identity` (what
    /// `ssh-keygen -t ed25519 -N ""` writes), armoured, ending in a newline.
    /// The two check numbers are drawn from `random`.
    public static func encodePrivateKey(
        _ identity: HostIdentity, comment: String = "", using random: inout some RandomSource
    ) -> String {
        let pk = identity.endpointID.publicKey.bytes.bytes
        var publicBlob: [UInt8] = []
        appendString(Array(ed25519KeyType.utf8), to: &publicBlob)
        appendString(pk, to: &publicBlob)
        let check = UInt32(truncatingIfNeeded: random.next())
        var section: [UInt8] = []
        for _ in 0..<2 { section.append(contentsOf: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: check >> $0) }) }
        appendString(Array(ed25519KeyType.utf8), to: &section)
        appendString(pk, to: &section)
        appendString(identity.signingKey.seed.unprotectedBytes + pk, to: &section)
        appendString(Array(comment.utf8), to: &section)
        var pad: UInt8 = 1
        while section.count % blockSize != 0 { section.append(pad); pad += 1 }
        var binary = magic
        for text in ["none", "none", ""] { appendString(Array(text.utf8), to: &binary) }
        binary.append(contentsOf: [0, 0, 0, 1])
        appendString(publicBlob, to: &binary)
        appendString(section, to: &binary)
        let body = Array(Base64.encode(binary))
        var text = privateKeyBeginLine + "\n"
        // OpenSSH wraps the base64 at 70 columns.
        for start in stride(from: 0, to: body.count, by: 70) {
            text += String(body[start..<min(start + 70, body.count)]) + "\n"
        }
        for index in section.indices { section[index] = 0 }
        for index in binary.indices { binary[index] = 0 }
        return text + privateKeyEndLine + "\n"
    }

    // MARK: - Private

    /// `"openssh-key-v1"` and its terminating NUL.
    private static let magic: [UInt8] = Array("openssh-key-v1".utf8) + [0]
    /// The cipher block size for `none`; the private section is padded to it.
    private static let blockSize = 8
    /// libsodium's Ed25519 secret key: the seed, then the public key.
    private static let secretKeyCount = 64

    /// The base64 between the armour lines, decoded.
    private static func armouredBody(_ text: some StringProtocol) throws(OpenSSHKeyError) -> [UInt8] {
        let string = Substring(text)
        var bodyStart: Substring.Index? = nil
        // "\r\n" is one Character, so it is a separator of its own.
        for rawLine in string.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = rawLine.trimmingTrailingWhitespace()
            guard let start = bodyStart else {
                if line == privateKeyBeginLine { bodyStart = rawLine.endIndex }
                continue
            }
            if line == privateKeyEndLine {
                // Base64 decoding skips the line breaks inside the body.
                guard let bytes = Base64.decode(string[start..<rawLine.startIndex]) else { throw .invalidBase64 }
                return bytes
            }
        }
        throw bodyStart == nil ? .notAPrivateKey : .malformed("no `\(privateKeyEndLine)` line")
    }

    /// Parses the unencrypted private section and checks it against `publicKey`.
    private static func decodePrivateSection(
        _ section: ArraySlice<UInt8>, publicKey: Ed25519.PublicKey
    ) throws(OpenSSHKeyError) -> HostIdentity {
        guard section.count % blockSize == 0 else {
            throw .malformed("the private section is not a multiple of \(blockSize) bytes")
        }
        var reader = SSHWireReader(section)
        guard let check1 = reader.readUInt32(), let check2 = reader.readUInt32() else {
            throw .malformed("truncated in the check numbers")
        }
        guard check1 == check2 else { throw .checkMismatch }
        guard let keyType = reader.readString() else { throw .malformed("truncated in the private key type") }
        guard keyType.elementsEqual(ed25519KeyType.utf8) else {
            throw .malformed("the private key's type differs from the public key's")
        }
        guard let pk = reader.readString(), let sk = reader.readString(), reader.readString() != nil else {
            throw .malformed("truncated in the private key")
        }
        guard pk.count == Ed25519.publicKeyCount, sk.count == secretKeyCount else {
            throw .malformed("an Ed25519 private key has a 32-byte public key and a 64-byte secret key")
        }
        for (index, byte) in reader.remaining.enumerated() where byte != UInt8(truncatingIfNeeded: index + 1) {
            throw .malformed("the padding is not 1, 2, 3, …")
        }
        let identity: HostIdentity
        do {
            identity = try HostIdentity(seed: SecretBytes(copying: sk.prefix(Ed25519.seedCount)))
        } catch {
            throw .malformed("the seed is not 32 bytes")  // unreachable: sk has 64 bytes
        }
        let derived = identity.endpointID.publicKey
        guard derived == publicKey, pk.elementsEqual(derived.bytes.bytes),
              sk.suffix(Ed25519.publicKeyCount).elementsEqual(derived.bytes.bytes)
        else { throw .publicKeyMismatch }
        return identity
    }

    /// The key of a public key blob: `string "ssh-ed25519", string pk`.
    private static func ed25519PublicKey(blob: ArraySlice<UInt8>) throws(OpenSSHKeyError) -> Ed25519.PublicKey {
        var reader = SSHWireReader(blob)
        guard let keyType = reader.readString() else { throw .malformed("truncated in the key type") }
        guard keyType.elementsEqual(ed25519KeyType.utf8) else { throw .unsupportedKeyType(displayName(keyType)) }
        guard let key = reader.readString(), let bytes = Bytes32(key) else {
            throw .malformed("an Ed25519 public key has 32 bytes")
        }
        guard reader.isAtEnd else { throw .malformed("data follows the public key") }
        return Ed25519.PublicKey(bytes)
    }

    /// A key type name fit for an error message: short printable ASCII is
    /// shown as is, anything else by its length.
    private static func displayName(_ bytes: some Collection<UInt8>) -> String {
        let limit = 64
        guard bytes.count <= limit, bytes.allSatisfy({ $0 >= 0x21 && $0 <= 0x7e }) else {
            return "<\(bytes.count) bytes>"
        }
        return String(decoding: Array(bytes), as: UTF8.self)
    }

    private static func appendString(_ bytes: [UInt8], to out: inout [UInt8]) {
        let count = UInt32(bytes.count)
        out.append(contentsOf: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: count >> $0) })
        out.append(contentsOf: bytes)
    }
}

extension Substring {
    fileprivate func trimmingTrailingWhitespace() -> Substring {
        var line = self
        while let last = line.last, last.isWhitespace { line = line.dropLast() }
        return line
    }
}
