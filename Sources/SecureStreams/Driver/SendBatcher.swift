// The batched send side of the drivers: transmits polled straight into one
// preallocated area, then sent with sendmmsg, runs of equal-size datagrams to
// one peer as UDP GSO. Driver-neutral: it needs only a non-blocking fd.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
package import SecureStreamsCore

/// What a ``SendBatcher`` did, added to by each flush; a driver folds it
/// into its own statistics.
package struct SendCounters {
    /// Datagrams the kernel accepted (a GSO send counts each segment).
    package var datagramsSent: UInt64 = 0
    package var bytesSent: UInt64 = 0
    /// sendmmsg calls that sent at least one message.
    package var sendBatches: UInt64 = 0
    /// Messages sent as one UDP GSO buffer of several datagrams.
    package var gsoSends: UInt64 = 0
    /// Hard send errors; their datagrams were dropped.
    package var sendErrors: UInt64 = 0
    package var datagramsDropped: UInt64 = 0
    /// Times the socket would block.
    package var wouldBlock: UInt64 = 0

    package init() {}
}

/// Polls transmits into consecutive bytes of a send area and sends them in
/// batches. Only ``DriverLoop`` uses it: the one place transmits are drained.
///
/// Two kinds of run go out as one UDP GSO message (a UDP_SEGMENT cmsg, at
/// most ``maxSegments`` datagrams and ``maxGSOBytes`` bytes):
/// - a transmit with `segmentSize` set (the core's own run of equal-size
///   datagrams to one destination) is sent as it came, never compared with
///   its neighbours — only cut where it exceeds those two limits;
/// - single datagrams polled one after another are adjacent in the area, so
///   consecutive ones to the same destination with the same size (the last
///   may be shorter) are grouped into one message.
/// Without GSO every datagram is its own message. Up to `batchSize`
/// messages share one sendmmsg call. When the socket would block, the unsent
/// datagrams stay (bounded by the area) and polling pauses until
/// ``flush(on:counters:)`` empties them.
///
/// Destinations are converted for a socket of `socketFamily` (an IPv6
/// socket sends to IPv4 peers mapped; an IPv4 socket drops IPv6 peers).
package struct SendBatcher: ~Copyable {
    /// What a flush achieved.
    package enum Outcome { case sent, wouldBlock }

    /// Linux's UDP_MAX_SEGMENTS.
    package static let maxSegments = 64
    /// Under the 65,507-byte IPv4 (65,527 IPv6) UDP payload limit, with room to spare.
    package static let maxGSOBytes = 64_000

    private struct Entry {
        var destination: PeerAddress
        var offset: Int
        var count: Int
        /// Datagrams left in the core's run from this one on (this one
        /// included); 1 for a datagram polled on its own.
        var run: Int
    }

    private let batchSize: Int
    private let socketFamily: PeerAddress.Family
    private let area: UnsafeMutableRawBufferPointer
    private var cursor = 0
    private var entries: [Entry] = []
    private let entryCapacity: Int
    /// The first entry not yet sent.
    private var next = 0
    private let messages: MessageVector
    /// The entries each message of the current round carries.
    private var groups: [(first: Int, count: Int, bytes: Int)] = []
    private let vectors: UnsafeMutablePointer<iovec>
    private let names: UnsafeMutablePointer<sockaddr_storage>
    private let controls: UnsafeMutableRawPointer
    private static let controlBytes = 32
    /// The last destination converted to a sockaddr (the conversion allocates).
    private var cachedDestination: PeerAddress?
    private var cachedName: (storage: sockaddr_storage, length: socklen_t)?
    /// Whether GSO may be used; cleared for good when the kernel refuses it.
    package private(set) var usesGSO: Bool
    /// Tests only: every `n`th message answers EAGAIN without being sent (0: never).
    package var injectedWouldBlockEvery = 0
    private var sendsSinceInjection = 0

    /// True when unsent datagrams wait for the socket to become writable.
    package var hasPending: Bool { next < entries.count }

    package init(batchSize: Int, usesGSO: Bool, socketFamily: PeerAddress.Family) {
        precondition(batchSize > 0, "a send batch needs at least one message")
        self.batchSize = batchSize
        self.usesGSO = usesGSO
        self.socketFamily = socketFamily
        area = .allocate(byteCount: batchSize * 65_536, alignment: 16)
        entryCapacity = batchSize * Self.maxSegments
        entries.reserveCapacity(entryCapacity)
        groups.reserveCapacity(batchSize)
        messages = MessageVector(capacity: batchSize)
        vectors = .allocate(capacity: batchSize)
        names = .allocate(capacity: batchSize)
        names.initialize(repeating: sockaddr_storage(), count: batchSize)
        controls = .allocate(byteCount: batchSize * Self.controlBytes, alignment: 16)
    }

    deinit {
        area.deallocate()
        vectors.deallocate()
        names.deallocate()
        controls.deallocate()
    }

    /// Polls transmits with `poll` into the free part of the area until it
    /// returns `nil` or the area is full (each poll gets at least
    /// `minimumSpace` bytes). Returns whether polling ran dry.
    /// - Precondition: nothing is pending.
    package mutating func fill(minimumSpace: Int, _ poll: (UnsafeMutableRawBufferPointer) -> Transmit?) -> Bool {
        precondition(!hasPending, "fill while datagrams wait to be sent")
        entries.removeAll(keepingCapacity: true)
        cursor = 0
        next = 0
        let slot = min(max(minimumSpace, 4_096), area.count)
        while entries.count < entryCapacity - Self.maxSegments, area.count - cursor >= slot {
            let end = cursor + min(area.count - cursor, 65_536)
            let free = UnsafeMutableRawBufferPointer(rebasing: area[cursor..<end])
            guard let transmit = poll(free) else { return true }
            guard transmit.count > 0 else { continue }
            // A core run is kept as its segments, each knowing how many of the run follow it.
            let segment = min(max(transmit.segmentSize ?? transmit.count, 1), transmit.count)
            var run = (transmit.count + segment - 1) / segment
            var start = 0
            while start < transmit.count {
                let length = min(segment, transmit.count - start)
                entries.append(Entry(destination: transmit.destination, offset: cursor + start, count: length,
                                     run: run))
                start += length
                run -= 1
            }
            cursor += transmit.count
        }
        return false
    }

    /// Sends the pending datagrams on `fd` (non-blocking). On would-block the
    /// rest stay pending.
    package mutating func flush(on fd: Int32, counters: inout SendCounters) -> Outcome {
        var retries = 0
        while next < entries.count {
            let built = build(counters: &counters)
            guard built > 0 else { continue }  // every datagram of this round was unsendable
            var count = built
            if injectedWouldBlockEvery > 0 {
                let allowed = injectedWouldBlockEvery - 1 - sendsSinceInjection
                if allowed <= 0 {
                    sendsSinceInjection = 0
                    counters.wouldBlock += 1
                    return .wouldBlock
                }
                count = min(count, allowed)
            }
            let sent = messages.send(on: fd, count: count)
            if sent > 0 {
                if injectedWouldBlockEvery > 0 { sendsSinceInjection += sent }
                counters.sendBatches += 1
                for group in groups[0..<sent] {
                    counters.datagramsSent += UInt64(group.count)
                    counters.bytesSent += UInt64(group.bytes)
                    if group.count > 1 { counters.gsoSends += 1 }
                }
                next = groups[sent - 1].first + groups[sent - 1].count
                retries = 0
                continue
            }
            let error = errno
            switch error {
            case EAGAIN, EWOULDBLOCK, ENOBUFS:
                counters.wouldBlock += 1
                return .wouldBlock
            case EINTR:
                continue
            case EIO, EINVAL, ENOPROTOOPT, EOPNOTSUPP, EMSGSIZE:
                if groups[0].count > 1 {
                    usesGSO = false  // the kernel or the device refuses GSO: batch without it from now on
                } else {
                    drop(counters: &counters)
                }
            case ECONNREFUSED where retries < 2:
                // An ICMP report from an earlier datagram, not about this one.
                counters.sendErrors += 1
                retries += 1
            default:
                drop(counters: &counters)
                retries = 0
            }
        }
        return .sent
    }

    /// Hands the first pending datagram to `body` and counts it as no longer
    /// pending: for a driver that sends it by other means (a queued send that
    /// waits for writability). The bytes are valid only during `body`.
    /// Returns `false` when nothing is pending.
    package mutating func takeFirstPending(_ body: (PeerAddress, UnsafeRawBufferPointer) -> Void) -> Bool {
        while next < entries.count {
            let entry = entries[next]
            next += 1
            guard entry.count > 0 else { continue }  // dropped
            body(entry.destination, UnsafeRawBufferPointer(rebasing: area[entry.offset..<entry.offset + entry.count]))
            return true
        }
        return false
    }

    /// Counts a hard error and gives up the first message of the round.
    private mutating func drop(counters: inout SendCounters) {
        counters.sendErrors += 1
        counters.datagramsDropped += UInt64(groups[0].count)
        next = groups[0].first + groups[0].count
    }

    /// Fills the message vector from `next`: returns the message count.
    /// Datagrams this socket cannot address are dropped and counted.
    private mutating func build(counters: inout SendCounters) -> Int {
        groups.removeAll(keepingCapacity: true)
        var index = next
        while groups.count < batchSize, index < entries.count {
            let first = entries[index]
            guard first.count > 0, let name = name(for: first.destination) else {
                if first.count > 0 {  // counted once: a zero count marks it dropped
                    counters.sendErrors += 1
                    counters.datagramsDropped += 1
                    entries[index].count = 0
                }
                index += 1
                if groups.isEmpty { next = index }
                continue
            }
            var total = first.count
            var end = index + 1
            if usesGSO, first.run > 1 {
                // The core's run, as it came: no comparing, only the kernel's limits.
                while end < index + first.run, end - index < Self.maxSegments,
                      total + entries[end].count <= Self.maxGSOBytes {
                    total += entries[end].count
                    end += 1
                }
            } else if usesGSO {
                while end < entries.count, end - index < Self.maxSegments, entries[end].run == 1,
                      entries[end].destination == first.destination, entries[end].count <= first.count,
                      total + entries[end].count <= Self.maxGSOBytes {
                    total += entries[end].count
                    end += 1
                    if entries[end - 1].count < first.count { break }  // a shorter datagram ends the run
                }
            }
            let slot = groups.count
            names[slot] = name.storage
            vectors[slot] = iovec(iov_base: area.baseAddress! + first.offset, iov_len: total)
            var header = msghdr()
            header.msg_name = UnsafeMutableRawPointer(names + slot)
            header.msg_namelen = name.length
            header.msg_iov = vectors + slot
            header.msg_iovlen = 1
            if end - index > 1 {
                let control = controls + slot * Self.controlBytes
                header.msg_control = control
                header.msg_controllen = .init(ControlMessage.write(
                    level: UDPOption.level, type: UDPOption.segment, value: UInt16(first.count), into: control))
            }
            messages.set(slot, header)
            groups.append((index, end - index, total))
            index = end
        }
        return groups.count
    }

    private mutating func name(for destination: PeerAddress) -> (storage: sockaddr_storage, length: socklen_t)? {
        if let cachedName, cachedDestination == destination { return cachedName }
        guard let name = destination.socketAddress(fromSocketOf: socketFamily) else { return nil }
        cachedDestination = destination
        cachedName = name
        return name
    }
}
