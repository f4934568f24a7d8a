/// Whole-world operations: reset and state import build a world aside and swap it in.
extension Store {
    /// Takes over another store's world in one step (reset, state import).
    public func adopt(_ other: Store) {
        agents = other.agents
        sessions = other.sessions
        sessionsByID = other.sessionsByID
        sessionIndex = other.sessionIndex
        threadsByID = other.threadsByID
        tokens = other.tokens
        tokensRequired = other.tokensRequired
        observer?.worldReplaced()
    }

    /// A copy of this world that can change without touching this one: sessions and
    /// threads are new objects, events (immutable) are shared, and the arrays and
    /// indexes are copied on write. A field added to `Session` or `SessionThread`
    /// must be copied here too (the reset tests compare exports, so they notice).
    func clone() -> Store {
        let copy = Store(clock: clock, ids: ids)
        copy.agents = agents
        copy.tokens = tokens
        copy.tokensRequired = tokensRequired
        copy.sessionIndex = sessionIndex
        copy.sessions.reserveCapacity(sessions.count)
        copy.sessionsByID.reserveCapacity(sessions.count)
        copy.threadsByID.reserveCapacity(threadsByID.count)
        for s in sessions {
            let session = Session(
                id: s.id, agent: s.agent, environmentID: s.environmentID, title: s.title, metadata: s.metadata,
                archivedAt: s.archivedAt, createdAt: s.createdAt, updatedAt: s.updatedAt)
            session.threads.reserveCapacity(s.threads.count)
            for t in s.threads {
                let thread = SessionThread(
                    id: t.id, sessionID: t.sessionID, parentThreadID: t.parentThreadID, agent: t.agent, name: t.name,
                    role: t.role, status: t.status, stopReason: t.stopReason, createdByToolUseID: t.createdByToolUseID,
                    archivedAt: t.archivedAt, createdAt: t.createdAt, updatedAt: t.updatedAt)
                thread.waitingOn = t.waitingOn
                thread.events = t.events
                thread.eventIndex = t.eventIndex
                thread.mailbox = t.mailbox
                session.threads.append(thread)
                copy.threadsByID[thread.id] = thread
            }
            copy.sessions.append(session)
            copy.sessionsByID[session.id] = session
        }
        return copy
    }
}
