import MockJSON

extension Store {
    /// Endpoint 3, JSON form: this thread's events only, oldest first.
    public func listEvents(sessionID: String, threadID: String, page: PageRequest, types: Set<String>)
        throws(DomainError) -> Page<StoredEvent>
    {
        let thread = try thread(threadID, in: sessionID)
        return try page.cut(
            thread.events, id: { $0.id }, index: { thread.eventIndex[$0] },
            matches: { types.isEmpty || types.contains($0.type) })
    }

    /// Where a stream of this thread starts: after `lastEventID` when given, which
    /// must be an event of this thread (API.md section 7).
    public func streamStart(sessionID: String, threadID: String, lastEventID: String?) throws(DomainError)
        -> (thread: SessionThread, next: Int)
    {
        let thread = try thread(threadID, in: sessionID)
        guard let lastEventID else { return (thread, 0) }
        guard let i = thread.eventIndex[lastEventID] else {
            throw .invalid(
                "Last-Event-ID '\(lastEventID)' is not an event of thread '\(thread.id)'.", param: "Last-Event-ID")
        }
        return (thread, i + 1)
    }

    /// Writes one event in the canonical key order of the seeds: id, type,
    /// schema_version, session_id, session_thread_id, own fields, created_at, processed_at.
    @discardableResult
    func addEvent(to thread: SessionThread, type: String, fields: [(String, JSON)], at millis: Int64) -> StoredEvent {
        let time = JSON.string(Timestamp.format(millis))
        let id = ids.make("evt")
        var pairs: [(String, JSON)] = [
            ("id", .string(id)), ("type", .string(type)), ("schema_version", "1.0"),
            ("session_id", .string(thread.sessionID)), ("session_thread_id", .string(thread.id)),
        ]
        pairs.append(contentsOf: fields)
        pairs.append(("created_at", time))
        pairs.append(("processed_at", time))
        let event = StoredEvent(id: id, type: type, json: .object(pairs))
        record(event, in: thread)
        return event
    }

    func record(_ event: StoredEvent, in thread: SessionThread) {
        thread.append(event)
        observer?.eventAdded(event, to: thread)
    }

    /// `POST /_mock/.../events`: events a test author supplied. Every one is
    /// checked first, then all are appended: a batch with one bad event changes
    /// nothing. Errors name `event` (a single event) or `events[i]`.
    public func appendSuppliedEvents(sessionID: String, threadID: String, _ items: [JSON]) throws(DomainError)
        -> [StoredEvent]
    {
        let thread = try thread(threadID, in: sessionID)
        guard !items.isEmpty else { throw .invalid("No events given.", param: "events") }
        var checked: [SuppliedEvent] = []
        var seen = Set<String>()
        for (i, item) in items.enumerated() {
            let path = items.count == 1 ? JSONPath.body.key("event") : JSONPath.body.key("events").index(i)
            let event: SuppliedEvent
            do throws(JSONReadError) {
                event = try SuppliedEvent(item, at: path, thread: thread)
            } catch {
                throw DomainError(error)
            }
            if let id = event.id {
                guard thread.eventIndex[id] == nil else {
                    throw .conflict("Event '\(id)' already exists in thread '\(thread.id)'.")
                }
                guard seen.insert(id).inserted else {
                    throw .invalid("\(path).id '\(id)' is given twice.", param: "\(path).id")
                }
            }
            checked.append(event)
        }
        let now = clock.now()
        return checked.map { event in
            let stored = event.stored(in: thread, now: now) { ids.make("evt") }
            record(stored, in: thread)
            return stored
        }
    }
}
