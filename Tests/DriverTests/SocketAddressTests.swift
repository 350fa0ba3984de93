import Testing
import SecureStreams

@Suite struct SocketAddressTests {
    @Test func ipv4RoundTripsThroughSockaddr() throws {
        let address = PeerAddress(ipv4: 192, 0, 2, 7, port: 4433)
        let back = address.withSocketAddress { pointer, _ in PeerAddress(socketAddress: pointer) }
        #expect(back == address)
    }

    @Test func ipv6RoundTripsAndMappedIPv4Unmaps() throws {
        let v6 = try PeerAddress(parsing: "[2001:db8::1]:9")
        #expect(v6.family == .ipv6)
        #expect(v6.withSocketAddress { p, _ in PeerAddress(socketAddress: p) } == v6)
        let v4 = PeerAddress(ipv4: 10, 1, 2, 3, port: 80)
        #expect(v4.mappedToIPv6.withSocketAddress { p, _ in PeerAddress(socketAddress: p) } == v4)
    }

    @Test func parsingNamesWhatIsWrong() {
        #expect(throws: AddressParseError.self) { try PeerAddress(parsing: "1.2.3.4:99999") }
        #expect(throws: AddressParseError.self) { try PeerAddress(parsing: "example.org:80") }
        #expect(throws: AddressParseError.self) { try PeerAddress(parsing: "[::1:80") }
        #expect(throws: AddressParseError.self) { try PeerAddress(parsing: "::1:80") }
        #expect((try? PeerAddress(parsing: "localhost:5")) == PeerAddress(ipv4: 127, 0, 0, 1, port: 5))
        #expect((try? PeerAddress(parsing: "7000")) == PeerAddress(ipv4: 127, 0, 0, 1, port: 7000))
    }
}
