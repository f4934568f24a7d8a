import MockJSON

/// What `POST /sessions` asks for (API.md sections 6 and 12).
public struct SessionRequest {
    public var agent: AgentReference
    public var environmentID: String?
    public var title: String?
    public var metadata: JSON
    /// Sent right after creation, exactly as `POST /sessions/{id}/events` would.
    public var initialEvents: [JSON] = []
    /// Kept as given (the mock mounts nothing).
    public var resources: JSON = .array([])
    public var vaultIDs: JSON = .array([])

    public init(agent: AgentReference, environmentID: String?, title: String?, metadata: JSON) {
        self.agent = agent
        self.environmentID = environmentID
        self.title = title
        self.metadata = metadata
    }
}

/// `POST /sessions/{id}`: what to change; nil is "not given".
public struct SessionUpdate {
    public var title: JSON?
    public var metadata: JSON?
    public var agent: AgentReference?
    public var vaultIDs: JSON?

    public init() {}
}

/// A session a test builds through the control API: any metadata, an optional
/// coordinator and children, the first roster agent when none is named, and
/// events sent once it exists (a session caught mid-turn).
public struct SessionPlan {
    public var agent: AgentReference?
    public var environmentID: String?
    public var title: String?
    public var metadata: JSON = .object([])
    public var coordinator = true
    public var children: [ChildPlan] = []
    public var initialEvents: [JSON] = []

    public init() {}
}

/// The filters of `GET /sessions`.
public struct SessionFilter {
    public var includeArchived = false
    public var agentID: String?
    public var agentVersion: Int?
    /// `idle`, `running`; empty is all.
    public var statuses: Set<String> = []
    /// Inclusive bounds of `created_at`, in milliseconds.
    public var from: Int64 = .min
    public var to: Int64 = .max

    public init() {}
}

extension Store {
    /// `POST /sessions`: the service's rules (metadata values are strings, the
    /// agent exists and is not archived), then the initial events, all checked
    /// before the session exists, so a refused request creates nothing.
    public func createSession(_ request: SessionRequest) throws(DomainError) -> Session {
        let agent = try agent(request.agent)
        if agent.archivedAt != nil { throw .busy("Agent '\(agent.id)' is archived; new sessions cannot use it.") }
        try checkMetadata(request.metadata, param: "metadata")
        let session = insertSession(
            agent: agent, environmentID: request.environmentID, title: request.title, metadata: request.metadata)
        session.state.resources = request.resources
        session.state.vaultIDs = request.vaultIDs
        try sendInitial(request.initialEvents, to: session)
        return session
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
        settle(session)
        try sendInitial(plan.initialEvents, to: session)
        return session
    }

    /// Initial events of a new session: refused ones take the new session away
    /// again, so the request leaves nothing behind.
    private func sendInitial(_ events: [JSON], to session: Session) throws(DomainError) {
        guard !events.isEmpty else { return }
        do throws(DomainError) {
            _ = try send(sessionID: session.id, events, param: "initial_events")
        } catch {
            remove(session)
            throw error
        }
    }

    /// The roster's first agent, for world building that names none.
    func defaultAgent() throws(DomainError) -> Agent {
        guard let a = agents.first else {
            throw .invalid("No agent is loaded; give 'agent' or add agents to the fixture.", param: "agent")
        }
        return self.agent(a.id, version: nil) ?? a
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
        createdAtRunTime.sessions += 1
        createdAtRunTime.threads += session.threads.count
        sessionIndex[session.id] = sessions.count
        sessions.append(session)
        sessionsByID[session.id] = session
        for t in session.threads { threadsByID[t.id] = t }
    }

    /// Takes a session out of the world (delete).
    func remove(_ session: Session) {
        guard let i = sessionIndex[session.id] else { return }
        sessions.remove(at: i)
        sessionsByID[session.id] = nil
        for t in session.threads { threadsByID[t.id] = nil }
        sessionIndex[session.id] = nil
        for j in i..<sessions.count { sessionIndex[sessions[j].id] = j }
        dropSteps(sessionID: session.id)
    }

    /// Sessions, in creation order for `asc` (the API lists them newest first by default).
    public func listSessions(_ page: PageRequest, filter: SessionFilter = SessionFilter()) throws(DomainError)
        -> Page<Session>
    {
        try page.cut(
            sessions, id: { $0.id }, index: { self.sessionIndex[$0] },
            matches: { s in
                (filter.includeArchived || s.archivedAt == nil)
                    && (filter.agentID == nil || s.agent.id == filter.agentID)
                    && (filter.agentVersion == nil || s.agent.version == filter.agentVersion)
                    && (filter.statuses.isEmpty || filter.statuses.contains(s.status))
                    && s.createdAt >= filter.from && s.createdAt <= filter.to
            })
    }

    /// `POST /sessions/{id}`: title, metadata (merged; null removes a key) and a
    /// later version of the same agent (used from the next turn), with a
    /// `session.updated` event naming what changed.
    public func updateSession(_ id: String, _ update: SessionUpdate) throws(DomainError) -> Session {
        let session = try session(id)
        var state = session.state
        var changed: [(String, JSON)] = []
        if let title = update.title {
            state.title = title.stringValue
            if state.title != session.title { changed.append(("title", title)) }
        }
        if let patch = update.metadata {
            state.metadata = try mergedMetadata(session.metadata, patch)
            if state.metadata != session.metadata { changed.append(("metadata", state.metadata)) }
        }
        if let ref = update.agent {
            guard ref.id == session.agent.id else {
                throw .invalid(
                    "A session keeps its agent: '\(ref.id)' is not '\(session.agent.id)'; give a version of it.",
                    param: "agent")
            }
            let agent = try agent(ref)
            guard agent.version >= session.agent.version else {
                throw .invalid(
                    "The session runs version \(session.agent.version); it cannot go back to version \(agent.version).",
                    param: "agent.version")
            }
            state.agent = agent
            if agent != session.agent { changed.append(("agent", agent.snapshot)) }
        }
        if let vaults = update.vaultIDs {
            state.vaultIDs = vaults
            if vaults != session.state.vaultIDs { changed.append(("vault_ids", vaults)) }
        }
        guard !changed.isEmpty else { return session }
        let now = clock.now()
        state.updatedAt = now
        session.state = state
        addEvent(to: ensureCoordinator(session), type: "session.updated", fields: changed, at: now)
        return session
    }

    /// `POST /sessions/{id}/archive`: the session stays readable and its streams
    /// open; new messages are refused.
    public func archiveSession(_ id: String) throws(DomainError) -> Session {
        let session = try session(id)
        if session.archivedAt != nil { throw .busy("Session '\(id)' is already archived.") }
        let now = clock.now()
        session.state.archivedAt = now
        session.state.updatedAt = now
        return session
    }

    /// `DELETE /sessions/{id}`: `session.deleted` on the coordinator, every stream
    /// of the session ends once it has sent what it has, and the session is gone.
    public func deleteSession(_ id: String) throws(DomainError) {
        let session = try session(id)
        dropSteps(sessionID: id)
        addEvent(to: ensureCoordinator(session), type: "session.deleted", fields: [], at: clock.now())
        for t in session.threads { close(t.log) }
        close(session.log)
        remove(session)
    }

    func touch(sessionOf thread: SessionThread, at now: Int64) {
        sessionsByID[thread.sessionID]?.state.updatedAt = now
    }
}
