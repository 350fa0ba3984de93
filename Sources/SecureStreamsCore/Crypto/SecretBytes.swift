import CSodium

/// Secret key material on the heap, zeroed with `sodium_memzero` when the
/// last reference goes away.
///
/// Immutable once initialised, so it is safe to share between threads and
/// cheap to copy (copies share one buffer). Construction is the only place
/// that allocates; using a key (sealing, opening, DH) never does.
/// Equality is constant-time.
public final class SecretBytes: @unchecked Sendable {
    /// Memory is aligned for libsodium's AES-GCM precomputed state
    /// (`crypto_aead_aes256gcm_state` declares 16-byte alignment). No more:
    /// glibc serves 16-byte alignment from plain `malloc`, while larger
    /// alignments take its much slower `memalign` path (a third of a
    /// handshake's non-DH cost when this was 64).
    static let alignment = 16

    public let count: Int
    private let base: UnsafeMutableRawPointer

    /// Allocates `count` bytes and lets `body` fill them. The bytes start zeroed.
    public init<E: Error>(
        count: Int,
        initializingWith body: (UnsafeMutableRawBufferPointer) throws(E) -> Void
    ) throws(E) {
        precondition(count >= 0, "SecretBytes count must not be negative")
        self.count = count
        self.base = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: Self.alignment)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1))
        try body(UnsafeMutableRawBufferPointer(start: base, count: count))
    }

    /// Copies `bytes` into fresh secret storage.
    public convenience init(copying bytes: some ContiguousBytes) {
        let count = bytes.withUnsafeBytes { $0.count }
        self.init(count: count) { destination in
            bytes.withUnsafeBytes { source in
                if count > 0 { destination.copyMemory(from: source) }
            }
        }
    }

    /// Fills fresh secret storage from a random source.
    public convenience init(randomCount count: Int, using random: inout some RandomSource) {
        self.init(count: count) { random.fill($0) }
    }

    deinit {
        sodium_memzero(base, max(count, 1))
        base.deallocate()
    }

    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Raw pointer for the crypto layer's own C calls.
    @inline(__always)
    var pointer: UnsafeMutableRawPointer { base }

    /// The bytes as an array. For tests and for serialising a key to its
    /// file; the copy is not zeroed for you.
    public var unprotectedBytes: [UInt8] {
        Array(UnsafeRawBufferPointer(start: base, count: count))
    }
}

extension SecretBytes: ContiguousBytes {}

extension SecretBytes: Equatable {
    public static func == (lhs: SecretBytes, rhs: SecretBytes) -> Bool {
        lhs.withUnsafeBytes { a in rhs.withUnsafeBytes { b in ConstantTime.equals(a, b) } }
    }
}

extension SecretBytes: CustomStringConvertible {
    /// Never prints the secret.
    public var description: String { "SecretBytes(\(count) bytes, redacted)" }
}
