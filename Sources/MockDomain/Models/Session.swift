import MockJSON

/// The fields of a session that can change.
public struct SessionState: Equatable {
    public var agent: Agent
    public var environmentID: String?
    public var title: String?
    public var metadata: JSON
    public var resources: JSON = .array([])
    public var vaultIDs: JSON = .array([])
    public var archivedAt: Int64?
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(
        agent: Agent, environmentID: String?, title: String?, metadata: JSON, archivedAt: Int64?, createdAt: Int64,
        updatedAt: Int64
    ) {
        self.agent = agent
        self.environmentID = environmentID
        self.title = title
        self.metadata = metadata
        self.archivedAt = archivedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The token counts of a session: the sums of its `span.model_request_end` events'
/// `model_usage` (API.md section 12).
public struct Usage: Equatable, Sendable {
    public static let fields = [
        "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
    ]
    static let fieldBytes = fields.map { Array($0.utf8) }
    public var counts: [Int] = [0, 0, 0, 0]

    mutating func add(_ modelUsage: JSON?) {
        for (i, key) in Self.fields.enumerated() {
            if let n = modelUsage?[key]?.intValue { add(n, at: i) }
        }
    }

    /// Adds `event`'s `model_usage`, read from its stored bytes where it can be (the
    /// session log of a fixture's sessions is rebuilt with every event in it).
    mutating func add(from event: StoredEvent) {
        // Outer nil: the event's bytes could not be read in place; inner nil: nor the value's.
        let read: [Int?]?? = event.withField("model_usage") { value in value.map(Self.counts(in:)) ?? [] }
        guard case .some(.some(let counts)) = read else { return add(event.field("model_usage")) }
        for (i, n) in counts.enumerated() { if let n { add(n, at: i) } }
    }

    /// Each field's count in an encoded `model_usage` value (none when it is not an object),
    /// or nil when its bytes are not in the encoder's form.
    static func counts(in value: UnsafeBufferPointer<UInt8>) -> [Int?]? {
        guard value.first == UInt8(ascii: "{") else { return [] }
        var found: [Int?] = []
        for key in fieldBytes {
            switch key.withUnsafeBufferPointer({ JSON.compactMember($0, in: value, from: 1) }) {
            case .found(let range): found.append(integer(UnsafeBufferPointer(rebasing: value[range])))
            case .absent: found.append(nil)
            case .notCompact: return nil
            }
        }
        return found
    }

    /// Saturating: a huge count in a recorded event must not stop the server.
    private mutating func add(_ n: Int, at i: Int) {
        let (sum, overflow) = counts[i].addingReportingOverflow(n)
        counts[i] = overflow ? (n < 0 ? .min : .max) : sum
    }

    /// The value's integer as `JSON.intValue` reads a number: digits with an optional '-',
    /// within `Int` (nil for a fraction, an exponent, a string or anything else).
    static func integer(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let first = bytes.first, first == UInt8(ascii: "-") || (48...57).contains(first) else { return nil }
        return Int(String(decoding: bytes, as: UTF8.self))
    }

    public var json: JSON { .object(zip(Self.fields, counts).map { ($0, .int($1)) }) }
}

/// Where a previewed event will be written, so a stream resuming from its id
/// starts right there (API.md section 12, previews).
public struct PreviewMark: Equatable {
    public var threadID: String
    /// The lengths of the session's log and of the thread's log when its last
    /// preview frame went out.
    public var sessionPosition: Int
    public var threadPosition: Int
}

/// A session and its threads. Only the store (this module) writes it.
public final class Session {
    public let id: String
    public internal(set) var state: SessionState
    /// Threads in list order: the coordinator first, then children by creation.
    public internal(set) var threads: [SessionThread] = []
    /// Every event of every thread, in the order written: the session's event order.
    public internal(set) var log = EventLog()
    public internal(set) var usage = Usage()
    /// The turn in progress: carried by every event written while it lasts.
    public internal(set) var turnID: String?
    /// The status last announced by a `session.status_*` event.
    var announcedStatus = "idle"
    /// Events being previewed and not yet written.
    public internal(set) var previews: [String: PreviewMark] = [:]
    /// Which rule each turn played (the control API's agenda shows them).
    public internal(set) var turns: [TurnRecord] = []
    /// Requests for the client's answer whose turn was cut short: answering them is refused.
    var voided = Set<String>()
    /// The stop reason last announced by `session.status_idle`.
    var announcedStopReason: JSON = ["type": "end_turn"]

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
            ("status", .string(status)), ("resources", state.resources), ("vault_ids", state.vaultIDs),
            ("usage", usage.json), ("archived_at", .string(archivedAt.map(Timestamp.format))),
            ("created_at", .string(Timestamp.format(createdAt))), ("updated_at", .string(Timestamp.format(updatedAt))),
        ])
    }

    /// A copy with copied threads and logs (reset clones the world).
    func copy() -> Session {
        let s = Session(id: id, state: state)
        s.threads = threads.map { $0.copy() }
        s.log = log.copy()
        s.usage = usage
        s.turnID = turnID
        s.announcedStatus = announcedStatus
        s.turns = turns
        s.voided = voided
        s.announcedStopReason = announcedStopReason
        return s
    }

    /// Builds the session's log from its threads' histories (a fixture): merged by
    /// `created_at`, ties in thread order, each thread's own order kept. A sort of
    /// (time, thread, position) keys: O(n log n) however many threads there are.
    func rebuildLog() {
        var keys: [(time: Int64, thread: Int32, position: Int32)] = []
        keys.reserveCapacity(threads.reduce(0) { $0 + $1.log.count })
        for (t, thread) in threads.enumerated() {
            for (p, event) in thread.log.events.enumerated() {
                keys.append((event.createdAt, Int32(t), Int32(p)))
            }
        }
        // Within a thread, a later event never sorts before an earlier one, even
        // when its time is earlier: the thread's own order wins.
        var latest = Int64.min
        var previousThread: Int32 = -1
        for i in keys.indices {
            if keys[i].thread != previousThread {
                previousThread = keys[i].thread
                latest = Int64.min
            }
            latest = max(latest, keys[i].time)
            keys[i].time = latest
        }
        keys.sort { ($0.time, $0.thread, $0.position) < ($1.time, $1.thread, $1.position) }
        let log = EventLog()
        log.reserve(keys.count)
        var usage = Usage()
        for key in keys {
            let event = threads[Int(key.thread)].log.events[Int(key.position)]
            log.append(event)
            if event.endsModelRequest { usage.add(from: event) }
        }
        self.log = log
        self.usage = usage
        announcedStatus = status
        announcedStopReason = idleStopReason
    }

    /// Why the session is idle: `requires_action` naming every event its threads
    /// wait to have answered, else `end_turn`.
    var idleStopReason: JSON {
        var waitingFor: [JSON] = []
        for t in threads where t.waitsForClient { waitingFor += t.stopReason["event_ids"]?.arrayValue ?? [] }
        return waitingFor.isEmpty ? ["type": "end_turn"] : ["type": "requires_action", "event_ids": .array(waitingFor)]
    }
}
