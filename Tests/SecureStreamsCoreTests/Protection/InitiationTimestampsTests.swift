import Testing
@testable import SecureStreamsCore

extension ProtectionTests {
    /// The per-initiator timestamp table of PROTOCOL.md §4.4 on its own.
    @Suite struct InitiationTimestampsTests {
        static func peer(_ byte: UInt8) -> Bytes32 { Bytes32([UInt8](repeating: byte, count: 32))! }
        static let wall = WallClockTime(seconds: 1_800_000_000, nanoseconds: 500)
        static let t0 = Timestamp(nanoseconds: 5_000_000_000)

        @Test func onlyANewerTimestampOfAHeldPeerIsFresh() {
            var table = InitiationTimestamps(capacity: 4)
            #expect(table.admit(Self.wall, from: Self.peer(1), wallClock: Self.wall, now: Self.t0) == .fresh)
            let later = Self.t0 + .seconds(10)
            #expect(table.admit(Self.wall, from: Self.peer(1), wallClock: Self.wall, now: later) == .replayed,
                    "an equal timestamp is a replay")
            let older = Self.wall.advanced(by: .milliseconds(-1))
            #expect(table.admit(older, from: Self.peer(1), wallClock: Self.wall, now: later) == .replayed,
                    "slightly older, but long after the greatest was accepted")
            #expect(table.admit(Self.wall.successor, from: Self.peer(1), wallClock: Self.wall, now: later) == .fresh)
            #expect(table.greatest(from: Self.peer(1)) == Self.wall.successor)
            // A held peer is judged by its greatest alone, not the window.
            let far = Self.wall.advanced(by: .seconds(3_600))
            #expect(table.admit(far, from: Self.peer(1), wallClock: Self.wall, now: later) == .fresh)
        }

        /// Boundary pairs of the reorder tolerance: < 1 s older, < 3 s after.
        @Test func anOvertakenInitiationIsFreshOnlyJustAfterTheNewerOne() {
            var table = InitiationTimestamps(capacity: 4)
            _ = table.admit(Self.wall, from: Self.peer(1), wallClock: Self.wall, now: Self.t0)
            let justUnder = Self.wall.advanced(by: .seconds(-1) + .nanoseconds(1))
            let oneSecond = Self.wall.advanced(by: .seconds(-1))
            #expect(table.admit(justUnder, from: Self.peer(1), wallClock: Self.wall, now: Self.t0 + .seconds(2)) == .fresh)
            #expect(table.admit(oneSecond, from: Self.peer(1), wallClock: Self.wall, now: Self.t0 + .seconds(2)) == .replayed)
            #expect(table.admit(justUnder, from: Self.peer(1), wallClock: Self.wall, now: Self.t0 + .seconds(3)) == .replayed)
            #expect(table.greatest(from: Self.peer(1)) == Self.wall, "an overtaken timestamp does not lower the greatest")
        }

        @Test func anUnknownPeerMustBeInsideTheWindow() {
            var table = InitiationTimestamps(capacity: 4, freshnessWindow: .seconds(120))
            let edge = Self.wall.advanced(by: .seconds(120))
            let beyond = Self.wall.advanced(by: .seconds(120) + .nanoseconds(1))
            #expect(table.admit(beyond, from: Self.peer(1), wallClock: Self.wall, now: Self.t0) == .outsideWindow)
            #expect(table.admit(edge, from: Self.peer(1), wallClock: Self.wall, now: Self.t0) == .fresh)
            let behind = Self.wall.advanced(by: .seconds(-120))
            let tooFarBehind = Self.wall.advanced(by: .seconds(-121))
            #expect(table.admit(tooFarBehind, from: Self.peer(2), wallClock: Self.wall, now: Self.t0) == .outsideWindow)
            #expect(table.admit(behind, from: Self.peer(2), wallClock: Self.wall, now: Self.t0) == .fresh)
            #expect(table.count == 2)
        }

        @Test func whenFullTheLeastRecentlyUsedPeerIsEvicted() {
            var table = InitiationTimestamps(capacity: 3)
            var wall = Self.wall
            func admit(_ byte: UInt8) -> InitiationTimestamps.Verdict {
                wall = wall.successor
                return table.admit(wall, from: Self.peer(byte), wallClock: wall, now: Self.t0)
            }
            for byte in UInt8(1)...3 { #expect(admit(byte) == .fresh) }
            #expect(admit(1) == .fresh)  // 1 is now the most recently used; 2 the least
            #expect(admit(4) == .fresh)
            #expect(table.count == 3)
            let held = (UInt8(1)...4).map { table.greatest(from: Self.peer($0)) != nil }
            #expect(held == [true, false, true, true])
            for index in 0..<10_000 { _ = admit(UInt8(5 + index % 190)) }
            #expect(table.count == 3, "bounded whatever the number of keys")
        }

        @Test func wallClockTimesRoundTripAndMove() throws {
            let time = WallClockTime(seconds: 0x0102_0304_0506_0708, nanoseconds: 999_999_999)
            var bytes = [UInt8](repeating: 0, count: 12)
            bytes.withUnsafeMutableBytes { buffer in
                var writer = WireWriter(buffer)
                #expect(time.encode(into: &writer))
            }
            #expect(bytes == [1, 2, 3, 4, 5, 6, 7, 8, 0x3B, 0x9A, 0xC9, 0xFF])
            #expect(bytes.withUnsafeBytes { WallClockTime.decode($0) } == time)
            var invalid = bytes
            invalid[8] = 0x3C  // nanoseconds ≥ 10⁹
            #expect(invalid.withUnsafeBytes { WallClockTime.decode($0) } == nil)
            #expect(bytes.dropLast().withUnsafeBytes { WallClockTime.decode($0) } == nil)
            #expect(time.successor == WallClockTime(seconds: 0x0102_0304_0506_0709))
            #expect(Self.wall.advanced(by: .milliseconds(-1)) == WallClockTime(seconds: 1_799_999_999, nanoseconds: 999_000_500))
            #expect(Self.wall.advanced(by: .seconds(2)).distance(from: Self.wall) == .seconds(2))
            #expect(WallClockTime(seconds: 1).advanced(by: .seconds(-5)) == WallClockTime(seconds: 0), "saturates at zero")
        }

        @Test func theTimestampTravelsInTheHandshakeParameters() throws {
            var parameters = TransportParameters()
            parameters.initiationTimestamp = Self.wall
            var bytes = [UInt8](repeating: 0, count: parameters.encodedCount)
            bytes.withUnsafeMutableBytes { buffer in
                var writer = WireWriter(buffer)
                #expect(parameters.encode(into: &writer))
            }
            #expect(Array(bytes.prefix(2)) == [0x0b, 12])
            let decoded = try bytes.withUnsafeBytes { (raw) throws(PeerError) in try TransportParameters.decode(raw) }
            #expect(decoded.initiationTimestamp == Self.wall)
            var wrongLength = bytes
            wrongLength[1] = 11
            wrongLength.removeLast()
            #expect(throws: PeerError.self) {
                _ = try wrongLength.withUnsafeBytes { (raw) throws(PeerError) in try TransportParameters.decode(raw) }
            }
        }

        /// An endpoint dates its IK Initiations strictly increasingly, even
        /// when its wall clock stands still or is set back.
        @Test func initiationTimestampsOfOneEndpointIncrease() {
            var guardian = InitiationGuard(origin: Self.wall, peerCapacity: 4)
            let first = guardian.nextInitiationTimestamp(now: .zero)
            let second = guardian.nextInitiationTimestamp(now: .zero)
            guardian.handleWallClock(Self.wall.advanced(by: .seconds(-60)), now: .zero)
            let third = guardian.nextInitiationTimestamp(now: .zero)
            #expect(first == Self.wall && second == first.successor && third == second.successor)
            guardian.handleWallClock(Self.wall.advanced(by: .seconds(60)), now: Timestamp(nanoseconds: 10))
            #expect(guardian.wallClock(at: Timestamp(nanoseconds: 1_000_000_010)) == Self.wall.advanced(by: .seconds(61)))
        }
    }
}
