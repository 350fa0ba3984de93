import CSodium

/// One-time libsodium initialisation.
///
/// `sodium_init()` is idempotent and thread-safe; it picks the fastest
/// implementation of each primitive for this CPU. Every crypto entry point
/// calls ``Sodium/ensureInitialized()`` before its first use, so callers
/// never need to think about it.
enum Sodium {
    /// Swift initialises a global `let` exactly once, thread-safely.
    private static let initialized: Bool = sodium_init() >= 0

    @inline(__always)
    static func ensureInitialized() {
        precondition(initialized, "libsodium failed to initialise (sodium_init() < 0)")
    }
}

/// Errors raised by the crypto layer. Peer-caused failures (a bad tag, a
/// low-order point) are values, never traps.
public enum CryptoError: Error, Equatable, Sendable {
    /// The AEAD tag did not verify: the ciphertext, the associated data,
    /// the nonce or the key is wrong.
    case authenticationFailed
    /// A Diffie-Hellman with this public key gives the all-zero secret
    /// (the key is of low order); see ``X25519``.
    case lowOrderPoint
    /// A key, nonce or buffer has the wrong size.
    case invalidLength(what: String, expected: Int, actual: Int)
    /// An Ed25519 public key is not a valid curve point or cannot be
    /// converted to X25519.
    case invalidPublicKey
    /// AES-256-GCM was requested on a CPU without hardware AES.
    case algorithmUnavailable
}

extension CryptoError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .authenticationFailed: "authentication failed"
        case .lowOrderPoint: "public key is of low order (all-zero shared secret)"
        case .invalidLength(let what, let expected, let actual):
            "\(what) must be \(expected) bytes, got \(actual)"
        case .invalidPublicKey: "invalid public key"
        case .algorithmUnavailable: "AES-256-GCM needs hardware AES, which this CPU lacks"
        }
    }
}

/// Constant-time helpers.
public enum ConstantTime {
    /// Compares two buffers in time that depends only on their length.
    /// Buffers of different lengths compare unequal (the length is not secret).
    public static func equals(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        Sodium.ensureInitialized()
        return sodium_memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
    }

    /// Compares two byte collections in constant time (given equal lengths).
    public static func equals(_ a: some ContiguousBytes, _ b: some ContiguousBytes) -> Bool {
        a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in equals(pa, pb) } }
    }

    /// True when every byte is zero, in time that depends only on the length.
    public static func isZero(_ a: UnsafeRawBufferPointer) -> Bool {
        if a.isEmpty { return true }
        Sodium.ensureInitialized()
        return sodium_is_zero(a.baseAddress!.assumingMemoryBound(to: UInt8.self), a.count) == 1
    }
}

/// Overwrites memory with zeros in a way the optimiser cannot remove.
@inline(__always)
public func secureZero(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    sodium_memzero(base, buffer.count)
}

/// Contiguous read-only bytes: the stdlib's arrays and slices, and the
/// project's fixed-size values. (Foundation's protocol of the same name is
/// not available in the core.)
public protocol ContiguousBytes {
    func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R
}

extension Array: ContiguousBytes where Element == UInt8 {
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let result: Result<R, E> = self.withUnsafeBufferPointer { buffer in
            do throws(E) { return .success(try body(UnsafeRawBufferPointer(buffer))) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

extension ArraySlice: ContiguousBytes where Element == UInt8 {
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let result: Result<R, E> = self.withUnsafeBufferPointer { buffer in
            do throws(E) { return .success(try body(UnsafeRawBufferPointer(buffer))) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

extension UnsafeRawBufferPointer: ContiguousBytes {
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(self)
    }
}
