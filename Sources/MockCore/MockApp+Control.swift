import MockHTTP

extension MockApp {
    /// `/_mock/...`: the control API for test authors (API.md section 9).
    func control(_ request: HTTPRequest, parts: [String], requestID: String) -> Reply {
        do throws(APIError) {
            if let admin = config.adminToken {
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
                throw APIError(
                    status: 405, type: "invalid_request_error",
                    message:
                        "Method \(request.method) is not allowed on \(request.rawPath); allowed: \(allowed.joined(separator: ", ")).",
                    headers: ["Allow": allowed.joined(separator: ", ")])
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
            do throws(FixtureError) {
                try reset()
            } catch {
                throw APIError(status: 500, type: "api_error", message: "Reset failed: \(error.description)")
            }
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
            clock.advance(by: ms)
            return MockApp.json(200, clockJSON())
        }
        controlRouter.add("POST", "/clock/resume") { [unowned self] _ throws(APIError) in
            clock.resume()
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

    /// Back to the fixture as loaded at start: world, tokens, journal, faults, clock
    /// and id seed. Open streams end. Done in one loop turn, so it is atomic.
    public func reset() throws(FixtureError) {
        clock.resume()
        ids.reseed(config.seed)
        let fresh = try Fixture.load(fixture, clock: clock, ids: ids)
        for token in config.tokens { fresh.addToken(token) }
        store.adopt(fresh)
        journal.clear()
        faults.clear()
    }

    // MARK: World building

    private func registerWorldRoutes() {
        let thread = "/sessions/{session_id}/threads/{thread_id}"
        controlRouter.add("POST", "/sessions") { [unowned self] ctx throws(APIError) in
            let body = try ctx.jsonObject()
            let agent = body["agent"] != nil ? try resolveAgent(body["agent"], param: "agent") : try defaultAgent()
            let session = store.createSession(
                agent: agent, environmentID: body["environment_id"]?.stringValue, title: body["title"]?.stringValue,
                metadata: body["metadata"]?.objectValue != nil ? body["metadata"]! : .object([]))
            if body["coordinator"]?.boolValue != false || body["children"] != nil {
                let coordinator = store.ensureCoordinator(session)
                for (i, child) in (body["children"]?.arrayValue ?? []).enumerated() {
                    _ = try createChild(child, in: session, parent: coordinator, path: "children[\(i)]")
                }
            }
            var out = session.json
            out.set("threads", .array(session.threads.map(\.json)))
            return MockApp.json(201, out)
        }
        controlRouter.add("POST", "/sessions/{session_id}/threads") { [unowned self] ctx throws(APIError) in
            let session = try store.session(ctx.param("session_id"))
            let body = try ctx.jsonObject()
            let parent: SessionThread
            if let pid = body["parent_thread_id"]?.stringValue {
                parent = try store.thread(pid, in: session.id)
            } else {
                parent = store.ensureCoordinator(session)
            }
            let child = try createChild(body, in: session, parent: parent, path: "body")
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
                throw APIError.invalid(
                    "status must be one of running, idle, blocked, terminated.", param: "status")
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
                guard let tid = w["thread_id"]?.stringValue else {
                    throw APIError.invalid("waiting_on.thread_id is required.", param: "waiting_on.thread_id")
                }
                let threadTarget = try? store.thread(tid, in: thread.sessionID)
                let toolUse = w["tool_use_id"]?.stringValue ?? threadTarget?.createdByToolUseID ?? ids.make("toolu")
                wait = WaitTarget(threadID: tid, toolUseID: toolUse)
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
            let fromID = body["from_thread_id"]?.stringValue ?? thread.parentThreadID ?? thread.id
            guard let from = store.anyThread(fromID), from.sessionID == thread.sessionID else {
                throw APIError.invalid(
                    "from_thread_id '\(fromID)' is not a thread of this session.", param: "from_thread_id")
            }
            var status = MailboxStatus.pending
            if let s = body["status"]?.stringValue {
                guard let parsed = MailboxStatus(rawValue: s) else {
                    throw APIError.invalid("status must be pending, delivered or cancelled.", param: "status")
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

    func createChild(_ body: JSON, in session: Session, parent: SessionThread, path: String) throws(APIError)
        -> SessionThread
    {
        let agent = body["agent"] != nil ? try resolveAgent(body["agent"], param: "\(path).agent") : try defaultAgent()
        var status = ThreadStatus.running
        if let s = body["status"]?.stringValue {
            guard let parsed = ThreadStatus(rawValue: s) else {
                throw APIError.invalid("\(path).status '\(s)' is not a thread status.", param: "\(path).status")
            }
            status = parsed
        }
        return try store.createChild(
            in: session, parent: parent, agent: agent, name: body["name"]?.stringValue,
            toolUseID: body["created_by_tool_use_id"]?.stringValue, status: status)
    }

    // MARK: Journal and faults

    private func registerObservationRoutes() {
        controlRouter.add("GET", "/journal") { [unowned self] ctx throws(APIError) in
            let filter = try journalFilter(ctx.query)
            let limit = ctx.query.first("limit").flatMap(Int.init)
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
                    deliver(MockApp.json(200, ["matched": true, "entry": entry.json]))
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
                throw APIError.invalid("since must be a sequence number.", param: "since")
            }
            since = n
        }
        return RequestJournal.Filter(method: query.first("method"), path: query.first("path"), since: since)
    }

    func parseFault(_ body: JSON) throws(APIError) -> FaultBook.Fault {
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
        let status = try int("status", 400...599)
        let delay = try int("delay_ms", 0...600_000)
        let drop = try int("drop_after_frames", 0...1_000_000)
        guard status != nil || delay != nil || drop != nil else {
            throw APIError.invalid(
                "A fault needs at least one of status, delay_ms, drop_after_frames.", param: "status")
        }
        var remaining: Int? = 1
        if let t = body["times"] {
            if t.isNull {
                remaining = nil
            } else {
                guard let n = t.intValue, n >= 1 else {
                    throw APIError.invalid("times must be a positive integer or null.", param: "times")
                }
                remaining = n
            }
        }
        return FaultBook.Fault(
            id: ids.make("fault"), method: body["method"]?.stringValue?.uppercased(), path: path, remaining: remaining,
            status: status, errorType: body["error_type"]?.stringValue, message: body["message"]?.stringValue,
            retryAfterSeconds: try int("retry_after", 0...86_400), delayMs: delay, dropAfterFrames: drop)
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
            return n * factor
        }
        return nil
    }
}
