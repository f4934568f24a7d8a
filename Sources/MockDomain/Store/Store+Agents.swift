import MockJSON

/// The fields of an agent a request gives (`POST /agents`, `POST /agents/{id}`);
/// nil is "not given".
public struct AgentDraft {
    public var name: String?
    public var description: JSON?
    public var model: JSON?
    public var system: JSON?
    public var tools: JSON?
    public var mcpServers: JSON?
    public var skills: JSON?
    public var multiagent: JSON?
    public var metadata: JSON?
    /// On update: the version the writer last saw; a later one exists means 409.
    public var expectedVersion: Int?

    public init() {}
}

/// The agent collection (API.md section 11). Every version is kept; the roster
/// lookups of sessions and threads resolve in it.
extension Store {
    /// `POST /agents`: version 1.
    public func createAgent(_ draft: AgentDraft) throws(DomainError) -> Agent {
        guard let name = draft.name else { throw .invalid("name is required.", param: "name") }
        guard let model = draft.model else { throw .invalid("model is required.", param: "model") }
        try checkMetadata(draft.metadata ?? .object([]), param: "metadata")
        let now = clock.now()
        var agent = Agent(id: ids.make("agent"), name: name, model: model, version: 1)
        apply(draft, to: &agent)
        agent.metadata = draft.metadata ?? .object([])
        agent.createdAt = now
        agent.updatedAt = now
        agents.append(agent)
        return agent
    }

    /// The latest version of every agent, in creation order.
    func latestAgents() -> [Agent] {
        var order: [String] = []
        var latest: [String: Agent] = [:]
        for a in agents {
            if let seen = latest[a.id] {
                if a.version > seen.version { latest[a.id] = a }
            } else {
                order.append(a.id)
                latest[a.id] = a
            }
        }
        return order.map { latest[$0]! }
    }

    /// `GET /agents`: archived agents only when asked for.
    /// `from` and `to` bound the agents' creation times, inclusively.
    public func listAgents(_ page: PageRequest, includeArchived: Bool, from: Int64 = .min, to: Int64 = .max)
        throws(DomainError) -> Page<Agent>
    {
        let all = latestAgents()
        var index: [String: Int] = [:]
        for (i, a) in all.enumerated() { index[a.id] = i }
        // When each agent was made: its first version's time, in one pass.
        var firstCreated: [String: (version: Int, at: Int64)] = [:]
        for a in agents {
            if let seen = firstCreated[a.id], seen.version <= a.version { continue }
            firstCreated[a.id] = (a.version, a.createdAt)
        }
        return try page.cut(
            all, id: { $0.id }, index: { index[$0] },
            matches: { agent in
                let created = firstCreated[agent.id]?.at ?? agent.createdAt
                return (includeArchived || agent.archivedAt == nil) && created >= from && created <= to
            })
    }

    /// `GET /agents/{id}/versions`: every version of one agent.
    public func agentVersions(_ id: String, page: PageRequest) throws(DomainError) -> Page<Agent> {
        _ = try agent(AgentReference(id: id))
        let versions = (agentPositions[id] ?? []).map { agents[$0] }.sorted { $0.version < $1.version }
        var index: [String: Int] = [:]
        for (i, a) in versions.enumerated() { index[String(a.version)] = i }
        return try page.cut(versions, id: { String($0.version) }, index: { index[$0] })
    }

    /// `POST /agents/{id}`: the given fields make a new version; nothing changed,
    /// no new version. A stale `version` is refused, so writers never overwrite
    /// each other silently.
    public func updateAgent(_ id: String, _ draft: AgentDraft) throws(DomainError) -> Agent {
        let current = try agent(AgentReference(id: id))
        if current.archivedAt != nil { throw .busy("Agent '\(id)' is archived and cannot be updated.") }
        if let expected = draft.expectedVersion, expected != current.version {
            throw .busy(
                "Agent '\(id)' is at version \(current.version); the update was based on version \(expected).")
        }
        var next = current
        apply(draft, to: &next)
        if let patch = draft.metadata { next.metadata = try mergedMetadata(current.metadata, patch) }
        guard !next.sameContent(as: current) else { return current }
        let now = clock.now()
        next.version = current.version + 1
        next.createdAt = now
        next.updatedAt = now
        agents.append(next)
        return next
    }

    /// `POST /agents/{id}/archive`: new sessions on it are refused; running ones go on.
    public func archiveAgent(_ id: String) throws(DomainError) -> Agent {
        let current = try agent(AgentReference(id: id))
        if current.archivedAt != nil { throw .busy("Agent '\(id)' is already archived.") }
        let now = clock.now()
        for i in agentPositions[id] ?? [] {
            agents[i].archivedAt = now
            agents[i].updatedAt = now
        }
        return try agent(AgentReference(id: id))
    }

    private func apply(_ draft: AgentDraft, to agent: inout Agent) {
        if let v = draft.name { agent.name = v }
        if let v = draft.description { agent.description = v }
        if let v = draft.model { agent.model = v }
        if let v = draft.system { agent.system = v }
        if let v = draft.tools { agent.tools = v }
        if let v = draft.mcpServers { agent.mcpServers = v }
        if let v = draft.skills { agent.skills = v }
        if let v = draft.multiagent { agent.multiagent = v }
    }

    /// Metadata values are strings (API.md section 5).
    func checkMetadata(_ metadata: JSON, param: String) throws(DomainError) {
        for (key, value) in metadata.objectValue ?? [] where value.stringValue == nil {
            throw .invalid("metadata values must be strings; '\(key)' is \(value.typeName).", param: param)
        }
    }

    /// A metadata update: merged key by key; a key set to null is removed.
    func mergedMetadata(_ current: JSON, _ patch: JSON) throws(DomainError) -> JSON {
        var pairs = current.objectValue ?? []
        for (key, value) in patch.objectValue ?? [] {
            if case .null = value {
                pairs.removeAll { $0.0 == key }
                continue
            }
            guard value.stringValue != nil else {
                throw .invalid("metadata values must be strings; '\(key)' is \(value.typeName).", param: "metadata")
            }
            if let i = pairs.firstIndex(where: { $0.0 == key }) {
                pairs[i].1 = value
            } else {
                pairs.append((key, value))
            }
        }
        return .object(pairs)
    }
}
