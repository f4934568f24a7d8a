/// An ordered list of events that streams follow: a thread's history, or a
/// session's events across all of its threads in the order they were written.
/// Only the store appends; `closed` means no event will ever follow (a final
/// thread, a deleted session), so a stream that reached the end ends.
public final class EventLog {
    public internal(set) var events: [StoredEvent] = []
    /// Position of each event id, for cursors and `Last-Event-ID`.
    public internal(set) var index: [String: Int] = [:]
    public internal(set) var closed = false

    init() {}

    public var count: Int { events.count }

    func append(_ event: StoredEvent) {
        index[event.id] = events.count
        events.append(event)
    }

    /// A copy that can grow without touching this one; events are shared.
    func copy() -> EventLog {
        let log = EventLog()
        log.events = events
        log.index = index
        log.closed = closed
        return log
    }
}
