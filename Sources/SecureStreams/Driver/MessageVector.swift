// The C-level pieces Swift's Glibc module does not import: `struct mmsghdr`,
// recvmmsg/sendmmsg (declared only under _GNU_SOURCE), the CMSG_* macros and
// the UDP GSO/GRO constants. Shared by the drivers of this package.
#if canImport(Glibc)
package import Glibc
#elseif canImport(Darwin)
package import Darwin
#endif

/// A preallocated array of `struct mmsghdr` (a `msghdr` followed by the
/// kernel's `msg_len`), laid out as the C compiler would, for recvmmsg and
/// sendmmsg.
///
/// `mmsghdr` is not imported (it needs `_GNU_SOURCE`), so the entries live
/// in raw memory at the C stride and are read and written with
/// `load`/`storeBytes`, which is defined for these trivial types.
package struct MessageVector: ~Copyable {
    /// Number of entries.
    package let capacity: Int
    private let storage: UnsafeMutableRawPointer

    /// `sizeof(struct mmsghdr)`: the msghdr, the 32-bit length, padded to the msghdr's alignment.
    package static let stride: Int = {
        let unpadded = MemoryLayout<msghdr>.size + MemoryLayout<UInt32>.size
        let alignment = MemoryLayout<msghdr>.alignment
        return (unpadded + alignment - 1) / alignment * alignment
    }()
    private static let lengthOffset = MemoryLayout<msghdr>.size

    package init(capacity: Int) {
        precondition(capacity > 0, "a message vector needs at least one entry")
        self.capacity = capacity
        storage = .allocate(byteCount: capacity * Self.stride, alignment: MemoryLayout<msghdr>.alignment)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: capacity * Self.stride)
    }

    deinit { storage.deallocate() }

    /// Sets entry `index` to `header`, with a zero `msg_len`.
    package func set(_ index: Int, _ header: msghdr) {
        storage.storeBytes(of: header, toByteOffset: index * Self.stride, as: msghdr.self)
        storage.storeBytes(of: 0, toByteOffset: index * Self.stride + Self.lengthOffset, as: UInt32.self)
    }

    /// The header of entry `index` as the kernel left it (lengths, flags).
    package func header(_ index: Int) -> msghdr {
        storage.load(fromByteOffset: index * Self.stride, as: msghdr.self)
    }

    /// Bytes the kernel received into (or sent from) entry `index`.
    package func length(_ index: Int) -> Int {
        Int(storage.load(fromByteOffset: index * Self.stride + Self.lengthOffset, as: UInt32.self))
    }

    /// Calls recvmmsg (or recvmsg once per entry where it does not exist) on
    /// the first `count` entries without blocking. Returns the number of
    /// messages, or -1 with `errno` set.
    package func receive(on fd: Int32, count: Int) -> Int {
        if let call = MultiMessageCalls.receive {
            return Int(call(fd, storage, UInt32(count), Int32(MSG_DONTWAIT), nil))
        }
        var header = self.header(0)
        let received = recvmsg(fd, &header, Int32(MSG_DONTWAIT))
        guard received >= 0 else { return -1 }
        set(0, header)
        storage.storeBytes(of: UInt32(received), toByteOffset: Self.lengthOffset, as: UInt32.self)
        return 1
    }

    /// Calls sendmmsg (or sendmsg per entry where it does not exist) on the
    /// first `count` entries. Returns how many messages left, or -1 with
    /// `errno` set (then none did).
    package func send(on fd: Int32, count: Int) -> Int {
        if let call = MultiMessageCalls.send {
            return Int(call(fd, storage, UInt32(count), Int32(MSG_DONTWAIT)))
        }
        for index in 0..<count {
            var header = self.header(index)
            if sendmsg(fd, &header, Int32(MSG_DONTWAIT)) < 0 { return index == 0 ? -1 : index }
        }
        return count
    }
}

