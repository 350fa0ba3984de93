/// A SecureStreams endpoint: one local identity on one UDP socket, holding
/// every connection made through it. The whole protocol, as a deterministic
/// state machine.
///
/// ## Driving the core
/// The endpoint never touches a socket or reads a clock. A driver (the
/// Dispatch or libuv drivers, the simulator, a test harness, your own loop)
/// does five things, always passing the current time:
///
/// 1. `handleDatagram(_:from:now:)` for every UDP datagram that arrives;
/// 2. `handleTimeout(now:)` when ``nextDeadline()`` has passed (extra calls
///    do nothing);
/// 3. `pollTransmit(now:into:maxDatagrams:)` until it returns `nil`, sending
///    each datagram (or run of equal-size datagrams, for UDP GSO);
/// 4. ``nextDeadline()`` to arm its one timer;
/// 5. ``pollEvent()`` until `nil`, acting on each event.
///
/// Call order after any input: drain transmits, read the deadline, drain
/// events. Application commands (`connect`, `openStream`, `write`, …) are
/// inputs too: drain transmits after them.
///
/// ## Scheduling
/// The endpoint routes; connections own their work. A connection that may
/// have something to send sits in a ready set (first in, first out), and each
/// connection's next deadline sits in a timer heap, both updated after every
/// input, command or timeout that touches the connection. So
/// `pollTransmit`, ``nextDeadline()`` and `handleTimeout` cost O(1) or
/// O(log N) in the number of connections, never a walk over all of them
/// (docs/CORE.md, "Scheduling").
///
/// ## Invariants
/// - Same inputs and the same seeded random source ⇒ byte-identical outputs.
///   No dictionary or set order reaches an output.
/// - Bounded: connections, events, queued stateless answers, streams, buffers.
/// - A datagram that is malformed, unauthenticated, replayed or for an unknown
///   connection is dropped and counted (``statistics``), never a crash; no
///   connection state exists for a peer before its handshake message authenticates.
public struct Endpoint {
    public let configuration: EndpointConfiguration
    public internal(set) var statistics = EndpointStatistics()

    var random: any RandomSource
    var slots: [Slot] = []
    private var freeSlots: [UInt32] = []
    /// Local CID → slot. Lookup only: never iterated.
    private var byCID: [ConnectionID: UInt32] = [:]
    /// Ephemeral key of an unconfirmed responder connection's Initiation →
    /// slot, to answer a repeated Initiation with the same Response (a repeat
    /// is the same Initiation: its `mac1` is compared too, §4.4). Kept here,
    /// not in the slot, so only half-open handshakes pay for the `mac1`.
    private var byInitiation: [Bytes32: HalfOpen] = [:]

    /// An unconfirmed responder connection, as a repeated Initiation finds it.
    private struct HalfOpen {
        var index: UInt32
        /// The `mac1` of the Initiation it answered: with the ephemeral key,
        /// what names a repeat of it.
        var mac1: Bytes16
    }
    /// Replay defences and this endpoint's wall clock (§4.4): Endpoint+Initiation.swift.
    var replayGuard: InitiationGuard
    private var listeners: [Listener] = []
    var events: EventQueue
    var stateless = BoundedQueue<(PeerAddress, [UInt8])>(capacity: 64)
    private let ownMACs: HandshakeMACs
    var cookies: CookieGenerator
    private var load: LoadGauge
    /// Peers known (from an earlier handshake) to have hardware AES (§5.4).
    /// Lookup only. A peer is forgotten when a handshake to it times out
    /// (the next attempt falls back to ChaChaPoly); the whole set is, when it
    /// reaches 4,096 peers (a cache, not a registry: forgetting costs only
    /// the faster cipher until the next handshake with that peer).
    private var peersWithAES: Set<EndpointID> = []
    /// Connections that may have something to send (see ``ReadySet``).
    var ready = ReadySet()
    /// Each connection's next deadline (see ``TimerHeap``).
    var timers = TimerHeap()
    /// Reused by `handleTimeout` to hold the slots that are due.
    var dueSlots: [UInt32] = []
    /// Lent to the connection an ACK or a timeout is handled on (Endpoint+Slot.swift).
    var recoveryScratch = RecoveryScratch()
    /// Initiating connections by the top 48 bits of their CID: what a Version
    /// Negotiation packet's echo names (§3.5). Lookup only: never iterated.
    var initiatingByCIDPrefix: [UInt64: UInt32] = [:]
    /// How much scheduling work the verbs did: what tests count instead of timing.
    var schedulingCounters = SchedulingCounters()
    private var versionNegotiationTokens: Int = 10
    private var versionNegotiationRefill: Timestamp = .zero
    var lastNow: Timestamp = .zero
    private let connectionConfiguration: ConnectionConfiguration
    /// Holds a read-only datagram while it is decrypted in place.
    private var scratch: [UInt8] = []
    /// When the cookie secret must be replaced, while one has been used since
    /// the last rotation: a deadline of its own in ``nextDeadline()`` (§4.2).
    var cookieRotationDeadline: Timestamp?
    /// A cookie was minted or checked under the current secret.
    var isCookieSecretUsed = false
    /// Address-proven Initiations per source prefix under load (§4.5).
    private var prefixLimiter: SourcePrefixLimiter

