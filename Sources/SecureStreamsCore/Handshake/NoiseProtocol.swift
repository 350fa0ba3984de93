/// A Noise protocol name, parsed: `Noise_<pattern>_25519_<cipher>_BLAKE2b`
/// (Noise specification revision 34, section 8).
///
/// The project supports the handshake patterns IK and XX with any psk
/// modifiers (`IKpsk1`, `IKpsk2`, `XXpsk3`, `XXpsk0+psk1`, …), DH 25519,
/// ciphers ChaChaPoly and AESGCM, and hash BLAKE2b.
public struct NoiseProtocol: Hashable, Sendable, CustomStringConvertible {
    public let pattern: HandshakePattern
    public let cipher: AEADAlgorithm

    public init(pattern: HandshakePattern, cipher: AEADAlgorithm) {
        self.pattern = pattern
        self.cipher = cipher
    }

    /// Parses a full protocol name. - Throws: ``NoiseError/unsupportedProtocol(_:)``.
    public init(name: String) throws(NoiseError) {
        let parts = name.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "Noise", parts[2] == "25519", parts[4] == "BLAKE2b",
              let cipher = AEADAlgorithm(rawValue: String(parts[3])),
              let pattern = HandshakePattern(name: String(parts[1]))
        else { throw .unsupportedProtocol(name) }
        self.pattern = pattern
        self.cipher = cipher
    }

    /// The canonical name, which is also what the handshake hash starts from.
    public var name: String { "Noise_\(pattern.name)_25519_\(cipher.rawValue)_BLAKE2b" }
    public var description: String { name }
}

/// A handshake pattern with its psk modifiers (Noise section 7 and 9).
public struct HandshakePattern: Hashable, Sendable, CustomStringConvertible {
    /// The message tokens of section 7.
    public enum Token: Hashable, Sendable {
        case e, s, ee, es, se, ss, psk
    }

    /// The fundamental patterns the project implements.
    public enum Base: String, Hashable, Sendable, CaseIterable {
        /// `<- s … -> e, es, s, ss  <- e, ee, se`: 1-RTT, the initiator knows the responder.
        case IK
        /// `-> e  <- e, ee, s, es  -> s, se`: mutual authentication, nobody known in advance.
        case XX
    }

    public let base: Base
    /// The psk modifiers, in the order named (`psk0+psk2` → `[0, 2]`).
    public let pskPositions: [Int]
    /// Tokens of the responder's pre-message (the initiator's is empty for IK and XX).
    public let responderPreMessage: [Token]
    /// One token list per handshake message; message 0 is the initiator's.
    public let messages: [[Token]]

    public init(base: Base, pskPositions: [Int] = []) {
        self.base = base
        self.pskPositions = pskPositions
        var messages: [[Token]]
        switch base {
        case .IK:
            responderPreMessage = [.s]
            messages = [[.e, .es, .s, .ss], [.e, .ee, .se]]
        case .XX:
            responderPreMessage = []
            messages = [[.e], [.e, .ee, .s, .es], [.s, .se]]
        }
        // Section 9.2: psk0 goes at the start of the first message, pskN at
        // the end of the Nth.
        for position in pskPositions {
            if position == 0 {
                messages[0].insert(.psk, at: 0)
            } else {
                messages[position - 1].append(.psk)
            }
        }
        self.messages = messages
    }

    /// Parses `IK`, `XX`, `IKpsk2`, `XXpsk0+psk3`, …; `nil` for anything else
    /// (including psk positions past the last message, or repeated ones).
    public init?(name: String) {
        guard name.count >= 2, let base = Base(rawValue: String(name.prefix(2))) else { return nil }
        let rest = name.dropFirst(2)
        var positions: [Int] = []
        if !rest.isEmpty {
            for modifier in rest.split(separator: "+", omittingEmptySubsequences: false) {
                guard modifier.hasPrefix("psk"), let n = Int(modifier.dropFirst(3)),
                      String(n) == modifier.dropFirst(3) else { return nil }
                positions.append(n)
            }
        }
        let messageCount = base == .IK ? 2 : 3
        guard positions.allSatisfy({ (0...messageCount).contains($0) }),
              Set(positions).count == positions.count else { return nil }
        self.init(base: base, pskPositions: positions)
    }

    public var name: String {
        base.rawValue + pskPositions.map { "psk\($0)" }.joined(separator: "+")
    }

    public var description: String { name }

    /// True when any psk modifier is present (which changes how `e` is processed).
    public var usesPSK: Bool { !pskPositions.isEmpty }
}
