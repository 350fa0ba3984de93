import Foundation
import Testing
@testable import SecureStreamsCore

/// Loads the RFC and Wycheproof files in `Vectors/primitives/` (a copy of
/// `shared/vectors/primitives`, see `Vectors/README.md`). Read-only: the
/// tests never rewrite them.
enum PrimitiveVectors {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // Crypto
        .deletingLastPathComponent()  // SecureStreamsCoreTests
        .appendingPathComponent("Vectors/primitives")

    /// Decodes `relativePath` (e.g. `"wycheproof/x25519_test.json"`) as `T`.
    static func load<T: Decodable>(_ type: T.Type, _ relativePath: String) throws -> T {
        let data = try Data(contentsOf: directory.appendingPathComponent(relativePath))
        return try JSONDecoder().decode(T.self, from: data)
    }
}

/// A lowercase-hex JSON string decoded to bytes; a malformed string fails
/// the decoding (and so the test), it is never read as empty.
struct HexBytes: Decodable, Sendable, Equatable, CustomStringConvertible {
    let bytes: [UInt8]

    init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let bytes = Hex.decode(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not hex: \(text)"))
        }
        self.bytes = bytes
    }

    var count: Int { bytes.count }
    var description: String { Hex.encode(bytes) }
}

/// Bytes from a hex literal in a test; traps on a typo, which is a bug in the test.
func hex(_ text: String) -> [UInt8] {
    guard let bytes = Hex.decode(text.filter { !$0.isWhitespace }) else {
        preconditionFailure("bad hex literal in test: \(text)")
    }
    return bytes
}

extension Array where Element == UInt8 {
    /// A copy with bit `bit` of byte `index` flipped.
    func flippingBit(_ bit: Int = 0, at index: Int) -> [UInt8] {
        var copy = self
        copy[index] ^= UInt8(1) << UInt8(bit)
        return copy
    }
}

// MARK: - Wycheproof schemas (only the fields the tests read)

/// The top level shared by every Wycheproof file.
struct WycheproofFile<Group: Decodable & Sendable>: Decodable, Sendable {
    let algorithm: String
    let numberOfTests: Int
    let testGroups: [Group]
}

/// Wycheproof's verdict on a case. `acceptable` means the case is legal
/// but a library may refuse it for a documented reason.
enum WycheproofResult: String, Decodable, Sendable {
    case valid, acceptable, invalid
}

/// `aead_test_schema_v1.json`.
struct AEADTestGroup: Decodable, Sendable {
    let ivSize: Int
    let keySize: Int
    let tagSize: Int
    let tests: [AEADTestCase]
}

struct AEADTestCase: Decodable, Sendable {
    let tcId: Int
    let comment: String
    let flags: [String]
    let key: HexBytes
    let iv: HexBytes
    let aad: HexBytes
    let msg: HexBytes
    let ct: HexBytes
    let tag: HexBytes
    let result: WycheproofResult
}

/// `xdh_comp_schema_v1.json`.
struct XDHTestGroup: Decodable, Sendable {
    let curve: String
    let tests: [XDHTestCase]
}

struct XDHTestCase: Decodable, Sendable {
    let tcId: Int
    let comment: String
    let flags: [String]
    let `public`: HexBytes
    let `private`: HexBytes
    let shared: HexBytes
    let result: WycheproofResult
}

/// `eddsa_verify_schema_v1.json`.
struct EdDSATestGroup: Decodable, Sendable {
    struct PublicKey: Decodable, Sendable {
        let curve: String
        let pk: HexBytes
    }

    let publicKey: PublicKey
    let tests: [EdDSATestCase]
}

struct EdDSATestCase: Decodable, Sendable {
    let tcId: Int
    let comment: String
    let flags: [String]
    let msg: HexBytes
    let sig: HexBytes
    let result: WycheproofResult
}
