/// The Noise `HandshakeState` (specification section 5.3) for the patterns
/// of ``HandshakePattern``.
///
/// Drive it by alternating ``writeMessage(payload:using:)`` and
/// ``readMessage(_:)`` as ``nextSender`` says, until ``isComplete``; then
/// ``split()`` gives the transport ciphers. Ephemeral keys come from the
/// random source passed to `writeMessage` (or from
/// ``Configuration/ephemeral`` when a test fixes them), so a handshake under a
/// ``SeededRandom`` is reproducible byte for byte.
///
/// `readMessage` is all-or-nothing: a message that fails (truncated, tampered,
/// a wrong key) leaves the state exactly as it was, so a forged datagram
/// cannot break a handshake in progress; the caller decides whether to give up.
///
/// ```
/// IK:   <- s                 XX:  -> e
///       ...                       <- e, ee, s, es
///       -> e, es, s, ss           -> s, se
///       <- e, ee, se
/// ```
public struct HandshakeState: Sendable {
    /// Noise's limit on any message (section 3).
    public static let maxMessageCount = 65535
    static let dhCount = 32
    static let tagCount = AEADKey.tagCount

    /// What a handshake needs to start.
    public struct Configuration: Sendable {
        public var noiseProtocol: NoiseProtocol
        public var side: Side
        public var prologue: [UInt8]
        /// `s`: this end's static key.
        public var localStatic: X25519.PrivateKey?
        /// `rs`: the peer's static key, when known in advance (IK's initiator).
        public var remoteStatic: X25519.PublicKey?
        /// The pre-shared keys, 32 bytes each, in the order the pattern's psk
        /// tokens consume them.
        public var presharedKeys: [SecretBytes]
        /// `e`: fixes the ephemeral key instead of drawing it (test vectors only).
        public var ephemeral: X25519.PrivateKey?

        public init(
            noiseProtocol: NoiseProtocol, side: Side, prologue: [UInt8] = [],
            localStatic: X25519.PrivateKey? = nil, remoteStatic: X25519.PublicKey? = nil,
            presharedKeys: [SecretBytes] = [], ephemeral: X25519.PrivateKey? = nil
        ) {
            self.noiseProtocol = noiseProtocol
            self.side = side
            self.prologue = prologue
            self.localStatic = localStatic
            self.remoteStatic = remoteStatic
            self.presharedKeys = presharedKeys
            self.ephemeral = ephemeral
        }
    }

    public let noiseProtocol: NoiseProtocol
    public let side: Side
    private var symmetric: SymmetricState
    private let localStatic: X25519.PrivateKey?
    private var localEphemeral: X25519.PrivateKey?
    public private(set) var remoteStatic: X25519.PublicKey?
    public private(set) var remoteEphemeral: X25519.PublicKey?
    private var presharedKeys: ArraySlice<SecretBytes>
    private var messageIndex = 0

    /// `Initialize(...)`. - Throws: ``NoiseError/missingKey(_:)`` when the
    /// pattern needs a key the configuration lacks, ``NoiseError/invalidPSK(length:)``,
    /// ``NoiseError/unsupportedProtocol(_:)`` for AESGCM without hardware AES.
    public init(_ configuration: Configuration) throws(NoiseError) {
        let proto = configuration.noiseProtocol
        guard proto.cipher.isHardwareAccelerated else { throw .unsupportedProtocol(proto.name) }
        let pattern = proto.pattern
        noiseProtocol = proto
        side = configuration.side
        localStatic = configuration.localStatic
        localEphemeral = configuration.ephemeral
        remoteStatic = configuration.remoteStatic

        if localStatic == nil, Self.sends(.s, side: side, in: pattern) || Self.needsLocalStatic(side: side, pattern: pattern) {
            throw .missingKey("the local static key (s)")
        }
        if pattern.base == .IK, side == .initiator, remoteStatic == nil {
            throw .missingKey("the responder's static key (rs)")
        }
        let pskTokens = pattern.messages.joined().filter { $0 == .psk }.count
        guard configuration.presharedKeys.count == pskTokens else {
            throw .missingKey("\(pskTokens) pre-shared key(s), got \(configuration.presharedKeys.count)")
        }
        for psk in configuration.presharedKeys where psk.count != 32 {
            throw .invalidPSK(length: psk.count)
        }
        presharedKeys = configuration.presharedKeys[...]

        symmetric = SymmetricState(protocolName: proto.name, algorithm: proto.cipher)
        symmetric.mixHash(configuration.prologue)
        // Pre-messages (section 7.1): the responder's static key for IK.
        for token in pattern.responderPreMessage {
            precondition(token == .s, "only `s` pre-messages are supported")
            if side == .responder {
                symmetric.mixHash(localStatic!.publicKey)
            } else {
                symmetric.mixHash(remoteStatic!)
            }
        }
    }

    /// Who sends the next handshake message; `nil` once complete.
    public var nextSender: Side? {
        guard messageIndex < noiseProtocol.pattern.messages.count else { return nil }
        return messageIndex % 2 == 0 ? .initiator : .responder
    }

    public var isComplete: Bool { nextSender == nil }

    /// `h`: unique to this handshake; binds channel-level authentication.
    public var handshakeHash: [UInt8] { symmetric.handshakeHash }

    /// This end's ephemeral public key, once chosen.
    public var localEphemeralPublicKey: X25519.PublicKey? { localEphemeral?.publicKey }