    struct Slot {
        /// The connection, boxed; read and written as `connection` (Endpoint+Slot.swift).
        /// First, so a slot is 16 bytes (8 + 4 + 1), not 24.
        var storage = ConnectionStorage()
        var generation: UInt32 = 0
        /// In `initiatingByCIDPrefix`.
        var isIndexedForNegotiation = false
    }

    private struct Listener: Equatable {
        var service: String
        var applicationProtocol: String
    }

    /// - Parameters:
    ///   - random: where every random choice comes from: `SystemRandom()` in
    ///     production, a `SeededRandom` for reproducible runs.
    ///   - now: the driver's current time.
    public init(configuration: EndpointConfiguration, random: some RandomSource, now: Timestamp) {
        self.configuration = configuration
        var random = random
        self.random = random
        self.events = EventQueue(capacity: configuration.maxQueuedEvents)
        ownMACs = HandshakeMACs(responderStaticKey: configuration.identity.staticKey.publicKey)
        cookies = CookieGenerator(now: now, using: &random)
        self.random = random
        load = LoadGauge(configuration: .init(handshakeRateLimit: configuration.handshakeRateLimit,
                                              maxPendingHandshakes: configuration.maxPendingHandshakes), now: now)
        lastNow = now
        prefixLimiter = SourcePrefixLimiter()
        replayGuard = InitiationGuard(origin: configuration.wallClockOrigin,
                                      peerCapacity: max(1, configuration.maxRememberedInitiators))
        var streams = StreamConfiguration()
        streams.initialStreamWindow = configuration.initialMaxStreamData
        streams.maxStreamWindow = configuration.maxStreamWindow
        streams.initialConnectionWindow = configuration.initialMaxData
        streams.maxConnectionWindow = configuration.maxConnectionWindow
        streams.maxConcurrentPeerStreams = configuration.initialMaxStreams
        streams.maxHalfOpenPeerStreams = configuration.maxHalfOpenPeerStreams
        streams.sendBufferLimit = configuration.sendBufferLimit
        connectionConfiguration = ConnectionConfiguration(
            maxDatagramSize: configuration.maxDatagramSize,
            idleTimeout: configuration.idleTimeout,
            keepAliveInterval: configuration.keepAliveInterval,
            handshakeTimeout: configuration.handshakeTimeout,
            maxAckDelay: configuration.maxAckDelay,
            protection: ProtectionConfiguration(keyUpdatePackets: configuration.keyUpdatePackets,
                                                keyUpdateInterval: configuration.keyUpdateInterval),
            streams: streams,
            local: TransportParameters(
                initialMaxData: configuration.initialMaxData,
                initialMaxStreamData: configuration.initialMaxStreamData,
                initialMaxStreams: configuration.initialMaxStreams,
                maxAckDelayMicroseconds: UInt64(clamping: configuration.maxAckDelay.microsecondsClamped),
                idleTimeoutMilliseconds: UInt64(clamping: configuration.idleTimeout.microsecondsClamped / 1000),
                maxDatagramSize: UInt64(configuration.maxDatagramSize),
                hasHardwareAES: AEADAlgorithm.aesGCM.isHardwareAccelerated,
                maxRecordSize: min(configuration.maxStreamWindow, configuration.maxConnectionWindow)
            ).announcingConnectionIDLimit(ConnectionIDPool.localLimit))
    }

