import MockJSON

/// Reads one fixture document into a new store, part by part, with the JSON
/// path of the first problem. Shapes and formats are checked here; how the parts
/// relate is the store's rule (`Store.restore`, `Store.settle`).
struct FixtureReader {
    let store: Store
    /// Every id seen so far. Where an id was first used is only looked up when it
    /// comes again (an error): keeping a path per id would cost more than the events.
    var seenIDs = IDSet()
    /// Every event read so far, and their ids' index: event ids (`evt_`) cannot meet the
    /// other kinds, and are looked up in the events themselves, not kept again as Strings.
    var eventsRead: [StoredEvent] = []
    var eventIDs = EventIndex()
    /// Set by `SessionReadAhead`: event ids are not looked up as they are read, only their
    /// hashes kept (`eventHashes`, by position in `eventsRead`), and all of them are checked
    /// at once when every reader is done.
    var checksEventIDsLater = false
    var eventHashes: [UInt32] = []
    /// Each event type's name, held once (`SuppliedEvent`'s `typeName`): the first few in a
    /// list (found by a scan, lengths first, cheaper than hashing), the rest by dictionary.
    var typeNames = TypeNames()
    /// The document being read, for that look-up.
    var document: JSON = .null

    init(store: Store) { self.store = store }

    /// Reads `document`. With `sessionsRead`, its sessions were already read, in order, by
    /// `SessionReadAhead` (which checked them as `readSession` does): they are taken as they
    /// are and only the rest of the document is read here.
    mutating func read(_ document: JSON, sessionsRead: [Session]? = nil) throws(JSONReadError) {
        self.document = document
        if sessionsRead == nil {
            let counts = Self.roughCounts(document)
            seenIDs.reserve(counts.ids)
            eventsRead.reserveCapacity(counts.events)
            eventIDs.reserve(counts.events)
        }
        let root = try JSONObjectReader(document, at: .document)
        for (key, _) in root.pairs
        where !["tokens", "tokens_required", "agents", "sessions", "$schema", "description"].contains(key) {
            throw JSONReadError(
                path: root.path.key(key), problem: .unknownField(expected: ["tokens", "agents", "sessions"]))
        }
        for (t, path) in try root.array("tokens") {
            guard let s = t.stringValue, !s.isEmpty else { throw .invalid(path, "expected a non-empty string") }
            store.addToken(s)
        }
        if root["tokens_required"]?.boolValue == true { store.tokensRequired = true }
        try readAgents(try root.array("agents"))
        let sessions = try root.array("sessions")
        if let sessionsRead {
            precondition(sessionsRead.count == sessions.count, "sessions read ahead are the document's")
            for session in sessionsRead { store.insert(session) }
        } else {
            for (s, path) in sessions { store.insert(try readSession(s, path)) }
        }
    }

    /// The roster (`$.agents`), then the agents' scripts.
    mutating func readAgents(_ agents: [(JSON, JSONPath)]) throws(JSONReadError) {
        for (a, path) in agents {
            let agent = try readAgent(a, path)
            do throws(DomainError) {
                try store.restore(agent: agent)
            } catch {
                throw .invalid(path.key(error.param ?? "id"), error.message)
            }
        }
        // Scripts once the whole roster is known: a script may start any agent of it.
        let scripts = ScriptReader(knows: { [store] in store.rosterAgent($0) != nil })
        for (i, (a, path)) in agents.enumerated() {
            guard let source = a["script"] else { continue }
            store.agents[i].script = try scripts.read(source, at: path.key("script"))
        }
    }

    /// About how many ids the document holds (sessions, threads and messages; events), so
    /// the id sets are sized once instead of growing through a million events. Read
    /// before any check.
    static func roughCounts(_ document: JSON) -> (ids: Int, events: Int) {
        var ids = 0
        var events = 0
        for session in document["sessions"]?.arrayValue ?? [] {
            ids += 1
            for thread in session["threads"]?.arrayValue ?? [] {
                ids += 1 + (thread["mailbox"]?.arrayValue?.count ?? 0)
                events += thread["events"]?.arrayValue?.count ?? 0
            }
        }
        return (min(ids, 1 << 26), min(events, 1 << 26))
    }

