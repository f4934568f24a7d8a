import MockDomain
import MockHTTP
import MockJSON

/// `/sessions`: create, list, retrieve, update, archive, cancel, delete, and the
/// session's events: send, list, stream (API.md sections 6 and 12).
struct SessionRoutes: RouteCollection {
    let store: Store
    let hub: EventStreamHub

    func register(into routes: inout RouteTable.Builder) {
        let store = self.store
        let hub = self.hub
        let session = "/sessions/{session_id}"
        routes.add("GET", "/sessions") { ctx throws(APIError) in
            // Sessions are newest first: `desc` walks the creation order backwards.
            let page = try PageRequest(query: ctx.query, defaultOrder: .desc)
            let filter = try SessionFilter(query: ctx.query)
            let found = try domain { () throws(DomainError) in try store.listSessions(page, filter: filter) }
            return .json(ListBody.encode(found, id: \.id) { $0.json.encoded() })
        }
        routes.add("POST", "/sessions") { ctx throws(APIError) in
            let request = try ctx.decode(SessionRequest.init(body:), from: ctx.objectBody())
            let session = try domain { () throws(DomainError) in try store.createSession(request) }
            return .json(session.json)
        }
        routes.add("GET", session) { ctx throws(APIError) in
            .json(try domain { () throws(DomainError) in try store.session(ctx.param("session_id")) }.json)
        }
        routes.add("POST", session) { ctx throws(APIError) in
            let update = try ctx.decode(SessionUpdate.init(body:), from: ctx.objectBody())
            return .json(
                try domain { () throws(DomainError) in try store.updateSession(ctx.param("session_id"), update) }.json)
        }
        routes.add("DELETE", session) { ctx throws(APIError) in
            _ = try ctx.objectBody()
            let id = ctx.param("session_id")
            try domain { () throws(DomainError) in try store.deleteSession(id) }
            return .json(["id": .string(id), "type": "session_deleted"])
        }
        routes.add("POST", session + "/archive") { ctx throws(APIError) in
            _ = try ctx.objectBody()
            return .json(
                try domain { () throws(DomainError) in try store.archiveSession(ctx.param("session_id")) }.json)
        }
        routes.add("POST", session + "/cancel") { ctx throws(APIError) in
            _ = try ctx.objectBody()
            let id = ctx.param("session_id")
            let wasRunning = try domain { () throws(DomainError) in try store.cancel(sessionID: id) }
            return .json(wasRunning ? 202 : 200, ["id": .string(id), "type": "session", "status": "canceling"])
        }
        routes.add("POST", session + "/events") { ctx throws(APIError) in
            let body = try ctx.objectBody()
            let items = try ctx.decode { () throws(JSONReadError) in try body.array("events").map(\.0) }
            guard body.has("events") else {
                throw APIError.invalid(
                    "events is required: {\"events\": [{\"type\": \"user.message\", ...}]}.", param: "events")
            }
            let stored = try domain { () throws(DomainError) in
                try store.send(sessionID: ctx.param("session_id"), items)
            }
            return .json(ListBody.data(stored))
        }
        routes.add("GET", session + "/events", streams: .whenAccepted) { ctx throws(APIError) in
            if ctx.streams { return try openSessionStream(ctx) }
            let page = try PageRequest(query: ctx.query)
            let filter = try EventFilter(query: ctx.query)
            let found = try domain { () throws(DomainError) in
                try store.listSessionEvents(sessionID: ctx.param("session_id"), page: page, filter: filter)
            }
            return .json(ListBody.encode(found))
        }
        routes.add("GET", session + "/events/stream", streams: .always) { ctx throws(APIError) in
            try openSessionStream(ctx)
        }

        func openSessionStream(_ ctx: RequestContext) throws(APIError) -> Reply {
            let resume = try StreamOptions.resumeCursor(ctx)
            let start = try domain { () throws(DomainError) in
                try store.sessionStreamStart(sessionID: ctx.param("session_id"), resumeFrom: resume)
            }
            return StreamOptions.reply(start, ctx, hub: hub)
        }
    }
}

extension SessionFilter {
    /// `include_archived`, `agent_id`, `statuses[]` of `GET /sessions`.
    init(query: Query) throws(APIError) {
        self.init()
        if let raw = query.first("include_archived") {
            guard let flag = Bool(raw.lowercased()) else {
                throw APIError.invalid(
                    "include_archived must be true or false, got '\(raw)'.", param: "include_archived")
            }
            includeArchived = flag
        }
        agentID = query.first("agent_id").flatMap { $0.isEmpty ? nil : $0 }
        if let raw = query.first("agent_version") {
            guard let n = Int(raw), n >= 1 else {
                throw APIError.invalid(
                    "agent_version must be a positive integer, got '\(raw)'.", param: "agent_version")
            }
            agentVersion = n
        }
        (from, to) = try CreatedAtWindow.read(query)
        for value in query.all("statuses[]") {
            guard value == "idle" || value == "running" else {
                throw APIError.invalid(
                    "statuses[] has an unknown value '\(value)'; expected idle or running.", param: "statuses[]")
            }
            statuses.insert(value)
        }
    }
}

