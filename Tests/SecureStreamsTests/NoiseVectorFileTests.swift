import Foundation
import Testing
@testable import SecureStreams

/// The published Noise vectors (a copy of shared/vectors/noise), replayed
/// through the same code as `sss vectors noise`.
@Suite struct NoiseVectorFileTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("SecureStreamsCoreTests/Vectors/noise")

    @Test(arguments: ["cacophony.json", "snow.json", "noise-c.json"])
    func everyVectorPasses(file: String) throws {
        let results = try NoiseVectors.run(file: Self.directory.appendingPathComponent(file).path)
        #expect(!results.isEmpty)
        for result in results {
            #expect(result.outcome == .passed, "\(file) #\(result.index) \(result.protocolName)")
        }
    }

    @Test func tamperedVectorsFailAndUnsupportedAreSkipped() throws {
        let source = Self.directory.appendingPathComponent("cacophony.json")
        var json = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: source)) as? [String: Any])
        var vectors = try #require(json["vectors"] as? [[String: Any]])
        vectors = Array(vectors.prefix(4))
        var messages = try #require(vectors[0]["messages"] as? [[String: Any]])
        let ciphertext = try #require(messages[1]["ciphertext"] as? String)
        messages[1]["ciphertext"] = String(ciphertext.dropLast(2)) + (ciphertext.hasSuffix("00") ? "01" : "00")
        vectors[0]["messages"] = messages
        vectors[1]["handshake_hash"] = String(repeating: "00", count: 64)
        vectors[2]["protocol_name"] = "Noise_NN_25519_ChaChaPoly_SHA256"
        vectors[3]["init_ephemeral"] = nil
        json["vectors"] = vectors
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tampered-\(UUID()).json")
        try JSONSerialization.data(withJSONObject: json).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }

        let outcomes = try NoiseVectors.run(file: path.path).map(\.outcome)
        guard case .failed(let first) = outcomes[0] else { Issue.record("tampered ciphertext passed"); return }
        #expect(first.contains("message 1: ciphertext differs"))
        guard case .failed(let second) = outcomes[1] else { Issue.record("wrong handshake hash passed"); return }
        #expect(second.contains("handshake hash"))
        #expect(outcomes[2] == .skipped("protocol not supported"))
        guard case .failed(let fourth) = outcomes[3] else { Issue.record("missing ephemeral passed"); return }
        #expect(fourth.contains("no ephemeral key"))
    }

    @Test func unreadableFilesAreReportedWithTheReason() {
        #expect(throws: NoiseVectors.FileError.self) { try NoiseVectors.run(file: "/nonexistent/vectors.json") }
        do {
            _ = try NoiseVectors.run(file: "/nonexistent/vectors.json")
        } catch {
            #expect(error.description.contains("no such file"))
        }
    }
}
