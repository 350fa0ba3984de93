// A libuv call that failed, with its name and libuv's own words for the code.
import CLibUV

/// A libuv call that returned a negative status while a driver was starting.
public struct LibUVError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The libuv function that failed, e.g. `"uv_udp_bind"`.
    public let operation: String
    /// The negative libuv status code (`UV_EADDRINUSE`, …).
    public let code: Int32

    public init(_ operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    /// The symbolic name of ``code`` (`"EADDRINUSE"`).
    public var name: String { String(cString: uv_err_name(code)) }

    public var description: String {
        "\(operation) failed: \(String(cString: uv_strerror(code))) (\(name))"
    }

    /// Throws when `status` is negative.
    static func check(_ status: Int32, _ operation: String) throws(LibUVError) {
        if status < 0 { throw LibUVError(operation, code: status) }
    }
}
