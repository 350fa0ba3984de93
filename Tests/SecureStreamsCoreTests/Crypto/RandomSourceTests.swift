import Testing
@testable import SecureStreamsCore

/// `SeededRandom` (deterministic, forkable) and `SystemRandom`.
@Suite struct SeededRandomTests {
    /// The documented construction, recomputed outside the project with
    /// Python 3 (`hashlib`) and pyca/cryptography 48 (`algorithms.ChaCha20`,
    /// whose 16-byte nonce is the 32-bit counter little-endian followed by
    /// the 96-bit IETF nonce):
    /// `key = blake2b(b"SecureStreams SeededRandom v1" + struct.pack("<Q", seed) + label, digest_size=32)`,
    /// stream = ChaCha20-IETF keystream under `key`, block `b` at counter
    /// `b & 0xffffffff` with nonce `00000000 ‖ LE32(b >> 32) ‖ 00000000`.
    /// A fork's label is `label + b"\0" + parent_key.hex()`.
    /// Pinning these keeps simulator seeds replayable across releases.
    @Test func streamMatchesDocumentedConstruction() {
        var zero = SeededRandom(seed: 0)
        #expect(zero.bytes(count: 80) == hex("""
            fbdb82f894842e9cf62f3013cd8daad341eedbf9b9e485c35834be9dc76c7e61\
            05e602217f03e9265ab6adf2f14e0a7b1225ba5b3344256b2aa213f714461cd4\
            b17426c9b6699d4913c30e225231295a
            """))
        var initiator = SeededRandom(seed: 1).fork(label: "initiator")
        #expect(initiator.bytes(count: 32) == hex("c6ffae3723fe462f6f74454967c88c87b40b38e874f1c9e5e881b85f17c34f5a"))
    }

    @Test(arguments: [0, 1, 42, UInt64.max])
    func sameSeedSameBytes(seed: UInt64) {
        var a = SeededRandom(seed: seed), b = SeededRandom(seed: seed)
        #expect(a.bytes(count: 1000) == b.bytes(count: 1000))
        #expect(a.next() == b.next())
        #expect(a.seed == seed)
    }

    @Test func differentSeedsDiffer() {
        var outputs: Set<[UInt8]> = []
        for seed: UInt64 in [0, 1, 2, 1 << 32, 1 << 63, .max] {
            var random = SeededRandom(seed: seed)
            outputs.insert(random.bytes(count: 32))
        }
        #expect(outputs.count == 6)
    }

    /// A fork depends on the parent's seed and the label only, never on how
    /// much the parent has produced.
    @Test(arguments: [0, 1, 63, 64, 65, 1000])
    func forkIsIndependentOfParentPosition(drawn: Int) {
        let fresh = SeededRandom(seed: 7)
        var used = SeededRandom(seed: 7)
        _ = used.bytes(count: drawn)
        var a = fresh.fork(label: "peer"), b = used.fork(label: "peer")
        #expect(a.bytes(count: 200) == b.bytes(count: 200))
    }

    @Test func forksAreDistinctStreams() {
        let root = SeededRandom(seed: 99)
        var parent = root
        var streams: Set<[UInt8]> = [parent.bytes(count: 64)]
        for label in ["a", "b", "", "a\u{0}"] {
            var fork = root.fork(label: label)
            streams.insert(fork.bytes(count: 64))
        }
        var grandchild = root.fork(label: "a").fork(label: "a")
        streams.insert(grandchild.bytes(count: 64))
        var otherSeed = SeededRandom(seed: 100).fork(label: "a")
        streams.insert(otherSeed.bytes(count: 64))
        #expect(streams.count == 7)
        // A fork keeps its parent's seed (for printing).
        #expect(root.fork(label: "x").seed == 99)
    }

    /// Reading in odd-sized chunks (crossing the 64-byte block boundary in
    /// every way, including zero-length reads) gives the one-read stream.
    @Test(arguments: [[1], [3, 0, 5], [63, 2], [64], [65, 127], [7, 200, 1, 129]])
    func chunkedReadsEqualOneRead(cycle: [Int]) {
        let total = 1500
        var whole = SeededRandom(seed: 2024)
        let expected = whole.bytes(count: total)
        var chunked = SeededRandom(seed: 2024)
        var output: [UInt8] = []
        var turn = 0
        while output.count < total {
            let size = min(cycle[turn % cycle.count], total - output.count)
            output += chunked.bytes(count: size)
            turn += 1
        }
        #expect(output == expected)
        // And both continue identically.
        #expect(chunked.bytes(count: 10) == whole.bytes(count: 10))
    }

    /// `next()` takes the next eight stream bytes.
    @Test func nextConsumesEightBytes() {
        var a = SeededRandom(seed: 5), b = SeededRandom(seed: 5)
        let value = a.next()
        let bytes = b.bytes(count: 8)
        #expect(withUnsafeBytes(of: value) { Array($0) } == bytes)
        #expect(a.bytes(count: 16) == b.bytes(count: 16))
    }

    @Test func drivesStandardLibraryRandomness() {
        var a = SeededRandom(seed: 11), b = SeededRandom(seed: 11)
        let x = (0..<20).map { _ in Int.random(in: 0..<1000, using: &a) }
        let y = (0..<20).map { _ in Int.random(in: 0..<1000, using: &b) }
        #expect(x == y)
    }
}

@Suite struct SystemRandomTests {
    @Test func producesNonConstantOutput() {
        var random = SystemRandom()
        let a = random.bytes(count: 32), b = random.bytes(count: 32)
        // Each holds with probability 1 - 2^-256.
        #expect(a != b)
        #expect(!a.allSatisfy { $0 == 0 })
        #expect(Set(random.bytes(count: 64)).count > 1)
        #expect(random.next() != random.next())
    }

    @Test func emptyFillIsANoOp() {
        var random = SystemRandom()
        var empty: [UInt8] = []
        empty.withUnsafeMutableBytes { random.fill($0) }
        #expect(empty.isEmpty)
        var seeded = SeededRandom(seed: 1), reference = SeededRandom(seed: 1)
        empty.withUnsafeMutableBytes { seeded.fill($0) }
        #expect(seeded.bytes(count: 8) == reference.bytes(count: 8))
    }

    @Test func makesDistinctKeys() {
        var random = SystemRandom()
        let a = X25519.PrivateKey(using: &random), b = X25519.PrivateKey(using: &random)
        #expect(a.publicKey != b.publicKey)
        let c = Ed25519.PrivateKey(using: &random), d = Ed25519.PrivateKey(using: &random)
        #expect(c.publicKey != d.publicKey)
    }
}
