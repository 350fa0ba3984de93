/// A set of stream offsets held as sorted, disjoint, non-adjacent half-open
/// ranges: what ``SendBuffer`` keeps of its acknowledged and lost bytes.
///
/// The same set semantics as the standard library's `RangeSet<UInt64>`,
/// which this replaces on the acknowledgement path: `RangeSet`'s generic
/// code is not specialised into this module, and its element accessors are
/// coroutines whose frames the unspecialised code allocates on the heap, so
/// reading `ranges.first` cost two mallocs, and merging a range one more,
/// on nearly every acknowledgement. Here everything is
/// concrete, and the storage is kept when the set empties, so once it has
/// grown to the most ranges seen at once, nothing allocates.
struct OffsetRanges: Hashable, Sendable {
    /// Sorted by offset, non-empty, neither overlapping nor touching.
    private(set) var ranges: [Range<UInt64>] = []

    init() {}

    /// The set of the offsets in `range`.
    init(_ range: Range<UInt64>) {
        if !range.isEmpty { ranges = [range] }
    }

    var isEmpty: Bool { ranges.isEmpty }

    /// The lowest range.
    var first: Range<UInt64>? { ranges.first }

    /// Adds the offsets in `range`, merging it with the ranges it overlaps or touches.
    mutating func insert(contentsOf range: Range<UInt64>) {
        guard !range.isEmpty else { return }
        // The ranges that overlap or touch `range` are low..<high.
        let low = firstIndex(from: 0) { $0.upperBound >= range.lowerBound }
        let high = firstIndex(from: low) { $0.lowerBound > range.upperBound }
        guard low < high else {
            ranges.insert(range, at: low)
            return
        }
        let merged = min(ranges[low].lowerBound, range.lowerBound)..<max(ranges[high - 1].upperBound, range.upperBound)
        ranges[low] = merged
        ranges.removeSubrange((low + 1)..<high)
    }

    /// Removes the offsets in `range`; a range it cuts through keeps its
    /// parts on either side.
    mutating func remove(contentsOf range: Range<UInt64>) {
        guard !range.isEmpty else { return }
        // The ranges that overlap `range` are low..<high.
        let low = firstIndex(from: 0) { $0.upperBound > range.lowerBound }
        let high = firstIndex(from: low) { $0.lowerBound >= range.upperBound }
        guard low < high else { return }
        let first = ranges[low]
        let last = ranges[high - 1]
        var kept = low
        if first.lowerBound < range.lowerBound {
            ranges[kept] = first.lowerBound..<range.lowerBound
            kept += 1
        }
        if last.upperBound > range.upperBound {
            let tail = range.upperBound..<last.upperBound
            if kept < high {
                ranges[kept] = tail
            } else {
                ranges.insert(tail, at: kept)  // one range cut in two
            }
            kept += 1
        }
        if kept < high { ranges.removeSubrange(kept..<high) }
    }

    /// Adds every offset of `other`.
    mutating func formUnion(_ other: OffsetRanges) {
        for range in other.ranges { insert(contentsOf: range) }
    }

    /// Removes every offset of `other`.
    mutating func subtract(_ other: OffsetRanges) {
        for range in other.ranges { remove(contentsOf: range) }
    }

    /// The first index at or after `start` whose range satisfies `isAbove`,
    /// the ranges being partitioned by it (all false, then all true); by bisection.
    private func firstIndex(from start: Int, where isAbove: (Range<UInt64>) -> Bool) -> Int {
        var low = start
        var high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if isAbove(ranges[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