    /// This endpoint's EID.
    public var endpointID: EndpointID { configuration.identity.endpointID }

    /// Connections currently held (in any phase).
    public var connectionCount: Int { slots.count - freeSlots.count }

    /// The size of every table the endpoint keeps, by name: what the
    /// bad-input tests compare before and after a flood of junk.
    var tableSizes: [String: Int] {
        ["slots": slots.count, "freeSlots": freeSlots.count, "byCID": byCID.count,
         "ready": ready.count, "timers": timers.count, "initiatingByCIDPrefix": initiatingByCIDPrefix.count,
         "byInitiation": byInitiation.count, "recentInitiations": replayGuard.recent.count,
         "initiationTimestamps": replayGuard.timestamps.count,
         "listeners": listeners.count, "events": events.count, "eventOrder": events.orderCount,
         "stateless": stateless.count,
         "peersWithAES": peersWithAES.count, "sourcePrefixes": prefixLimiter.count]
    }

    // MARK: - Listening and connecting

    /// Accepts incoming connections for `(service, protocol)`. Initiations
    /// for a pair nobody listens for get an authenticated refusal.
    public mutating func listen(service: String, protocol applicationProtocol: String) {
        let listener = Listener(service: service, applicationProtocol: applicationProtocol)
        if !listeners.contains(listener) { listeners.append(listener) }
    }

    /// Stops accepting `(service, protocol)`; existing connections stay.
    public mutating func stopListening(service: String, protocol applicationProtocol: String) {
        listeners.removeAll { $0 == Listener(service: service, applicationProtocol: applicationProtocol) }
    }

    /// Starts a connection to `peer` at `address` for `(service, protocol)`.
    /// With the peer's EID the handshake is Noise IK (one round trip); with
    /// `nil`, Noise XX, and the `connected` event names the EID to pin.
    /// - Throws: ``CommandError`` `invalidName` when a name is empty or
    ///   longer than 255 bytes, `endpointFull` when the endpoint holds its
    ///   maximum of connections (see ``hasRoomForConnection``).
    public mutating func connect(
        to peer: EndpointID?, at address: PeerAddress, service: String, protocol applicationProtocol: String,
        now: Timestamp
    ) throws(CommandError) -> ConnectionHandle {
        advance(to: now)
        guard !service.isEmpty, !applicationProtocol.isEmpty else {
            throw .invalidName("connect needs a service and a protocol name")
        }
        guard service.utf8.count <= 255, applicationProtocol.utf8.count <= 255 else {
            throw .invalidName("service and protocol names are at most 255 bytes")
        }
        guard hasRoomForConnection else { throw .endpointFull(maxConnections: configuration.maxConnections) }
        let useAES = configuration.preferAESGCM && AEADAlgorithm.aesGCM.isHardwareAccelerated
            && peer.map { peersWithAES.contains($0) } == true
        let (index, handle) = allocateSlot()
        var cid = freshCID()
        while initiatingByCIDPrefix[Self.negotiationKey(cid)] != nil { cid = freshCID() }
        let connection = Connection.initiate(
            peer: peer, address: address, service: service, applicationProtocol: applicationProtocol,
            identity: configuration.identity, cipher: useAES ? .aesGCM : .chaChaPoly, localCID: cid,
            timestamp: peer == nil ? nil : replayGuard.nextInitiationTimestamp(now: now),
            configuration: connectionConfiguration, handle: handle, random: &random, now: now)
        install(connection, at: index)
        statistics.handshakesInitiated += 1
        return handle
    }

    // MARK: - Inputs

