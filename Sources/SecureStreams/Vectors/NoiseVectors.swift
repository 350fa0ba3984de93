import Foundation
import SecureStreamsCore

/// Replays Noise test vectors (the layout of the Noise wiki's "Test vectors"
/// page, as used by cacophony, snow and noise-c) against the project's
/// ``HandshakeState``, in both roles at once: each message is written by its
/// sender and checked byte for byte against the vector's ciphertext, then
/// read by the other side and checked against the payload. After the
/// handshake, both sides' handshake hashes are checked (when the vector has
/// one) and the transport messages replayed through the `Split()` ciphers.
public enum NoiseVectors {
    /// The outcome of one vector.
    public enum Outcome: Equatable, Sendable {
        case passed
        case failed(String)
        case skipped(String)
    }

    public struct Result: Sendable {
        public let index: Int
        public let protocolName: String
        public let outcome: Outcome
    }

    public struct Summary: Sendable, CustomStringConvertible {
        public var passed = 0
        public var failed = 0
        public var skipped = 0
        public init() {}
        public var description: String { "\(passed) passed, \(failed) failed, \(skipped) skipped" }
    }

    /// A file that could not be read or is not a vector file.
    public struct FileError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// Reads a vector file and runs every vector in it.
    public static func run(file path: String) throws(FileError) -> [Result] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FileError(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw FileError(path: path, reason: "is a directory") }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw FileError(path: path, reason: "cannot read: \((error as NSError).localizedDescription)")
        }
        let file: VectorFile
        do {
            file = try JSONDecoder().decode(VectorFile.self, from: data)
        } catch let error as DecodingError {
            throw FileError(path: path, reason: "not a Noise vector file: \(describe(error))")
        } catch {
            throw FileError(path: path, reason: "not a Noise vector file: \(error)")
        }
        return file.vectors.enumerated().map { index, vector in
            Result(index: index, protocolName: vector.protocolName, outcome: run(vector))
        }
    }

    /// Runs one decoded vector.
    static func run(_ vector: Vector) -> Outcome {
        let noiseProtocol: NoiseProtocol
        do {
            noiseProtocol = try NoiseProtocol(name: vector.protocolName)
        } catch {
            return .skipped("protocol not supported")
        }
        guard noiseProtocol.cipher.isHardwareAccelerated else {
            return .skipped("AESGCM needs hardware AES")
        }
        do {
            return try replay(vector, noiseProtocol)
        } catch let failure as Failure {
            return .failed(failure.reason)
        } catch {
            return .failed("\(error)")
        }
    }

    // MARK: - Replay

    private struct Failure: Error { let reason: String }

    private static func replay(_ vector: Vector, _ noiseProtocol: NoiseProtocol) throws -> Outcome {
        var initiator = try HandshakeState(configuration(vector, noiseProtocol, .initiator))
        var responder = try HandshakeState(configuration(vector, noiseProtocol, .responder))
        // Ephemeral keys are fixed by the vector; a draw would be a bug.
        var noRandom = RefusingRandom()
        var transport: (initiator: (send: CipherState, receive: CipherState),
                        responder: (send: CipherState, receive: CipherState))?
        var previousSender: Side?

        for (number, message) in vector.messages.enumerated() {
            let where_ = "message \(number)"
            let sender: Side
            if let named = message.sender {
                guard let side = Side(vectorName: named) else { throw Failure(reason: "\(where_): unknown sender '\(named)'") }
                sender = side
            } else {
                sender = previousSender?.peer ?? .initiator
            }
            previousSender = sender
            let payload = try hex(message.payload, "\(where_) payload")
            let expected = try hex(message.ciphertext, "\(where_) ciphertext")

            if transport == nil {
                guard initiator.nextSender == sender else {
                    throw Failure(reason: "\(where_): vector says \(sender) sends, the pattern says \(initiator.nextSender.map { "\($0)" } ?? "nobody")")
                }
                let written: [UInt8]
                let read: [UInt8]
                if sender == .initiator {
                    written = try initiator.writeMessage(payload: payload, using: &noRandom)
                    try checkNoDraw(noRandom, where_, sender)
                    try check(written, expected, "\(where_): ciphertext")
                    read = try responder.readMessage(written)
                } else {
                    written = try responder.writeMessage(payload: payload, using: &noRandom)
                    try checkNoDraw(noRandom, where_, sender)
                    try check(written, expected, "\(where_): ciphertext")
                    read = try initiator.readMessage(written)
                }
                try check(read, payload, "\(where_): decrypted payload")
                if initiator.isComplete != responder.isComplete {
                    throw Failure(reason: "\(where_): the two sides disagree on completion")
                }
                if initiator.isComplete {
                    try check(initiator.handshakeHash, responder.handshakeHash, "handshake hash (initiator versus responder)")
                    if let hash = vector.handshakeHash {
                        try check(initiator.handshakeHash, try Self.hex(hash, "handshake_hash"), "handshake hash")
                    }
                    transport = (initiator.split(), responder.split())
                }
            } else {
                let senderIsInitiator = sender == .initiator
                var send = senderIsInitiator ? transport!.initiator.send : transport!.responder.send
                var receive = senderIsInitiator ? transport!.responder.receive : transport!.initiator.receive
                let written = try send.encrypt(associatedData: [UInt8](), plaintext: payload)
                try check(written, expected, "\(where_) (transport): ciphertext")
                let read = try receive.decrypt(associatedData: [UInt8](), ciphertext: written)
                try check(read, payload, "\(where_) (transport): decrypted payload")
                if senderIsInitiator {
                    transport!.initiator.send = send
                    transport!.responder.receive = receive
                } else {
                    transport!.responder.send = send
                    transport!.initiator.receive = receive
                }
            }
        }
        guard transport != nil else { throw Failure(reason: "the vector ends before the handshake completes") }
        return .passed
    }

    private static func configuration(_ v: Vector, _ p: NoiseProtocol, _ side: Side) throws -> HandshakeState.Configuration {
        let initiator = side == .initiator
        let prefix = initiator ? "init_" : "resp_"
        func key(_ value: String?, _ name: String) throws -> X25519.PrivateKey? {
            guard let value else { return nil }
            return try X25519.PrivateKey(rawRepresentation: hex(value, prefix + name))
        }
        let remote = try (initiator ? v.initRemoteStatic : v.respRemoteStatic).map {
            try X25519.PublicKey(rawRepresentation: hex($0, prefix + "remote_static"))
        }
        let psks = try ((initiator ? v.initPSKs : v.respPSKs) ?? []).enumerated().map { i, value in
            SecretBytes(copying: try hex(value, "\(prefix)psks[\(i)]"))
        }
        return HandshakeState.Configuration(
            noiseProtocol: p, side: side,
            prologue: try hex((initiator ? v.initPrologue : v.respPrologue) ?? "", prefix + "prologue"),
            localStatic: try key(initiator ? v.initStatic : v.respStatic, "static"),
            remoteStatic: remote,
            presharedKeys: psks,
            ephemeral: try key(initiator ? v.initEphemeral : v.respEphemeral, "ephemeral"))
    }

    private static func checkNoDraw(_ random: RefusingRandom, _ where_: String, _ sender: Side) throws {
        if random.wasUsed { throw Failure(reason: "\(where_): the vector gives no ephemeral key for the \(sender)") }
    }

    private static func hex(_ text: String, _ field: String) throws -> [UInt8] {
        guard let bytes = Hex.decode(text) else { throw Failure(reason: "\(field) is not hexadecimal") }
        return bytes
    }

    private static func check(_ actual: [UInt8], _ expected: [UInt8], _ what: String) throws {
        guard actual == expected else {
            throw Failure(reason: "\(what) differs: expected \(Hex.encode(expected)), got \(Hex.encode(actual))")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing field '\(key.stringValue)' at \(path(context).isEmpty ? "top level" : path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "\(context.debugDescription) at \(path(context))"
        case .dataCorrupted(let context): return "\(context.debugDescription) \(path(context))"
        @unknown default: return "\(error)"
        }
    }
}

