/// Results of a run, and their two renderings: a table for people and JSON
/// for scripts.
struct AEADResult {
    let algorithm: String
    let size: Int
    let wrapper: Summary
    let baseline: Summary
    /// Per-round baseline time / wrapper time: 1.0 means as fast as libsodium.
    let ratio: Summary
    let allocationsPerOperation: Double?

    static let goal = 0.95

    /// Packet bytes per second through seal and open together, in MB/s (10^6).
    static func megabytesPerSecond(size: Int, nanoseconds: Double) -> Double {
        Double(size) / nanoseconds * 1_000
    }
}

struct HandshakeResult {
    let protocolName: String
    let randomSource: String
    /// Nanoseconds per complete pair.
    let pair: Summary
    let scalarMultiplication: Summary
    let baseMultiplication: Summary
    /// Per-round measured pairs/s over the X25519 bound.
    let ratio: Summary
    let allocationsPerPair: Double?

    static let goal = 0.8

    var pairsPerSecond: Double { 1e9 / pair.median }

    /// 1 / (2·t_base + 8·t_mult), from the medians.
    var boundPairsPerSecond: Double {
        1e9 / (Double(HandshakeBenchmark.baseMultiplicationsPerPair) * baseMultiplication.median
            + Double(HandshakeBenchmark.scalarMultiplicationsPerPair) * scalarMultiplication.median)
    }
}

struct Report {
    let settings: Settings
    let libsodiumVersion: String
    let aesGCMAvailable: Bool
    let aead: [AEADResult]
    let handshake: HandshakeResult?
    let coreTransfer: CoreTransferResult?
    let coreIdle: CoreIdleResult?
    let checksum: UInt64
    let seconds: Double

    var table: String {
        var lines: [String] = []
        lines.append("SecureStreams benchmarks (medians of \(settings.rounds) interleaved rounds, "
            + "~\(settings.batchNanoseconds / 1_000_000) ms per kernel per round, \(settings.clock) clock)")
        lines.append("libsodium \(libsodiumVersion); AES-256-GCM in hardware: "
            + (aesGCMAvailable ? "yes" : "no (AESGCM rows skipped)"))
        lines.append("ratio: median over rounds of reference time / SecureStreams time, both timed in the same round "
            + "(1.0 = as fast); IQR: its quartiles; ! marks a ratio below its goal")
        if !aead.isEmpty {
            lines.append("")
            lines += aeadTable
        }
        if let handshake {
            lines.append("")
            lines += handshakeTable(handshake)
        }
        if let coreTransfer {
            lines.append("")
            lines += coreTransferTable(coreTransfer)
        }
        if let coreIdle {
            lines.append("")
            lines += coreIdleTable(coreIdle)
        }
        lines.append("")
        lines.append("checksum \(hex(checksum)); \(fixed(seconds, 1)) s")
        return lines.joined(separator: "\n")
    }

    private static let aeadWidths = [24, 11, 13, 13, 15, 14, 10, 7]

    private var aeadTable: [String] {
        var lines = [row(["AEAD seal+open, in place", "wrapper ns", "libsodium ns", "wrapper MB/s",
                          "libsodium MB/s", "ratio (≥0.95)", "IQR", "allocs"], widths: Self.aeadWidths)]
        for result in aead {
            lines.append(row([
                "  \(pad(result.algorithm, 11))\(leftPad("\(result.size) B", 7))",
                fixed(result.wrapper.median, 1),
                fixed(result.baseline.median, 1),
                fixed(AEADResult.megabytesPerSecond(size: result.size, nanoseconds: result.wrapper.median), 0),
                fixed(AEADResult.megabytesPerSecond(size: result.size, nanoseconds: result.baseline.median), 0),
                fixed(result.ratio.median, 3) + (result.ratio.median < AEADResult.goal ? " !" : "  "),
                "\(fixed(result.ratio.lowerQuartile, 2))–\(fixed(result.ratio.upperQuartile, 2))",
                result.allocationsPerOperation.map { fixed($0, 2) } ?? "n/a",
            ], widths: Self.aeadWidths))
        }
        lines.append("  (16 B associated data; MB/s = packet bytes through one seal plus one open; "
            + "allocs = mallocs per seal+open)")
        return lines
    }

