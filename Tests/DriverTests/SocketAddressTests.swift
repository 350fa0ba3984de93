import Testing
import SecureStreams
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SocketAddressTests {
    @Test func ipv4RoundTripsThroughSockaddr() throws {
        let address = PeerAddress(ipv4: 192, 0, 2, 7, port: 4433)
        let back = address.withSocketAddress { pointer, _ in PeerAddress(socketAddress: pointer) }
        #expect(back == address)
        #expect(address.ipBytes == [192, 0, 2, 7])
        let (storage, length) = address.socketAddress
        #expect(Int(length) == MemoryLayout<sockaddr_in>.size)
        withUnsafeBytes(of: storage) { raw in
            let sin = raw.load(as: sockaddr_in.self)
            #expect(withUnsafeBytes(of: sin.sin_addr) { Array($0) } == [192, 0, 2, 7])
            #expect(UInt16(bigEndian: sin.sin_port) == 4433)
        }
    }

    @Test func ipv6RoundTripsAndMappedIPv4Unmaps() throws {
        let v6 = try PeerAddress(parsing: "[2001:db8::1]:9")
        #expect(v6.family == .ipv6)
        #expect(v6.withSocketAddress { p, _ in PeerAddress(socketAddress: p) } == v6)
        let v4 = PeerAddress(ipv4: 10, 1, 2, 3, port: 80)
        #expect(v4.mappedToIPv6.withSocketAddress { p, _ in PeerAddress(socketAddress: p) } == v4)
        #expect(v6.ipBytes == [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1])
        #expect(v4.mappedToIPv6.ipBytes == [UInt8](repeating: 0, count: 10) + [0xff, 0xff, 10, 1, 2, 3])
    }

    @Test func otherAddressFamiliesAreRefused() {
        var storage = sockaddr_storage()
        storage.ss_family = sa_family_t(AF_UNIX)
        let parsed = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { PeerAddress(socketAddress: $0) }
        }
        #expect(parsed == nil)
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
