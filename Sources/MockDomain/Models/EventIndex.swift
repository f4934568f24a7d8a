/// An open-addressing table from ids to positions in an array the caller keeps (a log's
/// events, a list of ids). A slot is eight bytes: the high half of the id's hash and the
/// position + 1 (0 is an empty slot), so a probe compares ids only when their hashes agree.
///
/// It replaces `[String: Int]` and `Set<String>` where there is one entry per event: those
/// cost a String key a slot (32 to 64 bytes with the spare room), a SipHash of the whole id
/// per insert and a string comparison per occupied slot probed. A million-event fixture
/// filled three of them: 10% of its load time went to the id set alone.
struct IDTable {
    private var slots: [UInt64] = []
    private(set) var count = 0

    init() {}

    /// Room for `n` entries without growing.
    mutating func reserve(_ n: Int) {
        let wanted = Self.capacity(for: n)
        if wanted > slots.count { rehash(to: wanted) }
    }

    /// The position stored for `id`, if any; `isAt` says whether a stored position holds it.
    func position(of id: String, isAt: (Int) -> Bool) -> Int? {
        guard !slots.isEmpty else { return nil }
        return probe(Self.hash(id), isAt: isAt).found
    }

    /// Stores `position` under `hash`, unless `isAt` says a stored position already holds
    /// the same id: then that position, and nothing is stored. One probe for both.
    mutating func insert(hash h: UInt64, at position: Int, unlessAt isAt: (Int) -> Bool) -> Int? {
        if Self.capacity(for: count + 1) > slots.count { rehash(to: Self.capacity(for: count + 1)) }
        let (found, empty) = probe(h, isAt: isAt)
        if let found { return found }
        slots[empty] = h & 0xFFFF_FFFF_0000_0000 | UInt64(UInt32(truncatingIfNeeded: position + 1))
        count += 1
        return nil
    }

    /// Walks from `hash`'s home slot: the stored position `isAt` accepts (among those whose
    /// tag agrees), or else the empty slot that ends the walk. The table is never full.
    private func probe(_ h: UInt64, isAt: (Int) -> Bool) -> (found: Int?, empty: Int) {
        let tag = h & 0xFFFF_FFFF_0000_0000
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[i] != 0 {
            if slots[i] & 0xFFFF_FFFF_0000_0000 == tag {
                let p = Int(slots[i] & 0xFFFF_FFFF) - 1
                if isAt(p) { return (p, i) }
            }
            i = (i + 1) & mask
        }
        return (nil, i)
    }

    /// Stores `position` under `hash` (an id's). An id already present is not looked
    /// for: the log's writers refuse duplicates first.
    mutating func insert(hash h: UInt64, at position: Int) {
        if Self.capacity(for: count + 1) > slots.count { rehash(to: Self.capacity(for: count + 1)) }
        place(h & 0xFFFF_FFFF_0000_0000 | UInt64(UInt32(truncatingIfNeeded: position + 1)), home: h)
        count += 1
    }

    private mutating func place(_ slot: UInt64, home: UInt64) {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: home) & mask
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = slot
    }

    /// The hash is not kept whole, so a grown table places entries by their tag: the home
    /// slot of an entry is then the tag's, found the same way by `position(of:)`.
    private mutating func rehash(to capacity: Int) {
        let old = slots
        slots = [UInt64](repeating: 0, count: capacity)
        for slot in old where slot != 0 { place(slot, home: slot >> 32) }
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
