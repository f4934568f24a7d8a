import MockJSON

/// Whole-world operations: reset and state import build a world aside and swap
/// it in; fixtures enter a new world through `restore` and `settle`, which hold the rules
/// that relate a session's threads.
extension Store {
    /// Takes over another store's world in one step (reset, state import). Returns the
    /// world it replaced, for the caller to free a slice at a time: freeing 20,000
    /// sessions at once held the loop for 200 ms.
    public func adopt(_ other: Store) -> ReplacedWorld {
        let replaced = ReplacedWorld(sessions)
        agents = other.agents
        reindexAgents()
        sessions = other.sessions
        sessionsByID = other.sessionsByID
        sessionIndex = other.sessionIndex
        threadsByID = other.threadsByID
        tokens = other.tokens
        tokensRequired = other.tokensRequired
        pending = other.pending
        stepCounter = other.stepCounter
        timelines = other.timelines
        createdAtRunTime = RunTimeCounts()
        observer?.worldReplaced()
        agendaChanged?()
        return replaced
    }

    /// The sessions of a world that was replaced, kept so they can be freed gradually.
    /// Nothing else refers to them once streams on them have ended.
    public struct ReplacedWorld {
        private var sessions: [Session]
        /// Histories taken out of sessions already let go, freed a chunk at a time: one
        /// session with 200,000 events held the loop 355 ms when freed whole.
        private var histories: [[StoredEvent]] = []

        init(_ sessions: [Session]) { self.sessions = sessions }

        /// Histories alone, already out of their sessions (those an export was writing).
        init(histories: [[StoredEvent]]) {
            sessions = []
            self.histories = histories
        }

        public var isEmpty: Bool { sessions.isEmpty && histories.isEmpty }
        /// Sessions not freed yet, and 1 while histories of freed ones remain.
        public var count: Int { sessions.count + (histories.isEmpty ? 0 : 1) }

        /// Takes on another replaced world's leftovers, to be freed after this one's. Histories
        /// are freed in any order, so those go at the end: an export hands some over with every
        /// part it writes, and a copy of the whole list each time would grow with the backlog.
        public mutating func append(_ other: ReplacedWorld) {
            if !other.sessions.isEmpty { sessions = other.sessions + sessions }
            histories.append(contentsOf: other.histories)
        }

        /// Frees about `budget` objects (sessions, threads, events), at least one.
        public mutating func freeSome(budget: Int) {
            var spent = 0
            while spent < budget || spent == 0 {
                if var history = histories.popLast() {
                    // Dropped from the end: no copy when the array is this world's alone (one
                    // shared with the reset template is copied once, and its events outlive it).
                    let n = min(history.count, max(1, budget - spent))
                    history.removeLast(n)
                    spent += n
                    if !history.isEmpty { histories.append(history) }
                    continue
                }
                guard let session = sessions.popLast() else { return }
                histories.append(contentsOf: session.log.takeEvents())
                for thread in session.threads { histories.append(contentsOf: thread.log.takeEvents()) }
                spent += 1 + session.threads.count
            }
        }
    }

    /// A copy of this world that can change without touching this one: sessions and
    /// threads are new objects, events (immutable) are shared, and the arrays and
    /// indexes are copied on write.
    public func clone() -> Store {
        let copy = Store(clock: clock, ids: ids)
        copy.agents = agents
        copy.tokens = tokens
        copy.tokensRequired = tokensRequired
        copy.sessionIndex = sessionIndex
        copy.sessions.reserveCapacity(sessions.count)
        copy.sessionsByID.reserveCapacity(sessions.count)
        copy.threadsByID.reserveCapacity(threadsByID.count)
        for s in sessions {
            let session = s.copy()
            for t in session.threads { copy.threadsByID[t.id] = t }
            copy.sessions.append(session)
            copy.sessionsByID[session.id] = session
        }
        return copy
    }

    // MARK: Loading

    /// A roster agent from a fixture; the same id and version twice is refused.
    func restore(agent: Agent) throws(DomainError) {
        if self.agent(agent.id, version: agent.version) != nil {
            throw .invalid("duplicate agent '\(agent.id)' version \(agent.version)", param: "id")
        }
        agents.append(agent)
    }

