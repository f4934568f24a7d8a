import MockJSON

extension Store {
    /// Endpoint 5 (API.md section 6 and seed 004): archives an idle child in one
    /// step, with every effect on its mailbox, on a coordinator waiting on it, and
    /// on its streams.
    public func archive(sessionID: String, threadID: String) throws(DomainError) -> SessionThread {
        let thread = try thread(threadID, in: sessionID)
        if thread.role == .coordinator {
            throw .conflict(
                "Thread '\(thread.id)' is the session's coordinator; coordinator threads cannot be archived.")
        }
        guard thread.status == .idle else {
            throw .conflict("Thread '\(thread.id)' is \(thread.status.rawValue); only idle threads can be archived.")
        }
        // From here on nothing can fail: the whole change lands in this one call.
        let now = clock.now()
        thread.state.status = .archived
        thread.state.stopReason = ["type": "archive"]
        thread.state.archivedAt = now
        thread.state.updatedAt = now
        cancelPendingMessages(of: thread)
        dropSteps(sessionID: sessionID, threadID: thread.id)
        let session = sessionsByID[sessionID]!
        release(waitersOn: thread, in: session, content: "Agent cancelled.", at: now)
        addEvent(
            to: thread, type: "session.thread_status_terminated",
            fields: [
                ("agent_name", .string(thread.agent.name)), ("status", "archived"),
                ("stop_reason", ["type": "archive"]),
            ],
            at: now)
        session.state.updatedAt = now
        close(thread.log)
        settle(session)
        return thread
    }
}