/// recvmmsg and sendmmsg, looked up once in the C library (they are not
/// visible to Swift without `_GNU_SOURCE`); `nil` where the system has none.
package enum MultiMessageCalls {
    package typealias Receive = @convention(c) (
        Int32, UnsafeMutableRawPointer?, UInt32, Int32, UnsafeMutablePointer<timespec>?
    ) -> Int32
    package typealias Send = @convention(c) (Int32, UnsafeMutableRawPointer?, UInt32, Int32) -> Int32

    package static let receive: Receive? = lookUp("recvmmsg", as: Receive.self)
    package static let send: Send? = lookUp("sendmmsg", as: Send.self)

    private static func lookUp<F>(_ name: String, as type: F.Type) -> F? {
        #if os(Linux)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }  // RTLD_DEFAULT
        return unsafeBitCast(symbol, to: type)
        #else
        return nil
        #endif
    }
}

/// The CMSG_* macros of `<sys/socket.h>`, for one ancillary item at a time.
package enum ControlMessage {
    /// `CMSG_ALIGN`: ancillary data is aligned to `size_t`.
    package static func align(_ length: Int) -> Int {
        let word = MemoryLayout<Int>.size
        return (length + word - 1) & ~(word - 1)
    }

    /// `CMSG_LEN(length)`: the header plus `length` data bytes.
    package static func length(_ dataLength: Int) -> Int { align(MemoryLayout<cmsghdr>.size) + dataLength }

    /// `CMSG_SPACE(length)`: what one item with `length` data bytes occupies.
    package static func space(_ dataLength: Int) -> Int { align(MemoryLayout<cmsghdr>.size) + align(dataLength) }

    /// Writes one item (`level`, `type`, a 16-bit value) at `buffer` and
    /// returns the `msg_controllen` to use.
    package static func write(level: Int32, type: Int32, value: UInt16, into buffer: UnsafeMutableRawPointer) -> Int {
        var header = cmsghdr()
        header.cmsg_len = .init(length(MemoryLayout<UInt16>.size))
        header.cmsg_level = level
        header.cmsg_type = type
        buffer.storeBytes(of: header, as: cmsghdr.self)
        buffer.storeBytes(of: value, toByteOffset: align(MemoryLayout<cmsghdr>.size), as: UInt16.self)
        return space(MemoryLayout<UInt16>.size)
    }

    /// Finds the integer carried by the item (`level`, `type`) among the
    /// `count` bytes of ancillary data at `buffer`; `nil` when absent.
    package static func integer(level: Int32, type: Int32, in buffer: UnsafeRawPointer, count: Int) -> Int? {
        let headerSize = align(MemoryLayout<cmsghdr>.size)
        var offset = 0
        while offset + MemoryLayout<cmsghdr>.size <= count {
            let header = buffer.loadUnaligned(fromByteOffset: offset, as: cmsghdr.self)
            let itemLength = Int(header.cmsg_len)
            guard itemLength >= headerSize, offset + itemLength <= count else { return nil }
            if header.cmsg_level == level && header.cmsg_type == type {
                switch itemLength - headerSize {
                case MemoryLayout<UInt16>.size:
                    return Int(buffer.loadUnaligned(fromByteOffset: offset + headerSize, as: UInt16.self))
                case MemoryLayout<Int32>.size...:
                    return Int(buffer.loadUnaligned(fromByteOffset: offset + headerSize, as: Int32.self))
                default:
                    return nil
                }
            }
            offset += align(itemLength)
        }
        return nil
    }
}

/// The UDP socket options of `<linux/udp.h>` (not imported), and the probe
/// for GSO.
package enum UDPOption {
    /// `SOL_UDP` (= IPPROTO_UDP).
    package static let level: Int32 = 17
    /// `UDP_SEGMENT`: the GSO segment size, as a socket option or a 16-bit cmsg.
    package static let segment: Int32 = 103
    /// `UDP_GRO`: receive coalesced datagrams with their segment size in a cmsg.
    package static let gro: Int32 = 104

    /// Whether the kernel knows UDP_SEGMENT on `fd` (a getsockopt that succeeds).
    package static func supportsGSO(on fd: Int32) -> Bool {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, level, segment, &value, &length) == 0
    }
}
