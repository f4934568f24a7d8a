import MockJSON

/// A child thread as a test asks for it (control API), checked when created.
public struct ChildPlan {
    public var agent: AgentReference?
    public var name: String?
    public var toolUseID: String?
    public var status: ThreadStatus = .running
    /// The parent; nil for the session's coordinator.
    public var parentThreadID: String?
    /// The task the parent gives (a script's `start`), shown in the `Agent` tool's input.
    public var task: String?

    public init() {}
}

extension Store {
    /// Endpoint 1. A session with no thread gets its coordinator on this call.
    public func listThreads(sessionID: String, page: PageRequest, statuses: [ThreadStatus]) throws(DomainError)
        -> Page<SessionThread>
    {
        let session = try session(sessionID)
        ensureCoordinator(session)
        var index: [String: Int] = [:]
        if page.cursor != .none {
            for (i, t) in session.threads.enumerated() { index[t.id] = i }
        }
        let wanted = Set(statuses)
        return try page.cut(
            session.threads, id: { $0.id }, index: { index[$0] },
            matches: { wanted.isEmpty || wanted.contains($0.status) })
    }

    /// Creates the coordinator when the session has none: idle, `stop_reason: {}`,
    /// the session's agent. Idempotent, so asking twice never makes two.
    @discardableResult func ensureCoordinator(_ session: Session) -> SessionThread {
        if let c = session.coordinator { return c }
        let now = clock.now()
        let thread = SessionThread(
            id: ids.make("sthr"), sessionID: session.id,
            state: ThreadState(
                parentThreadID: nil, agent: session.agent, name: "", role: .coordinator, status: .idle,
                stopReason: .object([]), createdByToolUseID: nil, archivedAt: nil, createdAt: now, updatedAt: now))
        session.threads.insert(thread, at: 0)
        threadsByID[thread.id] = thread
        createdAtRunTime.threads += 1
        return thread
    }

    /// `POST /_mock/sessions/{id}/threads`: a child under its parent (the
    /// coordinator by default, created if needed), with `session.thread_created`
    /// first in its own history.
    public func createChild(sessionID: String, _ plan: ChildPlan) throws(DomainError) -> SessionThread {
        let session = try session(sessionID)
        let agent = try resolve(plan)
        let parent: SessionThread
        if let pid = plan.parentThreadID {
            guard let p = session.thread(pid) else {
                throw .invalid(
                    "parent_thread_id '\(pid)' is not a thread of session '\(session.id)'.", param: "parent_thread_id")
            }
            parent = p
        } else {
            parent = ensureCoordinator(session)
        }
        guard !parent.status.isFinal else {
            throw .conflict("Parent thread '\(parent.id)' is \(parent.status.rawValue) and cannot start a child.")
        }
        let child = insertChild(plan, agent: agent, in: session, parent: parent)
        settle(session)
        return child
    }

    /// The child's agent, or the roster's first; a final starting status is refused.
    func resolve(_ plan: ChildPlan) throws(DomainError) -> Agent {
        guard !plan.status.isFinal else {
            throw .invalid(
                "A new thread starts idle, running or blocked, not \(plan.status.rawValue).", param: "status")
        }
        guard let ref = plan.agent else { return try defaultAgent() }
        return try agent(ref)
    }

    /// A child starts the way the service starts one: the parent calls the `Agent`
    /// tool (`agent.tool_use` with its own `toolu_...` id), and the new thread,
    /// created by that call, begins its history with `session.thread_created`.
    @discardableResult
    func insertChild(_ plan: ChildPlan, agent: Agent, in session: Session, parent: SessionThread) -> SessionThread {
        let now = clock.now()
        let toolUse = plan.toolUseID ?? ids.make("toolu")
        let name = plan.name ?? agent.name
        addEvent(
            to: parent, type: "agent.tool_use",
            fields: [
                ("tool_use_id", .string(toolUse)), ("name", "Agent"),
                (
                    "input",
                    .object(
                        [("agent_id", .string(agent.id)), ("name", .string(name))]
                            + (plan.task.map { [("prompt", .string($0))] } ?? []))
                ),
            ], at: now)
        let child = SessionThread(
            id: ids.make("sthr"), sessionID: session.id,
            state: ThreadState(
                parentThreadID: parent.id, agent: agent, name: name, role: .child,
                status: plan.status, stopReason: plan.status == .idle ? ["type": "end_turn"] : .object([]),
                createdByToolUseID: toolUse, archivedAt: nil, createdAt: now, updatedAt: now))
        session.threads.append(child)
        threadsByID[child.id] = child
        createdAtRunTime.threads += 1
        // The event describes the new thread and belongs to it (API.md section 5).
        addEvent(
            to: child, type: "session.thread_created",
            fields: [
                ("parent_thread_id", .string(parent.id)),
                ("agent_id", .string(agent.id)), ("agent_version", .int(agent.version)),
                ("agent_name", .string(agent.name)), ("role", "child"), ("created_by_tool_use_id", .string(toolUse)),
            ], at: now)
        return child
    }
}
