import MockJSON

/// Everything about a thread that its API object shows and that can change.
public struct ThreadState: Equatable {
    public var parentThreadID: String?
    public var agent: Agent
    public var name: String
    public var role: ThreadRole
    public var status: ThreadStatus
    public var stopReason: JSON
    public var createdByToolUseID: String?
    public var archivedAt: Int64?
    public var createdAt: Int64
    public var updatedAt: Int64
    /// Set while `blocked`: what the thread waits on (archive uses it to unblock).
    public var waitingOn: WaitTarget?
}

/// A coordinator or child thread. Only the store (this module) writes it, and
/// every write goes through `state`, whose observer drops the cached encoding:
/// the cached JSON cannot outlive a change, whichever field changed.
public final class SessionThread {
    public let id: String
    public let sessionID: String
    /// What every event of this thread names as its session and thread.
    public let eventOwner: EventOwner
    public internal(set) var state: ThreadState {
        didSet { cachedBytes = nil }
    }
    /// The thread's history, oldest first.
    public internal(set) var log = EventLog()
    public internal(set) var mailbox: [MailboxMessage] = []

    private var cachedBytes: [UInt8]?

    init(id: String, sessionID: String, state: ThreadState, eventOwner: EventOwner? = nil) {
        self.id = id
        self.sessionID = sessionID
        self.eventOwner = eventOwner ?? EventOwner(sessionID: sessionID, threadID: id)
        self.state = state
    }

    public var parentThreadID: String? { state.parentThreadID }
    public var agent: Agent { state.agent }
    public var name: String { state.name }
    public var role: ThreadRole { state.role }
    public var status: ThreadStatus { state.status }
    public var stopReason: JSON { state.stopReason }
    public var createdByToolUseID: String? { state.createdByToolUseID }
    public var archivedAt: Int64? { state.archivedAt }
    public var createdAt: Int64 { state.createdAt }
    public var updatedAt: Int64 { state.updatedAt }
    public var waitingOn: WaitTarget? { state.waitingOn }
    public var events: EventList { log.events }

    /// Idle, with a scripted turn waiting for the client's answer (`requires_action`).
    public var waitsForClient: Bool {
        status == .idle && stopReason["type"]?.stringValue == "requires_action"
    }

    /// The API object, in the seed's key order.
    public var json: JSON {
        .object([
            ("id", .string(id)), ("type", "session_thread"), ("session_id", .string(sessionID)),
            ("parent_thread_id", .string(parentThreadID)), ("agent", agent.snapshot), ("agent_id", .string(agent.id)),
            ("agent_version", .int(agent.version)), ("name", .string(name)), ("role", .string(role.rawValue)),
            ("status", .string(status.rawValue)), ("stop_reason", stopReason),
            ("created_by_tool_use_id", .string(createdByToolUseID)),
            ("archived_at", .string(archivedAt.map(Timestamp.format))),
            ("created_at", .string(Timestamp.format(createdAt))),
            ("updated_at", .string(Timestamp.format(updatedAt))),
        ])
    }

    /// The encoded API object, cached until the thread changes.
    public var bytes: [UInt8] {
        if let cachedBytes { return cachedBytes }
        let b = json.encoded()
        cachedBytes = b
        return b
    }

    /// A copy that can change without touching this one (reset clones the world);
    /// events, immutable, are shared.
    func copy() -> SessionThread {
        let t = SessionThread(id: id, sessionID: sessionID, state: state, eventOwner: eventOwner)
        t.log = log.copy()
        t.mailbox = mailbox
        return t
    }
}
