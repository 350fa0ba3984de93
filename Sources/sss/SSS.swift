import ArgumentParser

/// `sss`: the SecureStreams command-line tool.
@main
struct SSS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sss",
        abstract: "Structured secure streams over UDP.",
        subcommands: [
            Keygen.self,
            ID.self,
            Vectors.self,
            Demo.self,
            Sim.self,
            Listen.self,
            Connect.self,
            Send.self,
            Receive.self,
            Bench.self,
            Flood.self,
            BenchPeer.self,
        ]
    )
}
