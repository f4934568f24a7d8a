/// An open-addressing table from ids to positions in an array the caller keeps (a log's
/// events, a list of ids). A slot is eight bytes: the high half of the id's hash and the
/// position + 1 (0 is an empty slot), so a probe compares ids only when their hashes agree.
///
/// It replaces `[String: Int]` and `Set<String>` where there is one entry per event: those
/// cost a String key a slot (32 to 64 bytes with the spare room), a SipHash of the whole id
/// per insert and a string comparison per occupied slot probed. A million-event fixture
/// filled three of them: 10% of its load time went to the id set alone.
struct IDTable {
    /// The slots, in pages of at most `pageSlots`: a table shared by a world and the reset
    /// template it was cloned from (a log's index) is copied on its first insert page by page,
    /// one page at a time, not whole (4 MiB for a 200,000-event log, on the first append to it
    /// after a load or a reset).
    private var pages: [[UInt64]] = []
    /// All the slots, a power of two (0 before the first insert).
    private var capacity = 0
    private(set) var count = 0

    static let pageShift = 12
    static let pageSlots = 1 << pageShift

    init() {}

    private func slot(_ i: Int) -> UInt64 { pages[i &>> Self.pageShift][i & (Self.pageSlots - 1)] }

    private mutating func set(_ i: Int, _ value: UInt64) {
        pages[i &>> Self.pageShift][i & (Self.pageSlots - 1)] = value
    }

    /// Room for `n` entries without growing.
    mutating func reserve(_ n: Int) {
        let wanted = Self.capacity(for: n)
        if wanted > capacity { rehash(to: wanted) }
    }

    /// Where each page is stored: what an insert copied moved (tests).
    var storage: [UnsafeRawPointer?] { pages.map { $0.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) } } }

    /// The position stored for `id`, if any; `isAt` says whether a stored position holds it.
    func position(of id: String, isAt: (Int) -> Bool) -> Int? {
        guard capacity > 0 else { return nil }
        return probe(Self.hash(id), isAt: isAt).found
    }

    /// Stores `position` under `hash`, unless `isAt` says a stored position already holds
    /// the same id: then that position, and nothing is stored. One probe for both.
    mutating func insert(hash h: UInt64, at position: Int, unlessAt isAt: (Int) -> Bool) -> Int? {
        if Self.capacity(for: count + 1) > capacity { rehash(to: Self.capacity(for: count + 1)) }
        let (found, empty) = probe(h, isAt: isAt)
        if let found { return found }
        set(empty, h & 0xFFFF_FFFF_0000_0000 | UInt64(UInt32(truncatingIfNeeded: position + 1)))
        count += 1
        return nil
    }

    /// Walks from `hash`'s home slot: the stored position `isAt` accepts (among those whose
    /// tag agrees), or else the empty slot that ends the walk. The table is never full.
    private func probe(_ h: UInt64, isAt: (Int) -> Bool) -> (found: Int?, empty: Int) {
        let tag = h & 0xFFFF_FFFF_0000_0000
        let mask = capacity - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = slot(i)
            if s == 0 { return (nil, i) }
            if s & 0xFFFF_FFFF_0000_0000 == tag {
                let p = Int(s & 0xFFFF_FFFF) - 1
                if isAt(p) { return (p, i) }
            }
            i = (i + 1) & mask
        }
    }

    /// Stores `position` under `hash` (an id's). An id already present is not looked
    /// for: the log's writers refuse duplicates first.
    mutating func insert(hash h: UInt64, at position: Int) {
        if Self.capacity(for: count + 1) > capacity { rehash(to: Self.capacity(for: count + 1)) }
        place(h & 0xFFFF_FFFF_0000_0000 | UInt64(UInt32(truncatingIfNeeded: position + 1)), home: h)
        count += 1
    }

    private mutating func place(_ value: UInt64, home: UInt64) {
        let mask = capacity - 1
        var i = Int(truncatingIfNeeded: home) & mask
        while slot(i) != 0 { i = (i + 1) & mask }
        set(i, value)
    }

    /// The hash is not kept whole, so a grown table places entries by their tag: the home
    /// slot of an entry is then the tag's, found the same way by `position(of:)`.
    private mutating func rehash(to newCapacity: Int) {
        let old = pages
        let size = min(newCapacity, Self.pageSlots)
        pages = Array(repeating: [UInt64](repeating: 0, count: size), count: newCapacity / size)
        capacity = newCapacity
        for page in old {
            for value in page where value != 0 { place(value, home: value >> 32) }
        }
    }

    /// A power of two that keeps the table at most about 70% full.
    private static func capacity(for n: Int) -> Int {
        var c = 16
        while c * 7 < n * 10 { c <<= 1 }
        return c
    }

    /// Chosen once per process, so that ids crafted to collide on one run do not on the next.
    private static let seed = UInt64.random(in: 1...UInt64.max)

    /// A multiply-and-fold hash of the id's UTF-8, eight bytes at a time. The home slot is
    /// taken from the high half, the same bits as the tag, so that a table can grow without
    /// the ids.
    static func hash(_ id: String) -> UInt64 {
        var id = id
        return id.withUTF8 { hash($0) }
    }

    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let h = { () -> UInt64 in
            var h = seed ^ UInt64(bytes.count) &* 0x9E37_79B9_7F4A_7C15
            var i = 0
            if let base = bytes.baseAddress {
                while i + 8 <= bytes.count {
                    let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                    h = (h ^ word) &* 0xBF58_476D_1CE4_E5B9
                    h ^= h >> 31
                    i += 8
                }
                var tail: UInt64 = 0
                var shift: UInt64 = 0
                while i < bytes.count {
                    tail |= UInt64(bytes[i]) << shift
                    shift += 8
                    i += 1
                }
                h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
            }
            h ^= h >> 29
            h = h &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 32
            return h
        }()
        // The high half is both the tag and, shifted down, the home slot.
        return (h & 0xFFFF_FFFF_0000_0000) | (h >> 32)
    }
}

