import Testing
@testable import SecureStreamsCore

@Suite struct WireReaderWriterTests {
    static let varIntBoundaries: [(value: UInt64, count: Int)] = [
        (0, 1), (63, 1), (64, 2), (16_383, 2), (16_384, 4), ((1 << 30) - 1, 4), (1 << 30, 8), (VarInt.maxValue, 8),
    ]

    @Test func varIntBoundariesRoundTripInShortestForm() {
        for (value, count) in Self.varIntBoundaries {
            let bytes = build { let ok = $0.writeVarInt(value); #expect(ok) }
            #expect(bytes.count == count, "value \(value)")
            #expect(VarInt.encodedCount(value) == count)
            withBytes(bytes) { raw in
                var reader = WireReader(raw)
                #expect(reader.readVarInt() == value)
                #expect(reader.isAtEnd)
            }
        }
    }

    @Test func nonShortestVarIntsAreAccepted() {
        for (value, shortest) in Self.varIntBoundaries {
            for byteCount in [1, 2, 4, 8] where byteCount >= shortest {
                let bytes = build { let ok = $0.writeVarInt(value, byteCount: byteCount); #expect(ok) }
                #expect(bytes.count == byteCount)
                withBytes(bytes) { raw in
                    var reader = WireReader(raw)
                    #expect(reader.readVarInt() == value, "value \(value) in \(byteCount) bytes")
                }
            }
        }
    }

    /// The examples of RFC 9000 appendix A.1.
    @Test func varIntDecodesRFC9000Examples() {
        let examples: [([UInt8], UInt64)] = [
            ([0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c], 151_288_809_941_952_652),
            ([0x9d, 0x7f, 0x3e, 0x7d], 494_878_333),
            ([0x7b, 0xbd], 15_293),
            ([0x25], 37),
            ([0x40, 0x25], 37),
        ]
        for (bytes, value) in examples {
            withBytes(bytes) { raw in
                var reader = WireReader(raw)
                #expect(reader.readVarInt() == value)
            }
            if bytes != [0x40, 0x25] { #expect(build { $0.writeVarInt(value) } == bytes) }
        }
    }

    @Test func shortReadsReturnNilAndDoNotMove() {
        withBytes([0xc2, 0x19, 0x7c]) { raw in
            var reader = WireReader(raw)
            #expect(reader.readVarInt() == nil)
            #expect(reader.readUInt32() == nil)
            #expect(reader.readUInt64() == nil)
            #expect(reader.readBytes(count: 4) == nil)
            #expect(reader.readBytes(count: -1) == nil)
            #expect(reader.readBytes(count: UInt64.max) == nil)
            #expect(reader.offset == 0)
            #expect(reader.readUInt16() == 0xc219)
            #expect(reader.readUInt8() == 0x7c)
            #expect(reader.readUInt8() == nil)
            #expect(reader.isAtEnd)
            #expect(reader.readRemainingBytes().isEmpty)
        }
        var reader = WireReader(UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(reader.readVarInt() == nil)
        #expect(reader.readBytes(count: 0)?.count == 0)
        #expect(reader.isAtEnd)
    }

    @Test func fixedWidthIntegersAreBigEndian() {
        let bytes = build {
            $0.writeUInt8(0x01)
            $0.writeUInt16(0x0203)
            $0.writeUInt32(0x0405_0607)
            $0.writeUInt64(0x0809_0a0b_0c0d_0e0f)
        }
        #expect(bytes == Array(1...15))
        withBytes(bytes) { raw in
            var reader = WireReader(raw)
            #expect(reader.readUInt8() == 0x01)
            #expect(reader.readUInt16() == 0x0203)
            #expect(reader.readUInt32() == 0x0405_0607)
            #expect(reader.readUInt64() == 0x0809_0a0b_0c0d_0e0f)
        }
    }

    @Test func sliceReadsDoNotCopy() {
        withBytes([1, 2, 3, 4, 5]) { raw in
            var reader = WireReader(raw)
            _ = reader.readUInt8()
            let slice = reader.readBytes(count: 3)!
            #expect(slice.baseAddress == raw.baseAddress! + 1)
            #expect(Array(slice) == [2, 3, 4])
        }
    }

    @Test func failedCompositeReadsRewind() {
        withBytes([0x05, 0x01, 0x02]) { raw in
            var reader = WireReader(raw)
            // A length-prefixed field claiming 5 bytes with 2 left.
            #expect(reader.readLengthPrefixedBytes() == nil)
            #expect(reader.offset == 0)
            let pair: (UInt8, UInt64)? = reader.withRewindOnNil { reader in
                guard let a = reader.readUInt8(), let b = reader.readUInt64() else { return nil }
                return (a, b)
            }
            #expect(pair == nil)
            #expect(reader.offset == 0)
            let mark = reader.mark()
            _ = reader.readUInt16()
            reader.reset(to: mark)
            #expect(reader.readUInt8() == 0x05)
        }
    }

    @Test func writerFailsCleanlyWhenOutOfSpace() {
        var storage = [UInt8](repeating: 0xaa, count: 3)
        storage.withUnsafeMutableBytes { buffer in
            var writer = WireWriter(buffer)
            let result1 = writer.writeUInt32(1)
            #expect(!result1)
            let result2 = writer.writeVarInt(1 << 30)
            #expect(!result2)
            let result3 = writer.writeBytes([1, 2, 3, 4])
            #expect(!result3)
            let result4 = writer.writeZeros(count: 4)
            #expect(!result4)
            #expect(writer.offset == 0)
            let result5 = writer.writeVarInt(16_383)
            #expect(result5)
            #expect(writer.remaining == 1)
            let result6 = writer.writeUInt16(7)
            #expect(!result6)
            let result7 = writer.writeUInt8(9)
            #expect(result7)
            #expect(writer.remaining == 0)
            let result8 = writer.writeUInt8(9)
            #expect(!result8)
        }
        #expect(storage == [0x7f, 0xff, 9])
    }
}
