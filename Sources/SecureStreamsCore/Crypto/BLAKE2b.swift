import CSodium

/// BLAKE2b (RFC 7693) through libsodium's `crypto_generichash`.
///
/// Output lengths 16...64 bytes, optional key of up to 64 bytes. The Noise
/// hash function is BLAKE2b-512 (`HASHLEN` 64, `BLOCKLEN` 128).
public struct BLAKE2b: ~Copyable {
    public static let maxOutputCount = 64
    public static let minOutputCount = 16
    public static let maxKeyCount = 64
    /// The compression function's block size, which HMAC needs.
    public static let blockCount = 128

    /// libsodium's state is a 64-byte-aligned struct that Swift cannot
    /// import, so it lives in its own allocation, aligned by hand inside a
    /// plain (16-byte-aligned) one: glibc's `memalign` path costs several
    /// times a `malloc`.
    private let state: OpaquePointer
    private let allocation: UnsafeMutableRawPointer
    public let outputCount: Int

    /// Starts an incremental hash.
    /// - Precondition: `outputCount` in 16...64, `key` at most 64 bytes (caller contracts).
    public init(outputCount: Int = 64, key: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) {
        precondition((Self.minOutputCount...Self.maxOutputCount).contains(outputCount), "BLAKE2b output length out of range")
        precondition(key.count <= Self.maxKeyCount, "BLAKE2b key longer than 64 bytes")
        Sodium.ensureInitialized()
        self.outputCount = outputCount
        let raw = UnsafeMutableRawPointer.allocate(byteCount: crypto_generichash_statebytes() + 48, alignment: 16)
        self.allocation = raw
        self.state = OpaquePointer(raw.alignedUp(toMultipleOf: 64))
        _ = crypto_generichash_init(
            state, key.count > 0 ? key.baseAddress!.assumingMemoryBound(to: UInt8.self) : nil,
            key.count, outputCount)
    }

    public mutating func update(_ data: UnsafeRawBufferPointer) {
        guard data.count > 0 else { return }
        _ = crypto_generichash_update(state, data.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(data.count))
    }

    public mutating func update(_ data: some ContiguousBytes) {
        data.withUnsafeBytes { update($0) }
    }

    /// Writes the digest into `output`, which must hold `outputCount` bytes.
    public func finalize(into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= outputCount, "BLAKE2b output buffer too small")
        _ = crypto_generichash_final(state, output.baseAddress!.assumingMemoryBound(to: UInt8.self), outputCount)
    }

    public func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: outputCount)
        out.withUnsafeMutableBytes { finalize(into: $0) }
        return out
    }

    deinit {
        sodium_memzero(UnsafeMutableRawPointer(state), crypto_generichash_statebytes())
        allocation.deallocate()
    }

    /// One-shot hash.
    public static func hash(_ data: some ContiguousBytes, outputCount: Int = 64) -> [UInt8] {
        var hasher = BLAKE2b(outputCount: outputCount)
        hasher.update(data)
        return hasher.finalize()
    }

    /// One-shot keyed hash (BLAKE2b's own MAC mode, not HMAC).
    public static func hash(_ data: some ContiguousBytes, key: some ContiguousBytes, outputCount: Int = 64) -> [UInt8] {
        key.withUnsafeBytes { k in
            var hasher = BLAKE2b(outputCount: outputCount, key: k)
            hasher.update(data)
            return hasher.finalize()
        }
    }
}

/// HMAC (RFC 2104) over BLAKE2b-512, as the Noise specification defines it
/// (section 4.3: `HMAC-HASH(key, data)` with `BLOCKLEN` 128).
public enum HMACBLAKE2b {
    public static let outputCount = 64

    /// Computes HMAC-BLAKE2b-512 of the concatenation of `parts` under `key`
    /// into `output` (64 bytes). Allocates only the two hash states (libsodium's
    /// state is a 64-byte-aligned struct Swift cannot hold inline); HMAC runs
    /// per handshake, never per packet.
    public static func authenticate(
        key: UnsafeRawBufferPointer,
        parts: UnsafeRawBufferPointer...,
        into output: UnsafeMutableRawBufferPointer
    ) {
        authenticate(key: key, partList: parts, into: output)
    }

