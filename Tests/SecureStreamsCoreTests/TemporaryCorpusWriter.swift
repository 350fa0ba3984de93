import Foundation
import Testing
@testable import SecureStreamsCore

@Suite struct TemporaryCorpusWriter {
    @Test func writeCorpora() throws {
        guard ProcessInfo.processInfo.environment["WRITE_FUZZ_CORPUS"] == "1" else { return }
        let all: [(String, [(name: String, bytes: [UInt8])])] = [
            ("FuzzPacketHeader", FuzzPacketHeader.seeds()), ("FuzzFrames", FuzzFrames.seeds()),
            ("FuzzInitiation", FuzzInitiation.seeds()), ("FuzzResponse", FuzzResponse.seeds()),
            ("FuzzEndpointOps", FuzzEndpointOps.seeds()), ("FuzzReassembly", FuzzReassembly.seeds()),
            ("FuzzKeyParsers", FuzzKeyParsers.seeds()),
        ]
        for (target, seeds) in all {
            let directory = FuzzCrasherTests.fuzzDirectory.appendingPathComponent("Corpus").appendingPathComponent(target)
            for seed in seeds {
                try Data(seed.bytes).write(to: directory.appendingPathComponent(seed.name))
            }
        }
    }
}