    /// One version of an agent: the `/agents` object. Only `id` and `name` are
    /// required (older fixtures give `id`, `name`, `model`, `version`).
    func readAgent(_ value: JSON, _ path: JSONPath) throws(JSONReadError) -> Agent {
        let obj = try JSONObjectReader(value, at: path)
        try obj.rejectUnknown([
            "id", "type", "name", "description", "model", "system", "tools", "mcp_servers", "skills", "multiagent",
            "metadata", "version", "archived_at", "created_at", "updated_at", "script",
        ])
        let agentID = try obj.requiredString("id")
        guard EventIDs.isWellFormed(agentID, prefix: "agent") else {
            throw obj.fail("id", "'\(agentID)' is not a valid id: expected 'agent_' followed by letters and digits")
        }
        if let t = try obj.string("type"), t != "agent" { throw obj.fail("type", "must be 'agent'") }
        // The same rules as POST /agents: a name, and a model name or {id, ...}.
        let name = try obj.requiredString("name")
        guard name.contains(where: { $0 != " " }) else { throw obj.fail("name", "must not be empty") }
        let model = obj["model"] ?? "ultimate"
        guard (model.stringValue.map { !$0.isEmpty } ?? false) || model["id"]?.stringValue != nil else {
            throw obj.fail("model", "must be a model name or an object {id, ...}")
        }
        var agent = Agent(
            id: agentID, name: name, model: model, version: try obj.int("version", in: 1...Int(Int32.max)) ?? 1)
        for (key, kind) in [("description", "a string"), ("system", "a string")] {
            if let v = obj[key] {
                guard v.stringValue != nil else { throw obj.fail(key, "must be \(kind) or null") }
            }
        }
        agent.description = obj["description"] ?? .null
        agent.system = obj["system"] ?? .null
        for key in ["tools", "mcp_servers", "skills"] {
            if let v = obj[key], v.arrayValue == nil { throw obj.fail(key, "must be an array") }
        }
        agent.tools = obj["tools"] ?? .array([])
        agent.mcpServers = obj["mcp_servers"] ?? .array([])
        agent.skills = obj["skills"] ?? .array([])
        if let m = obj["multiagent"], m.objectValue == nil { throw obj.fail("multiagent", "must be an object or null") }
        agent.multiagent = obj["multiagent"] ?? .null
        let metadata = try obj.object("metadata")?.json ?? .object([])
        for (key, v) in metadata.objectValue ?? [] where v.stringValue == nil {
            throw .invalid(path.key("metadata").key(key), "must be a string")
        }
        agent.metadata = metadata
        agent.createdAt = try time(obj, "created_at") ?? store.clock.now()
        agent.updatedAt = try time(obj, "updated_at") ?? agent.createdAt
        agent.archivedAt = try time(obj, "archived_at")
        return agent
    }

    /// An id with its prefix, unique across the whole document.
    mutating func id(_ obj: JSONObjectReader, prefix: String) throws(JSONReadError) -> String {
        let s = try obj.requiredString("id")
        guard EventIDs.isWellFormed(s, prefix: prefix) else {
            throw obj.fail(
                "id", "'\(s)' is not a valid id: expected '\(prefix)_' followed by letters, digits, '_' or '-'")
        }
        try remember(s, at: obj.path)
        return s
    }

    /// Ids are unique across the whole document (events: `eventsRead`); `path` is the object's.
    mutating func remember(_ id: String, at path: JSONPath) throws(JSONReadError) {
        guard seenIDs.insert(id) else { throw duplicate(id, at: path) }
    }

    /// The error for an id used a second time, at `path` (the object's).
    func duplicate(_ id: String, at path: JSONPath) -> JSONReadError {
        let first = Self.firstUse(of: id, in: document, at: .document)?.key("id").description ?? "?"
        return .invalid(path.key("id"), "duplicate id '\(id)' (first used at \(first))")
    }

    /// The path of the first object, in document order, whose `id` is `id`.
    static func firstUse(of id: String, in value: JSON, at path: JSONPath) -> JSONPath? {
        switch value {
        case .encoded:
            let opened = value.openedOneLevel
            if case .object = opened { return firstUse(of: id, in: opened, at: path) }
        case .object(let pairs):
            if pairs.contains(where: { $0.0 == "id" && $0.1.stringValue == id }) { return path }
            for (key, child) in pairs {
                if let found = firstUse(of: id, in: child, at: path.key(key)) { return found }
            }
        case .array(let items):
            for (i, child) in items.enumerated() {
                if let found = firstUse(of: id, in: child, at: path.index(i)) { return found }
            }
        default: break
        }
        return nil
    }

