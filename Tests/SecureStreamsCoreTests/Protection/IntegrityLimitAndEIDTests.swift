import Testing
@testable import SecureStreamsCore

/// The AEAD integrity limit (RFC 9001 §6.6) is enforced, and one key is one
/// EID: the protocol-security findings 8 and 9.
@Suite struct IntegrityLimitAndEIDTests {
    /// Forged Data packets (right header, wrong tag) count against the limit;
    /// the one that reaches it closes the connection with AEAD_LIMIT_REACHED.
    /// The count spans key updates: it is per connection, as RFC 9001 counts.
    @Test(arguments: ProtectionTests.algorithms)
    func forgeriesUpToTheIntegrityLimitCloseTheConnection(_ algorithm: AEADAlgorithm) throws {
        var configuration = ProtectionConfiguration()
        configuration.integrityLimitOverride = 3
        var (initiator, responder) = try ProtectionTests.pair(algorithm, configuration: configuration)
        let genuine = try ProtectionTests.seal(&initiator, pn: 0)
        #expect({ if case .opened = ProtectionTests.open(&responder, genuine).outcome { true } else { false } }())
        for pn in 1...3 {
            var forged = try ProtectionTests.seal(&initiator, pn: UInt64(pn))
            forged[forged.count - 1] ^= 0x55
            let outcome = ProtectionTests.open(&responder, forged).outcome
            if pn < 3 {
                #expect(outcome == .dropped(.authenticationFailed))
            } else {
                guard case .closeConnection(let error) = outcome else {
                    Issue.record("the forgery that reached the limit gave \(outcome)")
                    return
                }
                #expect(error.code == .aeadLimitReached)
            }
        }
        #expect(responder.authenticationFailureCount == 3)
    }

    /// The default limits are RFC 9001's.
    @Test func theDefaultIntegrityLimitsAreRFC9001s() {
        #expect(AEADAlgorithm.aesGCM.integrityLimit == 1 << 52)
        #expect(AEADAlgorithm.chaChaPoly.integrityLimit == 1 << 36)
        #expect(ProtectionConfiguration().integrityLimitOverride == nil)
    }

    /// Ed25519 `A` and `−A` (the sign bit flipped) convert to one X25519
    /// key: they are one EID as values, whatever their text.
    @Test(arguments: [UInt64(1), 2, 3, 0x5EED])
    func anEd25519KeyAndItsNegationAreOneEID(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        let identity = HostIdentity(using: &random)
        var bytes = identity.endpointID.publicKey.bytes.bytes
        bytes[31] ^= 0x80
        let negated = try EndpointID(publicKey: Ed25519.PublicKey(try #require(Bytes32(bytes))))
        #expect(negated.description != identity.endpointID.description)
        #expect(negated.noiseStaticKey == identity.endpointID.noiseStaticKey)
        #expect(negated == identity.endpointID, "two EIDs for one host (seed \(seed))")
        #expect(Set([negated, identity.endpointID]).count == 1)
    }
}
