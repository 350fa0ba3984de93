/// The receive side's record of which packet numbers have been authenticated,
/// so that a replayed packet is refused (PROTOCOL.md §3.4: "never reusing a
/// number"; §9: "replay window 4,096 packets, at least 2,048 (required)").
///
/// ## Design
///
/// A sliding bitmap of ``size`` bits over the 62-bit packet-number space. Bit
/// `pn % size` stands for packet number `pn` while `pn` lies in the window
/// `largest − (size − 1) … largest`, where `largest` is the highest packet
/// number committed so far. Anything further behind is ``Verdict/tooOld``;
/// anything ahead is ``Verdict/fresh``.
///
/// Two calls, in this order, per packet:
///
/// 1. ``check(_:)`` *before* decryption: a duplicate or a packet from behind
///    the window is dropped without spending an AEAD operation on it.
/// 2. ``commit(_:)`` only *after* the packet authenticated. A forged packet
///    (which fails authentication) therefore never moves the window nor marks
///    a number as seen, so an attacker cannot push genuine packets out of the
///    window or pre-empt them.
///
/// Both are O(1): `check` reads one word; `commit` clears at most the whole
/// bitmap (64 words) when the window slides, however far it jumps.
///
/// ## Storage
///
/// While the numbers committed are one run without a gap (`runStart` through
/// `largest`: in order, nothing lost, as on an idle connection), that run is
/// the whole state and there is no bitmap. The first gap or out-of-order
/// number allocates the bitmap (64 `UInt64`, 512 bytes) and writes the run
/// into it, so the verdicts are the same either way. When the window fills
/// without a gap again (checked when it slides onto a word boundary, 64
/// words read every 64 numbers at most) the bitmap is freed. The storage is
/// uniquely owned unless the caller copies the window, which the connection
/// does not, so the calls allocate only at such a switch.
struct ReplayWindow: Sendable {
    /// What ``check(_:)`` says about a packet number.
    enum Verdict: Sendable, Equatable {
        /// Not seen and inside or ahead of the window: worth authenticating.
        case fresh
        /// Already committed: a replay (or a network duplicate).
        case duplicate
        /// So far behind the largest committed number that the window no
        /// longer says whether it was seen: refused, as if it were a replay.
        case tooOld
    }

    /// Packet numbers the window covers: 4,096 (PROTOCOL.md §9), which at the
    /// 1,350-byte default datagram is about 5 MB of reordering. A power of two
    /// so that `pn % size` is a mask.
    static let size: UInt64 = 4096
    private static let wordBits: UInt64 = 64
    private static let wordCount = Int(size / wordBits)

    /// The highest packet number committed; `nil` before the first.
    private(set) var largest: PacketNumber?
    /// Empty while the committed numbers are the run `runStart…largest`; else
    /// `size` bits, bit `pn % size` set when `pn` (inside the window) was committed.
    private var words: ContiguousArray<UInt64> = []
    /// With no bitmap: the first number of the run that ends at `largest`.
    private var runStart: UInt64 = 0

    init() {}

    /// Whether the bitmap is allocated (a gap or a reordering in the window).
    var hasBitmap: Bool { !words.isEmpty }

    /// Says whether `pn` may be accepted, without changing anything.
    func check(_ pn: PacketNumber) -> Verdict {
        guard let largest else { return .fresh }
        let n = pn.rawValue
        if n > largest.rawValue { return .fresh }
        if largest.rawValue - n >= Self.size { return .tooOld }
        if words.isEmpty { return n >= runStart ? .duplicate : .fresh }
        let (word, mask) = Self.position(of: n)
        return words[word] & mask != 0 ? .duplicate : .fresh
    }

    /// Records `pn` as authenticated, sliding the window when `pn` is the new
    /// largest.
    /// - Precondition: `check(pn) == .fresh` (a caller contract: commit only
    ///   what was checked and then authenticated). Violations are ignored in
    ///   release builds: a number behind the window is not recorded.
    mutating func commit(_ pn: PacketNumber) {
        assert(check(pn) == .fresh, "ReplayWindow.commit of a packet number check() refused")
        let n = pn.rawValue
        guard let largest else {
            largest = pn
            runStart = n
            return
        }
        if words.isEmpty {
            if n == largest.rawValue &+ 1 {
                self.largest = pn
                return
            }
            allocateBitmap(through: largest.rawValue)
        }
        if n > largest.rawValue {
            // The numbers between the old and the new largest were never
            // seen; their bits still describe numbers `size` lower, which
            // just left the window.
            clear(from: largest.rawValue &+ 1, through: n)
            self.largest = pn
        } else if largest.rawValue - n >= Self.size {
            return
        }
        let (word, mask) = Self.position(of: n)
        words[word] |= mask
        if n > largest.rawValue, n % Self.wordBits == Self.wordBits - 1 { freeBitmapIfFull() }
    }

    // MARK: - Private

    /// Leaves the run representation: a bitmap with the run `runStart…last`
    /// (the part inside the window) set.
    private mutating func allocateBitmap(through last: UInt64) {
        words = ContiguousArray(repeating: 0, count: Self.wordCount)
        let first = last - Swift.min(last - runStart, Self.size - 1)
        var n = first
        while n <= last {
            if n % Self.wordBits == 0, last - n >= Self.wordBits - 1 {
                words[Int(n % Self.size / Self.wordBits)] = ~0
                n += Self.wordBits
            } else {
                let (word, mask) = Self.position(of: n)
                words[word] |= mask
                n += 1
            }
        }
    }

    /// Back to the run representation when every number in the window was
    /// committed (the gaps are behind it).
    private mutating func freeBitmapIfFull() {
        guard let largest, largest.rawValue >= Self.size - 1,
              words.allSatisfy({ $0 == ~0 }) else { return }
        runStart = largest.rawValue - (Self.size - 1)
        words = []
    }

    /// Clears the bits of `first…last` (the window's new numbers). At most the
    /// whole bitmap, at most 65 word operations.
    private mutating func clear(from first: UInt64, through last: UInt64) {
        let count = last - first + 1
        if count >= Self.size {
            for index in 0..<Self.wordCount { words[index] = 0 }
            return
        }
        var bit = Int(first % Self.size)
        var remaining = Int(count)
        while remaining > 0 {
            let word = bit >> 6
            let offset = bit & 63
            let run = min(64 - offset, remaining)
            let mask: UInt64 = run == 64 ? ~0 : ((1 << UInt64(run)) - 1) << UInt64(offset)
            words[word] &= ~mask
            bit = (bit + run) & Int(Self.size - 1)
            remaining -= run
        }
    }

    @inline(__always)
    private static func position(of n: UInt64) -> (word: Int, mask: UInt64) {
        let bit = n % size
        return (Int(bit / wordBits), 1 << (bit % wordBits))
    }
}
