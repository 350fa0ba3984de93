import Foundation
import SecureStreamsSimulator

/// One client's figures in `sss sim run --json` (`flows[i]`).
struct FlowRecord: Codable {
    var client: String
    var startMs: Double
    /// The first connection's handshake, from its start to `connected` (absent: never connected).
    var connectMs: Double?
    /// Every connection's handshake, in order.
    var connectMsEach: [Double]
    /// From the client's start to its whole workload done (absent: not done).
    var completionMs: Double?
    /// The client's payload (both directions) × 8 over `completionMs`.
    var goodputMbps: Double?
    var deliveredBytes: Int
    var failed: Bool
    var clientRetransmittedBytes: UInt64
    var clientLostPackets: UInt64
    var serverRetransmittedBytes: UInt64
    var serverLostPackets: UInt64
    var keyUpdates: UInt64

    init(_ flow: FlowSeries) {
        client = flow.client
        startMs = flow.start.seconds * 1e3
        connectMsEach = flow.connectDurations.map { $0.seconds * 1e3 }
        connectMs = connectMsEach.first
        let completion = flow.completedAt.map { $0 - flow.start }
        completionMs = completion.map { $0.seconds * 1e3 }
        if let completion, completion > .zero {
            goodputMbps = Double(flow.deliveredBytes) * 8 / completion.seconds / 1e6
        }
        deliveredBytes = flow.deliveredBytes
        failed = flow.failed
        clientRetransmittedBytes = flow.clientRetransmittedBytes
        clientLostPackets = flow.clientLostPackets
        serverRetransmittedBytes = flow.serverRetransmittedBytes
        serverLostPackets = flow.serverLostPackets
        keyUpdates = flow.keyUpdates
    }

    var summary: String {
        let connect = connectMs.map { format($0, 1) + " ms" } ?? "never"
        let completion = completionMs.map { format($0, 1) + " ms" } ?? (failed ? "failed" : "never")
        let goodput = goodputMbps.map { format($0, 3) + " Mbit/s" } ?? "-"
        return "\(client): connect \(connect), complete \(completion), goodput \(goodput), retx client/server "
            + "\(clientRetransmittedBytes)/\(serverRetransmittedBytes) B, lost \(clientLostPackets)/\(serverLostPackets)"
    }
}

/// One cross flow's figures in `sss sim run --json` (`crossFlows[i]`).
struct CrossFlowRecord: Codable {
    var name: String
    var packetsSent: Int
    var packetsDelivered: Int
    var packetsLost: Int
    var goodputMbps: Double
    var congestionWindow: Int?

    init(_ figures: CrossFlowFigures) {
        name = figures.name
        packetsSent = figures.packetsSent
        packetsDelivered = figures.packetsDelivered
        packetsLost = figures.packetsLost
        goodputMbps = figures.goodput / 1e6
        congestionWindow = figures.congestionWindow
    }

    var summary: String {
        "cross \(name): sent \(packetsSent), delivered \(packetsDelivered), lost \(packetsLost), goodput \(format(goodputMbps, 3)) Mbit/s"
            + (congestionWindow.map { ", cwnd \($0) packets" } ?? "")
    }
}
