/// A set of stream offsets kept as one bit per byte over a sliding window:
/// which bytes of a ``ReceiveBuffer`` have arrived, and which end a record.
///
/// A bitmap, not a list of ranges, because the peer chooses the pattern: a
/// sender that delivers every other byte would make a range list hold
/// window / 2 entries and cost O(n) per insertion, while the bitmap costs
/// exactly window / 8 bytes however the data is cut, and every operation is
/// O(length / 64) word operations.
///
/// Word 0 covers offsets `base ..< base + 64`; `base` is a multiple of 64 and
/// moves forward with ``discard(below:)``. Bits below the window read as
/// clear; the caller never asks about offsets it has discarded.
struct BitWindow {
    /// Offset of the first bit of the first word (a multiple of 64).
    private(set) var base: UInt64 = 0
    private var words = RingBuffer<UInt64>()

    init() {}

    /// Bytes of bitmap currently held.
    var allocatedCount: Int { words.capacity * 8 }

    /// Whether `offset` is in the set.
    func contains(_ offset: UInt64) -> Bool {
        guard offset >= base else { return false }
        let index = Int((offset - base) / 64)
        guard index < words.count else { return false }
        return words[index] & (1 << ((offset - base) % 64)) != 0
    }

    /// Adds every offset of `range`.
    /// - Precondition: `range.lowerBound >= base`.
    mutating func insert(_ range: Range<UInt64>) {
        guard !range.isEmpty else { return }
        precondition(range.lowerBound >= base, "BitWindow.insert below the window")
        let lastWord = Int((range.upperBound - 1 - base) / 64)
        while words.count <= lastWord { words.append(0) }
        var offset = range.lowerBound
        while offset < range.upperBound {
            let bit = (offset - base) % 64
            let run = min(64 - bit, range.upperBound - offset)
            let mask: UInt64 = run == 64 ? ~0 : ((1 << run) - 1) << bit
            words[Int((offset - base) / 64)] |= mask
            offset += run
        }
    }

    /// The first offset in `range` that is in the set (`present == true`) or
    /// not in it (`present == false`); `range.upperBound` if there is none.
    func first(_ present: Bool, in range: Range<UInt64>) -> UInt64 {
        var offset = max(range.lowerBound, base)
        if !present && range.lowerBound < base { return range.lowerBound }
        while offset < range.upperBound {
            let index = Int((offset - base) / 64)
            if index >= words.count { return present ? range.upperBound : offset }
            var word = present ? words[index] : ~words[index]
            word &= ~0 << ((offset - base) % 64)
            if word != 0 {
                return min(base + UInt64(index) * 64 + UInt64(word.trailingZeroBitCount), range.upperBound)
            }
            offset = base + UInt64(index + 1) * 64
        }
        return range.upperBound
    }

    /// Forgets every offset below `offset` (whole words at a time; bits of a
    /// partly discarded word stay but are never asked about).
    mutating func discard(below offset: UInt64) {
        while !words.isEmpty && base + 64 <= offset {
            words.popFirst()
            base += 64
        }
        if words.isEmpty { base = offset & ~63 }
    }

    /// Empties the set and frees its memory; the window restarts at `offset`.
    mutating func reset(at offset: UInt64) {
        words.removeAll()
        base = offset & ~63
    }
}
