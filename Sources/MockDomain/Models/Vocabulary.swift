import MockJSON

/// One version of an agent (API.md section 11): what sessions and threads take
/// their snapshot from. Fields the API keeps "as given" are JSON values.
public struct Agent: Equatable, Sendable {
    public var id: String
    public var name: String
    public var description: JSON = .null
    /// A string such as `"ultimate"`, or an object `{id, ...}`, kept as given.
    public var model: JSON
    public var system: JSON = .null
    public var tools: JSON = .array([])
    public var mcpServers: JSON = .array([])
    public var skills: JSON = .array([])
    /// Null, or the roster a coordinator may start children from, kept as given.
    public var multiagent: JSON = .null
    public var metadata: JSON = .object([])
    public var version: Int
    public var archivedAt: Int64?
    public var createdAt: Int64 = 0
    public var updatedAt: Int64 = 0
    /// The mock's own addition: what the agent does with a message (API.md section 13).
    public var script: Script?

    public init(id: String, name: String, model: JSON, version: Int) {
        self.id = id
        self.name = name
        self.model = model
        self.version = version
    }

    /// The compact snapshot threads and sessions carry (API.md section 5).
    public var snapshot: JSON {
        .object([
            ("id", .string(id)), ("type", "agent"), ("name", .string(name)), ("model", model),
            ("version", .int(version)),
        ])
    }

    /// The whole agent object of `/agents`.
    public var json: JSON {
        .object([
            ("id", .string(id)), ("type", "agent"), ("name", .string(name)), ("description", description),
            ("model", model), ("system", system), ("tools", tools), ("mcp_servers", mcpServers), ("skills", skills),
            ("multiagent", multiagent), ("metadata", metadata), ("version", .int(version)),
            ("archived_at", .string(archivedAt.map(Timestamp.format))),
            ("created_at", .string(Timestamp.format(createdAt))), ("updated_at", .string(Timestamp.format(updatedAt))),
        ])
    }

    /// The fixture form: the API object, and the script when there is one.
    public var fixtureJSON: JSON {
        guard let script, case .object(var pairs) = json else { return json }
        pairs.append(("script", script.source))
        return .object(pairs)
    }

    /// Whether two versions say the same thing (a no-op update makes no new version).
    func sameContent(as other: Agent) -> Bool {
        name == other.name && description == other.description && model == other.model && system == other.system
            && tools == other.tools && mcpServers == other.mcpServers && skills == other.skills
            && multiagent == other.multiagent && metadata == other.metadata
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
public struct WaitTarget: Equatable, Sendable {
    public var threadID: String
    public var toolUseID: String

    public init(threadID: String, toolUseID: String) {
        self.threadID = threadID
        self.toolUseID = toolUseID
    }
}

public enum MailboxStatus: String, CaseIterable, Sendable {
    case pending, delivered, cancelled
}

public struct MailboxMessage: Equatable {
    public let id: String
    public let fromThreadID: String
    public let toThreadID: String
    public let content: JSON
    public internal(set) var status: MailboxStatus
    public let createdAt: Int64

    public var json: JSON {
        .object([
            ("id", .string(id)), ("type", "mailbox_message"), ("from_thread_id", .string(fromThreadID)),
            ("to_thread_id", .string(toThreadID)), ("content", content), ("status", .string(status.rawValue)),
            ("created_at", .string(Timestamp.format(createdAt))),
        ])
    }
}
