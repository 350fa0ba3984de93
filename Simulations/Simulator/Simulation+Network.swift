import SecureStreamsCore

/// Datagrams through links, NATs and the internet; timed events.
extension Runner {
    // MARK: - Network

    func name(of node: Node) -> String {
        switch node {
        case .host(let index): hosts[index].spec.name
        case .nat(let index): nats[index].spec.name
        case .internet: internetNodeName
        }
    }

    func drop(_ cause: String, link: Int? = nil) {
        drops[cause, default: 0] += 1
        if let link { linkDrops[link] += 1 }
    }

    /// Puts a datagram on the link `from -> to` (an ideal one when the scenario has none).
    func forward(_ datagram: Datagram, from: Node, to: Node) {
        guard let index = linkIndex["\(name(of: from))->\(name(of: to))"] else {
            queue.schedule(.arrive(datagram, at: to, from: from, link: nil), at: now)
            return
        }
        switch links[index].send(datagram.bytes, now: now) {
        case .dropped(let reason):
            drop("link:\(reason.rawValue)", link: index)
        case .deliver(let copies):
            for copy in copies where copy.arrival != .distantFuture {
                var delivered = datagram
                delivered.bytes = copy.bytes
                if copy.corrupted { delivered.corrupted = true }
                queue.schedule(.arrive(delivered, at: to, from: from, link: index), at: copy.arrival)
            }
        }
    }

    func process(_ happening: Happening) {
        statistics.events += 1
        switch happening {
        case .arrive(let datagram, let node, let from, let link):
            if let link, links[link].state == .down { return drop("link:down", link: link) }
            if let observer {
                observer(DeliveredDatagram(time: now - .zero, link: "\(name(of: from))->\(name(of: node))",
                                           source: datagram.source, destination: datagram.destination, bytes: datagram.bytes))
            }
            arrive(datagram, at: node, from: from)
        case .timed(let action):
            apply(action)
        case .linkUp(let index):
            links[index].state = .up
        case .crossSend(let flow):
            crossSend(flow)
        case .crossTimeout(let flow, let generation):
            crossTimeout(flow, generation: generation)
        }
    }

    func arrive(_ datagram: Datagram, at node: Node, from: Node) {
        switch node {
        case .host(let index):
            if datagram.destination.port != hosts[index].spec.address.port,
               let flow = crossFlows.firstIndex(where: { $0.receives(datagram.destination, at: index) }) {
                return crossArrive(datagram, flow: flow, at: index)
            }
            guard datagram.destination == hosts[index].spec.address else { return drop("host:misaddressed") }
            // A corrupted datagram still reaches the endpoint (which must
            // reject it), but it counts as a drop, not as delivered.
            if datagram.corrupted {
                drop("link:corrupted")
            } else {
                statistics.datagramsDelivered += 1
            }
            trace.add(datagram, at: now)
            var bytes = datagram.bytes
            bytes.withUnsafeMutableBytes { hosts[index].endpoint.handleDatagram($0, from: datagram.source, now: now) }
            hosts[index].needsService = true
        case .internet:
            if let host = hosts.firstIndex(where: { $0.spec.behind == nil && $0.spec.address.ipBytes == datagram.destination.ipBytes }) {
                forward(datagram, from: .internet, to: .host(host))
            } else if let nat = nats.firstIndex(where: { $0.owns(datagram.destination) }) {
                forward(datagram, from: .internet, to: .nat(nat))
            } else {
                drop("internet:noRoute")
            }
        case .nat(let index):
            let verdict: NATBox.Verdict
            if case .host = from {
                verdict = nats[index].outbound(datagram, now: now)
            } else {
                verdict = nats[index].inbound(datagram, now: now)
            }
            switch verdict {
            case .toOutside(let translated):
                forward(translated, from: node, to: .internet)
            case .toInside(let translated, let inside):
                guard let host = hosts.firstIndex(where: { $0.spec.behind == nats[index].spec.name && $0.spec.address == inside }) else {
                    return drop("nat:noHost")
                }
                forward(translated, from: node, to: .host(host))
            case .dropped(let cause, _):
                drop("nat:\(cause)")
            }
        }
    }

    func links(named label: String) -> [Int] {
        if let index = linkIndex[label] { return [index] }
        let parts = label.split(separator: "<->", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return [] }
        return ["\(parts[0])->\(parts[1])", "\(parts[1])->\(parts[0])"].compactMap { linkIndex[$0] }
    }

    func apply(_ action: TimedEvent.Action) {
        switch action {
        case .linkDown(let label):
            for index in links(named: label) { links[index].state = .down }
        case .linkUp(let label):
            for index in links(named: label) { links[index].state = .up }
        case .blackhole(let label, let duration):
            for index in links(named: label) {
                links[index].state = .down
                queue.schedule(.linkUp(index), at: now + duration)
            }
        case .setBandwidth(let label, let bandwidth):
            for index in links(named: label) { links[index].spec.bandwidth = bandwidth }
        case .setDelay(let label, let delay):
            for index in links(named: label) { links[index].spec.delay = delay }
        case .setLoss(let label, let loss):
            for index in links(named: label) { links[index].spec.loss = loss }
        case .natRebindPort(let name):
            for index in nats.indices where nats[index].spec.name == name { nats[index].rebindPorts(now: now) }
        case .natRebindAddress(let name):
            for index in nats.indices where nats[index].spec.name == name { nats[index].rebindAddress() }
        }
    }
}