    /// Feeds one received datagram, decrypting it in place in `datagram`.
    /// `local` is the address it arrived at when that is not the default
    /// socket (a driver that moves connections, ``migrate(_:toLocalAddress:now:)``).
    public mutating func handleDatagram(_ datagram: UnsafeMutableRawBufferPointer, from address: PeerAddress,
                                        to local: PeerAddress? = nil, now: Timestamp) {
        advance(to: now)
        statistics.datagramsReceived += 1
        statistics.bytesReceived += UInt64(datagram.count)
        switch PacketHeader.parse(UnsafeRawBufferPointer(datagram)) {
        case .failure(let reason):
            switch reason {
            case .unknownVersion:
                statistics.drops.unknownVersion += 1
                answerVersionNegotiation(UnsafeRawBufferPointer(datagram), to: address, now: now)
            case .unsupportedSuite: statistics.drops.unsupportedSuite += 1
            case .tooShort, .unknownType, .malformed: statistics.drops.malformed += 1
            }
        case .success(let packet):
            dispatch(packet, datagram: datagram, from: address, to: local, now: now)
        }
    }

    /// Feeds one received datagram from read-only memory (copied once into a
    /// reused buffer, since packets are decrypted in place).
    public mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from address: PeerAddress,
                                        to local: PeerAddress? = nil, now: Timestamp) {
        var buffer: [UInt8] = []
        swap(&buffer, &scratch)
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: datagram)
        buffer.withUnsafeMutableBytes { handleDatagram($0, from: address, to: local, now: now) }
        swap(&buffer, &scratch)
    }

    // MARK: - Outputs

    /// The next event for the application, oldest first.
    public mutating func pollEvent() -> Event? {
        statistics.eventsDropped = events.dropped
        return events.next()
    }

    // MARK: - Connection queries and commands

    /// Statistics of a connection, or `nil` for an unknown handle.
    public func statistics(of handle: ConnectionHandle) -> ConnectionStatistics? {
        guard let index = index(of: handle), let connection = slots[index].connection else { return nil }
        var stats = connection.statistics
        stats.smoothedRTT = connection.loss.rtt.smoothedRTT
        stats.minimumRTT = connection.loss.rtt.minRTT
        stats.latestRTT = connection.loss.rtt.latestRTT
        stats.rttVariation = connection.loss.rtt.rttVariance
        stats.congestionWindow = UInt64(connection.congestion.congestionWindow)
        stats.bytesInFlight = UInt64(connection.congestion.bytesInFlight)
        stats.streamsBlockedSent = connection.streams.streamsBlockedSent
        stats.streamsBlockedReceived = connection.streams.streamsBlockedReceived
        return stats
    }

    /// The authenticated EID of a connection's peer, once known.
    public func peer(of handle: ConnectionHandle) -> EndpointID? {
        index(of: handle).flatMap { slots[$0].connection?.peer }
    }

    /// The peer's current (validated) address.
    public func address(of handle: ConnectionHandle) -> PeerAddress? {
        index(of: handle).flatMap { slots[$0].connection?.path.address }
    }

    /// Closes a connection: the peer learns `code` and `reason`; no TIME-WAIT.
    public mutating func close(_ handle: ConnectionHandle, code: ErrorCode = .noError, reason: String = "", now: Timestamp) {
        advance(to: now)
        guard let index = index(of: handle) else { return }
        slots[index].connection!.close(error: ConnectionError(.closedLocally(code: code, reason: reason)),
                                       events: &events, now: now, sendClose: true)
        touched(index)
    }

    /// Runs `body` on an established connection, then queues the stream
    /// events it caused; a connection that is not established is a
    /// ``CommandError`` (``commandError(for:)``).
    mutating func withEstablished<R>(
        _ handle: ConnectionHandle, _ body: (inout Connection) throws(CommandError) -> R
    ) throws(CommandError) -> R {
        guard let index = index(of: handle), slots[index].connection!.isEstablished else {
            throw commandError(for: handle)
        }
        defer {
            slots[index].connection!.drainStreamEvents(into: &events)
            touched(index)
        }
        return try body(&slots[index].connection!)
    }

    /// Why a command cannot run on `handle`: it ended (with its reason, kept
    /// while it closes and until the application polled its `closed`), its
    /// handshake is in progress, or it is unknown.
    func commandError(for handle: ConnectionHandle, file: String = #fileID, line: Int = #line) -> CommandError {
        if let index = index(of: handle), let connection = slots[index].connection {
            if let reason = connection.closeReason { return .closed(handle, reason, file: file, line: line) }
            return .notEstablished(handle, file: file, line: line)
        }
        if let reason = events.closeReason(of: handle) { return .closed(handle, reason, file: file, line: line) }
        return .unknownConnection(handle, file: file, line: line)
    }

    /// The established connection behind `handle`, for read-only queries.
    func established(_ handle: ConnectionHandle) -> Connection? {
        guard let index = index(of: handle), let connection = slots[index].connection, connection.isEstablished else {
            return nil
        }
        return connection
    }

    // MARK: - Dispatch

    private mutating func dispatch(_ packet: ParsedPacket, datagram: UnsafeMutableRawBufferPointer,
                                   from address: PeerAddress, to local: PeerAddress?, now: Timestamp) {
        switch packet {
        case .initiation(let initiation):
            handleInitiation(initiation, datagram: UnsafeRawBufferPointer(datagram), from: address, to: local, now: now)
        case .response(let response):
            guard let index = lookup(response.destination) else { return }
            let identity = configuration.identity
            slots[index].connection!.adoptHandshakeLocalAddress(local)
            slots[index].connection!.handleResponse(response.noiseMessage, from: address, identity: identity,
                                                    events: &events, random: &random, now: now)
            if let connection = slots[index].connection, connection.isEstablished,
               connection.peerParameters.hasHardwareAES, let peer = connection.peer {
                if peersWithAES.count >= 4_096 { peersWithAES.removeAll() }
                peersWithAES.insert(peer)
            }
            touched(index)
        case .finish(let finish):
            guard let index = lookup(finish.destination) else { return }
            slots[index].connection!.handleFinish(finish.noiseMessage, from: address, events: &events, now: now)
            forgetInitiationIfConfirmed(index)
            touched(index)
        case .cookie(let cookie):
            guard let index = lookup(cookie.destination) else { return }
            if !slots[index].connection!.handleCookie(UnsafeRawBufferPointer(datagram), from: address, now: now) {
                statistics.drops.authenticationFailed += 1
            }
            touched(index)
        case .data(let data):
            guard let index = lookup(data.destination) else { return }
            swapRecoveryScratch(index)
            slots[index].connection!.handleData(datagram, from: address, to: local, events: &events, random: &random, now: now)
            swapRecoveryScratch(index)
            forgetInitiationIfConfirmed(index)
            touched(index)
        case .versionNegotiation(let negotiation):
            handleVersionNegotiation(negotiation, now: now)
        }
    }

    private mutating func handleInitiation(_ initiation: InitiationPacket, datagram: UnsafeRawBufferPointer,
                                           from address: PeerAddress, to local: PeerAddress?, now: Timestamp) {
        let noise = initiation.suite.noiseProtocol
        // An IK-only responder never answers XX: nothing to learn here, not even our key (§4.6).
        guard noise.pattern.base == .IK || configuration.answersXX else {
            statistics.drops.refused += 1
            return
        }
        guard noise.cipher.isHardwareAccelerated else {
            statistics.drops.unsupportedSuite += 1
            return
        }
        // mac1 first: one hash, no DH, and junk is gone (§4.1).
        let macs = noise.pattern.base == .IK ? ownMACs : HandshakeMACs.xx
        guard macs.verifyMAC1(datagram) else {
            statistics.drops.authenticationFailed += 1
            return
        }
        let ephemeral = Bytes32(UnsafeRawBufferPointer(rebasing: initiation.noiseMessage[0..<32]))!
        let mac1 = HandshakeMACs.mac1Field(of: datagram)
        if let halfOpen = byInitiation[ephemeral], slots[Int(halfOpen.index)].connection != nil {
            // The same ephemeral key with other bytes is no repeat: an attacker's
            // variant of a half-open handshake, refused without an answer (§4.4).
            guard halfOpen.mac1 == mac1 else {
                statistics.drops.replayed += 1
                return
            }
            answerRepeatedInitiation(at: Int(halfOpen.index), count: datagram.count, from: address, now: now)
            return
        }
        if replayGuard.isRecent(ephemeral, now: now) {
            // Its handshake was confirmed or has timed out: a replay (§4.4).
            statistics.drops.replayed += 1
            return
        }
        let addressBytes = address.canonicalBytes
        let underLoad = load.assessInitiation(now: now, pendingHandshakes: byInitiation.count) == .underLoad
        if underLoad || configuration.alwaysRequireCookie {
            rotateCookieSecretIfDue(now: now)
            let proven = addressBytes.withUnsafeBytes { cookies.verifyMAC2(datagram, address: $0, now: now) }
            if !proven {
                var reply = [UInt8](repeating: 0, count: CookiePacket.packetCount)
                let cookies = self.cookies
                let written = addressBytes.withUnsafeBytes { addressBuffer in
                    reply.withUnsafeMutableBytes { out in
                        cookies.writeCookiePacket(answering: datagram, from: addressBuffer, macs: macs,
                                                  using: &random, into: out)
                    }
                }
                if stateless.append((address, Array(reply[0..<written]))) { statistics.cookiesSent += 1 }
                statistics.drops.refused += 1
                return
            }
        }
        // A cookie lifts the load limit, not these (§4.5): its prefix's share
        // under load, and the cap on half-open handshakes.
        guard !underLoad || prefixLimiter.admit(address, now: now),
              byInitiation.count < configuration.maxHalfOpenHandshakes, hasRoomForConnection
        else {
            statistics.drops.refused += 1
            return
        }
        let listeners = self.listeners
        // The handle is stamped once accepted, so a refused Initiation touches no slot.
        let outcome = Connection.accept(
            initiation, from: address, identity: configuration.identity, replayGuard: &replayGuard,
            isListening: { service, proto in listeners.contains(Listener(service: service, applicationProtocol: proto)) },
            localCID: freshCID(), configuration: connectionConfiguration, handle: ConnectionHandle(index: 0, generation: 0),
            random: &random, now: now)
        switch outcome {
        case .accepted(var connection, _):
            let (index, handle) = allocateSlot()
            connection.handle = handle
            connection.adoptHandshakeLocalAddress(local)
            install(connection, at: index)
            byInitiation[ephemeral] = HalfOpen(index: UInt32(index), mac1: mac1)
            replayGuard.accepted(ephemeral, now: now)
            statistics.handshakesAccepted += 1
        case .refused(let response):
            _ = stateless.append((address, response))
        case .dropped(let kind):
            switch kind {
            case .notListening: statistics.drops.refused += 1
            case .malformed: statistics.drops.malformed += 1
            case .authenticationFailed: statistics.drops.authenticationFailed += 1
            case .replayed: statistics.drops.replayed += 1
            }
        }
    }

    /// The Initiation of an unconfirmed connection came again: from its
    /// address, our Response was lost, so it goes again; from another (an
    /// initiator punching a hole sends copies to several of our addresses),
    /// the same Response goes back there too, statelessly, if it is within 3×
    /// what arrived (§4.3, §4.4).
    private mutating func answerRepeatedInitiation(at index: Int, count: Int, from address: PeerAddress, now: Timestamp) {
        guard address != slots[index].connection!.path.address else {
            slots[index].connection!.path.bytesReceived += UInt64(count)
            slots[index].connection!.resendHandshakeDatagram(now: now)
            touched(index)
            return
        }
        guard let response = slots[index].connection!.pendingHandshakeDatagram, response.count <= 3 * count else { return }
        _ = stateless.append((address, response))
    }

    /// Answers an unknown version (§3.5): never larger than what prompted it,
    /// and at most ten answers per second in all, so it amplifies and reflects nothing.
    private mutating func answerVersionNegotiation(_ datagram: UnsafeRawBufferPointer, to address: PeerAddress, now: Timestamp) {
        if now >= versionNegotiationRefill {
            versionNegotiationTokens = 10
            versionNegotiationRefill = now + .seconds(1)
        }
        guard versionNegotiationTokens > 0, datagram.first != ProtocolVersion.negotiationMarker else { return }
        let size = 2 + 8 + 1 + ProtocolVersion.supported.count
        guard datagram.count >= size else { return }
        var reply = [UInt8](repeating: 0, count: size)
        let ok = reply.withUnsafeMutableBytes { out in
            var writer = WireWriter(out)
            return VersionNegotiationPacket.write(answering: datagram, versions: ProtocolVersion.supported, into: &writer)
        }
        guard ok, stateless.append((address, reply)) else { return }
        versionNegotiationTokens -= 1
        statistics.versionNegotiationsSent += 1
    }

    // MARK: - Slots

    private func index(of handle: ConnectionHandle) -> Int? {
        let index = Int(handle.index)
        guard index < slots.count, slots[index].generation == handle.generation,
              slots[index].connection != nil else { return nil }
        return index
    }

    private mutating func lookup(_ cid: ConnectionID) -> Int? {
        guard let index = byCID[cid] else {
            statistics.drops.unknownConnection += 1
            return nil
        }
        return Int(index)
    }

    private mutating func allocateSlot() -> (Int, ConnectionHandle) {
        let index: Int
        if let free = freeSlots.popLast() {
            index = Int(free)
        } else {
            index = slots.count
            slots.append(Slot())
        }
        return (index, ConnectionHandle(index: UInt32(index), generation: slots[index].generation))
    }

    private mutating func releaseSlot(_ index: Int) {
        slots[index].connection = nil
        slots[index].generation &+= 1
        freeSlots.append(UInt32(index))
    }

    private mutating func install(_ connection: Connection, at index: Int) {
        byCID[connection.localCID] = UInt32(index)
        slots[index].connection = connection
        if connection.phase == .initiating {
            initiatingByCIDPrefix[Self.negotiationKey(connection.localCID)] = UInt32(index)
            slots[index].isIndexedForNegotiation = true
        }
        touched(index)
    }

    /// Frees a connection that has finished draining.
    mutating func reap(_ index: Int) {
        guard let connection = slots[index].connection, connection.isDrained else { return }
        if connection.side == .initiator, case .handshakeTimeout = connection.closeReason?.kind, let peer = connection.peer {
            peersWithAES.remove(peer)  // perhaps it no longer has AES: ChaChaPoly next time (§5.4)
        }
        byCID.removeValue(forKey: connection.localCID)
        for issued in connection.cids.issued { byCID.removeValue(forKey: issued.cid) }
        for cid in connection.cids.retiredByPeer { byCID.removeValue(forKey: cid) }
        if let key = connection.initiationKey { byInitiation.removeValue(forKey: key) }
        unindexForNegotiation(index)
        timers.remove(index)
        releaseSlot(index)
    }

    private mutating func forgetInitiationIfConfirmed(_ index: Int) {
        guard let connection = slots[index].connection, connection.isHandshakeConfirmed,
              let key = connection.initiationKey else { return }
        byInitiation.removeValue(forKey: key)
        slots[index].connection!.initiationKey = nil
    }

    /// Routes fresh spare CIDs to the connection in `index` and stops
    /// routing those its peer retired (§7.3). Bounded by
    /// ``ConnectionIDPool/maxIssued`` entries per connection.
    mutating func syncConnectionIDs(_ index: Int) {
        for cid in slots[index].connection!.cids.takeRetiredByPeer() { byCID.removeValue(forKey: cid) }
        guard slots[index].connection!.phase == .established else { return }
        for _ in 0..<slots[index].connection!.cids.wanted {
            let cid = freshCID()
            byCID[cid] = UInt32(index)
            slots[index].connection!.cids.issue(cid)
        }
    }

    private mutating func freshCID() -> ConnectionID {
        while true {
            let cid = ConnectionID(using: &random)
            if byCID[cid] == nil { return cid }
        }
    }

    /// Time never goes backwards (a driver contract, checked in debug builds).
    mutating func advance(to now: Timestamp) {
        assert(now >= lastNow, "time went backwards: \(now) after \(lastNow)")
        lastNow = max(lastNow, now)
    }
}
