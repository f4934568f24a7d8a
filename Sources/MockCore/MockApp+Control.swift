import MockHTTP

extension MockApp {
    /// `/_mock/...`: the control API for test authors (API.md section 9).
    func control(_ request: HTTPRequest, parts: [String], requestID: String) -> Reply {
        do throws(APIError) {
            // Liveness and readiness stay open so that container and orchestrator
            // probes need no secret; they reveal nothing about the world.
            let probe = request.method == "GET" && (parts == ["health"] || parts == ["ready"])
            if let admin = config.adminToken, !probe {
                let bearer = request.headers["Authorization"].map { $0.trimmingSpaces }
                let given =
                    request.headers["X-Mock-Admin-Token"]
                    ?? bearer.flatMap {
                        $0.lowercased().hasPrefix("bearer ") ? String($0.dropFirst(7)).trimmingSpaces : nil
                    }
                guard given == admin else {
                    throw APIError.authentication(
                        "The control API needs the admin token ('X-Mock-Admin-Token: <token>' or 'Authorization: Bearer <token>')."
                    )
                }
            }
            switch controlRouter.resolve(method: request.method, parts: parts) {
            case .notFound:
                throw APIError.notFound("No control route for \(request.method) \(request.rawPath).")
            case .wrongMethod(let allowed):
                throw APIError.methodNotAllowed(request.method, path: request.rawPath, allowed: allowed)
            case .found(let route, let params):
                if request.body.count > config.maxBodyBytes * 64 {
                    throw APIError(status: 413, type: "invalid_request_error", message: "Request body is too large.")
                }
                let ctx = RequestContext(
                    request: request, query: try Query(raw: request.rawQuery), params: params, requestID: requestID)
                return try route.handler(ctx)
            }
        } catch {
            return .response(errorResponse(error, requestID: requestID))
        }
    }

    func registerControlRoutes() {
        registerInfoRoutes()
        registerWorldRoutes()
        registerObservationRoutes()
    }

    // MARK: Health, version, routes, state, reset

