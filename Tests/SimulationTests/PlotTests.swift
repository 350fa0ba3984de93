import Foundation
import SecureStreamsCore
import SecureStreamsSimulator
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

/// `FlowSeries` sampling and the SVG drawn from it (`sss sim run --plot`).
@Suite struct PlotTests {
    static let scenario = Scenarios.bulk(name: "plot & <check>", bytes: 400_000, streams: 1) { $0.loss = 0.02 }

    static func plot(_ verdict: Verdict) -> String {
        FlowPlot.svg(verdict.flows[0], duration: verdict.statistics.duration,
                     caption: FlowPlot.Caption(scenario: verdict.scenario, seed: verdict.seed, client: verdict.flows[0].client,
                                               note: "goodput \(Int(verdict.statistics.goodput)) bit/s"))
    }

    @Test func samplingDoesNotChangeTheRun() throws {
        let plain = Simulation.run(Self.scenario, seed: 3)
        let sampled = Simulation.run(Self.scenario, seed: 3, sampling: Sampling(interval: .milliseconds(5)))
        expectSuccess(sampled)
        #expect(plain.statistics.traceHash == sampled.statistics.traceHash)
        #expect(plain.statistics.events == sampled.statistics.events)
        #expect(plain.flows.first?.samples.isEmpty == true)

        let flow = try #require(sampled.flows.first)
        #expect(flow.client == "client")
        #expect(flow.samples.count > 20)
        for (earlier, later) in zip(flow.samples, flow.samples.dropFirst()) {
            #expect(later.time - earlier.time == .milliseconds(5))
            #expect(later.deliveredBytes >= earlier.deliveredBytes)
            #expect(later.packetsLost >= earlier.packetsLost)
        }
        #expect(flow.samples.allSatisfy { $0.congestionWindow > 0 })
        #expect(flow.samples.contains { $0.bytesInFlight > 0 })
        #expect(flow.deliveredBytes == 400_000)
        #expect(flow.samples.last?.deliveredBytes == 400_000)
        #expect(!flow.losses.isEmpty)
        #expect(flow.losses.reduce(0) { $0 + $1.count } <= Int(sampled.statistics.packetsLost) + 1)
        let connected = try #require(flow.connectedAt)
        let completed = try #require(flow.completedAt)
        #expect(connected < completed && completed <= sampled.statistics.completion ?? .zero)
    }

    @Test func thePlotIsWellFormedSVGWithFourPanelsAndALegend() throws {
        let verdict = Simulation.run(Self.scenario, seed: 3, sampling: Sampling())
        let svg = Self.plot(verdict)
        let document = try SVGOutline(svg)
        #expect(document.root == "svg")
        #expect(document.panels == 4)
        #expect(document.polylines >= 5, "goodput, window, in flight, RTT, losses")
        #expect(document.lossMarks == 2)
        #expect(document.legend)
        for title in FlowPlot.panelTitles {
            #expect(document.texts.contains { $0.hasPrefix(title) }, "\(title) in \(document.texts)")
        }
        #expect(document.texts.contains("virtual time (s)"))
        #expect(document.texts.contains("plot & <check> · seed 3 · client client"), "the title, escaped and read back")
        #expect(document.texts.contains("Mbit/s") && document.texts.contains("kB") && document.texts.contains("ms"))
        #expect(document.texts.contains("0.0") || document.texts.contains("0"), "tick values")
    }

    @Test func thePlotIsAPureFunctionOfTheSeed() {
        let first = Self.plot(Simulation.run(Self.scenario, seed: 3, sampling: Sampling()))
        let second = Self.plot(Simulation.run(Self.scenario, seed: 3, sampling: Sampling()))
        let other = Self.plot(Simulation.run(Self.scenario, seed: 4, sampling: Sampling()))
        #expect(first == second)
        #expect(first != other)
    }

    @Test func aClientThatNeverConnectsStillGivesAWellFormedPlot() throws {
        let down = TimedEvent(at: .zero, .linkDown(link: "client->internet"))
        var scenario = Scenarios.bulk(name: "never", bytes: 1_000, events: [down])
        scenario.budget = .seconds(2)
        let verdict = Simulation.run(scenario, seed: 1, sampling: Sampling())
        #expect(verdict.flows.first?.connectedAt == nil)
        let document = try SVGOutline(Self.plot(verdict))
        #expect(document.panels == 4)
    }
}

/// What the tests need to know about an SVG document, read with Foundation's XMLParser
/// (which fails on anything that is not well-formed XML).
final class SVGOutline: NSObject, XMLParserDelegate {
    struct NotWellFormed: Error, CustomStringConvertible {
        var description: String
    }

    private(set) var root: String?
    private(set) var panels = 0
    private(set) var polylines = 0
    private(set) var lossMarks = 0
    private(set) var legend = false
    private(set) var texts: [String] = []
    private var text: String?

    init(_ svg: String) throws {
        super.init()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = self
        guard parser.parse() else {
            throw NotWellFormed(description: "\(parser.parserError.map { "\($0)" } ?? "unknown error") at line \(parser.lineNumber)")
        }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if root == nil { root = name }
        switch (name, attributes["class"]) {
        case ("g", "panel"): panels += 1
        case ("g", "legend"): legend = true
        case ("path", "loss-marks"): lossMarks += 1
        case ("polyline", _): polylines += 1
        case ("text", _): text = ""
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        text? += string
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text", let text {
            texts.append(text)
            self.text = nil
        }
    }
}
