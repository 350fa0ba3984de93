import SecureStreamsCore

/// Clients' connections over a run: start times, one connection after
/// another, counters of both sides, and what is reported when they fail.
extension Runner {
    /// Connects every client whose start time has come and that has no connection yet.
    func startClients() {
        for index in hosts.indices where hosts[index].clientIndex != nil && hosts[index].connection == nil
            && !hosts[index].isFinished && now >= Timestamp.zero + hosts[index].spec.start {
            connect(index)
        }
    }

    private func connect(_ index: Int) {
        guard case .client(let serverName, _) = hosts[index].spec.role,
              let server = hosts.firstIndex(where: { $0.spec.name == serverName }) else { return }
        do {
            hosts[index].connection = try hosts[index].endpoint.connect(
                to: hosts[server].endpoint.endpointID, at: hosts[server].spec.address,
                service: "sim", protocol: "workload", now: now)
            hosts[index].connectStartedAt = now
            hosts[index].needsService = true
        } catch {
            hosts[index].failed = true
            invariants.fail(.correctness, "\(hosts[index].spec.name): connect refused: \(error)")
        }
    }

    /// A connection's workload is done and another connection follows:
    /// counts the finished one, closes it and opens the next at once.
    func finishRound(_ index: Int) {
        count(index)
        if let connection = hosts[index].connection, !hosts[index].closed.contains(connection) {
            hosts[index].endpoint.close(connection, now: now)
        }
        drainEvents(index)
        hosts[index].startNextRound()
        connect(index)
    }

    /// Adds the current connection's counters, the client's and its server's side, to the client's totals (once).
    func count(_ index: Int) {
        guard let client = hosts[index].clientIndex, let connection = hosts[index].connection,
              !hosts[index].roundCounted else { return }
        hosts[index].roundCounted = true
        if let stats = hosts[index].endpoint.statistics(of: connection) {
            hosts[index].totals.add(stats)
            smoothedRTT = max(smoothedRTT, stats.smoothedRTT)
            minimumRTT = min(minimumRTT ?? stats.minimumRTT, stats.minimumRTT)
        }
        guard case .client(let serverName, _) = hosts[index].spec.role,
              let server = hosts.firstIndex(where: { $0.spec.name == serverName }),
              let handle = hosts[server].connectionOfClient[client],
              let stats = hosts[server].endpoint.statistics(of: handle) else { return }
        hosts[index].serverTotals.add(stats)
    }

    func closeClients() {
        for index in hosts.indices {
            guard let connection = hosts[index].connection, !hosts[index].closed.contains(connection) else { continue }
            hosts[index].endpoint.close(connection, now: now)
            hosts[index].needsService = true
        }
    }

    /// Counts every client's current connection and sums the totals into the run's statistics.
    func snapshotConnections() {
        for index in hosts.indices { count(index) }
        statistics.clientRetransmittedBytes = 0
        statistics.serverRetransmittedBytes = 0
        statistics.clientLostPackets = 0
        statistics.serverLostPackets = 0
        for host in hosts where host.clientIndex != nil {
            statistics.clientRetransmittedBytes += host.totals.bytesRetransmitted
            statistics.serverRetransmittedBytes += host.serverTotals.bytesRetransmitted
            statistics.clientLostPackets += host.totals.packetsLost
            statistics.serverLostPackets += host.serverTotals.packetsLost
        }
        statistics.bytesRetransmitted = statistics.clientRetransmittedBytes + statistics.serverRetransmittedBytes
        statistics.packetsLost = statistics.clientLostPackets + statistics.serverLostPackets
        statistics.smoothedRTT = smoothedRTT
        statistics.minimumRTT = minimumRTT ?? .zero
    }

    /// One liveness failure per client that has not finished, each with where it stood.
    func failUnfinished(_ why: String) {
        for host in hosts {
            guard let client = host.clientIndex, !host.isFinished else { continue }
            let state = host.connection == nil ? "not started"
                : host.isConnected ? "in phase \(host.phase) of connection \(host.round + 1) of \(host.spec.connections)"
                : "not connected (connection \(host.round + 1) of \(host.spec.connections))"
            invariants.fail(.liveness, "\(why): client \(client) (\(host.spec.name)) \(state)")
        }
    }
}
