import MockDomain
import MockHTTP
import MockJSON

/// `/sessions/{id}/threads...`: list, retrieve, events (JSON or SSE), stream,
/// archive (API.md sections 6 and 7).
struct ThreadRoutes: RouteCollection {
    let store: Store
    let hub: EventStreamHub

    func register(into routes: inout RouteTable.Builder) {
        let store = self.store
        let thread = "/sessions/{session_id}/threads/{thread_id}"
        let threadPages = ListBodyCache<SessionThread>()
        routes.add("GET", "/sessions/{session_id}/threads") { ctx throws(APIError) in
            let page = try PageRequest(query: ctx.query)
            let statuses = try ListFilters.statuses(ctx.query)
            let found = try domain { () throws(DomainError) in
                try store.listThreads(sessionID: ctx.param("session_id"), page: page, statuses: statuses)
            }
            return .json(threadPages.encode(found, id: { $0.id }) { $0.bytes })
        }
        routes.add("GET", thread) { ctx throws(APIError) in
            .json(
                try domain { () throws(DomainError) in
                    try store.thread(ctx.param("thread_id"), in: ctx.param("session_id"))
                }.bytes)
        }
        routes.add("GET", thread + "/events", streams: .whenAccepted) { ctx throws(APIError) in
            if ctx.streams { return try openStream(ctx) }
            let page = try PageRequest(query: ctx.query)
            let types = ListFilters.eventTypes(ctx.query)
            let found = try domain { () throws(DomainError) in
                try store.listEvents(
                    sessionID: ctx.param("session_id"), threadID: ctx.param("thread_id"), page: page, types: types)
            }
            return .json(ListBody.encode(found))
        }
        routes.add("GET", thread + "/stream", streams: .always) { ctx throws(APIError) in try openStream(ctx) }
        routes.add("POST", thread + "/archive") { ctx throws(APIError) in
            // No body, an empty body, or a JSON object (clients send `{}`).
            _ = try ctx.objectBody()
            let archived = try domain { () throws(DomainError) in
                try store.archive(sessionID: ctx.param("session_id"), threadID: ctx.param("thread_id"))
            }
            return .json(archived.bytes)
        }
    }

    /// Endpoints 3 (with `Accept: text/event-stream`) and 4. Every check happens
    /// before the 200 goes out, so a bad resume cursor is a plain 400.
    func openStream(_ ctx: RequestContext) throws(APIError) -> Reply {
        let resume = try StreamOptions.resumeCursor(ctx)
        let start = try domain { () throws(DomainError) in
            try store.streamStart(
                sessionID: ctx.param("session_id"), threadID: ctx.param("thread_id"), resumeFrom: resume)
        }
        return StreamOptions.reply(start, ctx, hub: hub)
    }
}

/// What every event stream reads from its request: the resume cursor, the type
/// filters and the previews asked for (API.md sections 7 and 12).
enum StreamOptions {
    /// `Last-Event-ID`, or the query's `after_id` (one client resumes with it);
    /// both given and different is 400.
    static func resumeCursor(_ ctx: RequestContext) throws(APIError) -> ResumeCursor? {
        let header = ctx.request.headers["Last-Event-ID"].map(\.trimmingSpaces).flatMap { $0.isEmpty ? nil : $0 }
        let query = ctx.query.first("after_id").map(\.trimmingSpaces).flatMap { $0.isEmpty ? nil : $0 }
        if let header, let query, header != query {
            throw APIError.invalid(
                "Last-Event-ID '\(header)' and after_id '\(query)' disagree; give one resume cursor.",
                param: "after_id")
        }
        if let header { return ResumeCursor(id: header, param: "Last-Event-ID") }
        return query.map { ResumeCursor(id: $0, param: "after_id") }
    }

    /// The stream reply: headers at once, then the hub writes history and live events.
    static func reply(_ start: StreamStart, _ ctx: RequestContext, hub: EventStreamHub) -> Reply {
        let types = ListFilters.eventTypes(ctx.query)
        let deltas = Set(ctx.query.all("event_deltas[]").filter { $0 == "agent.message" || $0 == "agent.thinking" })
        return .stream(
            StreamReply(headers: SSE.headers) { sink in
                hub.open(start, types: types, deltas: deltas, sink: sink)
            })
    }
}

/// The filter parameters of the list routes.
enum ListFilters {
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
}
