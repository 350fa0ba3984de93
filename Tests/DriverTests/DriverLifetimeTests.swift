import SecureStreams
import Testing

/// A driver that has been shut down lets go of its loop and of itself: no
/// reference cycle through its thread, its timer or its callbacks keeps the
/// endpoint (and the connections' buffers) alive. `make test-asan` finds
/// such cycles as leaks at exit; this finds them in `make test`.
@Suite(.timeLimit(.minutes(1))) struct DriverLifetimeTests {
    @Test(arguments: [InteropTests.Kind.dispatch, .libuv, .poll])
    func aShutDownDriverReleasesItsLoop(_ kind: InteropTests.Kind) async throws {
        weak var weakLoop: EndpointLoop?
        weak var weakDriver: (any Driver)?
        do {
            var random = SystemRandom()
            var endpoint = Endpoint(configuration: EndpointConfiguration(identity: HostIdentity(using: &random)),
                                    random: SystemRandom(), now: .zero)
            endpoint.listen(service: "s", protocol: "p")
            let loop = EndpointLoop(endpoint: endpoint)
            let driver = try kind.factory.start(loop, binding: .loopback())
            weakLoop = loop
            weakDriver = driver
            driver.execute { _ in }
            driver.shutdown()
        }
        // The loop thread drops its references as it exits, just after
        // `shutdown` returns: wait for that (a bound on waiting, not on speed).
        _ = await eventually(maxPolls: 1_000, pause: .milliseconds(10)) { weakLoop == nil && weakDriver == nil }
        #expect(weakLoop == nil, "the \(kind) driver still holds its loop after shutdown")
        #expect(weakDriver == nil, "the \(kind) driver is still alive after shutdown")
    }
}
