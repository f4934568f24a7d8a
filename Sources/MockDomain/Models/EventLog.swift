/// An ordered list of events that streams follow: a thread's history, or a
/// session's events across all of its threads in the order they were written.
/// Only the store appends; `closed` means no event will ever follow (a final
/// thread, a deleted session), so a stream that reached the end ends.
public final class EventLog {
    public internal(set) var events: [StoredEvent] = []
    /// Position of each event id, for cursors and `Last-Event-ID`.
    private var index = EventIndex()
    /// Positions of each type's events, ascending: a list filtered by type walks these,
    /// not the whole log (50,000 events scanned for a rare type took 11 ms a page).
    private(set) var positionsByType: [String: [Int32]] = [:]
    public internal(set) var closed = false

    init() {}

    public var count: Int { events.count }

    /// Room for `count` more events, so a log built from a known list is not rehashed and
    /// copied as it grows.
    func reserve(_ count: Int) {
        events.reserveCapacity(events.count + count)
        index.reserve(events.count + count)
    }

    /// The position of the event with this id, if the log holds it.
    public func position(of id: String) -> Int? { index.position(of: id, in: events) }

    func append(_ event: StoredEvent) {
        index.insert(event, at: events.count)
        positionsByType[event.type, default: []].append(Int32(truncatingIfNeeded: events.count))
        events.append(event)
    }

    /// The ascending positions of the events of any of `types` (a sorted union).
    func positions(ofTypes types: Set<String>) -> [Int32] {
        let lists = types.compactMap { positionsByType[$0] }
        if lists.count <= 1 { return lists.first ?? [] }
        return lists.joined().sorted()
    }

    /// Empties the log and hands its events over, for a replaced world to free a chunk at a
    /// time; the indexes go at once (they only point at the events).
    func takeEvents() -> [StoredEvent] {
        let taken = events
        events = []
        index = EventIndex()
        positionsByType = [:]
        return taken
    }

    /// A copy that can grow without touching this one; events are shared.
    func copy() -> EventLog {
        let log = EventLog()
        log.events = events
        log.index = index
        log.positionsByType = positionsByType
        log.closed = closed
        return log
    }
}