    private func registerInfoRoutes() {
        controlRouter.add("GET", "/health") { _ throws(APIError) in MockApp.json(200, ["status": "ok"]) }
        controlRouter.add("GET", "/ready") { [unowned self] _ throws(APIError) in
            guard ready else {
                throw APIError(status: 503, type: "api_error", message: "Fixtures are not loaded yet.")
            }
            return MockApp.json(200, ["status": "ready", "fixture": .string(config.fixtureSource)])
        }
        controlRouter.add("GET", "/version") { _ throws(APIError) in
            MockApp.json(
                200,
                [
                    "name": "cloud-agents-mock", "version": .string(MockVersion.current),
                    "api_version": .string(MockVersion.apiVersion),
                ])
        }
        controlRouter.add("GET", "/routes") { [unowned self] _ throws(APIError) in
            MockApp.json(
                200, ["data": .array(routeTable.map { ["method": .string($0.method), "path": .string($0.path)] })])
        }
        controlRouter.add("GET", "/openapi.json") { _ throws(APIError) in
            guard let doc = BundledResources.openAPI else {
                throw APIError(
                    status: 500, type: "api_error", message: "The OpenAPI document is missing from this build.")
            }
            return MockApp.json(200, doc)
        }
        controlRouter.add("GET", "/stats") { [unowned self] _ throws(APIError) in
            let threads = store.sessions.reduce(0) { $0 + $1.threads.count }
            let events = store.sessions.reduce(0) { $0 + $1.threads.reduce(0) { $0 + $1.events.count } }
            return MockApp.json(
                200,
                [
                    "open_streams": .int(hub.openCount), "frames_written": .int(hub.framesWritten),
                    "sessions": .int(store.sessions.count), "threads": .int(threads), "events": .int(events),
                    "journal_entries": .int(journal.entries.count), "journal_waiters": .int(journal.waiterCount),
                    "faults": .int(faults.faults.count),
                ])
        }
        controlRouter.add("POST", "/reset") { [unowned self] _ throws(APIError) in
            reset()
            return MockApp.json(200, ["status": "reset", "sessions": .int(store.sessions.count)])
        }
        controlRouter.add("GET", "/state") { [unowned self] ctx throws(APIError) in
            let doc = Fixture.export(store)
            let pretty = ctx.query.first("pretty").map { $0 != "false" && $0 != "0" } ?? false
            return MockApp.json(200, pretty ? doc.prettyEncoded() : doc.encoded())
        }
        controlRouter.add("PUT", "/state") { [unowned self] ctx throws(APIError) in
            guard let body = try ctx.jsonBody() else {
                throw APIError.invalid("PUT /_mock/state needs a fixture document.")
            }
            let loaded: Store
            do throws(FixtureError) {
                loaded = try Fixture.load(body, clock: clock, ids: ids)
            } catch {
                throw APIError.invalid("Invalid state: \(error.path): \(error.message)", param: error.path)
            }
            store.adopt(loaded)
            return MockApp.json(200, ["status": "replaced", "sessions": .int(store.sessions.count)])
        }
        controlRouter.add("GET", "/clock") { [unowned self] _ throws(APIError) in MockApp.json(200, clockJSON()) }
        controlRouter.add("POST", "/clock/freeze") { [unowned self] ctx throws(APIError) in
            let body = try ctx.jsonObject()
            var at: Int64?
            if let v = body["at"], !v.isNull {
                guard let s = v.stringValue, let t = Timestamp.parse(s) else {
                    throw APIError.invalid("at must be an RFC 3339 timestamp.", param: "at")
                }
                at = t
            }
            clock.freeze(at: at)
            ids.followClock()
            return MockApp.json(200, clockJSON())
        }
        controlRouter.add("POST", "/clock/advance") { [unowned self] ctx throws(APIError) in
            let body = try ctx.jsonObject()
            let ms: Int64
            if let v = body["ms"] {
                guard let n = v.intValue, n >= 0 else {
                    throw APIError.invalid("ms must be a non-negative integer.", param: "ms")
                }
                ms = Int64(n)
            } else if let v = body["by"] {
                guard let s = v.stringValue, let n = Duration.parseMillis(s) else {
                    throw APIError.invalid("by must be a duration like '250ms', '30s', '5m' or '2h'.", param: "by")
                }
                ms = n
            } else {
                throw APIError.invalid("Give 'ms' (milliseconds) or 'by' (a duration like '30s').", param: "ms")
            }
            // The clock must stay writable as RFC 3339 (4-digit years); a huge step would
            // also overflow Int64 and stop the server.
            let (target, overflow) = clock.now().addingReportingOverflow(ms)
            guard !overflow, target <= Timestamp.latest else {
                throw APIError.invalid(
                    "Advancing by \(ms) ms would move the clock past 9999-12-31T23:59:59.999Z.",
                    param: body["ms"] != nil ? "ms" : "by")
            }
            clock.advance(by: ms)
            return MockApp.json(200, clockJSON())
        }
        controlRouter.add("POST", "/clock/resume") { [unowned self] _ throws(APIError) in
            clock.resume()
            ids.followClock()
            return MockApp.json(200, clockJSON())
        }
    }

    func clockJSON() -> JSON {
        let mode: String
        var offset: Int64 = 0
        switch clock.mode {
        case .real: mode = "real"
        case .frozen: mode = "frozen"
        case .offset(let d):
            mode = "offset"
            offset = d
        }
        return [
            "now": .string(Timestamp.format(clock.now())), "mode": .string(mode), "offset_ms": .number(String(offset)),
        ]
    }

    /// Back to the state right after start: the fixture's world, tokens, an empty
    /// journal counting from 1 (pending waits answered unmatched), no faults, the
    /// starting clock mode and the id seed, so the same requests after a reset get
    /// the same bytes as after a fresh start. Open streams end. Done in one loop
    /// turn, so no request observes it half-done.
    ///
    /// The fixture is decoded and checked once, at start; resets clone that world
    /// (events are immutable and shared), which costs a few allocations per thread
    /// instead of a full fixture load: see scripts/bench_reset.py.
    public func reset() {
        clock.restart()
        ids.reseed(config.seed)
        store.adopt(resetTemplate.clone())
        journal.restart()
        faults.clear()
    }

    // MARK: World building

