import Testing
@testable import SecureStreamsCore

extension StreamsTests {
    /// A seeded random sequence of opens, writes, reads, finishes, resets and
    /// lossy flushes on two tables, checked after every step against a
    /// reference model: bytes arrive whole and in order, a stream closes at
    /// most once and is gone from then on, frames for closed ids are ignored,
    /// and the arenas stay consistent. At the end every stream is driven to
    /// its close and both arenas must be empty with whole free lists.
    @Suite struct StreamArenaPropertyTests {
        /// What one direction of one stream should have carried.
        struct Direction {
            var written: [UInt8] = []
            var read = 0
            var finished = false
            var reset = false
            var sawEnd = false
        }

        /// The model: per stream, initiator → responder (`up`) and back (`down`).
        struct Model {
            var up: [StreamID: Direction] = [:]
            var down: [StreamID: Direction] = [:]
            var ids: [StreamID] = []
            var closed: [Side: Set<StreamID>] = [.initiator: [], .responder: []]
            /// Set at the first mismatch, so a failing seed reports once, not at every later step.
            var failed = false

            mutating func expect(_ condition: Bool, _ message: @autoclosure () -> String,
                                 sourceLocation: SourceLocation = #_sourceLocation) {
                guard !condition, !failed else { return }
                failed = true
                Issue.record(Comment(rawValue: message()), sourceLocation: sourceLocation)
            }
        }

        @Test(arguments: StreamsTests.seeds)
        func randomOperationsMatchTheModel(seed: UInt64) throws {
            var dice = StreamsDice(seed: seed, label: "arena-model")
            var configuration = StreamConfiguration()
            configuration.sendBufferLimit = 4096
            configuration.initialStreamWindow = 4096
            var pair = StreamTablePair(configuration: configuration,
                                       peer: .limits(data: 1 << 20, streamData: 4096, streams: 24))
            var model = Model()
            for step in 0..<1_500 {
                let context = "SIM_SEED=\(seed) step \(step)"
                try randomStep(&pair, &model, &dice, context: context)
                try check(&pair, &model, context: context)
                if model.failed { return }
            }
            try driveEverythingClosed(&pair, &model, context: "SIM_SEED=\(seed) end")
            for table in [pair.initiator, pair.responder] {
                #expect(table.count == 0, "SIM_SEED=\(seed): streams left open")
                #expect(table.arena.freeListLength == table.arena.capacity, "SIM_SEED=\(seed)")
                #expect(table.arena.isConsistent, "SIM_SEED=\(seed)")
            }
        }

        // MARK: Steps

        private func randomStep(_ pair: inout StreamTablePair, _ model: inout Model,
                                _ dice: inout StreamsDice, context: String) throws {
            let live = model.ids.filter { !model.closed[.initiator]!.contains($0) || !model.closed[.responder]!.contains($0) }
            let id = live.isEmpty ? nil : live[dice.int(in: 0..<live.count)]
            let up = dice.oneIn(2)
            switch dice.int(in: 0..<8) {
            case 0:
                if let opened = pair.initiator.open(priority: dice.int(in: -1...1)) {
                    model.ids.append(opened)
                    model.up[opened] = Direction()
                    model.down[opened] = Direction()
                }
            case 1, 2:
                guard let id else { return }
                try write(&pair, &model, id, up: up, count: dice.int(in: 0...3000), context: context)
            case 3:
                guard let id else { return }
                try read(&pair, &model, id, up: up, context: context)
            case 4:
                guard let id, dice.oneIn(3) else { return }
                if up { try finishSending(&pair.initiator, id, &model.up[id]!) } else {
                    try finishSending(&pair.responder, id, &model.down[id]!)
                }
            case 5:
                guard let id, dice.oneIn(4) else { return }
                if up { try resetSending(&pair.initiator, id, &model.up[id]!) } else {
                    try resetSending(&pair.responder, id, &model.down[id]!)
                }
            default:
                let lossOneIn = dice.int(in: 2...10)
                var lossDice = StreamsDice(seed: UInt64(dice.int(in: 0..<1 << 30)), label: "loss")
                try pair.flush(from: up ? .initiator : .responder) { _, _ in lossDice.oneIn(lossOneIn) }
            }
        }

