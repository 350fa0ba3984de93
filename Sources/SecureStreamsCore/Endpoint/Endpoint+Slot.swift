/// Where a slot keeps its connection: behind one reference, so the slot array
/// holds a pointer per slot and its doubling slack costs 8 bytes a slot, not
/// the size of a ``Connection`` (about 1.7 KB). A slot freed by the endpoint
/// keeps its (empty) box for the next connection it holds.
///
/// Copy-on-write: a copied ``Endpoint`` shares the boxes until one copy
/// mutates a connection, which then gets a box of its own, so copies keep
/// value semantics (the fuzz harness copies a connected endpoint).
struct ConnectionStorage {
    /// The heap cell of one connection: its header is the connection.
    final class Box: ManagedBuffer<Connection?, Void>, @unchecked Sendable {
        static func make(_ connection: Connection?) -> Box {
            unsafeDowncast(Box.create(minimumCapacity: 0) { _ in connection }, to: Box.self)
        }

        /// The connection's address, valid while the box is alive.
        var pointer: UnsafeMutablePointer<Connection?> { withUnsafeMutablePointerToHeader { $0 } }
    }

    fileprivate var box = Box.make(nil)
}

extension Endpoint.Slot {
    /// The connection in this slot, read and mutated in place in its box
    /// through addressors (no copy, no coroutine frame, no allocation):
    /// `slots[index].connection!.handleData(...)` changes the boxed
    /// connection itself, after a copy-on-write the first time a copied
    /// endpoint's box is shared.
    var connection: Connection? {
        unsafeAddress {
            UnsafePointer(storage.box.pointer)
        }
        unsafeMutableAddress {
            if !isKnownUniquelyReferenced(&storage.box) { storage.box = ConnectionStorage.Box.make(storage.box.header) }
            return storage.box.pointer
        }
    }
}

/// The buffers a connection fills and empties within one ACK or timeout
/// (``Connection/recoveryEvents``, ``Connection/releasedFrames``): the
/// endpoint owns one set and lends it to the connection it is handling, so
/// each of 100,000 idle connections does not keep its own grown copies
/// (about 200 bytes each). Grown once to the largest ACK seen, then reused.
struct RecoveryScratch {
    var events = RecoveryEvents(capacity: 0)
    var frames: [SentFrame] = []
}

extension Endpoint {
    /// Swaps the endpoint's recovery buffers with the connection's in
    /// `index`: once before handling a datagram or a timeout on it, once
    /// after. Connections driven alone (in tests) keep their own.
    mutating func swapRecoveryScratch(_ index: Int) {
        guard slots[index].connection != nil else { return }
        swap(&recoveryScratch.events, &slots[index].connection!.recoveryEvents)
        swap(&recoveryScratch.frames, &slots[index].connection!.releasedFrames)
    }
}
