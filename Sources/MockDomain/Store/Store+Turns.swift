import MockJSON

/// `POST /sessions/{id}/events` and the turns it starts (API.md sections 12 and 13).
extension Store {
    /// The event types a client may send.
    public static let sendableTypes = [
        "user.message", "user.interrupt", "user.tool_confirmation", "user.custom_tool_result", "user.tool_result",
        "user.define_outcome", "system.message",
    ]

    /// Checks every event first (one bad event refuses the request and writes
    /// nothing), then writes them in order, each with its effects. `param` names
    /// the list in errors (`events`, or `initial_events` on session creation).
    public func send(sessionID: String, _ items: [JSON], param: String = "events") throws(DomainError)
        -> [StoredEvent]
    {
        let session = try session(sessionID)
        guard !items.isEmpty, items.count <= 100 else {
            throw .invalid("\(param) must hold 1 to 100 events (got \(items.count)).", param: param)
        }
        var checked: [Outgoing] = []
        var answered = Set<String>()
        var requests: PendingRequests?
        var messages = 0
        for (i, item) in items.enumerated() {
            let path = JSONPath.body.key(param).index(i)
            let event: Outgoing
            do throws(JSONReadError) {
                event = try Outgoing(item, at: path, session: session, requests: &requests, answered: &answered)
            } catch {
                throw DomainError(error)
            }
            if event.type == "user.message" { messages += 1 }
            checked.append(event)
        }
        if messages > 0 {
            if session.archivedAt != nil {
                throw .busy("Session '\(session.id)' is archived; it takes no new messages.")
            }
            if messages > 1 || session.status == "running" { throw .turnInProgress }
        }
        // A final thread takes no more events; a final coordinator, no more turns.
        for event in checked {
            guard let target = event.thread ?? session.coordinator, target.status.isFinal else { continue }
            throw .busy(
                "Session thread '\(target.id)' is \(target.status.rawValue); it takes no more events.")
        }
        // Nothing can be refused from here on.
        let coordinator = ensureCoordinator(session)
        var stored: [StoredEvent] = []
        for event in checked {
            let now = clock.now()
            let thread = event.thread ?? coordinator
            if event.type == "user.message" { session.turnID = ids.make("turn") }
            stored.append(addEvent(to: thread, type: event.type, fields: event.fields, at: now))
            switch event.type {
            case "user.message": startTurn(session, coordinator: coordinator, text: event.text)
            case "user.interrupt": interrupt(session, only: event.thread, at: now)
            case "user.tool_confirmation", "user.custom_tool_result": answer(event, in: session)
            default: break
            }
        }
        return stored
    }

    /// A `user.message` starts a turn on the coordinator: it runs, and plays the
    /// first rule of its agent's script that matches the text, or the default
    /// turn (API.md section 13). A timeline still waiting for the client is dropped.
    func startTurn(_ session: Session, coordinator: SessionThread, text: String) {
        let now = clock.now()
        dropSteps(sessionID: session.id, threadID: coordinator.id)
        if coordinator.agent != session.agent { coordinator.state.agent = session.agent }
        transition(coordinator, to: .running, at: now)
        settle(session)
        if let record = startTimeline(on: coordinator, text: text) { session.turns.append(record) }
    }

    /// `text` in `count` pieces of about the same number of characters (at least one each).
    static func split(_ text: String, into count: Int) -> [String] {
        let chars = Array(text)
        let n = max(1, min(count, chars.count))
        return (0..<n).map { i in String(chars[(chars.count * i / n)..<(chars.count * (i + 1) / n)]) }
    }

    /// `user.interrupt`: that thread, or every thread that is not final. Each one
    /// that runs or waits goes idle (`end_turn`) and loses its pending steps; a
    /// thread waiting on an interrupted one gets `Agent interrupted.`.
    func interrupt(_ session: Session, only target: SessionThread?, at now: Int64) {
        let threads = target.map { [$0] } ?? session.threads
        for thread in threads where thread.status == .running || thread.status == .blocked || thread.waitsForClient {
            dropSteps(sessionID: session.id, threadID: thread.id)
            transition(thread, to: .idle, stopReason: ["type": "end_turn"], at: now)
            release(waitersOn: thread, in: session, content: "Agent interrupted.", at: now)
        }
        settle(session)
    }

    /// `POST /sessions/{id}/cancel`: the turn stops; every thread that runs or
    /// waits goes idle, pending steps are dropped and pending mailbox messages
    /// cancelled. Returns whether a turn was running (202) or not (200).
    public func cancel(sessionID: String) throws(DomainError) -> Bool {
        let session = try session(sessionID)
        if session.archivedAt != nil { throw .busy("Session '\(sessionID)' is archived; there is no turn to cancel.") }
        let wasRunning = session.status == "running"
        let now = clock.now()
        dropSteps(sessionID: session.id)
        for thread in session.threads {
            cancelPendingMessages(of: thread)
            guard thread.status == .running || thread.status == .blocked || thread.waitsForClient else { continue }
            transition(thread, to: .idle, stopReason: ["type": "end_turn"], at: now)
        }
        settle(session)
        return wasRunning
    }
}

/// One event a client sent, checked against the session before anything is written.
struct Outgoing {
    let type: String
    /// The client's own fields, in its order (the server's fields are set by the store).
    let fields: [(String, JSON)]
    /// The thread it belongs to; nil for the coordinator.
    let thread: SessionThread?
    /// A message's text, for the turn it starts.
    let text: String
    /// For an answer to a tool use: the `toolu_...` id (confirmation) or the event id
    /// (custom tool) it answers, and a confirmation's decision.
    var answers: String?
    var allowed = false
    var denyMessage: String?