extension EventFilter {
    /// `type` / `types[]` and `created_at[gt|gte|lt|lte]` (RFC 3339).
    init(query: Query) throws(APIError) {
        self.init(types: ListFilters.eventTypes(query))
        (from, to) = try CreatedAtWindow.read(query)
    }
}

/// `created_at[gt|gte|lt|lte]` (RFC 3339) as inclusive bounds in milliseconds.
enum CreatedAtWindow {
    static func read(_ query: Query) throws(APIError) -> (Int64, Int64) {
        var from = Int64.min
        var to = Int64.max
        for op in ["gt", "gte", "lt", "lte"] {
            let name = "created_at[\(op)]"
            guard let raw = query.first(name) else { continue }
            guard let t = Timestamp.parse(raw) else {
                throw APIError.invalid(
                    "\(name) must be an RFC 3339 time like 2026-06-15T08:00:00.000Z, got '\(raw)'.", param: name)
            }
            switch op {
            case "gt": from = max(from, t + 1)
            case "gte": from = max(from, t)
            case "lt": to = min(to, t - 1)
            default: to = min(to, t)
            }
        }
        return (from, to)
    }
}

extension SessionUpdate {
    /// The body of `POST /sessions/{id}`: `title` (a string or null), `metadata`
    /// (merged), `agent` (a version of the session's agent).
    init(body: JSONObjectReader) throws(JSONReadError) {
        self.init()
        if body.has("title") {
            let t = body.raw("title")!
            guard t.stringValue != nil || t == .null else { throw body.fail("title", "must be a string or null") }
            title = t
        }
        metadata = try body.object("metadata")?.json
        agent = try body["agent"].map { v throws(JSONReadError) in try AgentReference(v, at: body.path.key("agent")) }
        vaultIDs = try Self.vaults(body)
    }

    /// `vault_ids`: a list of strings.
    static func vaults(_ body: JSONObjectReader) throws(JSONReadError) -> JSON? {
        guard let v = body["vault_ids"] else { return nil }
        guard let list = v.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
            throw body.fail("vault_ids", "must be an array of vault ids")
        }
        return v
    }
}

extension SessionRequest {
    /// The body of `POST /sessions`: `agent` (an id or `{"type": "agent", "id", "version"?}`),
    /// `environment_id`, `title`, `metadata`.
    init(body: JSONObjectReader) throws(JSONReadError) {
        self.init(
            agent: try AgentReference(body.required("agent"), at: body.path.key("agent")),
            environmentID: try body.string("environment_id"), title: try body.string("title"),
            metadata: try body.object("metadata")?.json ?? .object([]))
        if let events = body["initial_events"], events.arrayValue == nil {
            throw body.fail("initial_events", "must be an array of events")
        }
        initialEvents = try body.array("initial_events").map(\.0)
        if let r = body["resources"] {
            guard r.arrayValue != nil else { throw body.fail("resources", "must be an array") }
            resources = r
        }
        vaultIDs = try SessionUpdate.vaults(body) ?? .array([])
    }
}

extension AgentReference {
    /// An id string, or `{"type": "agent", "id", "version"?}`.
    init(_ value: JSON, at path: JSONPath) throws(JSONReadError) {
        if let s = value.stringValue {
            self.init(id: s.trimmingSpaces)
            return
        }
        guard case .object = value, let id = value["id"]?.stringValue else {
            throw .invalid(path, "must be an agent id or {\"type\": \"agent\", \"id\": ...}")
        }
        let ref = try JSONObjectReader(value, at: path)
        self.init(id: id.trimmingSpaces, version: try ref.int("version"))
    }
}

extension RequestContext {
    /// Decodes the body with `decoder`; a refused field is the 400 naming it.
    func decode<T>(_ decoder: (JSONObjectReader) throws(JSONReadError) -> T, from body: JSONObjectReader)
        throws(APIError) -> T
    {
        try decode { () throws(JSONReadError) in try decoder(body) }
    }
}

extension Reply {
    static func json(_ status: Int, _ body: [UInt8]) -> Reply {
        .response(HTTPResponse(status: status, body: body))
    }

    static func json(_ body: [UInt8]) -> Reply { json(200, body) }

    static func json(_ status: Int, _ value: JSON) -> Reply { json(status, value.encoded()) }

    static func json(_ value: JSON) -> Reply { json(200, value.encoded()) }
}
