import Testing
@testable import SecureStreamsCore

/// `Vectors/primitives/blake2b.json`: RFC 7693 Appendix A and the 512
/// official BLAKE2 KATs, one-shot and incremental; then HMAC-BLAKE2b and the
/// Noise HKDF against values computed independently in Python.
@Suite struct BLAKE2bTests {
    struct Vector: Decodable, Sendable {
        let `in`: HexBytes
        let key: HexBytes
        let out: HexBytes
        let outlen: Int
    }

    struct File: Decodable, Sendable {
        let rfc7693: [Vector]
        let kat: [Vector]
    }

    static func vectors() throws -> File {
        try PrimitiveVectors.load(File.self, "blake2b.json")
    }

    /// Hashes `vector.in` with one `update` per chunk, the chunk sizes taken
    /// in turn from an uneven cycle that starts at `phase`, so inputs are cut
    /// across and exactly at the 128-byte block boundary in varied places.
    static func incremental(_ vector: Vector, phase: Int) -> [UInt8] {
        let cycle = [1, 0, 3, 127, 7, 128, 2, 129, 13, 64, 5, 255]
        return vector.key.bytes.withUnsafeBytes { key in
            var hasher = BLAKE2b(outputCount: vector.outlen, key: key)
            var offset = 0
            var turn = phase
            while offset < vector.in.count {
                let size = min(cycle[turn % cycle.count], vector.in.count - offset)
                hasher.update(vector.in.bytes[offset..<(offset + size)])
                offset += size
                turn += 1
            }
            var digest = [UInt8](repeating: 0, count: vector.outlen)
            digest.withUnsafeMutableBytes { hasher.finalize(into: $0) }
            return digest
        }
    }

    static func oneShot(_ vector: Vector) -> [UInt8] {
        vector.key.count == 0
            ? BLAKE2b.hash(vector.in.bytes, outputCount: vector.outlen)
            : BLAKE2b.hash(vector.in.bytes, key: vector.key.bytes, outputCount: vector.outlen)
    }

    @Test func rfc7693AppendixAHashesAbc() throws {
        let file = try Self.vectors()
        let vector = try #require(file.rfc7693.first)
        #expect(file.rfc7693.count == 1)
        #expect(vector.in.bytes == Array("abc".utf8))
        #expect(Self.oneShot(vector) == vector.out.bytes)
        #expect(Self.incremental(vector, phase: 0) == vector.out.bytes)
    }

    @Test func all512KnownAnswerTestsOneShotAndIncremental() throws {
        let kats = try Self.vectors().kat
        #expect(kats.count == 512)
        #expect(kats.filter { $0.key.count == 0 }.count == 256)
        #expect(kats.filter { $0.key.count == 64 }.count == 256)
        for (index, vector) in kats.enumerated() {
            #expect(vector.out.count == vector.outlen)
            #expect(Self.oneShot(vector) == vector.out.bytes, "KAT \(index) one-shot, \(vector.in.count)-byte input")
            #expect(Self.incremental(vector, phase: index) == vector.out.bytes,
                    "KAT \(index) incremental, \(vector.in.count)-byte input")
        }
    }

    @Test func keyedEmptyKeyEqualsUnkeyed() {
        let data = Array("abc".utf8)
        #expect(BLAKE2b.hash(data, key: [UInt8](), outputCount: 64) == BLAKE2b.hash(data))
    }

    /// Output lengths below 64 are a different hash (the length is in the
    /// parameter block), not a truncation. Expected values from Python:
    /// `hashlib.blake2b(b"abc", digest_size=32)` and
    /// `hashlib.blake2b(b"abc", digest_size=16, key=b"k" * 64)`.
    @Test func shorterOutputsMatchPythonHashlib() {
        let data = Array("abc".utf8)
        #expect(BLAKE2b.hash(data, outputCount: 32)
            == hex("bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"))
        #expect(BLAKE2b.hash(data, key: [UInt8](repeating: UInt8(ascii: "k"), count: 64), outputCount: 16)
            == hex("402d1d330dde5f7d1d9bbbe4e636aaf6"))
    }
}

