/// A problem in a fixture or a `PUT /_mock/state` body, located by JSON path
/// (`$.sessions[0].threads[1].status`).
public struct FixtureError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}

/// Reads and writes the fixture format: `tokens`, `agents`, and `sessions` with
/// their `threads`, each thread with its `events` and `mailbox`, in the API's own
/// field names. Loading goes through the store's rules; export writes the same
/// format, so a world exported from a failing test loads again unchanged.
public enum Fixture {
    /// Builds a new store from `document`, or throws the first problem found.
    /// Nothing is half-loaded: the caller swaps the result in only on success.
    public static func load(_ document: JSON, clock: MockClock, ids: IDGenerator) throws(FixtureError) -> Store {
        var reader = FixtureReader(store: Store(clock: clock, ids: ids))
        try reader.read(document)
        return reader.store
    }

    public static func export(_ store: Store) -> JSON {
        var top: [(String, JSON)] = []
        top.append(("tokens", .array(store.tokens.map(JSON.string))))
        if store.tokensRequired && store.tokens.isEmpty { top.append(("tokens_required", true)) }
        top.append(("agents", .array(store.agents.map(agentJSON))))
        top.append(("sessions", .array(store.sessions.map(sessionJSON))))
        return .object(top)
    }

    static func agentJSON(_ a: Agent) -> JSON {
        .object([
            ("id", .string(a.id)), ("name", .string(a.name)), ("model", .string(a.model)), ("version", .int(a.version)),
        ])
    }

    static func sessionJSON(_ s: Session) -> JSON {
        guard case .object(var pairs) = s.json else { return s.json }
        pairs.removeAll { $0.0 == "status" }  // derived from the threads
        pairs.append(("threads", .array(s.threads.map(threadJSON))))
        return .object(pairs)
    }

    static func threadJSON(_ t: SessionThread) -> JSON {
        guard case .object(var pairs) = t.json else { return t.json }
        if let w = t.waitingOn {
            pairs.append(("waiting_on", ["thread_id": .string(w.threadID), "tool_use_id": .string(w.toolUseID)]))
        }
        pairs.append(("events", .array(t.events.map { .encoded($0.bytes) })))
        pairs.append(("mailbox", .array(t.mailbox.map(mailboxJSON))))
        return .object(pairs)
    }

    static func mailboxJSON(_ m: MailboxMessage) -> JSON {
        guard case .object(var pairs) = m.json else { return m.json }
        pairs.removeAll { $0.0 == "type" }
        return .object(pairs)
    }
}

private struct FixtureReader {
    let store: Store
    var seenIDs: [String: String] = [:]  // id -> path where first seen

    init(store: Store) { self.store = store }

    func fail(_ path: String, _ message: String) -> FixtureError { FixtureError(path: path, message: message) }

    func object(_ v: JSON, _ path: String) throws(FixtureError) -> JSON {
        guard case .object = v else { throw fail(path, "expected an object, got \(v.typeName)") }
        return v
    }

    func array(_ v: JSON?, _ path: String) throws(FixtureError) -> [JSON] {
        guard let v, !v.isNull else { return [] }
        guard case .array(let items) = v else { throw fail(path, "expected an array, got \(v.typeName)") }
        return items
    }

    func string(_ obj: JSON, _ key: String, _ path: String, required: Bool = true) throws(FixtureError) -> String? {
        guard let v = obj[key], !v.isNull else {
            if required { throw fail("\(path).\(key)", "is required") }
            return nil
        }
        guard let s = v.stringValue else { throw fail("\(path).\(key)", "expected a string, got \(v.typeName)") }
        return s
    }

