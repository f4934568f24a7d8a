/// Told about every event the store writes, in order, so live streams can follow.
public protocol StoreObserver: AnyObject {
    func eventAdded(_ event: StoredEvent, to thread: SessionThread)
    /// The thread reached a final status and its final status event was written.
    func threadFinished(_ thread: SessionThread)
    /// The whole world was replaced (reset, state import): every stream ends.
    func worldReplaced()
}

/// Every rule of the emulated API lives here. The store is owned by the event
/// loop thread: each call runs to completion before the next request is read, so
/// a multi-step change (an archive) is never observed half-done.
public final class Store {
    public let clock: MockClock
    public let ids: IDGenerator
    public weak var observer: StoreObserver?

    public internal(set) var agents: [Agent] = []
    public internal(set) var sessions: [Session] = []
    var sessionsByID: [String: Session] = [:]
    var sessionIndex: [String: Int] = [:]
    var threadsByID: [String: SessionThread] = [:]

    /// Accepted bearer tokens. Empty and not `tokensRequired`: any non-empty token works.
    public internal(set) var tokens: [String] = []
    /// True once any token was configured, so revoking the last one locks the API
    /// instead of opening it to everyone.
    public internal(set) var tokensRequired = false

    public init(clock: MockClock, ids: IDGenerator) {
        self.clock = clock
        self.ids = ids
    }

    // MARK: Look-ups

    /// A roster agent: that version, or without one the highest version of the id.
    public func agent(_ id: String, version: Int?) -> Agent? {
        agents.filter { $0.id == id && (version == nil || $0.version == version) }.max { $0.version < $1.version }
    }

    public func session(_ id: String) throws(APIError) -> Session {
        guard let s = sessionsByID[id] else { throw APIError.sessionNotFound(id) }
        return s
    }

    /// A thread of this session; a thread of another session is not found here.
    public func thread(_ threadID: String, in sessionID: String) throws(APIError) -> SessionThread {
        let session = try session(sessionID)
        guard let t = threadsByID[threadID], t.sessionID == session.id else {
            throw APIError.threadNotFound(threadID)
        }
        return t
    }

    public func anyThread(_ id: String) -> SessionThread? { threadsByID[id] }

    // MARK: Authentication

    public func accepts(token: String) -> Bool {
        guard !token.isEmpty else { return false }
        if !tokensRequired && tokens.isEmpty { return true }
        return tokens.contains(token)
    }

    public func addToken(_ token: String) {
        tokensRequired = true
        if !tokens.contains(token) { tokens.append(token) }
    }

    @discardableResult public func revokeToken(_ token: String) -> Bool {
        guard let i = tokens.firstIndex(of: token) else { return false }
        tokens.remove(at: i)
        return true
    }

    // MARK: Sessions

    public func createSession(
        agent: Agent, environmentID: String?, title: String?, metadata: JSON
    ) -> Session {
        let now = clock.now()
        let session = Session(
            id: ids.make("sess"), agent: agent, environmentID: environmentID, title: title, metadata: metadata,
            archivedAt: nil, createdAt: now, updatedAt: now)
        insert(session)
        return session
    }

    func insert(_ session: Session) {
        sessionIndex[session.id] = sessions.count
        sessions.append(session)
        sessionsByID[session.id] = session
    }

    public func listSessions(_ page: PageRequest) throws(APIError) -> [UInt8] {
        let cut = try page.cut(sessions, id: { $0.id }, index: { self.sessionIndex[$0] })
        return ListBody.encode(
            items: cut.items.map { $0.json.encoded() }, firstID: cut.items.first?.id, lastID: cut.items.last?.id,
            hasMore: cut.hasMore, nextPage: PageToken.encode(cut.nextCursor))
    }

    // MARK: Threads

    /// Endpoint 1. A session with no thread gets its coordinator on this call.
    public func listThreads(sessionID: String, page: PageRequest, statuses: [ThreadStatus]) throws(APIError) -> [UInt8]
    {
        let session = try session(sessionID)
        ensureCoordinator(session)
        var index: [String: Int] = [:]
        if page.cursor != .none {
            for (i, t) in session.threads.enumerated() { index[t.id] = i }
        }
        let wanted = Set(statuses)
        let cut = try page.cut(
            session.threads, id: { $0.id }, index: { index[$0] },
            matches: { wanted.isEmpty || wanted.contains($0.status) })
        return ListBody.encode(
            items: cut.items.map(\.bytes), firstID: cut.items.first?.id, lastID: cut.items.last?.id,
            hasMore: cut.hasMore, nextPage: PageToken.encode(cut.nextCursor))
    }