/// HMAC-BLAKE2b-512 as Noise defines it (RFC 2104, block length 128).
///
/// Every expected value was computed outside the project with Python 3's
/// standard library: `hmac.new(key, data, hashlib.blake2b).hexdigest()`
/// (hashlib's BLAKE2b has `block_size` 128 and `digest_size` 64).
@Suite struct HMACBLAKE2bTests {
    /// `bytes(range(32))`.
    static let key32 = (0..<32).map { UInt8($0) }
    /// `bytes((i * 7 + 3) % 256 for i in range(n))`.
    static func patternKey(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(($0 * 7 + 3) % 256) } }

    @Test func thirtyTwoByteKey() {
        #expect(HMACBLAKE2b.authenticate(Array("SecureStreams HMAC-BLAKE2b".utf8), key: Self.key32) == hex("""
            2667f0c1d9c9a47c9221d6e6de0cf52e5ca6bf4a3bb4f95f604cfdbee57a75f6\
            80d2278adf4483b708fbea2e78b35e8fc6b4bb17f24f8fcf5edb5a11381a1032
            """))
    }

    @Test func emptyKeyAndEmptyData() {
        #expect(HMACBLAKE2b.authenticate([UInt8](), key: [UInt8]()) == hex("""
            198cd2006f66ff83fbbd913f78aca2251caf4f19fe9475aade8cf2091b99a684\
            66775177424f58286886cbae8229644cec747237d4b721735485e17372fdf59c
            """))
    }

    /// A key of exactly one block is used as is, not hashed.
    @Test func blockSizedKeyIsNotHashed() {
        #expect(HMACBLAKE2b.authenticate(Array("block-sized key".utf8), key: Self.patternKey(128)) == hex("""
            f344efc1dd28e9de1c65e077a3368a8d01acbb42b91dc87af7f74f98c02ce0a5\
            9beb532611244d57c93ec191dae155d8ef62adb3ea24560dbf5a3fb494c53257
            """))
    }

    /// A key longer than the 128-byte block is first hashed (RFC 2104 section 2).
    @Test func keyLongerThanABlockIsHashedFirst() {
        let key = Self.patternKey(131)
        let expected = hex("""
            d7f37b376abdc0a3b68d08a3ff312f390765aaafbf6e84e0b42c1f5ccde19d11\
            a8378965f255cc9d9a7685a7a21821ad52b1b7a2066352819c97286c2917db96
            """)
        let data = Array("key longer than a block".utf8)
        #expect(HMACBLAKE2b.authenticate(data, key: key) == expected)
        // And it equals HMAC under the key's BLAKE2b-512 digest.
        #expect(HMACBLAKE2b.authenticate(data, key: BLAKE2b.hash(key)) == expected)
    }

    /// The variadic, allocation-free form MACs the concatenation of its parts.
    @Test func partsAreConcatenated() {
        let expected = hex("""
            e943f661c8905c59f9f961f6ffe6cc1a586cd4c97155bc003b8268402faac845\
            1ffe90870452ce33d62c317fd325b38d1de4a6f4f0f7fa5b075570d838d513be
            """)
        #expect(HMACBLAKE2b.authenticate(Array("part one|part two".utf8), key: Self.key32) == expected)
        var output = [UInt8](repeating: 0xAA, count: 64)
        let first = Array("part one|".utf8), empty = [UInt8](), second = Array("part two".utf8)
        Self.key32.withUnsafeBytes { key in
            first.withUnsafeBytes { a in empty.withUnsafeBytes { b in second.withUnsafeBytes { c in
                output.withUnsafeMutableBytes { HMACBLAKE2b.authenticate(key: key, parts: a, b, c, into: $0) }
            } } }
        }
        #expect(output == expected)
    }
}

/// The Noise HKDF (specification section 4.3) over HMAC-BLAKE2b.
///
/// Expected values computed in Python 3 from the specification's definition,
/// with `h = lambda k, m: hmac.new(k, m, hashlib.blake2b).digest()`:
/// `temp = h(ck, ikm); o1 = h(temp, b"\x01"); o2 = h(temp, o1 + b"\x02");
/// o3 = h(temp, o2 + b"\x03")`, where `ck = bytes(range(64))`.
@Suite struct NoiseHKDFTests {
    static let chainingKey = (0..<64).map { UInt8($0) }
    static let output1 = hex("""
        b2af8ac5fab127a2b9495a0660813c6ef6d5cff5251508ce0f5c61f04a16d59d\
        0c05dbb7926541939dfb65fe04e52deeeab952e662ea30c22cef2b51633a8035
        """)
    static let output2 = hex("""
        071784510af43d7a8e099f5b55af605a0636dc1f6e29c01bd9936f47d6a152c6\
        f9bb0b3fb4a6acc49775281da42a9583a4dfa15975615558bea9cafdf97be2ef
        """)
    static let output3 = hex("""
        4c62a984999568d4bd1120d410d92c9727d3f5951d544127243f55a333f6bc98\
        812caec30145a7273c8684cfe98d17ec78ac01484e30fcc376bba1eb4cd56dad
        """)

    static func derive(inputKeyMaterial: [UInt8], outputs: Int) -> [[UInt8]] {
        chainingKey.withUnsafeBytes { ck in
            inputKeyMaterial.withUnsafeBytes { ikm in
                NoiseHKDF.derive(chainingKey: ck, inputKeyMaterial: ikm, outputs: outputs).map(\.unprotectedBytes)
            }
        }
    }

    /// `ikm = bytes(range(0x80, 0xa0))`, a 32-byte DH output as in `MixKey`.
    static let dhOutput = (0x80..<0xa0).map { UInt8($0) }

    @Test func twoOutputs() {
        #expect(Self.derive(inputKeyMaterial: Self.dhOutput, outputs: 2) == [Self.output1, Self.output2])
    }

    @Test func threeOutputs() {
        #expect(Self.derive(inputKeyMaterial: Self.dhOutput, outputs: 3) == [Self.output1, Self.output2, Self.output3])
    }

    /// `Split()` calls HKDF with empty input key material.
    @Test func emptyInputKeyMaterialTwoOutputs() {
        #expect(Self.derive(inputKeyMaterial: [], outputs: 2) == [
            hex("""
                03be0946afb62e33dcc2e8cb76dfad47663d284d81c0bde963f32a283dede221\
                be2b9e3a86fa82934234d2a6ed331fb664a3e670252b9454da9ed2567b435e11
                """),
            hex("""
                8481b385940ea1ddc1e37243d34e6a00d9e35fe86844b75be2f9d084efcbf4a9\
                d18c764645baf5262707efcb490c9ddfcc81c78ff75e1e727428f05b9fee857f
                """),
        ])
    }
}
