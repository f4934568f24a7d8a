import MockDomain
import MockHTTP
import MockJSON

/// `/agents`: create, list, retrieve (a version), update (a new version),
/// archive, versions (API.md section 11).
struct AgentRoutes: RouteCollection {
    let store: Store

    func register(into routes: inout RouteTable.Builder) {
        let store = self.store
        let agent = "/agents/{agent_id}"
        routes.add("POST", "/agents") { ctx throws(APIError) in
            let draft = try ctx.decode(
                { b throws(JSONReadError) in try AgentDraft(body: b, update: false) }, from: ctx.objectBody())
            return .json(try domain { () throws(DomainError) in try store.createAgent(draft) }.json)
        }
        routes.add("GET", "/agents") { ctx throws(APIError) in
            let page = try PageRequest(query: ctx.query, defaultOrder: .desc)
            var includeArchived = false
            if let raw = ctx.query.first("include_archived") {
                guard let flag = Bool(raw.lowercased()) else {
                    throw APIError.invalid(
                        "include_archived must be true or false, got '\(raw)'.", param: "include_archived")
                }
                includeArchived = flag
            }
            let (from, to) = try CreatedAtWindow.read(ctx.query)
            let found = try domain { () throws(DomainError) in
                try store.listAgents(page, includeArchived: includeArchived, from: from, to: to)
            }
            return .json(ListBody.encode(found, id: \.id) { $0.json.encoded() })
        }
        routes.add("GET", agent) { ctx throws(APIError) in
            var version: Int?
            if let raw = ctx.query.first("version") {
                guard let n = Int(raw), n >= 1 else {
                    throw APIError.invalid("version must be a positive integer, got '\(raw)'.", param: "version")
                }
                version = n
            }
            let ref = AgentReference(id: ctx.param("agent_id"), version: version)
            return .json(try domain { () throws(DomainError) in try store.agent(ref) }.json)
        }
        routes.add("POST", agent) { ctx throws(APIError) in
            let draft = try ctx.decode(
                { b throws(JSONReadError) in try AgentDraft(body: b, update: true) }, from: ctx.objectBody())
            return .json(
                try domain { () throws(DomainError) in try store.updateAgent(ctx.param("agent_id"), draft) }.json)
        }
        routes.add("POST", agent + "/archive") { ctx throws(APIError) in
            _ = try ctx.objectBody()
            return .json(try domain { () throws(DomainError) in try store.archiveAgent(ctx.param("agent_id")) }.json)
        }
        routes.add("GET", agent + "/versions") { ctx throws(APIError) in
            let page = try PageRequest(query: ctx.query, defaultOrder: .desc)
            let found = try domain { () throws(DomainError) in
                try store.agentVersions(ctx.param("agent_id"), page: page)
            }
            return .json(ListBody.encode(found, id: { String($0.version) }) { $0.json.encoded() })
        }
    }
}

extension AgentDraft {
    /// The body of `POST /agents` (`name` and `model` required) and of
    /// `POST /agents/{id}` (every field optional, plus `version`).
    init(body: JSONObjectReader, update: Bool) throws(JSONReadError) {
        var known = [
            "name", "description", "model", "system", "tools", "mcp_servers", "skills", "multiagent", "metadata",
        ]
        if update { known.append("version") }
        try body.rejectUnknown(known)
        self.init()
        if let n = body.raw("name") {
            guard let s = n.stringValue, !s.trimmingSpaces.isEmpty else {
                throw body.fail("name", "must be a non-empty string")
            }
            name = s
        } else if !update {
            throw JSONReadError(path: body.path.key("name"), problem: .missing)
        }
        if let m = body.raw("model") {
            guard (m.stringValue.map { !$0.isEmpty } ?? false) || m["id"]?.stringValue != nil else {
                throw body.fail("model", "must be a model name such as \"ultimate\" or an object {\"id\": ...}")
            }
            model = m
        } else if !update {
            throw JSONReadError(path: body.path.key("model"), problem: .missing)
        }
        for key in ["description", "system"] {
            guard let v = body.raw(key) else { continue }
            guard v.stringValue != nil || v == .null else { throw body.fail(key, "must be a string or null") }
            if key == "description" { description = v } else { system = v }
        }
        // A null list is "not given" (the SDKs send null for an unset optional list).
        for key in ["tools", "mcp_servers", "skills"] {
            guard let v = body[key] else { continue }
            guard v.arrayValue != nil else { throw body.fail(key, "must be an array") }
            switch key {
            case "tools": tools = v
            case "mcp_servers": mcpServers = v
            default: skills = v
            }
        }
        if let v = body.raw("multiagent") {
            guard v.objectValue != nil || v == .null else { throw body.fail("multiagent", "must be an object or null") }
            multiagent = v
        }
        metadata = try body.object("metadata")?.json
        if update { expectedVersion = try body.int("version", in: 1...Int(Int32.max)) }
    }
}