/// A log's index: the position of each event by id.
struct EventIndex {
    private var table = IDTable()

    mutating func reserve(_ n: Int) { table.reserve(n) }

    var storage: [UnsafeRawPointer?] { table.storage }

    func position(of id: String, in events: EventList) -> Int? {
        table.position(of: id) { events[$0].hasID(id) }
    }

    /// Records `event`, to be appended at `position` by the caller.
    mutating func insert(_ event: StoredEvent, at position: Int) {
        table.insert(hash: event.withIDBytes(IDTable.hash), at: position)
    }

    /// Records `event` unless `events` already holds its id: then that event's position.
    mutating func insertUnlessPresent<Events: RandomAccessCollection<StoredEvent>>(
        _ event: StoredEvent, at position: Int, in events: Events
    ) -> Int? where Events.Index == Int {
        event.withIDBytes { id in
            table.insert(hash: IDTable.hash(id), at: position) { events[$0].withIDBytes { $0.elementsEqual(id) } }
        }
    }
}

/// A set of ids, each kept once, that can say whether it holds one.
struct IDSet {
    private var table = IDTable()
    private var ids: [String] = []

    mutating func reserve(_ n: Int) {
        table.reserve(n)
        ids.reserveCapacity(n)
    }

    /// Adds `id`; false when it was already there.
    mutating func insert(_ id: String) -> Bool {
        guard table.insert(hash: IDTable.hash(id), at: ids.count, unlessAt: { ids[$0] == id }) == nil else {
            return false
        }
        ids.append(id)
        return true
    }

    func contains(_ id: String) -> Bool {
        table.position(of: id) { ids[$0] == id } != nil
    }

    /// The ids, in the order they were added.
    var all: [String] { ids }
}