    private func registerWorldRoutes() {
        let thread = "/sessions/{session_id}/threads/{thread_id}"
        controlRouter.add("POST", "/sessions") { [unowned self] ctx throws(APIError) in
            let body = try ctx.jsonObject()
            try Self.rejectUnknownFields(
                body, known: ["agent", "environment_id", "title", "metadata", "coordinator", "children"])
            // Everything is checked before anything is created: a bad child leaves no half-built session.
            let agent = try optionalAgent(body, "agent")
            let environmentID = try Self.optionalString(body, "environment_id")
            let title = try Self.optionalString(body, "title")
            var metadata = JSON.object([])
            if let m = body["metadata"], !m.isNull {
                guard case .object = m else {
                    throw APIError.invalid("metadata must be an object, got \(m.typeName).", param: "metadata")
                }
                metadata = m
            }
            var withCoordinator = true
            if let c = body["coordinator"], !c.isNull {
                guard let flag = c.boolValue else {
                    throw APIError.invalid("coordinator must be true or false.", param: "coordinator")
                }
                withCoordinator = flag
            }
            var plans: [ChildPlan] = []
            if let c = body["children"], !c.isNull {
                guard let list = c.arrayValue else {
                    throw APIError.invalid("children must be an array of thread objects.", param: "children")
                }
                if !withCoordinator && !list.isEmpty {
                    throw APIError.invalid(
                        "children need the coordinator; drop 'coordinator: false' or the children.",
                        param: "coordinator")
                }
                for (i, child) in list.enumerated() {
                    plans.append(try planChild(child, path: "children[\(i)]", allowParent: false))
                }
            }
            let session = store.createSession(
                agent: agent, environmentID: environmentID, title: title, metadata: metadata)
            if withCoordinator {
                let coordinator = store.ensureCoordinator(session)
                for plan in plans { _ = try create(plan, in: session, parent: coordinator) }
            }
            var out = session.json
            out.set("threads", .array(session.threads.map(\.json)))
            return MockApp.json(201, out)
        }
        controlRouter.add("POST", "/sessions/{session_id}/threads") { [unowned self] ctx throws(APIError) in
            let session = try store.session(ctx.param("session_id"))
            let body = try ctx.jsonObject()
            let plan = try planChild(body, path: nil, allowParent: true)
            let parent: SessionThread
            if let pid = plan.parentThreadID {
                guard let p = session.thread(pid) else {
                    throw APIError.invalid(
                        "parent_thread_id '\(pid)' is not a thread of session '\(session.id)'.",
                        param: "parent_thread_id")
                }
                parent = p
            } else {
                parent = store.ensureCoordinator(session)
            }
            let child = try create(plan, in: session, parent: parent)
            return MockApp.json(201, child.bytes)
        }
        controlRouter.add("POST", thread + "/events") { [unowned self] ctx throws(APIError) in
            let thread = try store.thread(ctx.param("thread_id"), in: ctx.param("session_id"))
            guard let body = try ctx.jsonBody() else {
                throw APIError.invalid("Send an event object, an array of them, or {\"events\": [...]}.")
            }
            let items: [JSON]
            if case .array(let list) = body {
                items = list
            } else if let list = body["events"]?.arrayValue {
                items = list
            } else {
                items = [body]
            }
            guard !items.isEmpty else { throw APIError.invalid("No events given.", param: "events") }
            let stored = try store.appendSuppliedEvents(items, to: thread)
            return MockApp.json(201, ["data": .array(stored.map(\.json))])
        }
        controlRouter.add("POST", thread + "/status") { [unowned self] ctx throws(APIError) in
            let thread = try store.thread(ctx.param("thread_id"), in: ctx.param("session_id"))
            let body = try ctx.jsonObject()
            guard let text = body["status"]?.stringValue, let status = ThreadStatus(rawValue: text) else {
                let got = body["status"].map { $0.stringValue.map { "'\($0)'" } ?? $0.typeName } ?? "nothing"
                throw APIError.invalid(
                    "status must be one of running, idle, blocked, terminated (got \(got)).", param: "status")
            }
            var stopReason: JSON?
            if let sr = body["stop_reason"], !sr.isNull {
                guard case .object = sr else {
                    throw APIError.invalid("stop_reason must be an object.", param: "stop_reason")
                }
                stopReason = sr
            }
            var wait: WaitTarget?
            if let w = body["waiting_on"], !w.isNull {
                guard status == .blocked else {
                    throw APIError.invalid(
                        "waiting_on applies only to status 'blocked' (got '\(status.rawValue)').", param: "waiting_on")
                }
                guard case .object = w else {
                    throw APIError.invalid(
                        "waiting_on must be an object {thread_id, tool_use_id?}, got \(w.typeName).",
                        param: "waiting_on")
                }
                guard let tid = w["thread_id"]?.stringValue else {
                    throw APIError.invalid(
                        "waiting_on.thread_id is required (a thread of this session).", param: "waiting_on.thread_id")
                }
                guard let target = store.anyThread(tid), target.sessionID == thread.sessionID, target.id != thread.id
                else {
                    throw APIError.invalid(
                        "waiting_on.thread_id '\(tid)' is not another thread of this session.",
                        param: "waiting_on.thread_id")
                }
                let toolUse = try Self.optionalString(w, "tool_use_id", path: "waiting_on.tool_use_id")
                wait = WaitTarget(threadID: tid, toolUseID: toolUse ?? target.createdByToolUseID ?? ids.make("toolu"))
            }
            try store.setStatus(thread, to: status, stopReason: stopReason, waitingOn: wait)
            return MockApp.json(200, thread.bytes)
        }
        controlRouter.add("GET", thread + "/mailbox") { [unowned self] ctx throws(APIError) in
            let thread = try store.thread(ctx.param("thread_id"), in: ctx.param("session_id"))
            return MockApp.json(200, ["data": .array(thread.mailbox.map(\.json))])
        }
        controlRouter.add("POST", thread + "/mailbox") { [unowned self] ctx throws(APIError) in
            let thread = try store.thread(ctx.param("thread_id"), in: ctx.param("session_id"))
            let body = try ctx.jsonObject()
            guard let content = body["content"] else {
                throw APIError.invalid("content is required.", param: "content")
            }
            let fromID = try Self.optionalString(body, "from_thread_id") ?? thread.parentThreadID ?? thread.id
            guard let from = store.anyThread(fromID), from.sessionID == thread.sessionID else {
                throw APIError.invalid(
                    "from_thread_id '\(fromID)' is not a thread of this session.", param: "from_thread_id")
            }
            var status = MailboxStatus.pending
            if let s = try Self.optionalString(body, "status") {
                guard let parsed = MailboxStatus(rawValue: s) else {
                    throw APIError.invalid(
                        "status must be pending, delivered or cancelled (got '\(s)').", param: "status")
                }
                status = parsed
            }
            let message = try store.putMessage(into: thread, from: from, content: content, status: status)
            return MockApp.json(201, message.json)
        }
        controlRouter.add("GET", "/tokens") { [unowned self] _ throws(APIError) in
            MockApp.json(
                200,
                [
                    "tokens": .array(store.tokens.map(JSON.string)),
                    "required": .bool(store.tokensRequired || !store.tokens.isEmpty),
                ])
        }
        controlRouter.add("POST", "/tokens") { [unowned self] ctx throws(APIError) in
            let body = try ctx.jsonObject()
            guard let token = body["token"]?.stringValue?.trimmingSpaces, !token.isEmpty else {
                throw APIError.invalid("token must be a non-empty string.", param: "token")
            }
            store.addToken(token)
            return MockApp.json(201, ["tokens": .array(store.tokens.map(JSON.string)), "required": true])
        }
        controlRouter.add("DELETE", "/tokens/{token}") { [unowned self] ctx throws(APIError) in
            guard store.revokeToken(ctx.param("token")) else {
                throw APIError.notFound("Token '\(ctx.param("token"))' is not configured.")
            }
            return MockApp.json(200, ["tokens": .array(store.tokens.map(JSON.string)), "required": true])
        }
    }

