import MockJSON

/// The agent roster: what sessions and threads take their snapshot from.
public struct Agent: Equatable, Sendable {
    public var id: String
    public var name: String
    public var model: String
    public var version: Int

    public init(id: String, name: String, model: String, version: Int) {
        self.id = id
        self.name = name
        self.model = model
        self.version = version
    }

    /// The compact snapshot threads and sessions carry (API.md section 5).
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
