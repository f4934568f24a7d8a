import MockHTTP

extension MockApp {
    /// The emulated API (API.md section 6), served under `/api/v1/cloud` and `/v1`.
    func registerAPIRoutes() {
        let thread = "/sessions/{session_id}/threads/{thread_id}"
        apiRouter.add("GET", "/sessions") { [unowned self] ctx throws(APIError) in
            let page = try PageRequest(query: ctx.query, defaultOrder: .desc)
            // Sessions are newest first: `desc` walks the creation order backwards.
            return MockApp.json(200, try store.listSessions(page))
        }
        apiRouter.add("POST", "/sessions") { [unowned self] ctx throws(APIError) in
            try createSession(ctx)
        }
        apiRouter.add("GET", "/sessions/{session_id}") { [unowned self] ctx throws(APIError) in
            MockApp.json(200, try store.session(ctx.param("session_id")).json)
        }
        apiRouter.add("GET", "/sessions/{session_id}/threads") { [unowned self] ctx throws(APIError) in
            let page = try PageRequest(query: ctx.query)
            let statuses = try Self.statuses(ctx.query)
            return MockApp.json(
                200, try store.listThreads(sessionID: ctx.param("session_id"), page: page, statuses: statuses))
        }
        apiRouter.add("GET", thread) { [unowned self] ctx throws(APIError) in
            MockApp.json(200, try store.thread(ctx.param("thread_id"), in: ctx.param("session_id")).bytes)
        }
        apiRouter.add("GET", thread + "/events") { [unowned self] ctx throws(APIError) in
            if Self.wantsEventStream(ctx.request.headers) { return try openStream(ctx) }
            let page = try PageRequest(query: ctx.query)
            return MockApp.json(
                200,
                try store.listEvents(
                    sessionID: ctx.param("session_id"), threadID: ctx.param("thread_id"), page: page,
                    types: Self.eventTypes(ctx.query)))
        }
        apiRouter.add("GET", thread + "/stream") { [unowned self] ctx throws(APIError) in
            try openStream(ctx)
        }
        apiRouter.add("POST", thread + "/archive") { [unowned self] ctx throws(APIError) in
            // No body, an empty body, or a JSON object (clients send `{}`).
            _ = try ctx.jsonObject()
            let archived = try store.archive(sessionID: ctx.param("session_id"), threadID: ctx.param("thread_id"))
            return MockApp.json(200, archived.bytes)
        }
    }

    /// `statuses[]`, repeatable, each value one status. Only the bracketed name is the
    /// documented parameter: `statuses=` is an unknown parameter and ignored, as the
    /// service ignores it, so a client that forgets the brackets finds out here.
    static func statuses(_ query: Query) throws(APIError) -> [ThreadStatus] {
        var out: [ThreadStatus] = []
        for value in query.all("statuses[]") {
            guard let s = ThreadStatus(rawValue: value) else {
                throw APIError.invalid(
                    "statuses[] has an unknown value '\(value)'; expected one of \(ThreadStatus.allCases.map(\.rawValue).joined(separator: ", ")).",
                    param: "statuses[]")
            }
            out.append(s)
        }
        return out
    }

    /// `type` (comma-separated) and `types[]` (repeatable, one type each); their union.
    static func eventTypes(_ query: Query) -> Set<String> {
        var types = Set(query.all("types[]").filter { !$0.isEmpty })
        for raw in query.all("type") {
            for t in raw.split(separator: ",") {
                let trimmed = String(t).trimmingSpaces
                if !trimmed.isEmpty { types.insert(trimmed) }
            }
        }
        return types
    }

    static func wantsEventStream(_ headers: HTTPHeaders) -> Bool {
        headers.values("Accept").contains { $0.lowercased().contains("text/event-stream") }
    }

    func createSession(_ ctx: RequestContext) throws(APIError) -> Reply {
        let body = try ctx.jsonObject()
        let agent = try resolveAgent(body["agent"], param: "agent")
        var environmentID: String?
        if let e = body["environment_id"], !e.isNull {
            guard let s = e.stringValue else {
                throw APIError.invalid("environment_id must be a string.", param: "environment_id")
            }
            environmentID = s
        }
        var title: String?
        if let t = body["title"], !t.isNull {
            guard let s = t.stringValue else { throw APIError.invalid("title must be a string.", param: "title") }
            title = s
        }
        var metadata = JSON.object([])
        if let m = body["metadata"], !m.isNull {
            guard case .object(let pairs) = m else {
                throw APIError.invalid("metadata must be an object.", param: "metadata")
            }
            for (key, value) in pairs where value.stringValue == nil {
                throw APIError.invalid(
                    "metadata values must be strings; '\(key)' is \(value.typeName).", param: "metadata")
            }
            metadata = m
        }
        let session = store.createSession(agent: agent, environmentID: environmentID, title: title, metadata: metadata)
        return MockApp.json(200, session.json)
    }

    /// An agent reference: an id string, or `{"type": "agent", "id", "version"?}`.
    func resolveAgent(_ value: JSON?, param: String) throws(APIError) -> Agent {
        guard let value, !value.isNull else { throw APIError.invalid("\(param) is required.", param: param) }
        var id: String
        var version: Int?
        if let s = value.stringValue {
            id = s
        } else if case .object = value, let s = value["id"]?.stringValue {
            id = s
            if let v = value["version"], !v.isNull {
                guard let n = v.intValue else {
                    throw APIError.invalid("\(param).version must be an integer.", param: param)
                }
                version = n
            }
        } else {
            throw APIError.invalid("\(param) must be an agent id or {\"type\": \"agent\", \"id\": ...}.", param: param)
        }
        id = id.trimmingSpaces
        guard let agent = store.agent(id, version: version) else {
            throw APIError.notFound("Agent '\(id)'\(version.map { " version \($0)" } ?? "") was not found.")
        }
        return agent
    }

    /// Endpoints 3 (with `Accept: text/event-stream`) and 4. Every check happens
    /// before the 200 goes out, so a bad `Last-Event-ID` is a plain 400.
    func openStream(_ ctx: RequestContext) throws(APIError) -> Reply {
        let thread = try store.thread(ctx.param("thread_id"), in: ctx.param("session_id"))
        let types = Self.eventTypes(ctx.query)
        var lastEventID: String?
        if let raw = ctx.request.headers["Last-Event-ID"] {
            let id = raw.trimmingSpaces
            if !id.isEmpty {
                guard thread.eventIndex[id] != nil else {
                    throw APIError.invalid(
                        "Last-Event-ID '\(id)' is not an event of thread '\(thread.id)'.", param: "Last-Event-ID")
                }
                lastEventID = id
            }
        }
        var headers = HTTPHeaders()
        headers.add("Content-Type", "text/event-stream")
        headers.add("Cache-Control", "no-cache")
        headers.add("X-Accel-Buffering", "no")
        let drop = ctx.dropAfterFrames
        return .stream(
            StreamReply(headers: headers) { [unowned self] sink in
                // The thread may have changed between the checks and now only if the
                // transport yielded; look it up again to stay exact.
                guard let current = store.anyThread(thread.id) else {
                    sink.finish()
                    return
                }
                hub.open(thread: current, after: lastEventID, types: types, dropAfterFrames: drop, sink: sink)
            })
    }
}