    func time(_ obj: JSONObjectReader, _ key: String) throws(JSONReadError) -> Int64? {
        guard let s = try obj.string(key) else { return nil }
        guard let t = Timestamp.parse(s) else {
            throw obj.fail(key, "'\(s)' is not an RFC 3339 timestamp like 2026-06-15T08:00:00.000Z")
        }
        return t
    }

    /// An agent reference: a snapshot object `{id, name, model, version}`, an id
    /// string, or `agent_id` (+ `agent_version`) on the owner, resolved in the roster.
    func agentRef(_ obj: JSONObjectReader, fallback: Agent? = nil) throws(JSONReadError) -> Agent {
        if let a = obj["agent"], case .object = a {
            let ref = try JSONObjectReader(a, at: obj.path.key("agent"))
            let id = try ref.requiredString("id")
            if let name = ref["name"]?.stringValue {
                return Agent(
                    id: id, name: name, model: ref["model"] ?? "ultimate", version: ref["version"]?.intValue ?? 1)
            }
            return try roster(id, version: ref["version"]?.intValue, ref.path)
        }
        if let id = obj["agent"]?.stringValue {
            return try roster(id, version: obj["agent_version"]?.intValue, obj.path.key("agent"))
        }
        if let id = obj["agent_id"]?.stringValue {
            return try roster(id, version: obj["agent_version"]?.intValue, obj.path.key("agent_id"))
        }
        if let fallback { return fallback }
        throw .invalid(obj.path.key("agent"), "is required (an agent id, or {id, name, model, version})")
    }

    func roster(_ id: String, version: Int?, _ path: JSONPath) throws(JSONReadError) -> Agent {
        guard let best = store.agent(id, version: version) else {
            throw .invalid(path, "unknown agent '\(id)'\(version.map { " version \($0)" } ?? "") (not in $.agents)")
        }
        return best
    }

    /// A session and its threads, checked (`Store.settle`) but not yet in the store.
    mutating func readSession(_ value: JSON, _ path: JSONPath) throws(JSONReadError) -> Session {
        let obj = try JSONObjectReader(value, at: path)
        let sid = try id(obj, prefix: "sess")
        let created = try time(obj, "created_at") ?? store.clock.now()
        let agent = try agentRef(obj)
        let environmentID = try obj.string("environment_id")
        let title = try obj.string("title")
        let metadata = try obj.object("metadata")?.json ?? .object([])
        let archivedAt = try time(obj, "archived_at")
        let updated = try time(obj, "updated_at") ?? created
        var state = SessionState(
            agent: agent, environmentID: environmentID, title: title, metadata: metadata, archivedAt: archivedAt,
            createdAt: created, updatedAt: updated)
        for (key, keyPath) in [("resources", \SessionState.resources), ("vault_ids", \SessionState.vaultIDs)] {
            if let v = obj[key] {
                guard v.arrayValue != nil else { throw obj.fail(key, "must be an array") }
                state[keyPath: keyPath] = v
            }
        }
        let session = Session(id: sid, state: state)
        var waits: [Int: WaitTarget] = [:]
        for (i, (t, tp)) in try obj.array("threads").enumerated() {
            let (thread, wait) = try readThread(t, tp, session: session)
            session.threads.append(thread)
            if let wait { waits[i] = wait }
        }
        do throws(DomainError) {
            try Store.settle(session, waits: waits)
        } catch {
            throw .invalid(JSONPath(root: path.appending(error.param ?? "")), error.message)
        }
        return session
    }