    func defaultAgent() throws(APIError) -> Agent {
        guard let a = store.agents.first else {
            throw APIError.invalid("No agent is loaded; give 'agent' or add agents to the fixture.", param: "agent")
        }
        return a
    }

    /// A child thread as asked for, checked but not yet created.
    struct ChildPlan {
        var agent: Agent
        var name: String?
        var toolUseID: String?
        var status: ThreadStatus
        var parentThreadID: String?
    }

    /// Checks a child thread's description; `path` prefixes the field names in
    /// messages (`children[1].status`), nil for a body that is the thread itself.
    func planChild(_ body: JSON, path: String?, allowParent: Bool) throws(APIError) -> ChildPlan {
        func field(_ key: String) -> String { path.map { "\($0).\(key)" } ?? key }
        guard case .object = body else {
            let what = path ?? "The request body"
            throw APIError.invalid("\(what) must be a thread object, got \(body.typeName).", param: path)
        }
        var known: Set<String> = ["agent", "name", "created_by_tool_use_id", "status"]
        if allowParent { known.insert("parent_thread_id") }
        try Self.rejectUnknownFields(body, known: known, path: path)
        var status = ThreadStatus.running
        if let s = try Self.optionalString(body, "status", path: field("status")) {
            guard let parsed = ThreadStatus(rawValue: s), !parsed.isFinal else {
                throw APIError.invalid(
                    "\(field("status")) '\(s)' is not a starting status (expected idle, running or blocked).",
                    param: field("status"))
            }
            status = parsed
        }
        return ChildPlan(
            agent: try optionalAgent(body, "agent", path: field("agent")),
            name: try Self.optionalString(body, "name", path: field("name")),
            toolUseID: try Self.optionalString(body, "created_by_tool_use_id", path: field("created_by_tool_use_id")),
            status: status,
            parentThreadID: allowParent
                ? try Self.optionalString(body, "parent_thread_id", path: field("parent_thread_id")) : nil)
    }

