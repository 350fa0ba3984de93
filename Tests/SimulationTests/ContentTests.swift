@testable import SecureStreamsSimulator
import Testing

/// The planned content the invariants check against must notice every kind of damage.
@Suite struct ContentTests {
    @Test func headersRoundTrip() throws {
        let parsed = try #require(Content.parseHeader(Content.header(client: 3, phase: 258, ordinal: 70_000)))
        #expect(parsed.client == 3 && parsed.phase == 258 && parsed.ordinal == 70_000)
    }

    @Test func shiftedRepeatedOrForeignBytesDoNotMatch() {
        let tag = Content.tag(client: 0, phase: 0, ordinal: 1)
        let plan = (0..<100_000).map { Content.byte(tag: tag, offset: $0) }
        #expect(Content.firstMismatch(Array(plan[4_096..<8_192]), tag: tag, from: 4_096) == nil)
        // A chunk delivered at the wrong offset, a repeated chunk, another stream's bytes.
        for shift in [1, 256, 1_350, 4_096, 65_536] {
            #expect(Content.firstMismatch(Array(plan[shift..<shift + 1_350]), tag: tag, from: 0) != nil, "shift \(shift)")
        }
        let other = Content.tag(client: 0, phase: 0, ordinal: 2)
        #expect(Content.firstMismatch(Array(plan[0..<1_350]), tag: other, from: 0) != nil)
        #expect(Content.tag(client: 0, phase: 0, ordinal: 1, response: true) != tag)
    }

    @Test func recordSizesStayInRangeAndPlansCoverEveryRecord() {
        let phase = WorkloadPhase.records(count: 1_000, minBytes: 5, maxBytes: 9, streams: 3)
        let sizes = (0..<1_000).map { phase.recordSize(client: 1, phase: 2, index: $0) }
        #expect(sizes.allSatisfy { (5...9).contains($0) } && Set(sizes).count == 5)
        let covered = (0..<3).flatMap { Array(phase.recordIndices(ordinal: $0)) }.sorted()
        #expect(covered == Array(0..<1_000))
        #expect(WorkloadPhase.bulk(bytes: 10, streams: 3).bulkBytes(ordinal: 0) == 4)
        #expect((0..<3).map { WorkloadPhase.bulk(bytes: 10, streams: 3).bulkBytes(ordinal: $0) }.reduce(0, +) == 10)
    }
}
