/// How the endpoint schedules its connections: a ready set for sending, a
/// timer heap for deadlines, and runs of equal-size datagrams for UDP GSO
/// (docs/CORE.md, "Scheduling"). No verb here walks all connections.
extension Endpoint {
    /// Fires every timer that is due. Calling it early does nothing.
    ///
    /// Only connections whose deadline has passed are visited (O(log N) each);
    /// they fire in slot order, as they always have.
    public mutating func handleTimeout(now: Timestamp) {
        advance(to: now)
        cookies.rotateIfDue(now: now, using: &random)
        if let rotation = cookieRotationDeadline, now >= rotation {
            // The replaced secret stays acceptable one more interval: one more
            // deadline erases it, unless a newer secret was used meanwhile.
            cookieRotationDeadline = isCookieSecretUsed ? cookies.nextRotation : nil
            isCookieSecretUsed = false
        }
        var due: [UInt32] = []
        swap(&due, &dueSlots)
        due.removeAll(keepingCapacity: true)
        timers.popDue(now: now, into: &due)
        due.sort()
        for slot in due {
            let index = Int(slot)
            guard slots[index].connection != nil else { continue }
            schedulingCounters.connectionsTimedOut += 1
            swapRecoveryScratch(index)
            slots[index].connection!.handleTimeout(events: &events, now: now)
            swapRecoveryScratch(index)
            touched(index)
        }
        swap(&due, &dueSlots)
    }

    /// Writes the next datagram to send into `buffer` (at least
    /// `configuration.maxDatagramSize` bytes) and says where it goes.
    ///
    /// With `maxDatagrams` above 1 and a buffer with room for at least two
    /// datagrams, the buffer may instead receive a run of up to
    /// `maxDatagrams` datagrams from one connection to one destination, all
    /// of ``Transmit/segmentSize`` bytes except possibly a shorter last one:
    /// what UDP GSO or a `sendmmsg` batch sends as is. A run holds only what
    /// the connection's congestion window and pacer allow at this instant.
    /// `segmentSize` is `nil` when the transmit is one datagram.
    public mutating func pollTransmit(
        now: Timestamp, into buffer: UnsafeMutableRawBufferPointer, maxDatagrams: Int = 1
    ) -> Transmit? {
        advance(to: now)
        if let (address, datagram) = stateless.popFirst() {
            let count = min(datagram.count, buffer.count)
            datagram.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            return sent(Transmit(destination: address, count: count))
        }
        // Round-robin over ready connections: one that sent goes to the back,
        // so a busy connection cannot starve the others.
        while let index = ready.popFirst() {
            guard slots[index].connection != nil else { continue }
            schedulingCounters.connectionsPolled += 1
            let transmit = pollRun(index, into: buffer, maxDatagrams: maxDatagrams, now: now)
            // One that sent may have more; one that had nothing waits until
            // something touches it again or its timer fires.
            touched(index, mayBeReady: transmit != nil)
            if let transmit { return sent(transmit) }
        }
        return nil
    }

    /// The earliest instant the endpoint wants ``handleTimeout(now:)``. O(1).
    public func nextDeadline() -> Timestamp? {
        if !stateless.isEmpty { return lastNow }
        guard let rotation = cookieRotationDeadline else { return timers.earliest }
        return min(rotation, timers.earliest ?? rotation)
    }

    /// Before a cookie is minted or checked: replaces a secret that is due
    /// (whatever timers fired or not) and arms the rotation deadline, so the
    /// secret keeps rotating while cookies are in use (§4.2).
    mutating func rotateCookieSecretIfDue(now: Timestamp) {
        cookies.rotateIfDue(now: now, using: &random)
        cookieRotationDeadline = cookies.nextRotation
        isCookieSecretUsed = true
    }

    // MARK: - Internal

