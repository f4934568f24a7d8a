import MockJSON

/// What `POST /sessions` asks for (API.md section 6).
public struct SessionRequest {
    public var agent: AgentReference
    public var environmentID: String?
    public var title: String?
    public var metadata: JSON

    public init(agent: AgentReference, environmentID: String?, title: String?, metadata: JSON) {
        self.agent = agent
        self.environmentID = environmentID
        self.title = title
        self.metadata = metadata
    }
}

/// A session a test builds through the control API: any metadata, an optional
/// coordinator and children, the first roster agent when none is named.
public struct SessionPlan {
    public var agent: AgentReference?
    public var environmentID: String?
    public var title: String?
    public var metadata: JSON = .object([])
    public var coordinator = true
    public var children: [ChildPlan] = []

    public init() {}
}

extension Store {
    /// `POST /sessions`: the service's rules (metadata values are strings).
    public func createSession(_ request: SessionRequest) throws(DomainError) -> Session {
        let agent = try agent(request.agent)
        for (key, value) in request.metadata.objectValue ?? [] where value.stringValue == nil {
            throw .invalid("metadata values must be strings; '\(key)' is \(value.typeName).", param: "metadata")
        }
        return insertSession(
            agent: agent, environmentID: request.environmentID, title: request.title,
            metadata: request.metadata)
    }

    /// `POST /_mock/sessions`: a session with its coordinator and children, all
    /// checked before anything is created, so a bad child leaves no half-built session.
    public func buildSession(_ plan: SessionPlan) throws(DomainError) -> Session {
        let agent: Agent
        if let ref = plan.agent { agent = try self.agent(ref) } else { agent = try defaultAgent() }
        if !plan.coordinator && !plan.children.isEmpty {
            throw .invalid(
                "children need the coordinator; drop 'coordinator: false' or the children.", param: "coordinator")
        }
        var childAgents: [Agent] = []
        for child in plan.children { childAgents.append(try resolve(child)) }
        let session = insertSession(
            agent: agent, environmentID: plan.environmentID, title: plan.title, metadata: plan.metadata)
        if plan.coordinator {
            let coordinator = ensureCoordinator(session)
            for (child, agent) in zip(plan.children, childAgents) {
                insertChild(child, agent: agent, in: session, parent: coordinator)
            }
        }
        return session
    }

    /// The roster's first agent, for world building that names none.
    func defaultAgent() throws(DomainError) -> Agent {
        guard let a = agents.first else {
            throw .invalid("No agent is loaded; give 'agent' or add agents to the fixture.", param: "agent")
        }
        return a
    }

    private func insertSession(agent: Agent, environmentID: String?, title: String?, metadata: JSON) -> Session {
        let now = clock.now()
        let session = Session(
            id: ids.make("sess"),
            state: SessionState(
                agent: agent, environmentID: environmentID, title: title, metadata: metadata, archivedAt: nil,
                createdAt: now, updatedAt: now))
        insert(session)
        return session
    }

    func insert(_ session: Session) {
        sessionIndex[session.id] = sessions.count
        sessions.append(session)
        sessionsByID[session.id] = session
        for t in session.threads { threadsByID[t.id] = t }
    }

    /// Sessions, in creation order for `asc` (the API lists them newest first by default).
    public func listSessions(_ page: PageRequest) throws(DomainError) -> Page<Session> {
        try page.cut(sessions, id: { $0.id }, index: { self.sessionIndex[$0] })
    }

    func touch(sessionOf thread: SessionThread, at now: Int64) {
        sessionsByID[thread.sessionID]?.state.updatedAt = now
    }
}
