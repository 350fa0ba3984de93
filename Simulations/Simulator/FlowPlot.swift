/// Draws one sampled ``FlowSeries`` as an SVG document: four stacked panels
/// sharing a virtual-time x axis (goodput; congestion window and bytes in
/// flight; smoothed RTT; cumulative lost packets with a mark per loss), each
/// with a labelled y axis, tick values and grid lines, under a title naming
/// the scenario, seed and client, and a legend.
///
/// Plain string building, no dependency. The output is a pure function of
/// its inputs (fixed-precision numbers, no locale), so a seed always draws
/// the same file.
public enum FlowPlot {
    /// What the title says.
    public struct Caption: Sendable {
        public var scenario: String
        public var seed: UInt64
        public var client: String
        /// A second line (overall figures); empty for none.
        public var note: String

        public init(scenario: String, seed: UInt64, client: String, note: String = "") {
            self.scenario = scenario
            self.seed = seed
            self.client = client
            self.note = note
        }
    }

    /// The panels' titles, top to bottom (tests look for them).
    public static let panelTitles = [
        "Goodput", "Congestion window and bytes in flight", "Smoothed RTT", "Packets lost, cumulative",
    ]

    /// The SVG for `series` over `0...duration` of virtual time.
    public static func svg(_ series: FlowSeries, duration: Duration, caption: Caption) -> String {
        var canvas = Canvas(end: max(duration.secondsValue, series.samples.last?.time.secondsValue ?? 0, 0.001))
        canvas.header(caption)
        let samples = series.samples
        let times = samples.map(\.time.secondsValue)

        let goodput = goodputSteps(series, end: canvas.end)
        canvas.panel(0, unit: "Mbit/s", lines: [(goodput, Color.goodput)])

        let window = samples.map { Double($0.congestionWindow) / 1_000 }
        let flight = samples.map { Double($0.bytesInFlight) / 1_000 }
        let lossTimes = series.losses.map(\.time.secondsValue)
        canvas.panel(1, unit: "kB", lines: [(Array(zip(times, window)), Color.window), (Array(zip(times, flight)), Color.flight)],
                     marks: lossTimes)

        // Before the handshake completes the smoothed RTT is the initial guess (RFC 9002 §6.2.2), not a measurement.
        let connected = series.connectedAt ?? .seconds(Int64.max)
        let measured = samples.filter { $0.time >= connected }
        let rtt = measured.map { ($0.time.secondsValue, $0.smoothedRTT.secondsValue * 1_000) }
        canvas.panel(2, unit: "ms", lines: [(rtt, Color.rtt)])

        var lost: [(Double, Double)] = [(0, 0)]
        var total = 0.0
        for loss in series.losses {
            lost.append((loss.time.secondsValue, total))
            total += Double(loss.count)
            lost.append((loss.time.secondsValue, total))
        }
        lost.append((canvas.end, total))
        canvas.panel(3, unit: "packets", lines: [(lost, Color.loss)], marks: lossTimes, marksAtBottom: true)
        if samples.isEmpty {
            canvas.text(x: canvas.left + canvas.plotWidth / 2, y: canvas.top + 40, "no samples: the client never connected",
                        anchor: "middle", size: 14, color: Color.loss)
        }
        canvas.xAxis()
        return canvas.finish()
    }

    /// Goodput in Mbit/s per bin, as a step line: bins of a round width
    /// giving about 120 over the run (at least the sampling interval).
    static func goodputSteps(_ series: FlowSeries, end: Double) -> [(Double, Double)] {
        guard series.samples.count >= 2 else { return [] }
        let interval = (series.samples[1].time - series.samples[0].time).secondsValue
        let width = max(interval, Axis.niceStep(end / 120))
        var points: [(Double, Double)] = []
        var start = series.samples[0].time.secondsValue
        let last = series.samples[series.samples.count - 1].time.secondsValue
        while start < last {
            let stop = min(start + width, last)
            let from = series.sample(at: .nanoseconds(Int64((start * 1e9).rounded())))
            let to = series.sample(at: .nanoseconds(Int64((stop * 1e9).rounded())))
            if let from, let to, to.time > from.time {
                let rate = Double(to.deliveredBytes - from.deliveredBytes) * 8 / (to.time - from.time).secondsValue / 1e6
                points.append((start, rate))
                points.append((stop, rate))
            }
            start = stop
        }
        return points
    }

