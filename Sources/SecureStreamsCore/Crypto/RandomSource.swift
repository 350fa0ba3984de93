import CSodium

/// Where the core gets its randomness: ephemeral keys, connection ids,
/// nonces for cookies. Always injected, never global (the sans-IO rule), so a
/// run with a ``SeededRandom`` is reproducible byte for byte.
///
/// A conforming type is also a `RandomNumberGenerator`, so it can drive the
/// standard library's `random(in:using:)` for non-secret choices.
public protocol RandomSource: RandomNumberGenerator {
    /// Fills `buffer` with random bytes.
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer)
}

extension RandomSource {
    public mutating func next() -> UInt64 {
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { fill($0) }
        return value
    }

    /// `count` random bytes as an array.
    public mutating func bytes(count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { fill($0) }
        return out
    }
}

/// The operating system's CSPRNG through libsodium (`randombytes_buf`:
/// `getrandom(2)` on Linux). Use it for every secret in production.
public struct SystemRandom: RandomSource, Sendable {
    public init() { Sodium.ensureInitialized() }

    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        randombytes_buf(base, buffer.count)
    }
}

/// A deterministic random stream for tests, the simulator and fuzzing.
///
/// The stream is the ChaCha20 keystream under a key derived from the seed
/// (BLAKE2b-256 of a domain label and the seed, little-endian), so distinct
/// seeds give independent streams and the same seed gives the same bytes on
/// every machine. ``fork(label:)`` derives named sub-streams, so adding a
/// random draw in one place does not shift the draws of another.
///
/// Not for production secrets: anyone who knows the seed knows the keys.
public struct SeededRandom: RandomSource, Sendable {
    public let seed: UInt64
    private var key: Bytes32
    /// Keystream blocks consumed so far; the ChaCha20 block counter is its low
    /// 32 bits and the nonce carries the high bits, so the stream never wraps.
    private var block: UInt64 = 0
    private var buffer: (Bytes32, Bytes32) = (Bytes32(), Bytes32())
    private var available = 0

    public init(seed: UInt64) {
        self.init(seed: seed, label: "")
    }

    private init(seed: UInt64, label: String) {
        Sodium.ensureInitialized()
        self.seed = seed
        var input = Array("SecureStreams SeededRandom v1".utf8)
        withUnsafeBytes(of: seed.littleEndian) { input.append(contentsOf: $0) }
        input.append(contentsOf: label.utf8)
        self.key = Bytes32(BLAKE2b.hash(input, outputCount: 32))!
    }

    /// An independent stream named by `label`, derived from this one's seed
    /// (not from its position), so it does not depend on how much has been drawn.
    public func fork(label: String) -> SeededRandom {
        SeededRandom(seed: seed, label: "\(label)\u{0}\(Hex.encode(key))")
    }

    public mutating func fill(_ destination: UnsafeMutableRawBufferPointer) {
        var written = 0
        while written < destination.count {
            if available == 0 { refill() }
            let take = min(available, destination.count - written)
            let offset = 64 - available
            withUnsafeBytes(of: &buffer) { source in
                UnsafeMutableRawBufferPointer(rebasing: destination[written..<(written + take)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + take)]))
            }
            available -= take
            written += take
        }
    }

    private mutating func refill() {
        // Nonce: 4 zero bytes, then the high 32 bits of the block index (LE), then 4 zero bytes.
        var nonce: (UInt32, UInt32, UInt32) = (0, UInt32(truncatingIfNeeded: block >> 32).littleEndian, 0)
        let counter = UInt32(truncatingIfNeeded: block)
        let key = self.key
        withUnsafeMutableBytes(of: &buffer) { out in
            out.initializeMemory(as: UInt8.self, repeating: 0)
            let bytes = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
            withUnsafeBytes(of: &nonce) { n in
                key.withUnsafeBytes { k in
                    _ = crypto_stream_chacha20_ietf_xor_ic(
                        bytes, bytes, 64,
                        n.baseAddress!.assumingMemoryBound(to: UInt8.self), counter,
                        k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
        block &+= 1
        available = 64
    }
}
