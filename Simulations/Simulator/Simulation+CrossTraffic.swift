import SecureStreamsCore

/// Cross traffic in the run: senders send through the same links as the
/// endpoints, receivers count and (for TCP-like flows) acknowledge.
extension Runner {
    func setUpCrossTraffic() {
        for spec in scenario.crossTraffic {
            guard let sender = hosts.firstIndex(where: { $0.spec.name == spec.from }),
                  let receiver = hosts.firstIndex(where: { $0.spec.name == spec.to }) else { continue }
            // Addressed to the receiver's public side: its NAT's public address when it has one.
            let receiverIP = hosts[receiver].spec.behind.flatMap { name in nats.first { $0.spec.name == name }?.publicAddress }
                ?? hosts[receiver].spec.address
            queue.schedule(.crossSend(crossFlows.count), at: Timestamp.zero + spec.start)
            crossFlows.append(CrossFlow(spec: spec, sender: sender, receiver: receiver,
                                        senderIP: hosts[sender].spec.address, receiverIP: receiverIP,
                                        receiverLocalIP: hosts[receiver].spec.address))
        }
    }

    /// The sender's turn: a constant-rate flow sends one packet and schedules
    /// the next; a TCP-like one fills its window.
    func crossSend(_ index: Int) {
        guard crossFlows[index].isActive(at: now) else { return }
        switch crossFlows[index].spec.kind {
        case .constantRate:
            sendCrossPacket(index, sequence: UInt64(crossFlows[index].packetsSent))
            queue.schedule(.crossSend(index), at: now + crossFlows[index].interval)
        case .tcp:
            fillWindow(index)
        }
    }

    func crossTimeout(_ index: Int, generation: Int) {
        guard generation == crossFlows[index].timerGeneration, crossFlows[index].tcp != nil else { return }
        crossFlows[index].tcp!.timedOut(now: now)
        fillWindow(index)
    }

    /// A datagram for a cross flow reached host `host`: data at the receiver, an ACK at the sender.
    func crossArrive(_ datagram: Datagram, flow index: Int, at host: Int) {
        guard let sequence = CrossFlow.sequence(of: datagram.bytes) else { return drop("cross:malformed") }
        if host == crossFlows[index].receiver {
            crossFlows[index].packetsDelivered += 1
            crossFlows[index].bytesDelivered += datagram.bytes.count
            crossFlows[index].lastDeliveredAt = now
            if crossFlows[index].tcp != nil {
                // The ACK goes back to wherever the data came from (a NAT's public side included).
                let ack = Datagram(source: crossFlows[index].receiverLocal, destination: datagram.source,
                                   bytes: CrossFlow.acknowledgement(sequence))
                forward(ack, from: .host(host), to: firstHop(of: host))
            }
        } else if crossFlows[index].tcp != nil {
            crossFlows[index].tcp!.acknowledged(sequence, now: now)
            fillWindow(index)
        }
    }

    private func fillWindow(_ index: Int) {
        guard crossFlows[index].tcp != nil else { return }
        if crossFlows[index].isActive(at: now) {
            for _ in 0..<crossFlows[index].tcp!.sendable {
                let sequence = crossFlows[index].tcp!.sent(now: now)
                sendCrossPacket(index, sequence: sequence)
            }
        }
        guard crossFlows[index].tcp!.inFlight > 0 else { return }
        crossFlows[index].timerGeneration += 1
        queue.schedule(.crossTimeout(index, generation: crossFlows[index].timerGeneration),
                       at: now + crossFlows[index].tcp!.timeout)
    }

    private func sendCrossPacket(_ index: Int, sequence: UInt64) {
        let flow = crossFlows[index]
        if crossFlows[index].firstSentAt == nil { crossFlows[index].firstSentAt = now }
        crossFlows[index].packetsSent += 1
        statistics.datagramsSent += 1
        forward(Datagram(source: flow.senderAddress, destination: flow.receiverAddress, bytes: flow.packet(sequence)),
                from: .host(flow.sender), to: firstHop(of: flow.sender))
    }
}