    enum Color {
        static let goodput = "#1f77b4"
        static let window = "#2ca02c"
        static let flight = "#ff7f0e"
        static let rtt = "#9467bd"
        static let loss = "#d62728"
        static let axis = "#333333"
        static let grid = "#dddddd"
    }
}

/// Round tick steps (1, 2, 2.5 or 5 × 10^k) and their labels.
enum Axis {
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        var magnitude = 1.0
        while magnitude * 10 <= raw { magnitude *= 10 }
        while magnitude > raw { magnitude /= 10 }
        for factor in [1.0, 2.0, 2.5, 5.0] where magnitude * factor >= raw { return magnitude * factor }
        return magnitude * 10
    }

    /// Ticks from 0 to a round top at or above `maximum`, about four steps.
    static func ticks(upTo maximum: Double) -> (step: Double, top: Double) {
        let value = maximum > 0 && maximum.isFinite ? maximum : 1
        let step = niceStep(value / 4)
        var top = step
        while top < value * (1 - 1e-12) { top += step }
        return (step, top)
    }

    /// Decimal places that show every multiple of `step` exactly.
    static func decimals(for step: Double) -> Int {
        var places = 0
        var scaled = step
        while places < 6, abs(scaled - scaled.rounded()) > 1e-9 * max(1, scaled) {
            scaled *= 10
            places += 1
        }
        return places
    }

    /// `value` with exactly `places` decimals, no locale, no exponent.
    static func format(_ value: Double, _ places: Int) -> String {
        var factor = 1.0
        for _ in 0..<places { factor *= 10 }
        let scaled = Int64((abs(value) * factor).rounded())
        let sign = value < 0 && scaled != 0 ? "-" : ""
        guard places > 0 else { return sign + String(scaled) }
        let whole = scaled / Int64(factor)
        var fraction = String(scaled % Int64(factor))
        while fraction.count < places { fraction = "0" + fraction }
        return "\(sign)\(whole).\(fraction)"
    }
}

/// The SVG under construction and its geometry.
struct Canvas {
    let width = 960.0
    let left = 90.0
    let right = 30.0
    let top = 96.0
    let panelHeight = 140.0
    let gap = 44.0
    let bottom = 56.0
    let panels = 4
    /// The x axis runs over `0...end` seconds.
    let end: Double
    let xTicks: (step: Double, top: Double)
    private var body: [String] = []

    init(end: Double) {
        self.end = end
        let step = Axis.niceStep(end / 8)
        xTicks = (step, end)
    }

    var plotWidth: Double { width - left - right }
    var height: Double { top + Double(panels) * panelHeight + Double(panels - 1) * gap + bottom }

    func x(_ seconds: Double) -> Double { left + seconds / end * plotWidth }
    func panelTop(_ index: Int) -> Double { top + Double(index) * (panelHeight + gap) }

    mutating func header(_ caption: FlowPlot.Caption) {
        text(x: width / 2, y: 24, "\(caption.scenario) · seed \(caption.seed) · client \(caption.client)",
             anchor: "middle", size: 17, bold: true)
        if !caption.note.isEmpty { text(x: width / 2, y: 44, caption.note, anchor: "middle", size: 12) }
        let entries = [("goodput", FlowPlot.Color.goodput), ("congestion window", FlowPlot.Color.window),
                       ("bytes in flight", FlowPlot.Color.flight), ("smoothed RTT", FlowPlot.Color.rtt),
                       ("packet loss", FlowPlot.Color.loss)]
        var cursor = left
        body.append("<g class=\"legend\">")
        for (label, color) in entries {
            body.append("<line x1=\"\(f(cursor))\" y1=\"62\" x2=\"\(f(cursor + 22))\" y2=\"62\" stroke=\"\(color)\" stroke-width=\"3\"/>")
            text(x: cursor + 28, y: 66, label, size: 12)
            cursor += 40 + Double(label.count) * 7
        }
        body.append("</g>")
    }