    mutating func readThread(_ value: JSON, _ path: JSONPath, session: Session) throws(JSONReadError)
        -> (SessionThread, WaitTarget?)
    {
        let obj = try JSONObjectReader(value, at: path)
        let tid = try id(obj, prefix: "sthr")
        if let s = try obj.string("session_id"), s != session.id {
            throw obj.fail("session_id", "'\(s)' does not match the enclosing session '\(session.id)'")
        }
        let parent = try obj.string("parent_thread_id")
        let roleText = try obj.string("role") ?? (parent == nil ? "coordinator" : "child")
        guard let role = ThreadRole(rawValue: roleText) else {
            throw obj.fail("role", "unknown role '\(roleText)' (expected coordinator or child)")
        }
        let statusText = try obj.string("status") ?? "idle"
        guard let status = ThreadStatus(rawValue: statusText) else {
            throw obj.fail(
                "status",
                "unknown status '\(statusText)' (expected one of \(ThreadStatus.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        var wait: WaitTarget?
        if let w = try obj.object("waiting_on") {
            wait = WaitTarget(
                threadID: try w.requiredString("thread_id"), toolUseID: try w.requiredString("tool_use_id"))
        }
        // A thread without an agent runs the session's agent.
        let agent = try agentRef(obj, fallback: session.agent)
        let created = try time(obj, "created_at") ?? session.createdAt
        let updated = try time(obj, "updated_at") ?? created
        let stopReason: JSON
        if let sr = try obj.object("stop_reason") {
            stopReason = sr.json
        } else {
            switch status {
            case .idle: stopReason = ["type": "end_turn"]
            case .archived: stopReason = ["type": "archive"]
            case .terminated: stopReason = ["type": "terminated"]
            case .running, .blocked: stopReason = .object([])
            }
        }
        let archivedAt = try time(obj, "archived_at") ?? (status == .archived ? updated : nil)
        let thread = SessionThread(
            id: tid, sessionID: session.id,
            state: ThreadState(
                parentThreadID: parent, agent: agent,
                name: try obj.string("name") ?? (role == .coordinator ? "" : agent.name), role: role, status: status,
                stopReason: stopReason, createdByToolUseID: try obj.string("created_by_tool_use_id"),
                archivedAt: archivedAt, createdAt: created, updatedAt: updated))
        thread.log.reserve(obj.count(in: "events"))
        try obj.forEach(in: "events") { (item, ep) throws(JSONReadError) in
            // The event's shape and id format are the supplied-event rules (a document parsed
            // for speed keeps its events as bytes, read there); a fixture event must also
            // carry its id (an export writes them all), unique in the document.
            let event = try SuppliedEvent(item, at: ep, thread: thread) { typeNames.shared($0) }
            guard let eventID = event.id else { throw JSONReadError(path: ep.key("id"), problem: .missing) }
            let stored = event.stored(in: thread, now: created) { eventID }
            if checksEventIDsLater {
                eventHashes.append(UInt32(truncatingIfNeeded: stored.withIDBytes(IDTable.hash) >> 32))
            } else if eventIDs.insertUnlessPresent(stored, at: eventsRead.count, in: eventsRead) != nil {
                throw duplicate(eventID, at: ep)
            }
            eventsRead.append(stored)
            thread.log.append(stored)
        }
        if status.isFinal { thread.log.closed = true }
        for (m, mp) in try obj.array("mailbox") {
            thread.mailbox.append(try readMessage(m, mp, thread: thread))
        }
        return (thread, wait)
    }

    mutating func readMessage(_ value: JSON, _ path: JSONPath, thread: SessionThread) throws(JSONReadError)
        -> MailboxMessage
    {
        let obj = try JSONObjectReader(value, at: path)
        let mid = try id(obj, prefix: "msg")
        let statusText = try obj.string("status") ?? "pending"
        guard let status = MailboxStatus(rawValue: statusText) else {
            throw obj.fail("status", "unknown status '\(statusText)' (expected pending, delivered or cancelled)")
        }
        if let to = try obj.string("to_thread_id"), to != thread.id {
            throw obj.fail("to_thread_id", "'\(to)' does not match the mailbox's thread '\(thread.id)'")
        }
        guard let content = obj.raw("content") else {
            throw JSONReadError(path: path.key("content"), problem: .missing)
        }
        return MailboxMessage(
            id: mid, fromThreadID: try obj.requiredString("from_thread_id"), toThreadID: thread.id,
            content: content, status: status,
            createdAt: try time(obj, "created_at") ?? thread.createdAt)
    }
}

/// Event type names, each held once: a million events share a handful of Strings.
struct TypeNames {
    private var first: [String] = []
    private var more: [String: String] = [:]

    /// The name equal to `type` already held, else `type` (held from now on, up to 10,000).
    mutating func shared(_ type: String) -> String {
        if let known = first.first(where: { $0.equalsLengthFirst(type) }) { return known }
        if first.count < 16 {
            first.append(type)
        } else if let known = more[type] {
            return known
        } else if more.count < 10_000 {
            more[type] = type
        }
        return type
    }
}