// MARK: - File layout

extension NoiseVectors {
    struct VectorFile: Decodable {
        let vectors: [Vector]
    }

    struct Vector: Decodable {
        let protocolName: String
        let initPrologue: String?
        let initPSKs: [String]?
        let initStatic: String?
        let initEphemeral: String?
        let initRemoteStatic: String?
        let respPrologue: String?
        let respPSKs: [String]?
        let respStatic: String?
        let respEphemeral: String?
        let respRemoteStatic: String?
        let handshakeHash: String?
        let messages: [Message]

        enum CodingKeys: String, CodingKey {
            case protocolName = "protocol_name", initPrologue = "init_prologue", initPSKs = "init_psks"
            case initStatic = "init_static", initEphemeral = "init_ephemeral", initRemoteStatic = "init_remote_static"
            case respPrologue = "resp_prologue", respPSKs = "resp_psks", respStatic = "resp_static"
            case respEphemeral = "resp_ephemeral", respRemoteStatic = "resp_remote_static"
            case handshakeHash = "handshake_hash", messages
        }
    }

    struct Message: Decodable {
        let payload: String
        let ciphertext: String
        let sender: String?
    }
}

/// A random source that records being drawn from: vectors fix every
/// ephemeral key, so a draw means the vector lacks one.
private struct RefusingRandom: RandomSource {
    var wasUsed = false
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        wasUsed = true
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
    }
}

extension Side {
    /// `initiator`/`I` and `responder`/`R`, in any case.
    init?(vectorName: String) {
        switch vectorName.lowercased() {
        case "initiator", "i", "init": self = .initiator
        case "responder", "r", "resp": self = .responder
        default: return nil
        }
    }
}
