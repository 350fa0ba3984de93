@testable import SecureStreamsCore
import Testing

/// OpenSSH key parsing on keys built field by field (``OpenSSHKeyBuilder``):
/// valid keys, one test per defect, truncation, corruption and random input.
/// Keys written by the real `ssh-keygen` are tested in `SecureStreamsTests`.
@Suite struct OpenSSHKeyTests {
    static let identity = try! HostIdentity(seed: (0..<32).map { UInt8($0) })

    @Test func builtKeysDecodeToTheirIdentity() throws {
        var random = SeededRandom(seed: 0x55)
        for _ in 0..<50 {
            let identity = HostIdentity(using: &random)
            let builder = OpenSSHKeyBuilder(identity)
            let decoded = try OpenSSHKey.decodePrivateKey(builder.armoured)
            #expect(decoded.endpointID == identity.endpointID)
            #expect(decoded.signingKey.seed == identity.signingKey.seed)
            #expect(try OpenSSHKey.decodePrivateKey(binary: builder.binary).endpointID == identity.endpointID)
        }
    }

    @Test func textAroundTheArmourAndCRLFAreAccepted() throws {
        let text = "key for tests\r\n" + OpenSSHKeyBuilder(Self.identity).armoured
            .split(separator: "\n").joined(separator: "\r\n") + "\r\n"
        #expect(try OpenSSHKey.decodePrivateKey(text).endpointID == Self.identity.endpointID)
    }

    @Test func encryptedKeysAreRefusedWithAHint() throws {
        var builder = OpenSSHKeyBuilder(Self.identity)
        builder.cipher = "aes256-ctr"
        builder.kdf = "bcrypt"
        builder.kdfOptions = [0, 0, 0, 16] + [UInt8](repeating: 7, count: 16) + [0, 0, 0, 24]
        let error = try #require(throws: OpenSSHKeyError.self) { try OpenSSHKey.decodePrivateKey(builder.armoured) }
        #expect(error == .encryptedKeysNotSupported)
        #expect(error.description.contains("encrypted (passphrase-protected) OpenSSH keys are not supported"))
        #expect(error.description.contains("ssh-keygen -p -N \"\""))
    }

    @Test(arguments: ["ssh-rsa", "ecdsa-sha2-nistp256", "sk-ssh-ed25519@openssh.com"])
    func otherKeyTypesAreRefusedByName(keyType: String) throws {
        var builder = OpenSSHKeyBuilder(Self.identity)
        builder.publicKeyType = keyType
        let error = try #require(throws: OpenSSHKeyError.self) { try OpenSSHKey.decodePrivateKey(builder.armoured) }
        #expect(error == .unsupportedKeyType(keyType))
        #expect(error.description.contains(keyType))
    }