    /// One panel: frame, y ticks and grid, x grid, the lines, optional loss marks.
    mutating func panel(_ index: Int, unit: String, lines: [([(Double, Double)], String)], marks: [Double] = [],
                        marksAtBottom: Bool = false) {
        let y0 = panelTop(index)
        let maximum = lines.flatMap { $0.0.map(\.1) }.max() ?? 0
        let ticks = Axis.ticks(upTo: maximum)
        let places = Axis.decimals(for: ticks.step)
        let title = FlowPlot.panelTitles[index]
        body.append("<g class=\"panel\" id=\"panel-\(index)\">")
        text(x: left, y: y0 - 8, "\(title) (\(unit))", size: 13, bold: true)
        var value = 0.0
        while value <= ticks.top * (1 + 1e-9) {
            let y = y0 + panelHeight - value / ticks.top * panelHeight
            body.append("<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y))\" stroke=\"\(FlowPlot.Color.grid)\"/>")
            text(x: left - 6, y: y + 4, Axis.format(value, places), anchor: "end", size: 11)
            value += ticks.step
        }
        var t = 0.0
        while t <= end * (1 + 1e-9) {
            body.append("<line x1=\"\(f(x(t)))\" y1=\"\(f(y0))\" x2=\"\(f(x(t)))\" y2=\"\(f(y0 + panelHeight))\" stroke=\"\(FlowPlot.Color.grid)\"/>")
            t += xTicks.step
        }
        text(x: 16, y: y0 + panelHeight / 2, unit, anchor: "middle", size: 12, rotate: true)
        for (points, color) in lines where !points.isEmpty {
            let shown = decimate(points).map { point in
                "\(f(x(point.0))),\(f(y0 + panelHeight - min(point.1, ticks.top) / ticks.top * panelHeight))"
            }
            body.append("<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(shown.joined(separator: " "))\"/>")
        }
        if !marks.isEmpty {
            let (from, to) = marksAtBottom ? (y0 + panelHeight - 10, y0 + panelHeight) : (y0, y0 + 8)
            var path = ""
            for mark in marks { path += "M\(f(x(mark))) \(f(from))V\(f(to))" }
            body.append("<path class=\"loss-marks\" d=\"\(path)\" stroke=\"\(FlowPlot.Color.loss)\" stroke-width=\"1\"/>")
        }
        body.append("<rect x=\"\(f(left))\" y=\"\(f(y0))\" width=\"\(f(plotWidth))\" height=\"\(f(panelHeight))\" fill=\"none\" stroke=\"\(FlowPlot.Color.axis)\"/>")
        body.append("</g>")
    }

    /// Tick labels under the last panel, and the axis title.
    mutating func xAxis() {
        let y = panelTop(panels - 1) + panelHeight
        let places = Axis.decimals(for: xTicks.step)
        var t = 0.0
        while t <= end * (1 + 1e-9) {
            body.append("<line x1=\"\(f(x(t)))\" y1=\"\(f(y))\" x2=\"\(f(x(t)))\" y2=\"\(f(y + 5))\" stroke=\"\(FlowPlot.Color.axis)\"/>")
            text(x: x(t), y: y + 18, Axis.format(t, places), anchor: "middle", size: 11)
            t += xTicks.step
        }
        text(x: left + plotWidth / 2, y: y + 40, "virtual time (s)", anchor: "middle", size: 13)
    }

    mutating func text(x: Double, y: Double, _ content: String, anchor: String = "start", size: Int, bold: Bool = false,
                       color: String = FlowPlot.Color.axis, rotate: Bool = false) {
        let weight = bold ? " font-weight=\"bold\"" : ""
        let transform = rotate ? " transform=\"rotate(-90 \(f(x)) \(f(y)))\"" : ""
        body.append("<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\" font-size=\"\(size)\"\(weight) fill=\"\(color)\"\(transform)>\(escape(content))</text>")
    }

    func finish() -> String {
        var lines = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"Helvetica, Arial, sans-serif\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
        ]
        lines += body
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// At most two points (the lowest and the highest, in time order) per
    /// pixel column, so a long run stays a small file and keeps its envelope.
    private func decimate(_ points: [(Double, Double)]) -> [(Double, Double)] {
        guard points.count > Int(plotWidth) * 2 else { return points }
        var result: [(Double, Double)] = []
        var column = -1
        var low = points[0]
        var high = points[0]
        var lowIndex = 0
        var highIndex = 0
        func flush() {
            if lowIndex <= highIndex { result += lowIndex == highIndex ? [low] : [low, high] } else { result += [high, low] }
        }
        for (index, point) in points.enumerated() {
            let current = Int(x(point.0))
            if current != column {
                if column >= 0 { flush() }
                column = current
                (low, high, lowIndex, highIndex) = (point, point, index, index)
            } else {
                if point.1 < low.1 { (low, lowIndex) = (point, index) }
                if point.1 > high.1 { (high, highIndex) = (point, index) }
            }
        }
        flush()
        return result
    }

    private func f(_ value: Double) -> String { Axis.format(value, 1) }

    private func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            default: result.append(character)
            }
        }
        return result
    }
}
