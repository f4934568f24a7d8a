import MockJSON

/// Where a stream starts: the log it follows and the position of the first event to send.
public struct StreamStart {
    public let log: EventLog
    public let next: Int
}

extension Store {
    /// Endpoint 3, JSON form: this thread's events only, oldest first.
    public func listEvents(sessionID: String, threadID: String, page: PageRequest, types: Set<String>)
        throws(DomainError) -> Page<StoredEvent>
    {
        let thread = try thread(threadID, in: sessionID)
        return try page.cut(
            thread.log.events, candidates: types.isEmpty ? nil : thread.log.positions(ofTypes: types),
            id: { $0.id }, index: { thread.log.position(of: $0) }, matches: { types.isEmpty || types.contains($0.type) }
        )
    }

    /// Where a stream of this thread starts: after `resumeFrom` (a `Last-Event-ID`
    /// or `after_id`) when given, which must be an event of this thread, or one
    /// being previewed on it (API.md sections 7 and 12).
    public func streamStart(sessionID: String, threadID: String, resumeFrom: ResumeCursor?) throws(DomainError)
        -> StreamStart
    {
        let thread = try thread(threadID, in: sessionID)
        guard let resumeFrom else { return StreamStart(log: thread.log, next: 0) }
        if let i = thread.log.position(of: resumeFrom.id) { return StreamStart(log: thread.log, next: i + 1) }
        if let mark = sessionsByID[sessionID]?.previews[resumeFrom.id], mark.threadID == thread.id {
            return StreamStart(log: thread.log, next: mark.threadPosition)
        }
        throw .invalid(
            "\(resumeFrom.param) '\(resumeFrom.id)' is not an event of thread '\(thread.id)'.",
            param: resumeFrom.param)
    }

    /// Where a stream of the whole session starts (API.md section 12).
    public func sessionStreamStart(sessionID: String, resumeFrom: ResumeCursor?) throws(DomainError) -> StreamStart {
        let session = try session(sessionID)
        guard let resumeFrom else { return StreamStart(log: session.log, next: 0) }
        if let i = session.log.position(of: resumeFrom.id) { return StreamStart(log: session.log, next: i + 1) }
        if let mark = session.previews[resumeFrom.id] {
            return StreamStart(log: session.log, next: mark.sessionPosition)
        }
        throw .invalid(
            "\(resumeFrom.param) '\(resumeFrom.id)' is not an event of session '\(session.id)'.",
            param: resumeFrom.param)
    }

    /// `GET /sessions/{id}/events`: every event of the session in session order.
    public func listSessionEvents(sessionID: String, page: PageRequest, filter: EventFilter) throws(DomainError)
        -> Page<StoredEvent>
    {
        let session = try session(sessionID)
        return try page.cut(
            session.log.events, candidates: filter.types.isEmpty ? nil : session.log.positions(ofTypes: filter.types),
            id: { $0.id }, index: { session.log.position(of: $0) }, matches: filter.matches)
    }

    /// Writes one event in the canonical key order of the seeds: id, type,
    /// schema_version, session_id, session_thread_id, turn_id (during a turn), own
    /// fields, created_at, processed_at.
    @discardableResult
    func addEvent(to thread: SessionThread, type: String, fields: [(String, JSON)], at millis: Int64, id: String? = nil)
        -> StoredEvent
    {
        let time = JSON.string(Timestamp.format(millis))
        let id = id ?? ids.make("evt")
        var pairs: [(String, JSON)] = [
            ("id", .string(id)), ("type", .string(type)), ("schema_version", "1.0"),
            ("session_id", .string(thread.sessionID)), ("session_thread_id", .string(thread.id)),
        ]
        if let turn = sessionsByID[thread.sessionID]?.turnID { pairs.append(("turn_id", .string(turn))) }
        pairs.append(contentsOf: fields)
        pairs.append(("created_at", time))
        pairs.append(("processed_at", time))
        let event = StoredEvent.make(id: id, type: type, thread: thread, createdAt: millis, json: .object(pairs))
        record(event, in: thread)
        return event
    }

    /// Appends to the thread's log, then to the session's, telling the streams of each.
    func record(_ event: StoredEvent, in thread: SessionThread) {
        createdAtRunTime.events += 1
        thread.log.append(event)
        observer?.appended(event, to: thread.log)
        guard let session = sessionsByID[thread.sessionID] else { return }
        session.log.append(event)
        session.previews[event.id] = nil
        if event.endsModelRequest { session.usage.add(from: event) }
        observer?.appended(event, to: session.log)
    }

    /// A log that will get no more events: its streams end once they have sent it all.
    func close(_ log: EventLog) {
        guard !log.closed else { return }
        log.closed = true
        observer?.closed(log)
    }

    /// `POST /_mock/.../events`: events a test author supplied. Every one is
    /// checked first, then all are appended: a batch with one bad event changes
    /// nothing. Errors name `event` (a single event) or `events[i]`.
    public func appendSuppliedEvents(sessionID: String, threadID: String, _ items: [JSON]) throws(DomainError)
        -> [StoredEvent]
    {
        let thread = try thread(threadID, in: sessionID)
        // Its log is closed and its streams have ended: nothing may follow a final status.
        if thread.status.isFinal {
            throw .conflict("Thread '\(thread.id)' is \(thread.status.rawValue); a final thread takes no more events.")
        }
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
                // Event ids are unique in the whole world, as a fixture's are: the session's
                // stream resumes by them, and an exported state must load again.
                if let holder = threadHoldingEvent(id) {
                    throw .conflict("Event '\(id)' already exists in thread '\(holder.id)'.")
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

extension Store {
    /// The thread whose log holds an event with this id, if any (a lookup per thread).
    func threadHoldingEvent(_ id: String) -> SessionThread? {
        threadsByID.values.first { $0.log.position(of: id) != nil }
    }
}

/// A resume cursor of a stream and the parameter that carried it.
public struct ResumeCursor: Equatable, Sendable {
    public var id: String
    /// `Last-Event-ID` or `after_id`, to name it in a 400.
    public var param: String

    public init(id: String, param: String) {
        self.id = id
        self.param = param
    }
}

/// The filters of an event list: types (empty: all) and a `created_at` window.
public struct EventFilter: Sendable {
    public var types: Set<String> = []
    /// Inclusive bounds in milliseconds.
    public var from: Int64 = .min
    public var to: Int64 = .max

    public init(types: Set<String> = []) { self.types = types }

    func matches(_ event: StoredEvent) -> Bool {
        (types.isEmpty || types.contains(event.type)) && event.createdAt >= from && event.createdAt <= to
    }
}
