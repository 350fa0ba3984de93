import Testing
@testable import SecureStreamsCore

/// Ed25519 against RFC 8032 section 7.1 (`ed25519_rfc8032.json`) and
/// Wycheproof (`wycheproof/ed25519_test.json`).
@Suite struct Ed25519Tests {
    struct RFCFile: Decodable, Sendable {
        struct Vector: Decodable, Sendable {
            let id: String
            /// The RFC's 32-byte private key, which is the seed.
            let secret_key: HexBytes
            let public_key: HexBytes
            let message: HexBytes
            let signature: HexBytes
        }

        let vectors: [Vector]
    }

    static func rfc() throws -> [RFCFile.Vector] {
        try PrimitiveVectors.load(RFCFile.self, "ed25519_rfc8032.json").vectors
    }

    @Test func rfc8032DerivesSignsAndVerifies() throws {
        let vectors = try Self.rfc()
        #expect(vectors.map(\.id) == ["RFC8032-7.1-TEST1", "RFC8032-7.1-TEST2", "RFC8032-7.1-TEST3",
                                      "RFC8032-7.1-TEST1024", "RFC8032-7.1-TEST-SHA(abc)"])
        for vector in vectors {
            let key = try Ed25519.PrivateKey(seed: vector.secret_key.bytes)
            #expect(key.seed.unprotectedBytes == vector.secret_key.bytes, "\(vector.id)")
            #expect(key.publicKey.bytes.bytes == vector.public_key.bytes, "\(vector.id): public key")
            #expect(key.signature(for: vector.message.bytes) == vector.signature.bytes, "\(vector.id): signature")

            let publicKey = try Ed25519.PublicKey(rawRepresentation: vector.public_key.bytes)
            #expect(publicKey == key.publicKey)
            #expect(publicKey.isValidSignature(vector.signature.bytes, for: vector.message.bytes), "\(vector.id)")
        }
    }

    @Test func rfc8032TamperedSignaturesAndMessagesFail() throws {
        for vector in try Self.rfc() {
            let publicKey = try Ed25519.PublicKey(rawRepresentation: vector.public_key.bytes)
            let message = vector.message.bytes, signature = vector.signature.bytes
            #expect(!publicKey.isValidSignature(signature.flippingBit(at: 0), for: message), "\(vector.id): R")
            #expect(!publicKey.isValidSignature(signature.flippingBit(at: 32), for: message), "\(vector.id): S")
            #expect(!publicKey.isValidSignature(signature.dropLast(), for: message), "\(vector.id): short")
            #expect(!publicKey.isValidSignature(signature + [0], for: message), "\(vector.id): long")
            #expect(!publicKey.isValidSignature(signature, for: message + [0]), "\(vector.id): longer message")
            if !message.isEmpty {
                #expect(!publicKey.isValidSignature(signature, for: message.flippingBit(at: message.count - 1)),
                        "\(vector.id): message")
            }
            let otherKey = try Ed25519.PublicKey(rawRepresentation: vector.public_key.bytes.flippingBit(at: 0))
            #expect(!otherKey.isValidSignature(signature, for: message), "\(vector.id): other key")
        }
    }

    /// The X25519 key derived from an Ed25519 key matches the conversion of
    /// its public key, and two such keys agree on a shared secret.
    @Test func rfc8032KeysConvertToMatchingX25519Keys() throws {
        let vectors = try Self.rfc()
        for vector in vectors {
            let key = try Ed25519.PrivateKey(seed: vector.secret_key.bytes)
            #expect(try key.publicKey.x25519PublicKey() == key.x25519PrivateKey().publicKey, "\(vector.id)")
        }
        let a = try Ed25519.PrivateKey(seed: vectors[0].secret_key.bytes)
        let b = try Ed25519.PrivateKey(seed: vectors[1].secret_key.bytes)
        let ab = try X25519.sharedSecret(privateKey: a.x25519PrivateKey(), publicKey: b.publicKey.x25519PublicKey())
        let ba = try X25519.sharedSecret(privateKey: b.x25519PrivateKey(), publicKey: a.publicKey.x25519PublicKey())
        #expect(ab == ba)
    }

    /// Every valid Wycheproof case verifies and every invalid one is refused:
    /// libsodium 1.0.18 is at least as strict as Wycheproof expects
    /// (non-canonical S, small-order or non-canonical R and A, truncated or
    /// padded signatures).
    @Test func wycheproofValidVerifyInvalidDoNot() throws {
        let file = try PrimitiveVectors.load(WycheproofFile<EdDSATestGroup>.self, "wycheproof/ed25519_test.json")
        var verified = 0, refused = 0
        for group in file.testGroups {
            #expect(group.publicKey.curve == "edwards25519")
            let publicKey = try Ed25519.PublicKey(rawRepresentation: group.publicKey.pk.bytes)
            for test in group.tests {
                let label = "tcId \(test.tcId) (\(test.comment), \(test.flags))"
                let accepted = publicKey.isValidSignature(test.sig.bytes, for: test.msg.bytes)
                switch test.result {
                case .valid:
                    #expect(accepted, "\(label): valid signature refused")
                    verified += 1
                case .invalid:
                    #expect(!accepted, "\(label): invalid signature accepted")
                    refused += 1
                case .acceptable:
                    Issue.record("\(label): the file has no acceptable cases; decide what they mean first")
                }
            }
        }
        #expect(file.numberOfTests == 151)
        #expect(verified == 88 && refused == 63, "\(verified) verified, \(refused) refused")
    }

    /// Two signatures that satisfy the verification equation, refused anyway:
    /// the stricter-than-RFC-8032 checks the docs promise.
    @Test func strictVerificationRefusesMalleableAndSmallOrderSignatures() throws {
        // S + L, where L = 2^252 + 27742317777372353535851937790883648493 is
        // the group order, little-endian. [S + L]B = [S]B, so the equation
        // still holds; the encoding of S is non-canonical (S ≥ L).
        let order = hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
        let vector = try #require(try Self.rfc().first)
        let publicKey = try Ed25519.PublicKey(rawRepresentation: vector.public_key.bytes)
        var malleable = vector.signature.bytes
        var carry = 0
        for i in 0..<32 {
            let sum = Int(malleable[32 + i]) + Int(order[i]) + carry
            malleable[32 + i] = UInt8(sum & 0xFF)
            carry = sum >> 8
        }
        #expect(carry == 0)
        // Python: (S + L).to_bytes(32, "little") for TEST 1's S.
        #expect(Array(malleable[32...]) == hex("4c8c7872aa064e049dbb3013fbf29380d25bf5f0595bbe24655141438e7a101b"))
        #expect(publicKey.isValidSignature(vector.signature.bytes, for: vector.message.bytes))
        #expect(!publicKey.isValidSignature(malleable, for: vector.message.bytes))

        // The identity as public key, R = identity and S = 0: [0]B = R + [k]A
        // holds for every message, so the signature is valid under the bare
        // RFC 8032 equation; libsodium refuses the small-order A and R.
        var identity = [UInt8](repeating: 0, count: 32)
        identity[0] = 1
        let smallOrderKey = try Ed25519.PublicKey(rawRepresentation: identity)
        let forgery = identity + [UInt8](repeating: 0, count: 32)
        #expect(!smallOrderKey.isValidSignature(forgery, for: Array("any message".utf8)))
    }

    @Test func wrongLengthsAreRejected() {
        #expect(throws: CryptoError.invalidLength(what: "Ed25519 seed", expected: 32, actual: 31)) {
            try Ed25519.PrivateKey(seed: [UInt8](repeating: 1, count: 31))
        }
        #expect(throws: CryptoError.invalidLength(what: "Ed25519 seed", expected: 32, actual: 64)) {
            try Ed25519.PrivateKey(seed: [UInt8](repeating: 1, count: 64))
        }
        #expect(throws: CryptoError.invalidLength(what: "Ed25519 public key", expected: 32, actual: 33)) {
            try Ed25519.PublicKey(rawRepresentation: [UInt8](repeating: 1, count: 33))
        }
    }

    /// The identity point (a small-order public key) cannot become a Noise key.
    @Test func smallOrderPublicKeyDoesNotConvertToX25519() throws {
        var identity = [UInt8](repeating: 0, count: 32)
        identity[0] = 1
        let publicKey = try Ed25519.PublicKey(rawRepresentation: identity)
        #expect(throws: CryptoError.invalidPublicKey) { try publicKey.x25519PublicKey() }
    }
}