    mutating func id(_ obj: JSON, _ key: String, prefix: String, _ path: String) throws(FixtureError) -> String {
        let s = try string(obj, key, path)!
        guard s.hasPrefix(prefix + "_"), s.count > prefix.count + 1,
            s.utf8.allSatisfy({
                $0 == 95 || $0 == 45 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0)
            })
        else {
            throw fail(
                "\(path).\(key)",
                "'\(s)' is not a valid id: expected '\(prefix)_' followed by letters, digits, '_' or '-'")
        }
        if let first = seenIDs[s] { throw fail("\(path).\(key)", "duplicate id '\(s)' (first used at \(first))") }
        seenIDs[s] = "\(path).\(key)"
        return s
    }

    func time(_ obj: JSON, _ key: String, _ path: String, default fallback: Int64?) throws(FixtureError) -> Int64? {
        guard let s = try string(obj, key, path, required: false) else { return fallback }
        guard let t = Timestamp.parse(s) else {
            throw fail("\(path).\(key)", "'\(s)' is not an RFC 3339 timestamp like 2026-06-15T08:00:00.000Z")
        }
        return t
    }

    func int(_ obj: JSON, _ key: String, _ path: String) throws(FixtureError) -> Int? {
        guard let v = obj[key], !v.isNull else { return nil }
        guard let i = v.intValue else { throw fail("\(path).\(key)", "expected an integer, got \(v.typeName)") }
        return i
    }

    mutating func read(_ document: JSON) throws(FixtureError) {
        let root = try object(document, "$")
        let known: Set<String> = ["tokens", "tokens_required", "agents", "sessions", "$schema", "description"]
        for (key, _) in root.objectValue! where !known.contains(key) {
            throw fail("$.\(key)", "unknown field (expected tokens, agents, sessions)")
        }
        for (i, t) in try array(root["tokens"], "$.tokens").enumerated() {
            guard let s = t.stringValue, !s.isEmpty else { throw fail("$.tokens[\(i)]", "expected a non-empty string") }
            store.addToken(s)
        }
        if root["tokens_required"]?.boolValue == true { store.tokensRequired = true }
        for (i, a) in try array(root["agents"], "$.agents").enumerated() {
            let path = "$.agents[\(i)]"
            let obj = try object(a, path)
            let agentID = try string(obj, "id", path)!
            guard agentID.hasPrefix("agent_"), agentID.count > 6 else {
                throw fail(
                    "\(path).id", "'\(agentID)' is not a valid id: expected 'agent_' followed by letters and digits")
            }
            let agent = Agent(
                id: agentID, name: try string(obj, "name", path)!,
                model: try string(obj, "model", path, required: false) ?? "ultimate",
                version: try int(obj, "version", path) ?? 1)
            if store.agents.contains(where: { $0.id == agent.id && $0.version == agent.version }) {
                throw fail("\(path).id", "duplicate agent '\(agent.id)' version \(agent.version)")
            }
            store.agents.append(agent)
        }
        for (i, s) in try array(root["sessions"], "$.sessions").enumerated() {
            try readSession(s, "$.sessions[\(i)]")
        }
    }

    /// An agent reference: a snapshot object `{id, name, model, version}`, an id
    /// string, or `agent_id` (+ `agent_version`) on the owner, resolved in the roster.
    func agentRef(_ obj: JSON, _ path: String, fallback: Agent? = nil) throws(FixtureError) -> Agent {
        if let a = obj["agent"], case .object = a {
            let p = "\(path).agent"
            guard let id = a["id"]?.stringValue else { throw fail("\(p).id", "is required") }
            if let name = a["name"]?.stringValue {
                return Agent(
                    id: id, name: name, model: a["model"]?.stringValue ?? "ultimate",
                    version: a["version"]?.intValue ?? 1)
            }
            return try roster(id, version: a["version"]?.intValue, p)
        }
        if let a = obj["agent"], let id = a.stringValue {
            return try roster(id, version: obj["agent_version"]?.intValue, "\(path).agent")
        }
        if let id = obj["agent_id"]?.stringValue {
            return try roster(id, version: obj["agent_version"]?.intValue, "\(path).agent_id")
        }
        if let fallback { return fallback }
        throw fail("\(path).agent", "is required (an agent id, or {id, name, model, version})")
    }

    func roster(_ id: String, version: Int?, _ path: String) throws(FixtureError) -> Agent {
        guard let best = store.agent(id, version: version) else {
            throw fail(path, "unknown agent '\(id)'\(version.map { " version \($0)" } ?? "") (not in $.agents)")
        }
        return best
    }

    mutating func readSession(_ value: JSON, _ path: String) throws(FixtureError) {
        let obj = try object(value, path)
        let sid = try id(obj, "id", prefix: "sess", path)
        let created = try time(obj, "created_at", path, default: store.clock.now())!
        let session = Session(
            id: sid, agent: try agentRef(obj, path),
            environmentID: try string(obj, "environment_id", path, required: false),
            title: try string(obj, "title", path, required: false), metadata: obj["metadata"] ?? .object([]),
            archivedAt: try time(obj, "archived_at", path, default: nil), createdAt: created,
            updatedAt: try time(obj, "updated_at", path, default: created)!)
        if case .object = session.metadata {
        } else {
            throw fail("\(path).metadata", "expected an object, got \(session.metadata.typeName)")
        }
        let threadValues = try array(obj["threads"], "\(path).threads")
        var waits: [(SessionThread, String, JSON)] = []
        for (i, t) in threadValues.enumerated() {
            let tp = "\(path).threads[\(i)]"
            let thread = try readThread(t, tp, session: session)
            if let w = t["waiting_on"], !w.isNull { waits.append((thread, tp, w)) }
        }
        // Relations are checked once every thread of the session is known.
        let coordinators = session.threads.enumerated().filter { $0.element.role == .coordinator }
        if coordinators.count > 1 {
            throw fail("\(path).threads[\(coordinators[1].offset)].role", "a session has at most one coordinator")
        }
        for (i, t) in session.threads.enumerated() where t.role == .child {
            let tp = "\(path).threads[\(i)]"
            guard let parent = t.parentThreadID else {
                throw fail("\(tp).parent_thread_id", "a child thread needs its parent")
            }
            guard session.thread(parent) != nil, parent != t.id else {
                throw fail("\(tp).parent_thread_id", "'\(parent)' is not a thread of session '\(sid)'")
            }
        }
        for (thread, tp, w) in waits {
            let wo = try object(w, "\(tp).waiting_on")
            guard thread.status == .blocked else {
                throw fail(
                    "\(tp).waiting_on", "only a blocked thread waits on another (status is \(thread.status.rawValue))")
            }
            let target = try string(wo, "thread_id", "\(tp).waiting_on")!
            guard session.thread(target) != nil, target != thread.id else {
                throw fail("\(tp).waiting_on.thread_id", "'\(target)' is not another thread of session '\(sid)'")
            }
            thread.waitingOn = WaitTarget(
                threadID: target, toolUseID: try string(wo, "tool_use_id", "\(tp).waiting_on")!)
        }
        for (i, t) in session.threads.enumerated() {
            for (j, m) in t.mailbox.enumerated() where session.thread(m.fromThreadID) == nil {
                throw fail(
                    "\(path).threads[\(i)].mailbox[\(j)].from_thread_id",
                    "'\(m.fromThreadID)' is not a thread of session '\(sid)'")
            }
        }
        // The coordinator is listed first whatever the fixture's order.
        if let c = coordinators.first, c.offset != 0 {
            session.threads.remove(at: c.offset)
            session.threads.insert(c.element, at: 0)
        }
        store.insert(session)
        for t in session.threads { store.threadsByID[t.id] = t }
    }

    mutating func readThread(_ value: JSON, _ path: String, session: Session) throws(FixtureError) -> SessionThread {
        let obj = try object(value, path)
        let tid = try id(obj, "id", prefix: "sthr", path)
        if let s = try string(obj, "session_id", path, required: false), s != session.id {
            throw fail("\(path).session_id", "'\(s)' does not match the enclosing session '\(session.id)'")
        }
        let roleText =
            try string(obj, "role", path, required: false)
            ?? (obj["parent_thread_id"]?.stringValue == nil ? "coordinator" : "child")
        guard let role = ThreadRole(rawValue: roleText) else {
            throw fail("\(path).role", "unknown role '\(roleText)' (expected coordinator or child)")
        }
        let statusText = try string(obj, "status", path, required: false) ?? "idle"
        guard let status = ThreadStatus(rawValue: statusText) else {
            throw fail(
                "\(path).status",
                "unknown status '\(statusText)' (expected one of \(ThreadStatus.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        let parent = try string(obj, "parent_thread_id", path, required: false)
        if role == .coordinator, parent != nil {
            throw fail("\(path).parent_thread_id", "a coordinator has no parent (must be null)")
        }
        if status == .archived, role == .coordinator {
            throw fail("\(path).status", "a coordinator cannot be archived")
        }
        if status == .blocked, obj["waiting_on"] == nil || obj["waiting_on"]!.isNull {
            throw fail("\(path).waiting_on", "a blocked thread needs {thread_id, tool_use_id}")
        }
        // A thread without an agent runs the session's agent.
        let agent = try agentRef(obj, path, fallback: session.agent)
        let created = try time(obj, "created_at", path, default: session.createdAt)!
        let updated = try time(obj, "updated_at", path, default: created)!
        var stopReason: JSON
        if let sr = obj["stop_reason"], !sr.isNull {
            stopReason = try object(sr, "\(path).stop_reason")
        } else {
            switch status {
            case .idle: stopReason = ["type": "end_turn"]
            case .archived: stopReason = ["type": "archive"]
            case .terminated: stopReason = ["type": "terminated"]
            case .running, .blocked: stopReason = .object([])
            }
        }
        let archivedAt = try time(obj, "archived_at", path, default: status == .archived ? updated : nil)
        let thread = SessionThread(
            id: tid, sessionID: session.id, parentThreadID: parent, agent: agent,
            name: try string(obj, "name", path, required: false) ?? (role == .coordinator ? "" : agent.name),
            role: role,
            status: status, stopReason: stopReason,
            createdByToolUseID: try string(obj, "created_by_tool_use_id", path, required: false),
            archivedAt: archivedAt,
            createdAt: created, updatedAt: updated)
        for (i, e) in try array(obj["events"], "\(path).events").enumerated() {
            thread.append(try readEvent(e, "\(path).events[\(i)]", thread: thread))
        }
        for (i, m) in try array(obj["mailbox"], "\(path).mailbox").enumerated() {
            thread.mailbox.append(try readMessage(m, "\(path).mailbox[\(i)]", thread: thread))
        }
        session.threads.append(thread)
        return thread
    }

    mutating func readEvent(_ value: JSON, _ path: String, thread: SessionThread) throws(FixtureError) -> StoredEvent {
        let obj = try object(value, path)
        let eid = try id(obj, "id", prefix: "evt", path)
        guard let type = try string(obj, "type", path), !type.isEmpty else {
            throw fail("\(path).type", "must not be empty")
        }
        for (key, expected) in [("session_id", thread.sessionID), ("session_thread_id", thread.id)] {
            if let s = try string(obj, key, path, required: false), s != expected {
                throw fail(
                    "\(path).\(key)",
                    "'\(s)' does not match the enclosing \(key == "session_id" ? "session" : "thread") '\(expected)'")
            }
        }
        let created = try time(obj, "created_at", path, default: thread.createdAt)!
        _ = try time(obj, "processed_at", path, default: nil)
        // Fill what the server would have written, in its order; keep all else as given.
        guard case .object(var given) = obj else { throw fail(path, "expected an object") }
        let head: [(String, JSON)] = [
            ("id", .string(eid)), ("type", .string(type)), ("schema_version", obj["schema_version"] ?? "1.0"),
            ("session_id", .string(thread.sessionID)), ("session_thread_id", .string(thread.id)),
        ]
        let headKeys = Set(head.map(\.0)).union(["created_at", "processed_at"])
        given.removeAll { headKeys.contains($0.0) }
        // A null time is absent, like every other optional field (the event must carry real times).
        func present(_ key: String) -> JSON? {
            guard let v = obj[key], !v.isNull else { return nil }
            return v
        }
        let createdJSON = present("created_at") ?? .string(Timestamp.format(created))
        return StoredEvent(
            id: eid, type: type,
            json: .object(
                head + given + [("created_at", createdJSON), ("processed_at", present("processed_at") ?? createdJSON)]))
    }

    mutating func readMessage(_ value: JSON, _ path: String, thread: SessionThread) throws(FixtureError)
        -> MailboxMessage
    {
        let obj = try object(value, path)
        let mid = try id(obj, "id", prefix: "msg", path)
        let statusText = try string(obj, "status", path, required: false) ?? "pending"
        guard let status = MailboxStatus(rawValue: statusText) else {
            throw fail("\(path).status", "unknown status '\(statusText)' (expected pending, delivered or cancelled)")
        }
        if let to = try string(obj, "to_thread_id", path, required: false), to != thread.id {
            throw fail("\(path).to_thread_id", "'\(to)' does not match the mailbox's thread '\(thread.id)'")
        }
        guard let content = obj["content"] else { throw fail("\(path).content", "is required") }
        return MailboxMessage(
            id: mid, fromThreadID: try string(obj, "from_thread_id", path)!, toThreadID: thread.id, content: content,
            status: status, createdAt: try time(obj, "created_at", path, default: thread.createdAt)!)
    }
}