    /// Checks how the threads of a session read from a fixture relate
    /// (API.md section 10): one coordinator, listed first; a coordinator has no
    /// parent and is never archived; a child's parent is another thread of the
    /// session; a blocked thread waits on another thread of the session; mailbox
    /// senders are threads of the session. Errors name `threads[i]...`, relative
    /// to the session. Then puts the coordinator first and builds the session's log; the
    /// caller inserts it. Touches no store: sessions are read on two threads at once
    /// (`SessionReadAhead`).
    static func settle(_ session: Session, waits: [Int: WaitTarget]) throws(DomainError) {
        let threads = session.threads
        let known = Set(threads.map(\.id))
        var coordinator: Int?
        // Each thread on its own first, in order, then the relations between them.
        for (i, t) in threads.enumerated() {
            let at = "threads[\(i)]"
            if t.role == .coordinator {
                if t.parentThreadID != nil {
                    throw .invalid("a coordinator has no parent (must be null)", param: "\(at).parent_thread_id")
                }
                if t.status == .archived { throw .invalid("a coordinator cannot be archived", param: "\(at).status") }
            }
            if t.status == .blocked && waits[i] == nil {
                throw .invalid("a blocked thread needs {thread_id, tool_use_id}", param: "\(at).waiting_on")
            }
        }
        for (i, t) in threads.enumerated() where t.role == .coordinator {
            if coordinator != nil {
                throw .invalid("a session has at most one coordinator", param: "threads[\(i)].role")
            }
            coordinator = i
        }
        for (i, t) in threads.enumerated() where t.role == .child {
            guard let parent = t.parentThreadID else {
                throw .invalid("a child thread needs its parent", param: "threads[\(i)].parent_thread_id")
            }
            guard known.contains(parent), parent != t.id else {
                throw .invalid(
                    "'\(parent)' is not a thread of session '\(session.id)'", param: "threads[\(i)].parent_thread_id")
            }
        }
        // Every child's chain of parents ends at the coordinator (a → b → a would leave a
        // family no one started); each thread is walked once, however deep the tree.
        var parentOf: [String: String] = [:]
        for t in threads { parentOf[t.id] = t.parentThreadID }
        var rooted = Set<String>()
        for (i, t) in threads.enumerated() where t.role == .child {
            var chain: [String] = []
            var seen = Set<String>()
            var current: String? = t.id
            while let c = current, !rooted.contains(c) {
                guard seen.insert(c).inserted else {
                    throw .invalid(
                        "the parents of '\(t.id)' form a cycle; every child must lead back to the coordinator",
                        param: "threads[\(i)].parent_thread_id")
                }
                chain.append(c)
                current = parentOf[c]
            }
            rooted.formUnion(chain)
        }
        for (i, wait) in waits.sorted(by: { $0.key < $1.key }) {
            let t = threads[i]
            guard t.status == .blocked else {
                throw .invalid(
                    "only a blocked thread waits on another (status is \(t.status.rawValue))",
                    param: "threads[\(i)].waiting_on")
            }
            guard known.contains(wait.threadID), wait.threadID != t.id else {
                throw .invalid(
                    "'\(wait.threadID)' is not another thread of session '\(session.id)'",
                    param: "threads[\(i)].waiting_on.thread_id")
            }
        }
        for (i, t) in threads.enumerated() {
            for (j, m) in t.mailbox.enumerated() where !known.contains(m.fromThreadID) {
                throw .invalid(
                    "'\(m.fromThreadID)' is not a thread of session '\(session.id)'",
                    param: "threads[\(i)].mailbox[\(j)].from_thread_id")
            }
        }
        // Nothing can fail from here on.
        for (i, wait) in waits { threads[i].state.waitingOn = wait }
        if let c = coordinator, c != 0 {
            session.threads.remove(at: c)
            session.threads.insert(threads[c], at: 0)
        }
        session.rebuildLog()
    }
}