    /// `WriteMessage(payload, message_buffer)`. - Throws: ``NoiseError/outOfTurn``,
    /// ``NoiseError/messageTooLong(_:)``, ``NoiseError/lowOrderKey``.
    public mutating func writeMessage(payload: some ContiguousBytes, using random: inout some RandomSource) throws(NoiseError) -> [UInt8] {
        guard nextSender == side else { throw .outOfTurn }
        var next = self
        var message: [UInt8] = []
        for token in noiseProtocol.pattern.messages[messageIndex] {
            switch token {
            case .e:
                let ephemeral = next.localEphemeral ?? X25519.PrivateKey(using: &random)
                next.localEphemeral = ephemeral
                message.append(contentsOf: ephemeral.publicKey.bytes.bytes)
                next.symmetric.mixHash(ephemeral.publicKey)
                if noiseProtocol.pattern.usesPSK { next.symmetric.mixKey(ephemeral.publicKey) }
            case .s:
                message += try next.symmetric.encryptAndHash(localStatic!.publicKey)
            case .ee, .es, .se, .ss:
                try next.mixDH(token)
            case .psk:
                next.symmetric.mixKeyAndHash(next.presharedKeys.removeFirst())
            }
        }
        message += try next.symmetric.encryptAndHash(payload)
        guard message.count <= Self.maxMessageCount else { throw .messageTooLong(message.count) }
        next.messageIndex += 1
        self = next
        return message
    }

    /// `ReadMessage(message, payload_buffer)`: returns the decrypted payload.
    /// On any error the state is unchanged.
    public mutating func readMessage(_ message: some ContiguousBytes) throws(NoiseError) -> [UInt8] {
        guard let sender = nextSender, sender == side.peer else { throw .outOfTurn }
        let bytes = message.withUnsafeBytes { Array($0) }
        guard bytes.count <= Self.maxMessageCount else { throw .messageTooLong(bytes.count) }
        let tokens = noiseProtocol.pattern.messages[messageIndex]
        let minimum = minimumCount(of: tokens)
        guard bytes.count >= minimum else { throw .messageTooShort(expectedAtLeast: minimum, actual: bytes.count) }

        var next = self
        var offset = 0
        for token in tokens {
            switch token {
            case .e:
                let key = X25519.PublicKey(Bytes32(bytes[offset..<(offset + Self.dhCount)])!)
                offset += Self.dhCount
                next.remoteEphemeral = key
                next.symmetric.mixHash(key)
                if noiseProtocol.pattern.usesPSK { next.symmetric.mixKey(key) }
            case .s:
                let count = Self.dhCount + (next.symmetric.cipher.hasKey ? Self.tagCount : 0)
                let plain = try next.symmetric.decryptAndHash(bytes[offset..<(offset + count)])
                offset += count
                guard let key = Bytes32(plain) else { throw .invalidRemoteKey }
                next.remoteStatic = X25519.PublicKey(key)
            case .ee, .es, .se, .ss:
                try next.mixDH(token)
            case .psk:
                next.symmetric.mixKeyAndHash(next.presharedKeys.removeFirst())
            }
        }
        let payload = try next.symmetric.decryptAndHash(bytes[offset...])
        next.messageIndex += 1
        self = next
        return payload
    }

    /// `Split()`: this end's sending and receiving ciphers.
    /// - Precondition: the handshake is complete (a caller contract).
    public func split() -> (send: CipherState, receive: CipherState) {
        precondition(isComplete, "split() before the handshake completed")
        let (first, second) = symmetric.split()
        return side == .initiator ? (first, second) : (second, first)
    }

    // MARK: - Private

    /// `es` is DH(e, rs) for the initiator and DH(s, re) for the responder;
    /// `se` the mirror image (section 7.3's token rules).
    private mutating func mixDH(_ token: HandshakePattern.Token) throws(NoiseError) {
        let local: X25519.PrivateKey?
        let remote: X25519.PublicKey?
        switch (token, side) {
        case (.ee, _): (local, remote) = (localEphemeral, remoteEphemeral)
        case (.ss, _): (local, remote) = (localStatic, remoteStatic)
        case (.es, .initiator): (local, remote) = (localEphemeral, remoteStatic)
        case (.es, .responder): (local, remote) = (localStatic, remoteEphemeral)
        case (.se, .initiator): (local, remote) = (localStatic, remoteEphemeral)
        case (.se, .responder): (local, remote) = (localEphemeral, remoteStatic)
        case (.e, _), (.s, _), (.psk, _): preconditionFailure("\(token) is not a DH token")
        }
        guard let local, let remote else {
            // The patterns order tokens so both keys exist; only a missing
            // configuration key gets here, and init checks for those.
            throw .missingKey("a key for the \(token) token")
        }
        let shared: SecretBytes
        do {
            shared = try X25519.sharedSecret(privateKey: local, publicKey: remote)
        } catch {
            throw .lowOrderKey
        }
        symmetric.mixKey(shared)
    }

    /// The smallest valid length of a message with these tokens (payload empty).
    private func minimumCount(of tokens: [HandshakePattern.Token]) -> Int {
        var hasKey = symmetric.cipher.hasKey
        var count = 0
        for token in tokens {
            switch token {
            case .e:
                count += Self.dhCount
                if noiseProtocol.pattern.usesPSK { hasKey = true }
            case .s:
                count += Self.dhCount + (hasKey ? Self.tagCount : 0)
            case .ee, .es, .se, .ss, .psk:
                hasKey = true
            }
        }
        return count + (hasKey ? Self.tagCount : 0)
    }

    private static func sends(_ token: HandshakePattern.Token, side: Side, in pattern: HandshakePattern) -> Bool {
        pattern.messages.enumerated().contains { index, tokens in
            (index % 2 == 0 ? Side.initiator : .responder) == side && tokens.contains(token)
        }
    }

    private static func needsLocalStatic(side: Side, pattern: HandshakePattern) -> Bool {
        side == .responder && !pattern.responderPreMessage.isEmpty
    }
}
