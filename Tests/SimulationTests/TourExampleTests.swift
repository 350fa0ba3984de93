import Foundation
import Testing

/// The README's API tour is `Examples/Tour/main.swift`, quoted verbatim: it
/// compiles (`make test` builds it), it runs, and the README holds it.
@Suite struct TourExampleTests {
    static let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardizedFileURL

    /// The lines between the `tour:begin` and `tour:end` markers.
    static func tour() throws -> String {
        let source = try String(contentsOf: package.appendingPathComponent("Examples/Tour/main.swift"), encoding: .utf8)
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        let begin = try #require(lines.firstIndex { $0 == "// tour:begin" })
        let end = try #require(lines.firstIndex { $0 == "// tour:end" })
        return lines[(begin + 1)..<end].joined(separator: "\n")
    }

    @Test func theReadmeQuotesTheCompiledTour() throws {
        let readme = try String(contentsOf: Self.package.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("```swift\n" + (try Self.tour()) + "\n```"), "README.md's tour differs from Examples/Tour/main.swift")
    }

    @Test(.timeLimit(.minutes(1))) func theTourRunsAndEchoes() throws {
        let sss = try #require(CrossProcessTests.sss, "no binaries next to the tests: run `swift build --build-tests` first")
        let tour = sss.deletingLastPathComponent().appendingPathComponent("Tour")
        let process = Process()
        process.executableURL = tour
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(text.hasPrefix("hello "), "\(text)")
    }
}
