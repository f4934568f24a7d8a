/// The agent roster: what sessions and threads take their snapshot from.
public struct Agent: Equatable {
    public var id: String
    public var name: String
    public var model: String
    public var version: Int

    public var snapshot: JSON {
        .object([
            ("id", .string(id)), ("type", "agent"), ("name", .string(name)), ("model", .string(model)),
            ("version", .int(version)),
        ])
    }
}

public enum ThreadStatus: String, CaseIterable, Sendable {
    case idle, running, blocked, archived, terminated

    public var isFinal: Bool { self == .archived || self == .terminated }
}

public enum ThreadRole: String, Sendable {
    case coordinator, child
}

/// What a blocked thread waits on: the child thread and the `Agent` tool call.
public struct WaitTarget: Equatable {
    public var threadID: String
    public var toolUseID: String
}

public enum MailboxStatus: String, CaseIterable {
    case pending, delivered, cancelled
}

public struct MailboxMessage: Equatable {
    public var id: String
    public var fromThreadID: String
    public var toThreadID: String
    public var content: JSON
    public var status: MailboxStatus
    public var createdAt: Int64

    public var json: JSON {
        .object([
            ("id", .string(id)), ("type", "mailbox_message"), ("from_thread_id", .string(fromThreadID)),
            ("to_thread_id", .string(toThreadID)), ("content", content), ("status", .string(status.rawValue)),
            ("created_at", .string(Timestamp.format(createdAt))),
        ])
    }
}

/// An event as stored: never changed once written, so its bytes are encoded once
/// and reused by every list page and stream frame.
public final class StoredEvent {
    public let id: String
    public let type: String
    /// The event's JSON, encoded once. Only the bytes are kept: pages and frames are
    /// built from them, and the rare export parses them back.
    public let bytes: [UInt8]
    /// The SSE frame for this event, built on first use.
    public private(set) lazy var frame: [UInt8] = {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + id.utf8.count + type.utf8.count + 24)
        out.append(contentsOf: "id: \(id)\nevent: \(type)\ndata: ".utf8)
        out.append(contentsOf: bytes)
        out.append(contentsOf: "\n\n".utf8)
        return out
    }()

    public init(id: String, type: String, json: JSON) {
        self.id = id
        self.type = type
        self.bytes = json.encoded()
    }

    /// The event as a JSON value (state export, control API answers).
    public var json: JSON {
        // The bytes were produced by our own encoder, so they always parse.
        (try? JSON.parse(bytes)) ?? .null
    }
}

public final class SessionThread {
    public let id: String
    public let sessionID: String
    public var parentThreadID: String?
    public var agent: Agent
    public var name: String
    public var role: ThreadRole
    public var status: ThreadStatus { didSet { invalidate() } }
    public var stopReason: JSON { didSet { invalidate() } }
    public var createdByToolUseID: String?
    public var archivedAt: Int64? { didSet { invalidate() } }
    public var createdAt: Int64
    public var updatedAt: Int64 { didSet { invalidate() } }
    /// Set while `blocked`: what the thread waits on (archive uses it to unblock).
    public var waitingOn: WaitTarget? { didSet { invalidate() } }

    public var events: [StoredEvent] = []
    /// Position of each event id in `events`, for cursors and Last-Event-ID.
    public var eventIndex: [String: Int] = [:]
    public var mailbox: [MailboxMessage] = []

    private var cachedBytes: [UInt8]?

    public init(
        id: String, sessionID: String, parentThreadID: String?, agent: Agent, name: String, role: ThreadRole,
        status: ThreadStatus, stopReason: JSON, createdByToolUseID: String?, archivedAt: Int64?, createdAt: Int64,
        updatedAt: Int64
    ) {
        self.id = id
        self.sessionID = sessionID
        self.parentThreadID = parentThreadID
        self.agent = agent
        self.name = name
        self.role = role
        self.status = status
        self.stopReason = stopReason
        self.createdByToolUseID = createdByToolUseID
        self.archivedAt = archivedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    private func invalidate() { cachedBytes = nil }

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

    public func append(_ event: StoredEvent) {
        eventIndex[event.id] = events.count
        events.append(event)
    }
}

public final class Session {
    public let id: String
    public var agent: Agent
    public var environmentID: String?
    public var title: String?
    public var metadata: JSON
    public var archivedAt: Int64?
    public var createdAt: Int64
    public var updatedAt: Int64
    /// Threads in list order: the coordinator first, then children by creation.
    public var threads: [SessionThread] = []

    public init(
        id: String, agent: Agent, environmentID: String?, title: String?, metadata: JSON, archivedAt: Int64?,
        createdAt: Int64, updatedAt: Int64
    ) {
        self.id = id
        self.agent = agent
        self.environmentID = environmentID
        self.title = title
        self.metadata = metadata
        self.archivedAt = archivedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

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
}