    private static let handshakeWidths = [24, 15, 17, 14, 10, 7]

    private func handshakeTable(_ h: HandshakeResult) -> [String] {
        [
            row(["Noise IK handshake pair", "measured /s", "X25519 bound /s", "ratio (≥0.8)", "IQR", "allocs"],
                widths: Self.handshakeWidths),
            row([
                "  ChaChaPoly BLAKE2b",
                fixed(h.pairsPerSecond, 0),
                fixed(h.boundPairsPerSecond, 0),
                fixed(h.ratio.median, 3) + (h.ratio.median < HandshakeResult.goal ? " !" : "  "),
                "\(fixed(h.ratio.lowerQuartile, 2))–\(fixed(h.ratio.upperQuartile, 2))",
                h.allocationsPerPair.map { fixed($0, 1) } ?? "n/a",
            ], widths: Self.handshakeWidths),
            "  (\(h.protocolName), both sides in one process, ephemerals from \(h.randomSource);",
            "   \(fixed(h.pair.median / 1_000, 1)) µs per pair; bound = 1 / (2 × \(fixed(h.baseMultiplication.median / 1_000, 1)) µs"
                + " scalarmult_base + 8 × \(fixed(h.scalarMultiplication.median / 1_000, 1)) µs scalarmult); allocs per pair)",
        ]
    }

    private static let coreTransferWidths = [24, 14, 10, 13, 10, 11, 11]

    private func coreTransferTable(_ c: CoreTransferResult) -> [String] {
        let d = c.diagnostics
        let idle = d.clientIdleWindowFull + d.clientIdleWindowOpen
        let header = row(["Core bulk transfer", "transfer MB/s", "AEAD MB/s", "ratio (≥0.6)", "IQR", "c→s dgrams",
                          "s→c dgrams"], widths: Self.coreTransferWidths)
        let flag = c.ratio.median < CoreTransferResult.goal ? " !" : "  "
        let cells: [String] = [
            "  1 stream, \(c.bytesPerRound >> 20) MB/round",
            fixed(c.transferMBps.median, 0),
            fixed(c.ceilingMBps.median, 0),
            fixed(c.ratio.median, 3) + flag,
            fixed(c.ratio.lowerQuartile, 2) + "–" + fixed(c.ratio.upperQuartile, 2),
            String(c.clientToServerDatagrams),
            String(c.serverToClientDatagrams),
        ]
        let aeadNanoseconds = fixed(c.ceilingNanosecondsPerPacket.median, 0)
        let cwnd = String(d.finalCongestionWindow)
        let peak = String(d.peakBytesInFlight)
        var lines: [String] = [header, row(cells, widths: Self.coreTransferWidths)]
        lines.append("  (two Endpoints in one process, IK, ChaChaPoly, zero-latency in-memory link, virtual clock; MB/s of stream")
        lines.append("   payload, 10^6 B/s; AEAD MB/s = the same payload if each c→s datagram cost only a seal+open of a 1350 B")
        lines.append("   packet, " + aeadNanoseconds + " ns; ratio = AEAD-only time / transfer time; datagrams and "
            + String(c.clockAdvances) + " clock advances per round)")
        lines.append("  sender, " + String(c.diagnosticBytes >> 20) + " MB untimed: cwnd " + cwnd + " B at the end, peak in flight "
            + peak + " B, srtt " + String(d.smoothedRTT.nanosecondsClamped / 1_000) + " µs, " + String(d.packetsLost) + " lost;")
        lines.append("   " + String(d.clientSent) + " datagrams sent, " + String(idle) + " passes with nothing sent ("
            + String(d.clientIdleWindowFull) + " cwnd full, " + String(d.clientIdleWindowOpen) + " cwnd open); "
            + String(d.receiveBlocked) + " flow-control blocked, " + String(d.writable) + " send buffer refills")
        lines.append("")
        lines.append(row(["Core steady state", "allocs/dgram (0)", "allocs", "datagrams"], widths: [24, 17, 10, 10]))
        lines.append(row([
            "  MB \(c.allocationWarmupBytes >> 20)–\((c.allocationWarmupBytes + c.allocationWindowBytes) >> 20) of a transfer",
            c.allocationsPerDatagram.map { fixed($0, 3) + ($0 > 0 ? " !" : "  ") } ?? "n/a",
            MallocCounter.isActive ? "\(c.allocationWindowAllocations)" : "n/a",
            "\(c.allocationWindowDatagrams)",
        ], widths: [24, 17, 10, 10]))
        lines.append("  (mallocs by the whole process while the reader crossed those offsets of one "
            + String((2 * c.allocationWarmupBytes + c.allocationWindowBytes) >> 20) + " MB transfer, over the datagrams")
        lines.append("   moved either way meanwhile, each sent by one endpoint and received by the other)")
        return lines
    }