    /// Creates the coordinator when the session has none: idle, `stop_reason: {}`,
    /// the session's agent. Idempotent, so asking twice never makes two.
    @discardableResult public func ensureCoordinator(_ session: Session) -> SessionThread {
        if let c = session.coordinator { return c }
        let now = clock.now()
        let thread = SessionThread(
            id: ids.make("sthr"), sessionID: session.id, parentThreadID: nil, agent: session.agent, name: "",
            role: .coordinator, status: .idle, stopReason: .object([]), createdByToolUseID: nil, archivedAt: nil,
            createdAt: now, updatedAt: now)
        session.threads.insert(thread, at: 0)
        threadsByID[thread.id] = thread
        return thread
    }

    /// Adds a child thread under `parent`, with the `session.thread_created` event on the parent.
    public func createChild(
        in session: Session, parent: SessionThread, agent: Agent, name: String?, toolUseID: String?,
        status: ThreadStatus
    ) throws(APIError) -> SessionThread {
        guard !parent.status.isFinal else {
            throw APIError.conflict(
                "Parent thread '\(parent.id)' is \(parent.status.rawValue) and cannot start a child.")
        }
        guard !status.isFinal else {
            throw APIError.invalid(
                "A new thread starts idle, running or blocked, not \(status.rawValue).", param: "status")
        }
        let now = clock.now()
        let toolUse = toolUseID ?? ids.make("toolu")
        let child = SessionThread(
            id: ids.make("sthr"), sessionID: session.id, parentThreadID: parent.id, agent: agent,
            name: name ?? agent.name, role: .child, status: status,
            stopReason: status == .idle ? ["type": "end_turn"] : .object([]), createdByToolUseID: toolUse,
            archivedAt: nil, createdAt: now, updatedAt: now)
        session.threads.append(child)
        threadsByID[child.id] = child
        addEvent(
            to: parent, type: "session.thread_created",
            fields: [
                ("session_thread_id_created", .string(child.id)), ("parent_thread_id", .string(parent.id)),
                ("agent_id", .string(agent.id)), ("agent_version", .int(agent.version)),
                ("agent_name", .string(agent.name)), ("role", "child"), ("created_by_tool_use_id", .string(toolUse)),
            ], at: now)
        return child
    }

    // MARK: Events

    /// Endpoint 3, JSON form: this thread's events only, oldest first.
    public func listEvents(sessionID: String, threadID: String, page: PageRequest, types: Set<String>) throws(APIError)
        -> [UInt8]
    {
        let thread = try thread(threadID, in: sessionID)
        let cut = try page.cut(
            thread.events, id: { $0.id }, index: { thread.eventIndex[$0] },
            matches: { types.isEmpty || types.contains($0.type) })
        return ListBody.encode(
            items: cut.items.map(\.bytes), firstID: cut.items.first?.id, lastID: cut.items.last?.id,
            hasMore: cut.hasMore, nextPage: PageToken.encode(cut.nextCursor))
    }

    /// Writes one event in the canonical key order of the seeds: id, type,
    /// schema_version, session_id, session_thread_id, own fields, created_at, processed_at.
    @discardableResult
    public func addEvent(to thread: SessionThread, type: String, fields: [(String, JSON)], at millis: Int64)
        -> StoredEvent
    {
        let time = JSON.string(Timestamp.format(millis))
        var pairs: [(String, JSON)] = [
            ("id", .string(ids.make("evt"))), ("type", .string(type)), ("schema_version", "1.0"),
            ("session_id", .string(thread.sessionID)), ("session_thread_id", .string(thread.id)),
        ]
        pairs.append(contentsOf: fields)
        pairs.append(("created_at", time))
        pairs.append(("processed_at", time))
        let event = StoredEvent(id: pairs[0].1.stringValue!, type: type, json: .object(pairs))
        record(event, in: thread)
        return event
    }

