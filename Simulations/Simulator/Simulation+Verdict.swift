import SecureStreamsCore

/// Judging a finished run.
extension Runner {
    // MARK: - Verdict

    func verdict() -> Verdict {
        statistics.duration = now - .zero
        if statistics.completion == nil { snapshotConnections() }
        statistics.payloadBytes = clientSpecs.indices.reduce(0) { $0 + payloadBytes(client: $1) }
        if let completion = statistics.completion {
            let seconds = Double(completion.nanosecondsClamped) / 1e9
            statistics.goodput = seconds > 0 ? Double(statistics.payloadBytes) * 8 / seconds : 0
        }
        statistics.drops = drops.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        statistics.linkDrops = zip(links, linkDrops).map { ($0.spec.label, $1) }
        statistics.crossFlows = crossFlows.map(\.figures)
        statistics.traceHash = trace.hex
        statistics.natMappings = nats.reduce(0) { $0 + $1.mappingsCreated }

        var outcome = Verdict.Outcome.success
        var details: [String] = []
        let correctness = invariants.violations.filter { $0.kind == .correctness }
        let liveness = invariants.violations.filter { $0.kind == .liveness }
        if !correctness.isEmpty {
            outcome = .correctnessFailure
            details = correctness.map(\.message) + liveness.map(\.message)
        } else if !liveness.isEmpty {
            outcome = .livenessFailure
            details = liveness.map(\.message)
        } else {
            details += clientCriteriaFailures()
            if let bound = scenario.criteria.completionWithin, let completion = statistics.completion, completion > bound {
                outcome = .correctnessFailure
                details.append("criterion: completion within \(bound), took \(completion)")
            }
            if let goodput = scenario.criteria.minGoodput, statistics.goodput < goodput {
                outcome = .correctnessFailure
                details.append("criterion: goodput ≥ \(Int(goodput)) bit/s, got \(Int(statistics.goodput)) bit/s")
            }
        }
        var flows = sampler.series
        for host in hosts {
            guard let client = host.clientIndex else { continue }
            flows[client].connectedAt = host.connectedAt.map { $0 - .zero }
            flows[client].completedAt = host.doneAt.map { $0 - .zero }
            flows[client].deliveredBytes = invariants.deliveredBytes[client]
            flows[client].start = host.spec.start
            flows[client].connectDurations = host.connectDurations
            flows[client].failed = host.failed
            flows[client].clientRetransmittedBytes = host.totals.bytesRetransmitted
            flows[client].clientLostPackets = host.totals.packetsLost
            flows[client].serverRetransmittedBytes = host.serverTotals.bytesRetransmitted
            flows[client].serverLostPackets = host.serverTotals.packetsLost
            flows[client].keyUpdates = host.totals.keyUpdates
        }
        if !details.isEmpty, outcome == .success { outcome = .correctnessFailure }
        return Verdict(outcome: outcome, details: details, scenario: scenario.name, seed: seed, statistics: statistics,
                       flows: flows)
    }

    /// Payload bytes of client `client`'s whole workload (every connection), both directions.
    func payloadBytes(client: Int) -> Int {
        guard case .client(_, let workload) = clientSpecs[client].role else { return 0 }
        var total = 0
        for round in 0..<clientSpecs[client].connections {
            for (phase, current) in workload.enumerated() {
                total += current.payloadBytes(client: client, phase: round * workload.count + phase)
            }
        }
        return total
    }

    /// Every per-client criterion missed, one line each.
    func clientCriteriaFailures() -> [String] {
        var failures: [String] = []
        for host in hosts {
            guard let client = host.clientIndex else { continue }
            let criteria = host.spec.criteria
            let name = host.spec.name
            if let bound = criteria.connectWithin, let slowest = host.connectDurations.max(), slowest > bound {
                failures.append("criterion: \(name) connects within \(bound), took \(slowest)")
            }
            let took = host.doneAt.map { $0 - (Timestamp.zero + host.spec.start) }
            if let bound = criteria.completionWithin, let took, took > bound {
                failures.append("criterion: \(name) completes within \(bound), took \(took)")
            }
            if let minimum = criteria.minGoodput, let took {
                let seconds = Double(took.nanosecondsClamped) / 1e9
                let goodput = seconds > 0 ? Double(payloadBytes(client: client)) * 8 / seconds : 0
                if goodput < minimum {
                    failures.append("criterion: \(name) goodput ≥ \(Int(minimum)) bit/s, got \(Int(goodput)) bit/s")
                }
            }
            if let minimum = criteria.minKeyUpdates, host.totals.keyUpdates < minimum {
                failures.append("criterion: \(name) at least \(minimum) key updates, got \(host.totals.keyUpdates)")
            }
        }
        return failures
    }
}
