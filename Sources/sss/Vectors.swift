import ArgumentParser
import SecureStreams

/// `sss vectors noise FILE...`: replays Noise test vectors.
struct Vectors: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the implementation against published test vectors.",
        subcommands: [Noise.self]
    )

    struct Noise: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay Noise handshake vectors (IK, XX and their psk variants) in both roles.",
            discussion: """
                Each FILE is a JSON file of Noise test vectors: an object with a "vectors" array whose \
                entries have protocol_name, init_/resp_ prologue, static, ephemeral, remote_static and \
                psks, messages (payload, ciphertext, optional sender) and an optional handshake_hash. \
                Vectors of protocols the project does not implement are skipped. Prints one line per \
                failure and ends with 'N passed, M failed, K skipped'; exits non-zero when any vector \
                failed or a file could not be read.
                """
        )

        @Argument(help: "Vector files (JSON).")
        var files: [String]

        @Flag(name: .shortAndLong, help: "Also list passed and skipped vectors.")
        var verbose = false

        func run() throws {
            var summary = NoiseVectors.Summary()
            var unreadable = 0
            for file in files {
                let results: [NoiseVectors.Result]
                do {
                    results = try NoiseVectors.run(file: file)
                } catch {
                    print("error: \(error)")
                    unreadable += 1
                    continue
                }
                for result in results {
                    let label = "\(file) #\(result.index) \(result.protocolName)"
                    switch result.outcome {
                    case .passed:
                        summary.passed += 1
                        if verbose { print("ok      \(label)") }
                    case .failed(let reason):
                        summary.failed += 1
                        print("FAILED  \(label): \(reason)")
                    case .skipped(let reason):
                        summary.skipped += 1
                        if verbose { print("skipped \(label): \(reason)") }
                    }
                }
            }
            print(summary)
            if summary.failed > 0 || unreadable > 0 {
                throw ExitCode.failure
            }
        }
    }
}