    func create(_ plan: ChildPlan, in session: Session, parent: SessionThread) throws(APIError) -> SessionThread {
        try store.createChild(
            in: session, parent: parent, agent: plan.agent, name: plan.name, toolUseID: plan.toolUseID,
            status: plan.status)
    }

    /// `agent` when given (an id or `{id, version?}`), else the fixture's first agent.
    func optionalAgent(_ body: JSON, _ key: String, path: String? = nil) throws(APIError) -> Agent {
        guard let v = body[key], !v.isNull else { return try defaultAgent() }
        return try resolveAgent(v, param: path ?? key)
    }

    /// A string field that may be absent or null; any other type is a 400 naming it.
    static func optionalString(_ body: JSON, _ key: String, path: String? = nil) throws(APIError) -> String? {
        guard let v = body[key], !v.isNull else { return nil }
        guard let s = v.stringValue else {
            let name = path ?? key
            throw APIError.invalid("\(name) must be a string, got \(v.typeName).", param: name)
        }
        return s
    }

    /// Test authors' typos (`time` for `times`) are refused rather than silently ignored.
    static func rejectUnknownFields(_ body: JSON, known: Set<String>, path: String? = nil) throws(APIError) {
        for (key, _) in body.objectValue ?? [] where !known.contains(key) {
            let name = path.map { "\($0).\(key)" } ?? key
            throw APIError.invalid(
                "Unknown field '\(name)'; expected \(known.sorted().joined(separator: ", ")).", param: name)
        }
    }

    // MARK: Journal and faults

    private func registerObservationRoutes() {
        controlRouter.add("GET", "/journal") { [unowned self] ctx throws(APIError) in
            let filter = try journalFilter(ctx.query)
            var limit: Int?
            if let raw = ctx.query.first("limit") {
                guard let n = Int(raw), n >= 1 else {
                    throw APIError.invalid("limit must be a positive integer, got '\(raw)'.", param: "limit")
                }
                limit = n
            }
            let found = journal.find(filter, limit: limit)
            return MockApp.json(200, ["data": .array(found.map(\.json)), "last_seq": .int(journal.lastSeq)])
        }
        controlRouter.add("DELETE", "/journal") { [unowned self] _ throws(APIError) in
            journal.clear()
            return MockApp.json(200, ["status": "cleared", "last_seq": .int(journal.lastSeq)])
        }
        controlRouter.add("GET", "/journal/wait") { [unowned self] ctx throws(APIError) in
            let filter = try journalFilter(ctx.query)
            var timeout = 5000
            if let raw = ctx.query.first("timeout_ms") {
                guard let t = Int(raw), t >= 0, t <= 600_000 else {
                    throw APIError.invalid("timeout_ms must be an integer from 0 to 600000.", param: "timeout_ms")
                }
                timeout = t
            }
            guard let scheduler else { throw APIError.internalError() }
            return .deferred { [unowned self] deliver in
                var timer: ScheduledAction?
                var cancelWait: (() -> Void)?
                var done = false
                cancelWait = journal.wait(filter) { entry in
                    guard !done else { return }
                    done = true
                    timer?.cancel()
                    deliver(MockApp.json(200, ["matched": .bool(entry != nil), "entry": entry?.json ?? .null]))
                }
                if done { return }
                timer = scheduler.schedule(after: timeout) {
                    guard !done else { return }
                    done = true
                    cancelWait?()
                    deliver(MockApp.json(200, ["matched": false, "entry": .null]))
                }
            }
        }
        controlRouter.add("GET", "/faults") { [unowned self] _ throws(APIError) in
            MockApp.json(200, ["data": .array(faults.faults.map(\.json))])
        }
        controlRouter.add("POST", "/faults") { [unowned self] ctx throws(APIError) in
            let fault = try parseFault(try ctx.jsonObject())
            faults.add(fault)
            return MockApp.json(201, fault.json)
        }
        controlRouter.add("DELETE", "/faults") { [unowned self] _ throws(APIError) in
            faults.clear()
            return MockApp.json(200, ["data": []])
        }
        controlRouter.add("DELETE", "/faults/{fault_id}") { [unowned self] ctx throws(APIError) in
            guard faults.remove(ctx.param("fault_id")) else {
                throw APIError.notFound("Fault '\(ctx.param("fault_id"))' was not found.")
            }
            return MockApp.json(200, ["data": .array(faults.faults.map(\.json))])
        }
    }

