/// Contiguous byte storage addressed relative to a moving front: the memory
/// behind ``SendBuffer`` and ``ReceiveBuffer``.
///
/// Logical index 0 is the front (the oldest byte still kept); ``advance(by:)``
/// drops bytes from the front in O(1) by moving the head, so freeing an
/// acknowledged or consumed prefix never shifts memory. Reads and writes at a
/// logical index copy with `memcpy`-speed, split in two where the ring wraps.
///
/// The ring does not decide how much to hold: owners call
/// ``reserve(_:preserving:)`` to grow it (their limits bound it) and
/// ``release()`` when empty, so an idle stream holds no bytes at all.
struct ByteRing {
    private var storage: [UInt8] = []
    /// Index in `storage` of logical byte 0.
    private var head = 0

    init() {}

    /// Bytes the ring can address without growing.
    var capacity: Int { storage.count }

    /// Grows the storage to at least `newCapacity` bytes, keeping the first
    /// `live` logical bytes in place (at the same logical indices).
    /// - Precondition: `live <= capacity`.
    mutating func reserve(_ newCapacity: Int, preserving live: Int) {
        precondition(live <= capacity, "ByteRing.reserve: live bytes exceed capacity")
        guard newCapacity > capacity else { return }
        var grown = [UInt8](repeating: 0, count: newCapacity)
        if live > 0 {
            grown.withUnsafeMutableBytes { destination in
                copy(from: 0, into: UnsafeMutableRawBufferPointer(rebasing: destination[0..<live]))
            }
        }
        storage = grown
        head = 0
    }

    /// Writes `bytes` at logical `index`.
    /// - Precondition: `index + bytes.count <= capacity`.
    mutating func write(_ bytes: UnsafeRawBufferPointer, at index: Int) {
        precondition(index >= 0 && index + bytes.count <= capacity, "ByteRing.write out of range")
        guard !bytes.isEmpty else { return }
        let start = slot(index)
        let firstPart = min(bytes.count, capacity - start)
        storage.withUnsafeMutableBytes { raw in
            UnsafeMutableRawBufferPointer(rebasing: raw[start..<(start + firstPart)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<firstPart]))
            let rest = bytes.count - firstPart
            if rest > 0 {
                UnsafeMutableRawBufferPointer(rebasing: raw[0..<rest])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[firstPart...]))
            }
        }
    }

    /// Copies `destination.count` bytes starting at logical `index` into `destination`.
    /// - Precondition: `index + destination.count <= capacity`.
    func copy(from index: Int, into destination: UnsafeMutableRawBufferPointer) {
        precondition(index >= 0 && index + destination.count <= capacity, "ByteRing.copy out of range")
        guard !destination.isEmpty else { return }
        let start = slot(index)
        let firstPart = min(destination.count, capacity - start)
        storage.withUnsafeBytes { raw in
            UnsafeMutableRawBufferPointer(rebasing: destination[0..<firstPart])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[start..<(start + firstPart)]))
            let rest = destination.count - firstPart
            if rest > 0 {
                UnsafeMutableRawBufferPointer(rebasing: destination[firstPart...])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<rest]))
            }
        }
    }

    /// The byte at logical `index`.
    subscript(index: Int) -> UInt8 {
        get { storage[slot(index)] }
        set { storage[slot(index)] = newValue }
    }

    /// Drops `n` bytes from the front: logical index `n` becomes 0.
    mutating func advance(by n: Int) {
        precondition(n >= 0 && n <= capacity, "ByteRing.advance beyond capacity")
        guard capacity > 0 else { return }
        head = slot(n == capacity ? 0 : n)
    }

    /// Frees the storage; the ring is empty with zero capacity.
    mutating func release() {
        storage = []
        head = 0
    }

    private func slot(_ index: Int) -> Int {
        let raw = head + index
        return raw >= storage.count ? raw - storage.count : raw
    }
}
