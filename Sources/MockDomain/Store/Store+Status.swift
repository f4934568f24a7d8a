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
        let session = try session(sessionID)
        if status != .running && status != .blocked { dropSteps(sessionID: sessionID, threadID: thread.id) }
        transition(thread, to: status, stopReason: change.stopReason, waitingOn: wait, at: now)
        // A thread that can never report again ends every wait on it (an idle one may
        // still be archived or sent a follow-up, so its waiters keep waiting).
        if status == .terminated { release(waitersOn: thread, in: session, content: "Agent terminated.", at: now) }
        settle(session)
        return thread
    }

    /// The one place a thread changes status (other than archive): its state, then
    /// the matching `session.thread_status_*` event; a final status closes its log.
    /// Callers check the rules first and settle the session's status after.
    func transition(
        _ thread: SessionThread, to status: ThreadStatus, stopReason: JSON? = nil, waitingOn wait: WaitTarget? = nil,
        at now: Int64
    ) {
        let agentName = JSON.string(thread.agent.name)
        var state = thread.state
        state.status = status
        state.waitingOn = wait
        state.updatedAt = now
        switch status {
        case .running, .blocked: state.stopReason = stopReason ?? .object([])
        case .idle: state.stopReason = stopReason ?? ["type": "end_turn"]
        case .terminated: state.stopReason = stopReason ?? ["type": "terminated"]
        case .archived: state.stopReason = stopReason ?? ["type": "archive"]
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
        case .terminated, .archived:
            addEvent(
                to: thread, type: "session.thread_status_terminated",
                fields: [
                    ("agent_name", agentName), ("status", .string(status.rawValue)), ("stop_reason", state.stopReason),
                ],
                at: now)
            close(thread.log)
        }
        touch(sessionOf: thread, at: now)
    }

    /// Threads blocked on `thread` get the `Agent` tool's result (`content`, an
    /// error) and run on: no wait is left without an end (archive, interrupt).
    func release(waitersOn thread: SessionThread, in session: Session, content: String, at now: Int64) {
        for waiting in session.threads where waiting.status == .blocked && waiting.waitingOn?.threadID == thread.id {
            let toolUse = waiting.waitingOn!.toolUseID
            waiting.state.waitingOn = nil
            addEvent(
                to: waiting, type: "agent.tool_result",
                fields: [("tool_use_id", .string(toolUse)), ("content", .string(content)), ("is_error", true)],
                at: now)
            transition(waiting, to: .running, at: now)
            resumeAfterRelease(waiting, from: thread, in: session)
        }
    }

    /// Announces a change of the session's derived status (API.md section 12):
    /// `session.status_running` when it starts to run, `session.status_idle` when
    /// it stops, with `end_turn`, which ends the turn in progress, or with
    /// `requires_action` naming the events the client must answer, which keeps the
    /// turn open. Called after anything that can change a thread's status.
    func settle(_ session: Session) {
        let status = session.status
        let now = clock.now()
        if status == "running" {
            guard session.announcedStatus != "running" else { return }
            session.announcedStatus = status
            addEvent(to: ensureCoordinator(session), type: "session.status_running", fields: [], at: now)
            return
        }
        let stopReason = session.idleStopReason
        // Idle again, or idle for another reason (a wait for the client cancelled).
        guard session.announcedStatus != "idle" || session.announcedStopReason != stopReason else { return }
        session.announcedStatus = status
        session.announcedStopReason = stopReason
        addEvent(
            to: ensureCoordinator(session), type: "session.status_idle", fields: [("stop_reason", stopReason)], at: now)
        if stopReason["type"] == "end_turn" { session.turnID = nil }
    }
}