    /// Checks an event a test author supplied, without writing it.
    public func validateSuppliedEvent(_ raw: JSON, to thread: SessionThread, path: String) throws(APIError) {
        guard case .object = raw else {
            throw APIError.invalid("\(path) must be an object, got \(raw.typeName).", param: path)
        }
        guard let type = raw["type"]?.stringValue, !type.isEmpty else {
            throw APIError.invalid("\(path).type must be a non-empty string.", param: "\(path).type")
        }
        if let supplied = raw["id"] {
            guard let s = supplied.stringValue, s.hasPrefix("evt_"), s.count > 4 else {
                throw APIError.invalid("\(path).id must be a string starting with 'evt_'.", param: "\(path).id")
            }
            guard thread.eventIndex[s] == nil else {
                throw APIError.conflict("Event '\(s)' already exists in thread '\(thread.id)'.")
            }
        }
        for (key, expected) in [("session_id", thread.sessionID), ("session_thread_id", thread.id)] {
            if let v = raw[key], v.stringValue != expected {
                throw APIError.invalid("\(path).\(key) must be '\(expected)' when given.", param: "\(path).\(key)")
            }
        }
        for key in ["created_at", "processed_at"] {
            if let v = raw[key] {
                guard let s = v.stringValue, Timestamp.parse(s) != nil else {
                    throw APIError.invalid("\(path).\(key) must be an RFC 3339 timestamp.", param: "\(path).\(key)")
                }
            }
        }
    }

    /// Appends an event a test author supplied. The server fills `id`, `schema_version`,
    /// `session_id`, `session_thread_id`, `created_at` and `processed_at` when absent and
    /// keeps every other field as given.
    public func appendSuppliedEvent(_ raw: JSON, to thread: SessionThread, path: String) throws(APIError) -> StoredEvent
    {
        try validateSuppliedEvent(raw, to: thread, path: path)
        guard case .object(var given) = raw, let type = raw["type"]?.stringValue else { throw APIError.internalError() }
        let id = raw["id"]?.stringValue ?? ids.make("evt")
        let head: [(String, JSON)] = [
            ("id", .string(id)), ("type", .string(type)), ("schema_version", raw["schema_version"] ?? "1.0"),
            ("session_id", .string(thread.sessionID)), ("session_thread_id", .string(thread.id)),
        ]
        let skip = Set(head.map(\.0)).union(["created_at", "processed_at"])
        given.removeAll { skip.contains($0.0) }
        let created = raw["created_at"] ?? .string(Timestamp.format(clock.now()))
        let processed = raw["processed_at"] ?? created
        let event = StoredEvent(
            id: id, type: type, json: .object(head + given + [("created_at", created), ("processed_at", processed)]))
        record(event, in: thread)
        return event
    }

    func record(_ event: StoredEvent, in thread: SessionThread) {
        thread.append(event)
        observer?.eventAdded(event, to: thread)
    }

    // MARK: Status changes

    /// Changes a thread's status the way the service would, writing the matching
    /// `session.thread_status_*` event. `archived` goes through `archive` only.
    public func setStatus(
        _ thread: SessionThread, to status: ThreadStatus, stopReason: JSON?, waitingOn: WaitTarget?
    ) throws(APIError) {
        if thread.status.isFinal {
            throw APIError.conflict("Thread '\(thread.id)' is \(thread.status.rawValue); its status is final.")
        }
        if status == .archived {
            throw APIError.invalid(
                "Use POST /v1/sessions/{session_id}/threads/{thread_id}/archive to archive a thread.", param: "status")
        }
        if status == .blocked {
            guard let waitingOn else {
                throw APIError.invalid(
                    "A blocked thread needs 'waiting_on': {thread_id, tool_use_id}.", param: "waiting_on")
            }
            guard let target = threadsByID[waitingOn.threadID], target.sessionID == thread.sessionID,
                target.id != thread.id
            else {
                throw APIError.invalid(
                    "waiting_on.thread_id '\(waitingOn.threadID)' is not another thread of this session.",
                    param: "waiting_on.thread_id")
            }
        }
        let now = clock.now()
        thread.status = status
        thread.waitingOn = status == .blocked ? waitingOn : nil
        thread.updatedAt = now
        let agentName = JSON.string(thread.agent.name)
        switch status {
        case .running:
            thread.stopReason = stopReason ?? .object([])
            addEvent(
                to: thread, type: "session.thread_status_running",
                fields: [("agent_name", agentName), ("status", "running")], at: now)
        case .idle:
            thread.stopReason = stopReason ?? ["type": "end_turn"]
            addEvent(
                to: thread, type: "session.thread_status_idle",
                fields: [("agent_name", agentName), ("status", "idle"), ("stop_reason", thread.stopReason)], at: now)
        case .blocked:
            thread.stopReason = stopReason ?? .object([])
            let w = waitingOn!
            addEvent(
                to: thread, type: "session.thread_status_blocked",
                fields: [
                    ("agent_name", agentName), ("status", "blocked"),
                    ("waiting_on", ["session_thread_id": .string(w.threadID), "tool_use_id": .string(w.toolUseID)]),
                ], at: now)
        case .terminated:
            thread.stopReason = stopReason ?? ["type": "terminated"]
            addEvent(
                to: thread, type: "session.thread_status_terminated",
                fields: [("agent_name", agentName), ("status", "terminated"), ("stop_reason", thread.stopReason)],
                at: now)
            observer?.threadFinished(thread)
        case .archived:
            break
        }
        touch(sessionOf: thread, at: now)
    }

