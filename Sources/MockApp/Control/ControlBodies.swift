import MockDomain
import MockJSON

/// Typed decoders of the control API's bodies: shapes and types only; every
/// rule that relates them to the world is the store's.
extension SessionPlan {
    init(body: JSONObjectReader) throws(JSONReadError) {
        try body.rejectUnknown([
            "agent", "environment_id", "title", "metadata", "coordinator", "children", "initial_events",
        ])
        self.init()
        agent = try body["agent"].map { v throws(JSONReadError) in try AgentReference(v, at: body.path.key("agent")) }
        environmentID = try body.string("environment_id")
        title = try body.string("title")
        metadata = try body.object("metadata")?.json ?? .object([])
        if let c = body["coordinator"] {
            guard let flag = c.boolValue else { throw body.fail("coordinator", "must be true or false") }
            coordinator = flag
        }
        if let c = body["children"], c.arrayValue == nil {
            throw body.fail("children", "must be an array of thread objects")
        }
        for (child, path) in try body.array("children") {
            children.append(
                try ChildPlan(
                    body: JSONObjectReader(child, at: path, expected: "a thread object"),
                    allowParent: false))
        }
        if let events = body["initial_events"], events.arrayValue == nil {
            throw body.fail("initial_events", "must be an array of events")
        }
        initialEvents = try body.array("initial_events").map(\.0)
    }
}

extension ChildPlan {
    /// A child thread; `parent_thread_id` only where the route takes one.
    init(body: JSONObjectReader, allowParent: Bool) throws(JSONReadError) {
        var known = ["agent", "name", "created_by_tool_use_id", "status"]
        if allowParent { known.append("parent_thread_id") }
        try body.rejectUnknown(known)
        self.init()
        agent = try body["agent"].map { v throws(JSONReadError) in try AgentReference(v, at: body.path.key("agent")) }
        name = try body.string("name")
        toolUseID = try body.string("created_by_tool_use_id")
        if let s = try body.string("status") {
            guard let parsed = ThreadStatus(rawValue: s), !parsed.isFinal else {
                throw body.fail("status", "'\(s)' is not a starting status (expected idle, running or blocked)")
            }
            status = parsed
        }
        parentThreadID = allowParent ? try body.string("parent_thread_id") : nil
    }
}

extension StatusChange {
    init(body: JSONObjectReader) throws(JSONReadError) {
        let raw = body.raw("status")
        guard let text = raw?.stringValue, let status = ThreadStatus(rawValue: text) else {
            let got = raw.map { $0.stringValue.map { "'\($0)'" } ?? $0.typeName } ?? "nothing"
            throw body.fail("status", "must be one of running, idle, blocked, terminated (got \(got))")
        }
        var waitingOn: (threadID: String, toolUseID: String?)?
        if let w = try body.object("waiting_on", expected: "an object {thread_id, tool_use_id?}") {
            let threadID = try w.requiredString("thread_id")
            waitingOn = (threadID, try w.string("tool_use_id"))
        }
        self.init(status: status, stopReason: try body.object("stop_reason")?.json, waitingOn: waitingOn)
    }
}

extension MessagePlan {
    init(body: JSONObjectReader) throws(JSONReadError) {
        guard let content = body.raw("content") else {
            throw JSONReadError(path: body.path.key("content"), problem: .missing)
        }
        var status = MailboxStatus.pending
        if let s = try body.string("status") {
            guard let parsed = MailboxStatus(rawValue: s) else {
                throw body.fail("status", "must be pending, delivered or cancelled (got '\(s)')")
            }
            status = parsed
        }
        self.init(
            fromThreadID: try body.string("from_thread_id"), content: content,
            status: status)
    }
}

extension FaultBook.Fault {
    /// `POST /_mock/faults`.
    init(body: JSONObjectReader, id: String) throws(JSONReadError) {
        try body.rejectUnknown([
            "method", "path", "times", "status", "error_type", "message", "retry_after", "delay_ms",
            "drop_after_frames", "drop_in_frame", "split_frames", "heartbeat_between_frames", "frame_delay_ms",
        ])
        guard let path = body["path"]?.stringValue, path.hasPrefix("/") else {
            throw body.fail("path", "must be a path pattern starting with '/', e.g. '/v1/sessions/*/threads'")
        }
        var method = try body.string("method")?.uppercased()
        if method == "*" { method = nil }
        if let method, method.isEmpty || !method.utf8.allSatisfy({ (65...90).contains($0) }) {
            throw body.fail("method", "must be an HTTP method such as GET or POST")
        }
        let status = try body.int("status", in: 400...599)
        let delay = try body.int("delay_ms", in: 0...600_000)
        let stream = try StreamAbuse(body: body, id: id)
        guard status != nil || delay != nil || !stream.isEmpty else {
            throw JSONReadError(
                path: body.path.key("status"),
                problem: .statement(
                    "A fault needs at least one of status, delay_ms, drop_after_frames, drop_in_frame, split_frames, heartbeat_between_frames, frame_delay_ms."
                ))
        }
        if status != nil, let key = StreamAbuse.keys.first(where: { body[$0] != nil && body[$0] != .bool(false) }) {
            throw JSONReadError(
                path: body.path.key(key),
                problem: .statement("status and \(key) exclude each other: an error reply has no stream to act on."))
        }
        let errorType = try body.string("error_type")
        let message = try body.string("message")
        let retryAfter = try body.int("retry_after", in: 0...86_400)
        if status == nil {
            for (key, given) in [
                ("error_type", errorType != nil), ("message", message != nil), ("retry_after", retryAfter != nil),
            ]
            where given {
                throw body.fail(key, "applies only to a fault with a status")
            }
        }
        var remaining: Int? = 1
        if body.has("times") {
            if let t = body["times"] {
                guard let n = t.intValue, n >= 1 else {
                    throw body.fail("times", "must be a positive integer or null (until removed)")
                }
                remaining = n
            } else {
                remaining = nil
            }
        }
        self.init(
            id: id, method: method, path: path, remaining: remaining, status: status, errorType: errorType,
            message: message, retryAfterSeconds: retryAfter, delayMs: delay, stream: stream)
    }
}

extension StreamAbuse {
    static let keys = [
        "drop_after_frames", "drop_in_frame", "split_frames", "heartbeat_between_frames", "frame_delay_ms",
    ]

    /// The stream part of `POST /_mock/faults`; `id` seeds random splits.
    init(body: JSONObjectReader, id: String) throws(JSONReadError) {
        dropAfterFrames = try body.int("drop_after_frames", in: 1...1_000_000)
        dropInFrame = try body.int("drop_in_frame", in: 1...1_000_000)
        if dropAfterFrames != nil && dropInFrame != nil {
            throw body.fail("drop_in_frame", "excludes drop_after_frames: a stream is dropped once")
        }
        switch body["split_frames"] {
        case nil: break
        case .string("random"):
            // FNV-1a of the id: the same fault id splits the same way in every run.
            var seed: UInt64 = 0xCBF2_9CE4_8422_2325
            for byte in id.utf8 { seed = (seed ^ UInt64(byte)) &* 0x100_0000_01B3 }
            split = .random(seed: seed)
        case let value?:
            guard let n = value.intValue, (1...65_536).contains(n) else {
                throw body.fail("split_frames", "must be a piece size in bytes (1 to 65536) or \"random\"")
            }
            split = .bytes(n)
        }
        heartbeatBetweenFrames = try body.bool("heartbeat_between_frames") ?? false
        frameDelayMs = try body.int("frame_delay_ms", in: 1...60_000)
    }
}
