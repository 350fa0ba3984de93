// The README's tour of the API, compiled by `make test` and run by
// `TourExampleTests`, so the README cannot drift from what compiles. The
// lines between the `tour:` markers are quoted in README.md verbatim.
//
// One process plays both parts on loopback: a server that echoes records on
// every stream, and a client that connects by EID and talks to it.

// tour:begin
import SecureStreams
import SecureStreamsDispatch   // or SecureStreamsLibUV, or your own DriverFactory
import SecureStreamsLibUV

var random = SystemRandom()
// A real host loads its key: IdentityFile.loadOrCreateDefault(using: &random).identity
let serverIdentity = HostIdentity(using: &random)
let clientIdentity = HostIdentity(using: &random)

// The server admits only the peers it names (PeerTrust.anyone admits everyone).
let server = try Host(identity: serverIdentity, driver: DispatchDriverFactory(), bindingTo: .loopback(port: 0))
let listener = try await server.listen(service: "echo", protocols: ["v1"],
                                       trust: .only([clientIdentity.endpointID]))
let serving = Task {
    for await connection in listener {                        // ends when the server shuts down
        Task {
            for await stream in connection.incomingStreams {  // streams the peer opens
                while let record = try await stream.readRecord() { try await stream.writeRecord(record) }
                try await stream.finish()                     // half-close
            }
        }
    }
}

// The client knows the server's EID: Noise IK, one round trip. (Knowing only
// the address, connect(at:service:protocol:) with HostConfiguration(knownHostsPath:)
// trusts on first use: it pins the key and refuses a changed one.)
let client = try Host(identity: clientIdentity, driver: LibUVDriverFactory())
let connection = try await client.connect(to: server.endpointID, at: server.localAddress,
                                          service: "echo", protocol: "v1")
let stream = try await connection.openStream()               // no round trip
try await stream.writeRecord(Array("hello".utf8))            // suspends while the window is full
try await stream.finish()
let echoed = try await stream.readRecord()                   // whole records; read() for bytes
print(String(decoding: echoed ?? [], as: UTF8.self), await connection.statistics()?.smoothedRTT ?? .zero)

await connection.close()
await client.shutdown()
await server.shutdown()
await serving.value
// tour:end