    @Test func unprintableKeyTypesAreNotEchoed() {
        var builder = OpenSSHKeyBuilder(Self.identity)
        builder.publicKeyType = "ssh-\u{1b}[31mred"
        #expect(throws: OpenSSHKeyError.unsupportedKeyType("<12 bytes>")) {
            try OpenSSHKey.decodePrivateKey(binary: builder.binary)
        }
    }

    @Test func differingCheckNumbersAreRefused() throws {
        var builder = OpenSSHKeyBuilder(Self.identity)
        builder.checkInts = (1, 2)
        #expect(throws: OpenSSHKeyError.checkMismatch) { try OpenSSHKey.decodePrivateKey(builder.armoured) }

        // The same defect made by flipping one byte of a valid key.
        let valid = OpenSSHKeyBuilder(Self.identity)
        for offset in valid.checkIntOffset..<(valid.checkIntOffset + 8) {
            var binary = valid.binary
            binary[offset] ^= 0x40
            #expect(throws: OpenSSHKeyError.checkMismatch) { try OpenSSHKey.decodePrivateKey(binary: binary) }
        }
    }

    @Test func keysThatDisagreeWithTheirSeedAreRefused() {
        var random = SeededRandom(seed: 3)
        let other = HostIdentity(using: &random).endpointID.publicKey.bytes.bytes
        var inBlob = OpenSSHKeyBuilder(Self.identity)
        inBlob.publicKey = other
        var inSection = OpenSSHKeyBuilder(Self.identity)
        inSection.privatePublicKey = other
        var inSecretKey = OpenSSHKeyBuilder(Self.identity)
        inSecretKey.secretKey = Array(inSecretKey.secretKey.prefix(32)) + other
        for builder in [inBlob, inSection, inSecretKey] {
            #expect(throws: OpenSSHKeyError.publicKeyMismatch) {
                try OpenSSHKey.decodePrivateKey(binary: builder.binary)
            }
        }
    }

    @Test func structuralDefectsAreMalformed() {
        var twoKeys = OpenSSHKeyBuilder(Self.identity)
        twoKeys.keyCount = 2
        #expect(throws: OpenSSHKeyError.unsupportedKeyCount(2)) {
            try OpenSSHKey.decodePrivateKey(binary: twoKeys.binary)
        }

        var defects: [OpenSSHKeyBuilder] = []
        var builder = OpenSSHKeyBuilder(Self.identity)
        builder.padding = [1, 2, 3, 4, 5, 6, 8]
        defects.append(builder)
        builder = OpenSSHKeyBuilder(Self.identity)
        builder.padding = [1, 2, 3]  // not a multiple of eight
        defects.append(builder)
        builder = OpenSSHKeyBuilder(Self.identity)
        builder.kdf = "bcrypt"
        defects.append(builder)
        builder = OpenSSHKeyBuilder(Self.identity)
        builder.privateKeyType = "ssh-rsa"
        defects.append(builder)
        builder = OpenSSHKeyBuilder(Self.identity)
        builder.secretKey.removeLast()
        defects.append(builder)
        builder = OpenSSHKeyBuilder(Self.identity)
        builder.publicKey.append(0)
        defects.append(builder)
        for defect in defects {
            do {
                _ = try OpenSSHKey.decodePrivateKey(binary: defect.binary)
                Issue.record("decoded a defective key")
            } catch {
                #expect(error.description.hasPrefix("malformed OpenSSH key: "), "\(error)")
            }
        }
        #expect(throws: OpenSSHKeyError.self, "a byte after the private section") {
            try OpenSSHKey.decodePrivateKey(binary: OpenSSHKeyBuilder(Self.identity).binary + [0])
        }
    }

    @Test func armourDefectsAreReported() {
        #expect(throws: OpenSSHKeyError.notAPrivateKey) { try OpenSSHKey.decodePrivateKey("hello") }
        let valid = OpenSSHKeyBuilder(Self.identity).armoured
        #expect(throws: OpenSSHKeyError.invalidBase64) {
            try OpenSSHKey.decodePrivateKey(valid.replacingFirst("b3Bl", with: "b3B!"))
        }
        #expect(throws: OpenSSHKeyError.self) {
            try OpenSSHKey.decodePrivateKey(valid.replacingFirst(OpenSSHKey.privateKeyEndLine, with: ""))
        }
    }

    /// Every prefix of a valid key is refused, with an error, not a trap.
    @Test func everyTruncationIsRefused() {
        let binary = OpenSSHKeyBuilder(Self.identity).binary
        for count in 0..<binary.count {
            #expect(throws: OpenSSHKeyError.self, "prefix of \(count) bytes") {
                try OpenSSHKey.decodePrivateKey(binary: Array(binary[0..<count]))
            }
        }
    }

    /// No single-byte change yields a different identity: it is refused, or
    /// (in the comment) harmless.
    @Test func everyByteCorruptionIsRefusedOrHarmless() {
        let binary = OpenSSHKeyBuilder(Self.identity).binary
        for offset in binary.indices {
            for mask: UInt8 in [0x01, 0x80, 0xff] {
                var corrupted = binary
                corrupted[offset] ^= mask
                if let decoded = try? OpenSSHKey.decodePrivateKey(binary: corrupted) {
                    #expect(decoded.endpointID == Self.identity.endpointID, "offset \(offset)")
                }
            }
        }
    }

    /// Lengths of up to 2³² − 1 in every length field, and random bytes
    /// after a valid prefix: always an error, never a trap or a huge allocation.
    @Test func hostileLengthsAndRandomTailsAreRefused() {
        let binary = OpenSSHKeyBuilder(Self.identity).binary
        // The length fields of the builder's default key: cipher, kdf, kdf options,
        // public blob, its type and key, private section, its type, pk, sk and comment.
        let lengthOffsets = [15, 23, 31, 39, 43, 58, 94, 106, 121, 157, 225]
        #expect(binary[233] == 1, "the comment's length field moved; update the offsets")
        for offset in lengthOffsets {
            for length: [UInt8] in [[0xff, 0xff, 0xff, 0xff], [0x80, 0, 0, 0], [0, 0, 0x10, 0]] {
                var hostile = binary
                hostile.replaceSubrange(offset..<(offset + 4), with: length)
                #expect(throws: OpenSSHKeyError.self) { try OpenSSHKey.decodePrivateKey(binary: hostile) }
            }
        }
        var random = SeededRandom(seed: 0xf022)
        for _ in 0..<500 {
            let cut = Int.random(in: 0...binary.count, using: &random)
            let tail = random.bytes(count: Int.random(in: 0...64, using: &random))
            _ = try? OpenSSHKey.decodePrivateKey(binary: Array(binary[0..<cut]) + tail)
        }
    }

    // MARK: - Public key lines

    @Test func publicKeyLinesRoundTrip() throws {
        var random = SeededRandom(seed: 0x9b)
        for _ in 0..<50 {
            let endpointID = HostIdentity(using: &random).endpointID
            let line = OpenSSHKey.encodePublicKey(endpointID, comment: "user@host")
            #expect(line.hasPrefix("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"))
            #expect(try OpenSSHKey.decodePublicKey(line) == endpointID)
            #expect(try OpenSSHKey.decodePublicKey("# comment\n\n" + line + "\n") == endpointID)
            #expect(try OpenSSHKey.decodePublicKey(OpenSSHKey.encodePublicKey(endpointID)) == endpointID)
        }
    }

    @Test func publicKeyLineDefectsAreReported() throws {
        let line = OpenSSHKey.encodePublicKey(Self.identity.endpointID, comment: "c")
        #expect(throws: OpenSSHKeyError.notAPublicKey) { try OpenSSHKey.decodePublicKey("") }
        #expect(throws: OpenSSHKeyError.notAPublicKey) { try OpenSSHKey.decodePublicKey("ssh-ed25519") }
        #expect(throws: OpenSSHKeyError.unsupportedKeyType("ssh-rsa")) {
            try OpenSSHKey.decodePublicKey("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ user@host")
        }
        #expect(throws: OpenSSHKeyError.invalidBase64) {
            try OpenSSHKey.decodePublicKey("ssh-ed25519 AAAA*AAA c")
        }
        #expect(throws: OpenSSHKeyError.unsupportedKeyCount(2)) {
            try OpenSSHKey.decodePublicKey(line + "\n" + line)
        }
        // The blob says RSA while the line says Ed25519.
        var blob: [UInt8] = []
        OpenSSHKeyBuilder.appendString(Array("ssh-rsa".utf8), to: &blob)
        OpenSSHKeyBuilder.appendString(Self.identity.endpointID.publicKey.bytes.bytes, to: &blob)
        #expect(throws: OpenSSHKeyError.unsupportedKeyType("ssh-rsa")) {
            try OpenSSHKey.decodePublicKey("ssh-ed25519 " + Base64.encode(blob))
        }
        // The neutral element (y = 1) is a well-formed blob but not a usable key.
        blob = []
        OpenSSHKeyBuilder.appendString(Array("ssh-ed25519".utf8), to: &blob)
        OpenSSHKeyBuilder.appendString([1] + [UInt8](repeating: 0, count: 31), to: &blob)
        #expect(throws: OpenSSHKeyError.invalidPublicKey) {
            try OpenSSHKey.decodePublicKey("ssh-ed25519 " + Base64.encode(blob))
        }
    }

    @Test func everyTruncationOfAPublicKeyBlobIsRefused() throws {
        let line = OpenSSHKey.encodePublicKey(Self.identity.endpointID)
        let blob = try #require(Base64.decode(line.dropFirst("ssh-ed25519 ".count)))
        for count in 0..<blob.count {
            #expect(throws: OpenSSHKeyError.self) {
                try OpenSSHKey.decodePublicKey("ssh-ed25519 " + Base64.encode(Array(blob[0..<count])))
            }
        }
    }

    // MARK: - The wire reader

    @Test func theReaderConsumesNothingOnShortInput() {
        var reader = SSHWireReader([0, 0, 0, 5, 1, 2, 3])
        #expect(reader.readString() == nil)
        #expect(reader.remaining.count == 7)
        #expect(reader.readBytes(count: 8) == nil)
        #expect(reader.readBytes(count: -1) == nil)
        #expect(reader.readUInt32() == 5)
        #expect(reader.readUInt32() == nil)
        #expect(reader.readBytes(count: 3) == [1, 2, 3])
        #expect(reader.isAtEnd)
    }
}

extension String {
    fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = firstRange(of: target) else { return self }
        return String(self[..<range.lowerBound]) + replacement + self[range.upperBound...]
    }
}
