// Why a DispatchDriver could not start.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A socket call that failed while starting a ``DispatchDriver``, with its `errno`.
public struct DispatchDriverError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The call (and its argument) that failed, e.g. `bind 127.0.0.1:7000`.
    public let operation: String
    /// The `errno` it set.
    public let code: Int32

    init(_ operation: String, errno code: Int32) {
        self.operation = operation
        self.code = code
    }

    public var description: String { "\(operation) failed: \(String(cString: strerror(code))) (errno \(code))" }
}
