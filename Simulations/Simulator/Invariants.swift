/// The invariants every run checks, whatever the scenario says:
///
/// - every byte of a reliable stream arrives exactly once, in order, and
///   the stream ends exactly at its planned length;
/// - every record arrives whole, in order, with its planned size and content;
/// - nothing is read from a stream after its end, nor from a connection after it closed;
/// - every workload finishes within the virtual-time budget (liveness).
///
/// Violations are collected in the order found; the first is the headline.
struct Invariants {
    enum Kind { case liveness, correctness }

    private(set) var violations: [(kind: Kind, message: String)] = []
    /// Streams read to their end and checked, per (client, phase), in a flat array.
    private var completed: [[Int]]
    /// Payload bytes of each client's workload read by the receiving application so far (progress, for ``FlowSeries``).
    private(set) var deliveredBytes: [Int]

    init(phasesPerClient: [Int]) {
        completed = phasesPerClient.map { Array(repeating: 0, count: $0) }
        deliveredBytes = Array(repeating: 0, count: phasesPerClient.count)
    }

    var hasCorrectnessViolation: Bool { violations.contains { $0.kind == .correctness } }

    mutating func fail(_ kind: Kind, _ message: String) {
        if violations.count < 100 { violations.append((kind, message)) }
    }

    mutating func streamCompleted(client: Int, phase: Int) {
        completed[client][phase] += 1
        completions += 1
    }

    /// Streams completed so far, all clients together: a change tells the
    /// runner a client may have finished a phase.
    private(set) var completions = 0

    func completedStreams(client: Int, phase: Int) -> Int { completed[client][phase] }

    mutating func delivered(_ bytes: Int, client: Int) {
        deliveredBytes[client] += bytes
    }
}