    /// After anything touched the connection in `index`: frees it if it has
    /// drained; otherwise files its next deadline in the timer heap and, when
    /// `mayBeReady` and it may have something to send, puts it in the ready set.
    mutating func touched(_ index: Int, mayBeReady: Bool = true) {
        // One in-place (mutating) access: a non-mutating read through
        // `slots[index].connection!` copies the whole connection out of the
        // array first, retaining every buffer it holds, on every packet.
        if slots[index].connection?.needsConnectionIDWork() == true { syncConnectionIDs(index) }
        guard let state = slots[index].connection?.schedulingState(now: lastNow, checkReady: mayBeReady) else {
            timers.remove(index)
            return
        }
        if state.phase == .drained {
            reap(index)
            return
        }
        if slots[index].isIndexedForNegotiation, state.phase != .initiating { unindexForNegotiation(index) }
        timers.schedule(index, at: state.deadline)
        if state.hasPendingTransmit { ready.insert(index) }
    }

    /// A Version Negotiation packet (§3.5) names the first six bytes of the
    /// CID of the Initiation it answers: one lookup finds that connection,
    /// whatever the number of connections.
    mutating func handleVersionNegotiation(_ negotiation: VersionNegotiationPacket, now: Timestamp) {
        // The echo names bytes 1..<9 of our Initiation: type, suite, and the
        // first six bytes of our CID.
        let key = negotiation.echo & 0x0000_FFFF_FFFF_FFFF
        guard let slot = initiatingByCIDPrefix[key] else { return }
        let index = Int(slot)
        guard let connection = slots[index].connection, connection.phase == .initiating,
              Self.negotiationKey(connection.localCID) == key
        else { return }
        slots[index].connection!.handleVersionNegotiation(negotiation)
        touched(index)
    }

    /// The key of `initiatingByCIDPrefix`: the CID's first six bytes.
    static func negotiationKey(_ cid: ConnectionID) -> UInt64 { cid.rawValue >> 16 }

    mutating func unindexForNegotiation(_ index: Int) {
        guard slots[index].isIndexedForNegotiation, let cid = slots[index].connection?.localCID else { return }
        slots[index].isIndexedForNegotiation = false
        let key = Self.negotiationKey(cid)
        if initiatingByCIDPrefix[key] == UInt32(index) { initiatingByCIDPrefix.removeValue(forKey: key) }
    }

    mutating func sent(_ transmit: Transmit) -> Transmit {
        let segment = transmit.segmentSize ?? transmit.count
        statistics.datagramsSent += UInt64(segment > 0 ? (transmit.count + segment - 1) / segment : 1)
        statistics.bytesSent += UInt64(transmit.count)
        return transmit
    }

    // MARK: - Private

    /// One datagram from the connection in `index`, or a run of them (see
    /// ``pollTransmit(now:into:maxDatagrams:)``).
    private mutating func pollRun(
        _ index: Int, into buffer: UnsafeMutableRawBufferPointer, maxDatagrams: Int, now: Timestamp
    ) -> Transmit? {
        let segmentCapacity = min(buffer.count, configuration.maxDatagramSize)
        guard maxDatagrams > 1, segmentCapacity > 0, buffer.count >= 2 * segmentCapacity else {
            return slots[index].connection!.pollTransmit(into: buffer, events: &events, random: &random, now: now)
        }
        let first = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<segmentCapacity])
        guard let transmit = slots[index].connection!.pollTransmit(
            into: first, events: &events, random: &random, now: now, padToFill: true)
        else { return nil }
        // Only a full-size first datagram starts a run: its size is the segment size.
        guard transmit.count == segmentCapacity else { return transmit }
        let segmentSize = transmit.count
        var total = segmentSize
        var datagrams = 1
        while datagrams < maxDatagrams, buffer.count - total >= segmentSize {
            let next = UnsafeMutableRawBufferPointer(rebasing: buffer[total..<(total + segmentSize)])
            guard let more = slots[index].connection!.pollRunContinuation(
                into: next, destination: transmit.destination, source: transmit.source, now: now)
            else { break }
            total += more.count
            datagrams += 1
            if more.count < segmentSize { break }  // a shorter datagram ends the run
        }
        return Transmit(destination: transmit.destination, count: total, segmentSize: datagrams > 1 ? segmentSize : nil,
                        source: transmit.source)
    }
}

/// Counts of scheduling work, for tests that check the endpoint visits only
/// the connections it must (a count, never a time).
struct SchedulingCounters: Equatable {
    /// Connections asked for a datagram by `pollTransmit`.
    var connectionsPolled = 0
    /// Connections whose timers `handleTimeout` fired.
    var connectionsTimedOut = 0
}