    func touch(sessionOf thread: SessionThread, at now: Int64) {
        sessionsByID[thread.sessionID]?.updatedAt = now
    }

    // MARK: Archive (endpoint 5)

    public func archive(sessionID: String, threadID: String) throws(APIError) -> SessionThread {
        let thread = try thread(threadID, in: sessionID)
        if thread.role == .coordinator {
            throw APIError.conflict(
                "Thread '\(thread.id)' is the session's coordinator; coordinator threads cannot be archived.")
        }
        guard thread.status == .idle else {
            throw APIError.conflict(
                "Thread '\(thread.id)' is \(thread.status.rawValue); only idle threads can be archived.")
        }
        // From here on nothing can fail: the whole change lands in this one call.
        let now = clock.now()
        thread.status = .archived
        thread.stopReason = ["type": "archive"]
        thread.archivedAt = now
        thread.updatedAt = now
        for i in thread.mailbox.indices where thread.mailbox[i].status == .pending {
            thread.mailbox[i].status = .cancelled
        }
        let session = sessionsByID[sessionID]!
        for waiting in session.threads where waiting.status == .blocked && waiting.waitingOn?.threadID == thread.id {
            let toolUse = waiting.waitingOn!.toolUseID
            waiting.status = .running
            waiting.stopReason = .object([])
            waiting.waitingOn = nil
            waiting.updatedAt = now
            addEvent(
                to: waiting, type: "agent.tool_result",
                fields: [("tool_use_id", .string(toolUse)), ("content", "Agent cancelled."), ("is_error", true)],
                at: now)
            addEvent(
                to: waiting, type: "session.thread_status_running",
                fields: [("agent_name", .string(waiting.agent.name)), ("status", "running")], at: now)
        }
        addEvent(
            to: thread, type: "session.thread_status_terminated",
            fields: [
                ("agent_name", .string(thread.agent.name)), ("status", "archived"),
                ("stop_reason", ["type": "archive"]),
            ],
            at: now)
        session.updatedAt = now
        observer?.threadFinished(thread)
        return thread
    }

    // MARK: Mailbox

    public func putMessage(
        into thread: SessionThread, from: SessionThread, content: JSON, status: MailboxStatus
    ) throws(APIError) -> MailboxMessage {
        guard from.sessionID == thread.sessionID else {
            throw APIError.invalid(
                "from_thread_id '\(from.id)' is not a thread of this session.", param: "from_thread_id")
        }
        let message = MailboxMessage(
            id: ids.make("msg"), fromThreadID: from.id, toThreadID: thread.id, content: content, status: status,
            createdAt: clock.now())
        thread.mailbox.append(message)
        return message
    }
}

extension Store {
    /// Validates every supplied event first, then appends them all: a batch with
    /// one bad event changes nothing.
    public func appendSuppliedEvents(_ items: [JSON], to thread: SessionThread) throws(APIError) -> [StoredEvent] {
        var seen = Set<String>()
        for (i, item) in items.enumerated() {
            let path = items.count == 1 ? "event" : "events[\(i)]"
            try validateSuppliedEvent(item, to: thread, path: path)
            if let id = item["id"]?.stringValue {
                guard seen.insert(id).inserted else {
                    throw APIError.invalid("\(path).id '\(id)' is given twice.", param: "\(path).id")
                }
            }
        }
        var out: [StoredEvent] = []
        for (i, item) in items.enumerated() {
            out.append(try appendSuppliedEvent(item, to: thread, path: items.count == 1 ? "event" : "events[\(i)]"))
        }
        return out
    }
}