        private func write(_ pair: inout StreamTablePair, _ model: inout Model, _ id: StreamID, up: Bool,
                           count: Int, context: String) throws {
            var direction = up ? model.up[id]! : model.down[id]!
            defer { if up { model.up[id] = direction } else { model.down[id] = direction } }
            let writer = up ? pair.initiator : pair.responder
            guard !direction.finished, !direction.reset, writer.entry(id) != nil else { return }
            let bytes = StreamsTests.pattern(count, salt: UInt64(direction.written.count) &+ id.rawValue << 32)
            let taken: Int
            do {
                taken = up ? try pair.initiator.write(id, bytes) : try pair.responder.write(id, bytes)
            } catch .sendingReset {
                direction.reset = true  // the peer's STOP_SENDING is not in the op set; a reset is ours
                return
            } catch {
                model.expect(false, "\(context): write to \(id) failed: \(error)")
                return
            }
            direction.written += bytes[0..<taken]
        }

        private func read(_ pair: inout StreamTablePair, _ model: inout Model, _ id: StreamID, up: Bool,
                          context: String) throws {
            var direction = up ? model.up[id]! : model.down[id]!
            defer { if up { model.up[id] = direction } else { model.down[id] = direction } }
            let reader = up ? Side.responder : Side.initiator
            let table = up ? pair.responder : pair.initiator
            guard !model.closed[reader]!.contains(id), !direction.sawEnd, table.entry(id) != nil else { return }
            do {
                let got = up ? try pair.responder.read(id) : try pair.initiator.read(id)
                guard let got else {
                    model.expect(direction.finished && direction.read == direction.written.count,
                            "\(context): \(id) ended early at \(direction.read) of \(direction.written.count)")
                    direction.sawEnd = true
                    return
                }
                let expected = direction.written[direction.read..<min(direction.read + got.count, direction.written.count)]
                model.expect(Array(expected) == got, "\(context): \(id) bytes differ at \(direction.read)")
                direction.read += got.count
            } catch .resetByPeer {
                model.expect(direction.reset, "\(context): \(id) reset without a reset")
                direction.sawEnd = true
            } catch {
                // Gone between the closed check and here: only a closed stream may be.
                model.expect(false, "\(context): read from \(id) failed: \(error)")
            }
        }

        private func finishSending(_ table: inout StreamTable, _ id: StreamID, _ direction: inout Direction) throws {
            guard !direction.reset, table.entry(id) != nil else { return }
            try table.finish(id)
            direction.finished = true
        }

        private func resetSending(_ table: inout StreamTable, _ id: StreamID, _ direction: inout Direction) throws {
            guard table.entry(id) != nil else { return }
            try table.reset(id, code: ErrorCode(7))
            direction.reset = true
        }

        // MARK: Checks

        private func check(_ pair: inout StreamTablePair, _ model: inout Model, context: String) throws {
            for side in [Side.initiator, .responder] {
                let events = side == .initiator ? pair.initiator.drainEvents() : pair.responder.drainEvents()
                for case .closed(let id) in events {
                    let first = model.closed[side]!.insert(id).inserted
                    model.expect(first, "\(context): \(id) closed twice at \(side)")
                }
                let table = side == .initiator ? pair.initiator : pair.responder
                model.expect(table.arena.isConsistent, "\(context): \(side) arena inconsistent")
                var live = 0
                for id in model.ids where table.entry(id) != nil {
                    live += 1
                    model.expect(!model.closed[side]!.contains(id), "\(context): \(id) live after its close at \(side)")
                }
                model.expect(table.count == live, "\(context): \(side) holds streams the model does not know")
                model.expect(table.arena.freeListLength == table.arena.capacity - table.count, "\(context): \(side) free list")
            }
            // A late frame for a closed stream is ignored.
            if let gone = model.closed[.responder]!.first {
                let before = pair.responder.count
                try pair.responder.handleStream(gone, offset: 0, data: [0])
                model.expect(pair.responder.count == before, "\(context): a frame for closed \(gone) reopened it")
                model.expect(pair.responder.drainEvents().isEmpty, "\(context): a frame for closed \(gone) made events")
            }
        }

        /// Finishes every direction still open, then flushes without loss and
        /// reads everything, until both tables are empty (bounded rounds).
        private func driveEverythingClosed(_ pair: inout StreamTablePair, _ model: inout Model, context: String) throws {
            for id in model.ids {
                if pair.initiator.entry(id) != nil, !model.up[id]!.reset { try finishSending(&pair.initiator, id, &model.up[id]!) }
                if pair.responder.entry(id) != nil, !model.down[id]!.reset {
                    try finishSending(&pair.responder, id, &model.down[id]!)
                }
            }
            for _ in 0..<64 where pair.initiator.count + pair.responder.count > 0 {
                try pair.flush(from: .initiator)
                try pair.flush(from: .responder)
                for id in model.ids {
                    for _ in 0..<8 {
                        try read(&pair, &model, id, up: true, context: context)
                        try read(&pair, &model, id, up: false, context: context)
                    }
                }
                try check(&pair, &model, context: context)
            }
        }
    }
}