    static func authenticate(
        key: UnsafeRawBufferPointer,
        partList parts: [UnsafeRawBufferPointer],
        into output: UnsafeMutableRawBufferPointer
    ) {
        precondition(output.count >= outputCount, "HMAC output buffer too small")
        // A key longer than the block is hashed first (RFC 2104 section 2).
        var block: (Bytes32, Bytes32, Bytes32, Bytes32) = (Bytes32(), Bytes32(), Bytes32(), Bytes32())
        var inner: (Bytes32, Bytes32) = (Bytes32(), Bytes32())
        defer {
            withUnsafeMutableBytes(of: &block) { secureZero($0) }
            withUnsafeMutableBytes(of: &inner) { secureZero($0) }
        }
        withUnsafeMutableBytes(of: &block) { padded in
            if key.count > BLAKE2b.blockCount {
                var hasher = BLAKE2b(outputCount: 64)
                hasher.update(key)
                hasher.finalize(into: padded)
            } else if key.count > 0 {
                padded.copyMemory(from: key)
            }
            for i in 0..<BLAKE2b.blockCount { padded[i] ^= 0x36 }
            var hasher = BLAKE2b(outputCount: 64)
            hasher.update(UnsafeRawBufferPointer(padded))
            for part in parts { hasher.update(part) }
            withUnsafeMutableBytes(of: &inner) { hasher.finalize(into: $0) }

            for i in 0..<BLAKE2b.blockCount { padded[i] ^= 0x36 ^ 0x5c }
            var outer = BLAKE2b(outputCount: 64)
            outer.update(UnsafeRawBufferPointer(padded))
            withUnsafeBytes(of: &inner) { outer.update($0) }
            outer.finalize(into: output)
        }
    }

    /// Convenience form returning the 64-byte tag as an array.
    public static func authenticate(_ data: some ContiguousBytes, key: some ContiguousBytes) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: outputCount)
        key.withUnsafeBytes { k in
            data.withUnsafeBytes { d in
                out.withUnsafeMutableBytes { authenticate(key: k, partList: [d], into: $0) }
            }
        }
        return out
    }
}

/// The Noise HKDF (specification section 4.3): `HKDF(chaining_key,
/// input_key_material, num_outputs)` with HMAC-BLAKE2b, giving two or three
/// 64-byte outputs. Callers truncate outputs to 32 bytes where Noise says so.
public enum NoiseHKDF {
    /// Derives two outputs (`MixKey`, `Split`) or three (`MixKeyAndHash`).
    public static func derive(
        chainingKey: UnsafeRawBufferPointer,
        inputKeyMaterial: UnsafeRawBufferPointer,
        outputs: Int
    ) -> [SecretBytes] {
        precondition(outputs == 2 || outputs == 3, "Noise HKDF gives two or three outputs")
        let tempKey = SecretBytes(count: 64) { out in
            HMACBLAKE2b.authenticate(key: chainingKey, partList: [inputKeyMaterial], into: out)
        }
        var results: [SecretBytes] = []
        results.reserveCapacity(outputs)
        tempKey.withUnsafeBytes { temp in
            var counter: UInt8 = 1
            let first = SecretBytes(count: 64) { out in
                withUnsafeBytes(of: &counter) { c in
                    HMACBLAKE2b.authenticate(key: temp, partList: [c], into: out)
                }
            }
            results.append(first)
            for index in 1..<outputs {
                counter = UInt8(index + 1)
                let previous = results[index - 1]
                let next = SecretBytes(count: 64) { out in
                    previous.withUnsafeBytes { p in
                        withUnsafeBytes(of: &counter) { c in
                            HMACBLAKE2b.authenticate(key: temp, partList: [p, c], into: out)
                        }
                    }
                }
                results.append(next)
            }
        }
        return results
    }
}