    func journalFilter(_ query: Query) throws(APIError) -> RequestJournal.Filter {
        var since = 0
        if let raw = query.first("since") {
            guard let n = Int(raw), n >= 0 else {
                throw APIError.invalid("since must be a sequence number (an entry's seq, or last_seq).", param: "since")
            }
            // A since from before a reset (sequence numbers restart) would hide new requests.
            guard n <= journal.lastSeq else {
                throw APIError.invalid(
                    "since \(n) is after the journal's last_seq \(journal.lastSeq); sequence numbers restart at reset.",
                    param: "since")
            }
            since = n
        }
        return RequestJournal.Filter(method: query.first("method"), path: query.first("path"), since: since)
    }

    func parseFault(_ body: JSON) throws(APIError) -> FaultBook.Fault {
        try Self.rejectUnknownFields(
            body,
            known: [
                "method", "path", "times", "status", "error_type", "message", "retry_after", "delay_ms",
                "drop_after_frames",
            ])
        func int(_ key: String, _ range: ClosedRange<Int>) throws(APIError) -> Int? {
            guard let v = body[key], !v.isNull else { return nil }
            guard let n = v.intValue, range.contains(n) else {
                throw APIError.invalid(
                    "\(key) must be an integer from \(range.lowerBound) to \(range.upperBound).", param: key)
            }
            return n
        }
        guard let path = body["path"]?.stringValue, path.hasPrefix("/") else {
            throw APIError.invalid(
                "path must be a path pattern starting with '/', e.g. '/v1/sessions/*/threads'.", param: "path")
        }
        var method = try Self.optionalString(body, "method")?.uppercased()
        if method == "*" { method = nil }
        if let method, method.isEmpty || !method.utf8.allSatisfy({ (65...90).contains($0) }) {
            throw APIError.invalid("method must be an HTTP method such as GET or POST.", param: "method")
        }
        let status = try int("status", 400...599)
        let delay = try int("delay_ms", 0...600_000)
        let drop = try int("drop_after_frames", 1...1_000_000)
        guard status != nil || delay != nil || drop != nil else {
            throw APIError.invalid(
                "A fault needs at least one of status, delay_ms, drop_after_frames.", param: "status")
        }
        if status != nil && drop != nil {
            throw APIError.invalid(
                "status and drop_after_frames exclude each other: an error reply has no stream to cut.",
                param: "drop_after_frames")
        }
        let errorType = try Self.optionalString(body, "error_type")
        let message = try Self.optionalString(body, "message")
        let retryAfter = try int("retry_after", 0...86_400)
        if status == nil {
            for (key, given) in [
                ("error_type", errorType != nil), ("message", message != nil), ("retry_after", retryAfter != nil),
            ]
            where given {
                throw APIError.invalid("\(key) applies only to a fault with a status.", param: key)
            }
        }
        var remaining: Int? = 1
        if let t = body["times"] {
            if t.isNull {
                remaining = nil
            } else {
                guard let n = t.intValue, n >= 1 else {
                    throw APIError.invalid("times must be a positive integer or null (until removed).", param: "times")
                }
                remaining = n
            }
        }
        return FaultBook.Fault(
            id: ids.make("fault"), method: method, path: path, remaining: remaining, status: status,
            errorType: errorType, message: message, retryAfterSeconds: retryAfter, delayMs: delay,
            dropAfterFrames: drop)
    }
}

/// Durations for the clock: `250ms`, `30s`, `5m`, `2h`, `1d`.
enum Duration {
    static func parseMillis(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            if suffix == "s" && number.hasSuffix("m") { continue }
            guard let n = Int64(number), n >= 0 else { return nil }
            let (millis, overflow) = n.multipliedReportingOverflow(by: factor)
            return overflow ? nil : millis
        }
        return nil
    }
}
