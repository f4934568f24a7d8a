import MockJSON

/// A status change a test asks for through the control API.
public struct StatusChange {
    public var status: ThreadStatus
    public var stopReason: JSON?
    /// For `blocked`: the thread waited on, and the tool call (by default the
    /// call that started that thread, else a new id).
    public var waitingOn: (threadID: String, toolUseID: String?)?

    public init(status: ThreadStatus, stopReason: JSON? = nil, waitingOn: (threadID: String, toolUseID: String?)? = nil)
    {
        self.status = status
        self.stopReason = stopReason
        self.waitingOn = waitingOn
    }
}

extension Store {
    /// Changes a thread's status the way the service would, writing the matching
    /// `session.thread_status_*` event. `archived` goes through `archive` only.
    public func setStatus(sessionID: String, threadID: String, _ change: StatusChange) throws(DomainError)
        -> SessionThread
    {
        let thread = try thread(threadID, in: sessionID)
        let status = change.status
        if change.waitingOn != nil && status != .blocked {
            throw .invalid(
                "waiting_on applies only to status 'blocked' (got '\(status.rawValue)').", param: "waiting_on")
        }
        if thread.status.isFinal {
            throw .conflict("Thread '\(thread.id)' is \(thread.status.rawValue); its status is final.")
        }
        if status == .archived {
            throw .invalid(
                "Use POST /v1/sessions/{session_id}/threads/{thread_id}/archive to archive a thread.", param: "status")
        }
        var wait: WaitTarget?
        if status == .blocked {
            guard let w = change.waitingOn else {
                throw .invalid("A blocked thread needs 'waiting_on': {thread_id, tool_use_id}.", param: "waiting_on")
            }
            guard let target = threadsByID[w.threadID], target.sessionID == thread.sessionID, target.id != thread.id
            else {
                throw .invalid(
                    "waiting_on.thread_id '\(w.threadID)' is not another thread of this session.",
                    param: "waiting_on.thread_id")
            }
            wait = WaitTarget(
                threadID: target.id, toolUseID: w.toolUseID ?? target.createdByToolUseID ?? ids.make("toolu"))
        }
        let now = clock.now()
        let agentName = JSON.string(thread.agent.name)
        var state = thread.state
        state.status = status
        state.waitingOn = wait
        state.updatedAt = now
        switch status {
        case .running, .blocked: state.stopReason = change.stopReason ?? .object([])
        case .idle: state.stopReason = change.stopReason ?? ["type": "end_turn"]
        case .terminated: state.stopReason = change.stopReason ?? ["type": "terminated"]
        case .archived: break
        }
        thread.state = state
        switch status {
        case .running:
            addEvent(
                to: thread, type: "session.thread_status_running",
                fields: [("agent_name", agentName), ("status", "running")], at: now)
        case .idle:
            addEvent(
                to: thread, type: "session.thread_status_idle",
                fields: [("agent_name", agentName), ("status", "idle"), ("stop_reason", state.stopReason)], at: now)
        case .blocked:
            let w = wait!
            addEvent(
                to: thread, type: "session.thread_status_blocked",
                fields: [
                    ("agent_name", agentName), ("status", "blocked"),
                    ("waiting_on", ["session_thread_id": .string(w.threadID), "tool_use_id": .string(w.toolUseID)]),
                ], at: now)
        case .terminated:
            addEvent(
                to: thread, type: "session.thread_status_terminated",
                fields: [("agent_name", agentName), ("status", "terminated"), ("stop_reason", state.stopReason)],
                at: now)
            observer?.threadFinished(thread)
        case .archived:
            break
        }
        touch(sessionOf: thread, at: now)
        return thread
    }
}
