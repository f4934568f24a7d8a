import MockJSON

/// The fields of a session that can change.
public struct SessionState: Equatable {
    public var agent: Agent
    public var environmentID: String?
    public var title: String?
    public var metadata: JSON
    public var archivedAt: Int64?
    public var createdAt: Int64
    public var updatedAt: Int64
}

/// A session and its threads. Only the store (this module) writes it.
public final class Session {
    public let id: String
    public internal(set) var state: SessionState
    /// Threads in list order: the coordinator first, then children by creation.
    public internal(set) var threads: [SessionThread] = []

    init(id: String, state: SessionState) {
        self.id = id
        self.state = state
    }

    public var agent: Agent { state.agent }
    public var environmentID: String? { state.environmentID }
    public var title: String? { state.title }
    public var metadata: JSON { state.metadata }
    public var archivedAt: Int64? { state.archivedAt }
    public var createdAt: Int64 { state.createdAt }
    public var updatedAt: Int64 { state.updatedAt }

    public var coordinator: SessionThread? { threads.first { $0.role == .coordinator } }

    public func thread(_ id: String) -> SessionThread? { threads.first { $0.id == id } }

    /// Derived, never stored: running while any thread works or waits.
    public var status: String {
        threads.contains { $0.status == .running || $0.status == .blocked } ? "running" : "idle"
    }

    public var json: JSON {
        .object([
            ("id", .string(id)), ("type", "session"), ("agent", agent.snapshot),
            ("environment_id", .string(environmentID)), ("title", .string(title)), ("metadata", metadata),
            ("status", .string(status)), ("archived_at", .string(archivedAt.map(Timestamp.format))),
            ("created_at", .string(Timestamp.format(createdAt))), ("updated_at", .string(Timestamp.format(updatedAt))),
        ])
    }

    /// A copy with copied threads (reset clones the world).
    func copy() -> Session {
        let s = Session(id: id, state: state)
        s.threads = threads.map { $0.copy() }
        return s
    }
}