    /// Fields the server writes itself; a client's values for them are ignored.
    static let serverFields: Set<String> = [
        "id", "type", "schema_version", "session_id", "session_thread_id", "turn_id", "created_at", "processed_at",
    ]

    init(
        _ value: JSON, at path: JSONPath, session: Session, requests: inout PendingRequests?,
        answered: inout Set<String>
    )
        throws(JSONReadError)
    {
        let body = try JSONObjectReader(value, at: path, expected: "an event object")
        let type = try body.requiredString("type")
        guard Store.sendableTypes.contains(type) else {
            throw body.fail(
                "type", "'\(type)' cannot be sent; expected one of \(Store.sendableTypes.joined(separator: ", "))")
        }
        self.type = type
        var thread: SessionThread?
        var text = ""
        /// The request an answer names by `field`, claimed once per request body.
        func claim(_ field: String, _ kind: Answer, _ what: String) throws(JSONReadError)
            -> (String, SessionThread?)
        {
            let id = try body.requiredString(field)
            guard let use = PendingRequests.find(id, kind, in: session, cache: &requests),
                !answered.contains(use.key)
            else {
                throw body.fail(field, "'\(id)' names no \(what)")
            }
            answered.insert(use.key)
            return (use.key, session.thread(use.threadID))
        }
        switch type {
        case "user.message":
            text = try Self.content(body)
        case "user.interrupt":
            if let id = try body.string("session_thread_id") {
                guard let t = session.thread(id) else {
                    throw body.fail("session_thread_id", "'\(id)' is not a thread of session '\(session.id)'")
                }
                thread = t
            }
        case "user.tool_confirmation":
            guard let result = try body.string("result"), result == "allow" || result == "deny" else {
                throw body.fail("result", "must be 'allow' or 'deny'")
            }
            denyMessage = try body.string("deny_message")
            allowed = result == "allow"
            (answers, thread) = try claim("tool_use_id", .confirmation, "a tool use waiting for a confirmation")
        case "user.custom_tool_result":
            _ = try body.bool("is_error")
            (answers, thread) = try claim(
                "custom_tool_use_id", .customResult, "a custom tool use waiting for its result")
        case "user.tool_result":
            _ = try body.bool("is_error")
            (answers, thread) = try claim("tool_use_id", .toolResult, "a tool use waiting for its result")
        default:
            break
        }
        self.thread = thread
        self.text = text
        // The thread an event belongs to is the server's to write, once, in its place.
        fields = body.pairs.filter { !Self.serverFields.contains($0.0) }
    }

    /// A message's `content`: a non-empty string, or a non-empty list of content
    /// blocks (`text` blocks need their text; other blocks are kept as given).
    /// Returns the text it carries.
    static func content(_ body: JSONObjectReader) throws(JSONReadError) -> String {
        let content = try body.required("content")
        if let s = content.stringValue {
            guard !s.isEmpty else { throw body.fail("content", "must not be empty") }
            return s
        }
        guard let blocks = content.arrayValue, !blocks.isEmpty else {
            throw body.fail("content", "must be a non-empty string or a non-empty list of content blocks")
        }
        var texts: [String] = []
        for (i, block) in blocks.enumerated() {
            let reader = try JSONObjectReader(block, at: body.path.key("content").index(i), expected: "a content block")
            let kind = try reader.requiredString("type")
            if kind == "text" { texts.append(try reader.requiredString("text")) }
        }
        return texts.joined(separator: "\n")
    }

    enum Answer { case confirmation, customResult, toolResult }

}

/// The requests of a session that wait for the client's answer, found in one pass
/// over its events (once per request that answers any): tool uses that ask for a
/// confirmation, tool uses without a result, custom tool uses without a result.
/// Each is known by its `toolu_...` id and by its event's id; a request whose turn
/// was cancelled or interrupted is void.
struct PendingRequests {
    typealias Request = (key: String, eventID: String, threadID: String)
    private var asks: [String: Request] = [:]
    private var uses: [String: Request] = [:]
    private var customs: [String: Request] = [:]

    init(_ session: Session) {
        for event in session.log.events {
            switch event.type {
            case "agent.tool_use":
                let json = event.json
                let request = (json["tool_use_id"]?.stringValue ?? event.id, event.id, event.threadID)
                uses[request.0] = request
                uses[event.id] = request
                if json["evaluated_permission"]?.stringValue == "ask" {
                    asks[request.0] = request
                    asks[event.id] = request
                }
            case "agent.custom_tool_use":
                customs[event.id] = (event.id, event.id, event.threadID)
            case "user.tool_confirmation":
                Self.close(&asks, event.field("tool_use_id")?.stringValue)
            case "agent.tool_result", "user.tool_result":
                Self.close(&uses, event.field("tool_use_id")?.stringValue)
            case "user.custom_tool_result":
                Self.close(&customs, event.field("custom_tool_use_id")?.stringValue)
            default:
                continue
            }
        }
        for key in session.voided {
            Self.close(&asks, key)
            Self.close(&customs, key)
        }
    }

    private static func close(_ table: inout [String: Request], _ id: String?) {
        guard let id, let request = table[id] else { return }
        table[request.key] = nil
        table[request.eventID] = nil
    }

    static func find(_ id: String, _ kind: Outgoing.Answer, in session: Session, cache: inout PendingRequests?)
        -> (key: String, threadID: String)?
    {
        if cache == nil { cache = PendingRequests(session) }
        let table: [String: Request]
        switch kind {
        case .confirmation: table = cache!.asks
        case .toolResult: table = cache!.uses
        case .customResult: table = cache!.customs
        }
        return table[id].map { ($0.key, $0.threadID) }
    }
}
