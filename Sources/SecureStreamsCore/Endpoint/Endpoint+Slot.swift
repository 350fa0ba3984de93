/// Where a slot keeps its connection: behind one reference, so the slot array
/// holds a pointer per slot and its doubling slack costs 8 bytes a slot, not
/// the size of a ``Connection`` (about 2 KB). An empty slot allocates nothing.
///
/// Copy-on-write: a copied ``Endpoint`` shares the boxes until one copy
/// mutates a connection, which then gets a box of its own, so copies keep
/// value semantics (the fuzz harness copies a connected endpoint).
struct ConnectionStorage {
    /// The heap cell of one connection.
    final class Box: @unchecked Sendable {
        var connection: Connection?
        init(_ connection: Connection?) { self.connection = connection }
    }

    fileprivate var box: Box?
}

extension Endpoint.Slot {
    /// The connection in this slot, read and mutated in place in its box:
    /// `slots[index].connection!.handleData(...)` changes the boxed
    /// connection without copying it (after a copy-on-write the first time a
    /// copied endpoint's box is shared); assigning `nil` frees the box.
    var connection: Connection? {
        _read {
            if let box = storage.box {
                yield box.connection
            } else {
                yield nil
            }
        }
        _modify {
            if storage.box == nil {
                var installed: Connection?
                yield &installed
                if installed != nil { storage.box = ConnectionStorage.Box(installed) }
            } else {
                if !isKnownUniquelyReferenced(&storage.box!) {
                    storage.box = ConnectionStorage.Box(storage.box!.connection)
                }
                yield &storage.box!.connection
                if storage.box!.connection == nil { storage.box = nil }
            }
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
