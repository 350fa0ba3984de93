import Testing
@testable import SecureStreamsCore

/// `ConstantTime`, `secureZero`, `SecretBytes`, `Bytes32` and `Hex`.
@Suite struct ConstantTimeTests {
    @Test func equals() {
        let a: [UInt8] = [1, 2, 3, 4, 5]
        #expect(ConstantTime.equals(a, [1, 2, 3, 4, 5] as [UInt8]))
        #expect(ConstantTime.equals([UInt8](), [UInt8]()))
        #expect(ConstantTime.equals(a[1...], [2, 3, 4, 5] as [UInt8]))
        for index in a.indices {
            #expect(!ConstantTime.equals(a, a.flippingBit(7, at: index)), "byte \(index)")
        }
        #expect(!ConstantTime.equals(a, Array(a.dropLast())))
        #expect(!ConstantTime.equals(a, a + [0]))
        #expect(!ConstantTime.equals([UInt8](), [0] as [UInt8]))
    }

    @Test func isZero() {
        #expect([UInt8]().withUnsafeBytes { ConstantTime.isZero($0) })
        #expect([UInt8](repeating: 0, count: 1).withUnsafeBytes { ConstantTime.isZero($0) })
        let zeros = [UInt8](repeating: 0, count: 100)
        #expect(zeros.withUnsafeBytes { ConstantTime.isZero($0) })
        for index in [0, 1, 50, 98, 99] {
            #expect(!zeros.flippingBit(at: index).withUnsafeBytes { ConstantTime.isZero($0) }, "byte \(index)")
        }
    }

    @Test func secureZeroClearsTheWholeBuffer() {
        var buffer = (0..<100).map { UInt8($0 | 1) }
        buffer.withUnsafeMutableBytes { secureZero(UnsafeMutableRawBufferPointer(rebasing: $0[10..<90])) }
        #expect(buffer[..<10] == (0..<10).map { UInt8($0 | 1) }[...])
        #expect(buffer[10..<90].allSatisfy { $0 == 0 })
        #expect(buffer[90...] == (90..<100).map { UInt8($0 | 1) }[...])
        var empty: [UInt8] = []
        empty.withUnsafeMutableBytes { secureZero($0) }
    }
}

@Suite struct SecretBytesTests {
    @Test func equalityIsByContentAndLength() {
        let a = SecretBytes(copying: [1, 2, 3] as [UInt8])
        #expect(a == SecretBytes(copying: [1, 2, 3] as [UInt8]))
        #expect(a == a)
        #expect(a != SecretBytes(copying: [1, 2, 4] as [UInt8]))
        #expect(a != SecretBytes(copying: [1, 2] as [UInt8]))
        #expect(a != SecretBytes(copying: [1, 2, 3, 0] as [UInt8]))
        #expect(SecretBytes(copying: [UInt8]()) == SecretBytes(count: 0) { _ in })
    }

    @Test func initializers() {
        let filled = SecretBytes(count: 4) { $0.copyBytes(from: [9, 8, 7, 6]) }
        #expect(filled.count == 4 && filled.unprotectedBytes == [9, 8, 7, 6])
        #expect(SecretBytes(count: 5) { _ in }.unprotectedBytes == [0, 0, 0, 0, 0])
        var random = SeededRandom(seed: 3), reference = SeededRandom(seed: 3)
        #expect(SecretBytes(randomCount: 40, using: &random).unprotectedBytes == reference.bytes(count: 40))
        #expect(throws: CryptoError.lowOrderPoint) {
            try SecretBytes(count: 1) { (_) throws(CryptoError) in throw .lowOrderPoint }
        }
    }

    /// No rendering of a secret shows its bytes, in hex or in decimal.
    @Test func descriptionNeverPrintsBytes() {
        let bytes: [UInt8] = [0xAB, 0xCD, 0xEF, 0x12, 0x34, 0x56, 0x78, 0x9A]
        let secret = SecretBytes(copying: bytes)
        let renderings = [secret.description, "\(secret)", String(describing: secret), String(reflecting: secret),
                          "\([secret])", "\(Optional(secret) as Any)"]
        for text in renderings {
            #expect(text.contains("8 bytes"), "\(text)")
            #expect(text.contains("redacted"), "\(text)")
            for byte in bytes {
                let hexByte = String(byte, radix: 16)
                #expect(!text.lowercased().contains(hexByte), "\(text) shows \(hexByte)")
                #expect(!text.contains(String(byte)), "\(text) shows \(byte)")
            }
            #expect(!text.lowercased().contains(Hex.encode(bytes)), "\(text)")
        }
    }

    @Test func keyTypesDoNotPrintSecrets() throws {
        let seed = [UInt8](repeating: 0x5C, count: 32)
        let ed = try Ed25519.PrivateKey(seed: seed)
        let x = try X25519.PrivateKey(rawRepresentation: seed)
        for text in ["\(ed)", "\(x)", String(reflecting: ed), String(reflecting: x)] {
            #expect(!text.contains("5c5c"), "\(text)")
            #expect(!text.contains("92, 92"), "\(text)")
        }
    }
}

@Suite struct Bytes32AndHexTests {
    @Test func hexRoundTrip() {
        let bytes = (0..<256).map { UInt8($0) }
        let text = Hex.encode(bytes)
        #expect(text.count == 512 && text.hasPrefix("000102") && text.hasSuffix("fdfeff"))
        #expect(Hex.decode(text) == bytes)
        #expect(Hex.decode("ABcdEF") == [0xAB, 0xCD, 0xEF])
        #expect(Hex.decode("") == [])
    }

    @Test(arguments: ["a", "abc", "0g", "zz", " 00", "0x00", "é0"])
    func hexRejectsMalformedText(text: String) {
        #expect(Hex.decode(text) == nil)
    }

    @Test func bytes32() throws {
        let bytes = (0..<32).map { UInt8($0 * 3) }
        let value = try #require(Bytes32(bytes))
        #expect(value.bytes == bytes)
        #expect(value.description == Hex.encode(bytes))
        #expect(Bytes32(Array(bytes.dropLast())) == nil)
        #expect(Bytes32(bytes + [0]) == nil)
        #expect(Bytes32().bytes == [UInt8](repeating: 0, count: 32))
        #expect(Set([value, Bytes32(bytes)!, Bytes32()]).count == 2)
        #expect(value != (Bytes32 { $0.copyBytes(from: bytes.flippingBit(at: 31)) }))
    }
}
