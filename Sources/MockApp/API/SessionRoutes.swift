import MockDomain
import MockHTTP
import MockJSON

/// `/sessions`: create, list, retrieve (API.md section 6).
struct SessionRoutes: RouteCollection {
    let store: Store

    func register(into routes: inout RouteTable.Builder) {
        let store = self.store
        routes.add("GET", "/sessions") { ctx throws(APIError) in
            // Sessions are newest first: `desc` walks the creation order backwards.
            let page = try PageRequest(query: ctx.query, defaultOrder: .desc)
            let found = try domain { () throws(DomainError) in try store.listSessions(page) }
            return .json(ListBody.encode(found, id: \.id) { $0.json.encoded() })
        }
        routes.add("POST", "/sessions") { ctx throws(APIError) in
            let request = try ctx.decode(SessionRequest.init(body:), from: ctx.objectBody())
            let session = try domain { () throws(DomainError) in try store.createSession(request) }
            return .json(session.json)
        }
        routes.add("GET", "/sessions/{session_id}") { ctx throws(APIError) in
            .json(try domain { () throws(DomainError) in try store.session(ctx.param("session_id")) }.json)
        }
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
