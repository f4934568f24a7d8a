import MockDomain
import MockHTTP
import MockJSON

/// `/_mock/sessions...` and `/_mock/tokens`: building a world. Each handler decodes
/// its body and makes one store call; the store holds every rule.
struct WorldRoutes: RouteCollection {
    let store: Store

    func register(into routes: inout RouteTable.Builder) {
        let store = self.store
        let thread = "/sessions/{session_id}/threads/{thread_id}"
        routes.add("POST", "/sessions") { ctx throws(APIError) in
            let plan = try ctx.decode(SessionPlan.init(body:), from: ctx.objectBody())
            let session = try domain { () throws(DomainError) in try store.buildSession(plan) }
            var out = session.json
            out.set("threads", .array(session.threads.map(\.json)))
            return .json(201, out)
        }
        routes.add("GET", "/sessions/{session_id}/agenda") { ctx throws(APIError) in
            let id = ctx.param("session_id")
            let (steps, timelines) = try domain { () throws(DomainError) in
                (try store.agenda(of: id), try store.timelines(of: id))
            }
            let turns = (try? store.session(id).turns) ?? []
            return .json([
                "data": .array(steps.map(\.json)), "timelines": .array(timelines.map(\.json)),
                "turns": .array(turns.map(\.json)),
            ])
        }
        routes.add("PUT", "/agents/{agent_id}/script") { ctx throws(APIError) in
            let body = try ctx.objectBody()
            try ctx.decode { () throws(JSONReadError) in try body.rejectUnknown(["script"]) }
            guard body.has("script") else {
                throw APIError.invalid("Give {\"script\": [rules]} (or null to remove the script).", param: "script")
            }
            let agent = try domain { () throws(DomainError) in
                try store.setScript(agentID: ctx.param("agent_id"), body.raw("script"))
            }
            return .json(agent.fixtureJSON)
        }
        routes.add("POST", "/sessions/{session_id}/threads") { ctx throws(APIError) in
            let body = try ctx.objectBody()
            let plan = try ctx.decode { () throws(JSONReadError) in try ChildPlan(body: body, allowParent: true) }
            let child = try domain { () throws(DomainError) in
                try store.createChild(sessionID: ctx.param("session_id"), plan)
            }
            return .json(201, child.bytes)
        }
        routes.add("POST", thread + "/events") { ctx throws(APIError) in
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
            let stored = try domain { () throws(DomainError) in
                try store.appendSuppliedEvents(
                    sessionID: ctx.param("session_id"), threadID: ctx.param("thread_id"), items)
            }
            return .json(201, ListBody.data(stored))
        }
        routes.add("POST", thread + "/status") { ctx throws(APIError) in
            let change = try ctx.decode(StatusChange.init(body:), from: ctx.objectBody())
            let thread = try domain { () throws(DomainError) in
                try store.setStatus(sessionID: ctx.param("session_id"), threadID: ctx.param("thread_id"), change)
            }
            return .json(thread.bytes)
        }
        routes.add("GET", thread + "/mailbox") { ctx throws(APIError) in
            let mailbox = try domain { () throws(DomainError) in
                try store.mailbox(sessionID: ctx.param("session_id"), threadID: ctx.param("thread_id"))
            }
            return .json(["data": .array(mailbox.map(\.json))])
        }
        routes.add("POST", thread + "/mailbox") { ctx throws(APIError) in
            let plan = try ctx.decode(MessagePlan.init(body:), from: ctx.objectBody())
            let message = try domain { () throws(DomainError) in
                try store.putMessage(sessionID: ctx.param("session_id"), threadID: ctx.param("thread_id"), plan)
            }
            return .json(201, message.json)
        }
        routes.add("GET", "/tokens") { _ throws(APIError) in
            .json([
                "tokens": .array(store.tokens.map(JSON.string)),
                "required": .bool(store.tokensRequired || !store.tokens.isEmpty),
            ])
        }
        routes.add("POST", "/tokens") { ctx throws(APIError) in
            let body = try ctx.objectBody()
            guard let token = body["token"]?.stringValue?.trimmingSpaces, !token.isEmpty else {
                throw APIError.invalid("token must be a non-empty string.", param: "token")
            }
            store.addToken(token)
            return .json(201, ["tokens": .array(store.tokens.map(JSON.string)), "required": true])
        }
        routes.add("DELETE", "/tokens/{token}") { ctx throws(APIError) in
            try domain { () throws(DomainError) in try store.revokeToken(ctx.param("token")) }
            return .json(["tokens": .array(store.tokens.map(JSON.string)), "required": true])
        }
    }
}
