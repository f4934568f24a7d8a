/// An ordered list of events that streams follow: a thread's history, or a
/// session's events across all of its threads in the order they were written.
/// Only the store appends; `closed` means no event will ever follow (a final
/// thread, a deleted session), so a stream that reached the end ends.
public final class EventLog {
    public internal(set) var events = EventList()
    /// Where to find events by id and by type. One value, so that an append is one checked
    /// access to the log's indexes, not one per table (the exclusivity checks of a class's
    /// properties cost a quarter of an append, two million of which lead to a 1M-event
    /// fixture's ready line).
    private var indexes = Indexes()
    public internal(set) var closed = false
    /// State exports still to write this log's events (`Fixture.ExportWriter`). They read the
    /// log itself, up to the count it had when they began, rather than hold its array: an
    /// append while they write would copy a 200,000-event array.
    var exportsReading = 0
    /// A replaced world asked for the events while an export was reading them: the last
    /// export to finish takes them instead, to be freed gradually.
    private(set) var retired = false

    /// Position of each event id (for cursors and `Last-Event-ID`), and each type the log
    /// holds, in the order first seen, with the positions of its events, ascending: a list
    /// filtered by type walks these, not the whole log (50,000 events scanned for a rare
    /// type took 11 ms a page). A log has a handful of types, found by a scan (a fixture's
    /// type names are shared Strings, equal at a glance); past `scannedTypes` a dictionary
    /// finds them.
    private struct Indexes {
        var ids = EventIndex()
        var typeNames: [String] = []
        var positionsOfType: [[Int32]] = []
        var slotOfType: [String: Int] = [:]
        /// The events' JSON lengths added up (with no separators): a state export knows its
        /// size without visiting a million events first.
        var eventBytes = 0
        static let scannedTypes = 16

        /// Records `event`, to be appended at `position`.
        mutating func record(_ event: StoredEvent, at position: Int) {
            ids.insert(event, at: position)
            eventBytes += event.byteCount
            let type = event.type
            let slot: Int
            if let known = self.slot(of: type) {
                slot = known
            } else {
                slot = typeNames.count
                typeNames.append(type)
                positionsOfType.append([])
                if typeNames.count > Self.scannedTypes {
                    if slotOfType.isEmpty {
                        for (i, name) in typeNames.enumerated() { slotOfType[name] = i }
                    } else {
                        slotOfType[type] = slot
                    }
                }
            }
            positionsOfType[slot].append(Int32(truncatingIfNeeded: position))
        }

        func slot(of type: String) -> Int? {
            guard typeNames.count <= Self.scannedTypes else { return slotOfType[type] }
            return typeNames.firstIndex { $0.equalsLengthFirst(type) }
        }
    }

    init() {}

    public var count: Int { events.count }

    /// The length of all the events' JSON together, separators not counted.
    public var eventBytes: Int { indexes.eventBytes }

    /// Room for `count` more events, so a log built from a known list is not rehashed and
    /// copied as it grows.
    func reserve(_ count: Int) {
        events.reserveCapacity(events.count + count)
        indexes.ids.reserve(events.count + count)
    }

    /// Where the id index's pages are stored (tests).
    var idIndexStorage: [UnsafeRawPointer?] { indexes.ids.storage }

    /// The position of the event with this id, if the log holds it.
    public func position(of id: String) -> Int? { indexes.ids.position(of: id, in: events) }

    func append(_ event: StoredEvent) {
        indexes.record(event, at: events.count)
        events.append(event)
    }

    /// The ascending positions of the events of any of `types` (a sorted union).
    func positions(ofTypes types: Set<String>) -> [Int32] {
        let lists = types.compactMap { indexes.slot(of: $0).map { indexes.positionsOfType[$0] } }
        if lists.count <= 1 { return lists.first ?? [] }
        return lists.joined().sorted()
    }

    /// Empties the log and hands its events over, for a replaced world to free a chunk at a
    /// time; the indexes go at once (they only point at the events). While an export reads
    /// the log, nothing is handed over: the log is marked retired and keeps its events until
    /// the export hands them over itself.
    func takeEvents() -> [[StoredEvent]] {
        if exportsReading > 0 {
            retired = true
            return []
        }
        indexes = Indexes()
        return events.takeChunks()
    }

    /// A copy that can grow without touching this one; events are shared.
    func copy() -> EventLog {
        let log = EventLog()
        log.events = events
        log.indexes = indexes
        log.closed = closed
        return log
    }
}