    private static let coreIdleWidths = [24, 15, 15, 11]

    private func coreIdleTable(_ c: CoreIdleResult) -> [String] {
        func bytes(_ value: Double?) -> String {
            guard let value else { return "n/a" }
            return fixed(value, 0) + (value > CoreIdleResult.goal ? " !" : "  ")
        }
        return [
            row(["Core idle connections", "server B/conn", "client B/conn", "goal"], widths: Self.coreIdleWidths),
            row(["  \(c.connections) IK, established", bytes(c.serverBytesPerConnection), bytes(c.clientBytesPerConnection),
                 "≤ \(Int(CoreIdleResult.goal))"], widths: Self.coreIdleWidths),
            "  (heap bytes in use, mallinfo2, after \(c.datagrams) datagrams and \(c.settleTime) of virtual time: "
                + "every connection",
            "   established, nothing to send, no deadline but idle timeouts within 5 s; server and client endpoints in one process)",
        ]
    }

    var json: String {
        func summary(_ s: Summary) -> String {
            "{\"median\": \(fixed(s.median, 4)), \"q1\": \(fixed(s.lowerQuartile, 4)), \"q3\": \(fixed(s.upperQuartile, 4))}"
        }
        func optional(_ value: Double?) -> String { value.map { fixed($0, 3) } ?? "null" }
        let aeadEntries = aead.map { r in
            "    {\"algorithm\": \"\(r.algorithm)\", \"bytes\": \(r.size), \"associated_data_bytes\": \(AEADBenchmark.associatedDataCount), "
                + "\"wrapper_ns\": \(summary(r.wrapper)), \"libsodium_ns\": \(summary(r.baseline)), "
                + "\"wrapper_mb_per_s\": \(fixed(AEADResult.megabytesPerSecond(size: r.size, nanoseconds: r.wrapper.median), 1)), "
                + "\"libsodium_mb_per_s\": \(fixed(AEADResult.megabytesPerSecond(size: r.size, nanoseconds: r.baseline.median), 1)), "
                + "\"ratio\": \(summary(r.ratio)), \"goal\": \(AEADResult.goal), "
                + "\"allocations_per_seal_open\": \(optional(r.allocationsPerOperation))}"
        }
        let handshakeEntry = handshake.map { h in
            """
            {
                "protocol": "\(h.protocolName)",
                "random_source": "\(h.randomSource)",
                "pair_ns": \(summary(h.pair)),
                "pairs_per_s": \(fixed(h.pairsPerSecond, 1)),
                "scalarmult_ns": \(summary(h.scalarMultiplication)),
                "scalarmult_base_ns": \(summary(h.baseMultiplication)),
                "bound_pairs_per_s": \(fixed(h.boundPairsPerSecond, 1)),
                "ratio": \(summary(h.ratio)),
                "goal": \(HandshakeResult.goal),
                "allocations_per_pair": \(optional(h.allocationsPerPair))
              }
            """
        } ?? "null"
        let coreTransferEntry = coreTransfer.map { c in
            let d = c.diagnostics
            return """
            {
                "bytes_per_round": \(c.bytesPerRound),
                "transfer_mb_per_s": \(summary(c.transferMBps)),
                "aead_ceiling_mb_per_s": \(summary(c.ceilingMBps)),
                "ratio": \(summary(c.ratio)),
                "goal": \(CoreTransferResult.goal),
                "aead_ns_per_packet": \(summary(c.ceilingNanosecondsPerPacket)),
                "client_to_server_datagrams_per_round": \(c.clientToServerDatagrams),
                "server_to_client_datagrams_per_round": \(c.serverToClientDatagrams),
                "clock_advances_per_round": \(c.clockAdvances),
                "sender": {"bytes": \(c.diagnosticBytes), "final_congestion_window": \(d.finalCongestionWindow), \
            "peak_bytes_in_flight": \(d.peakBytesInFlight), "smoothed_rtt_ns": \(d.smoothedRTT.nanosecondsClamped), \
            "packets_lost": \(d.packetsLost), "datagrams_sent": \(d.clientSent), \
            "idle_passes_window_full": \(d.clientIdleWindowFull), "idle_passes_window_open": \(d.clientIdleWindowOpen), \
            "flow_control_blocked": \(d.receiveBlocked), "send_buffer_refills": \(d.writable)},
                "allocation_window_start_byte": \(c.allocationWarmupBytes),
                "allocation_window_bytes": \(c.allocationWindowBytes),
                "allocation_window_datagrams": \(c.allocationWindowDatagrams),
                "allocation_window_allocations": \(MallocCounter.isActive ? "\(c.allocationWindowAllocations)" : "null"),
                "allocations_per_datagram": \(optional(c.allocationsPerDatagram))
              }
            """
        } ?? "null"
        let coreIdleEntry = coreIdle.map { c in
            """
            {
                "connections": \(c.connections),
                "server_bytes_per_connection": \(optional(c.serverBytesPerConnection)),
                "client_bytes_per_connection": \(optional(c.clientBytesPerConnection)),
                "goal_bytes": \(Int(CoreIdleResult.goal)),
                "datagrams": \(c.datagrams),
                "virtual_seconds": \(fixed(Double(c.settleTime.nanosecondsClamped) / 1e9, 3))
              }
            """
        } ?? "null"
        return """
        {
          "rounds": \(settings.rounds),
          "batch_ms": \(settings.batchNanoseconds / 1_000_000),
          "clock": "\(settings.clock)",
          "libsodium": "\(libsodiumVersion)",
          "aes_gcm_available": \(aesGCMAvailable),
          "aead_seal_open": \(aeadEntries.isEmpty ? "[]" : "[\n" + aeadEntries.joined(separator: ",\n") + "\n  ]"),
          "handshake": \(handshakeEntry),
          "core_transfer": \(coreTransferEntry),
          "core_idle": \(coreIdleEntry),
          "checksum": "\(hex(checksum))",
          "seconds": \(fixed(seconds, 2))
        }
        """
    }
}

// MARK: - Formatting without Foundation

/// `value` with `decimals` digits after the point, rounded half away from zero.
func fixed(_ value: Double, _ decimals: Int) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let sign = value < 0 && scaled != 0 ? "-" : ""
    guard scaled < 9e18 else { return "\(value)" }
    let whole = UInt64(scaled)
    let unit = UInt64(scale)
    let integer = whole / unit
    guard decimals > 0 else { return sign + "\(integer)" }
    let fraction = String(whole % unit)
    return sign + "\(integer)." + String(repeating: "0", count: decimals - fraction.count) + fraction
}

func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

func leftPad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

/// The first column left-aligned, the others right-aligned.
func row(_ cells: [String], widths: [Int]) -> String {
    var line = ""
    for (index, cell) in cells.enumerated() {
        let width = index < widths.count ? widths[index] : cell.count
        line += index == 0 ? pad(cell, width) : " " + leftPad(cell, width)
    }
    return line
}
