import MockJSON

/// Told about every event the store writes, in order, so live streams can follow.
public protocol StoreObserver: AnyObject {
    /// `event` was appended to `log` (each event goes to its thread's log, then
    /// to its session's).
    func appended(_ event: StoredEvent, to log: EventLog)
    /// No event will follow in `log` (a thread reached a final status, a session
    /// was deleted).
    func closed(_ log: EventLog)
    /// A frame that previews an event not written yet, for the streams of these
    /// logs that asked for previews; never stored.
    func previewed(_ preview: Preview, in logs: [EventLog])
    /// The whole world was replaced (reset, state import): every stream ends.
    func worldReplaced()
}

/// A preview of an event that a turn is about to write (API.md section 12):
/// its start, or one piece of its text.
public struct Preview: Equatable, Sendable {
    public let eventID: String
    public let eventType: String
    /// nil for `event_start`; the index and text of an `event_delta`.
    public let delta: (index: Int, text: String)?

    public static func == (a: Preview, b: Preview) -> Bool {
        a.eventID == b.eventID && a.eventType == b.eventType && a.delta?.index == b.delta?.index
            && a.delta?.text == b.delta?.text
    }
}

/// Every rule of the emulated API lives in the store and its extensions, one
/// concern a file. The store is the only writer of sessions and threads. It is
/// owned by the event-loop thread: each call runs to completion before the next
/// request is read, so a multi-step change (an archive) is never seen half-done.
/// Calls that fail throw before they change anything.
public final class Store {
    public let clock: MockClock
    public let ids: IDGenerator
    public weak var observer: StoreObserver?
    /// Called when the agenda's earliest step changed, so the application can set
    /// its timer.
    public var agendaChanged: (() -> Void)?

    /// Steps of running turns (`Store+Agenda`).
    var pending = Agenda()
    var stepCounter = 0
    /// Timelines in progress, by thread (`Store+Timelines`).
    var timelines: [String: Timeline] = [:]

    public internal(set) var agents: [Agent] = [] {
        didSet { indexNewAgents() }
    }
    /// Positions of each agent id's versions in `agents`: looking an agent up is not a
    /// scan of the roster (a fixture of 240,000 agents took 53 s to load with one).
    private(set) var agentPositions: [String: [Int]] = [:]
    private var indexedAgents = 0
    public internal(set) var sessions: [Session] = []
    /// What requests created since the world was loaded (fixture, reset, state import):
    /// the run-time budgets are counted against it.
    public internal(set) var createdAtRunTime = RunTimeCounts()
    var sessionsByID: [String: Session] = [:]
    var sessionIndex: [String: Int] = [:]
    var threadsByID: [String: SessionThread] = [:]

    /// Accepted bearer tokens. Empty and not `tokensRequired`: any non-empty token works.
    public internal(set) var tokens: [String] = []
    /// True once any token was configured, so revoking the last one locks the API
    /// instead of opening it to everyone.
    public internal(set) var tokensRequired = false

    public init(clock: MockClock, ids: IDGenerator) {
        self.clock = clock
        self.ids = ids
    }

    // MARK: Look-ups

    /// A roster agent: that version, or without one the highest version of the id.
    public func agent(_ id: String, version: Int?) -> Agent? {
        var best: Agent?
        for position in agentPositions[id] ?? [] {
            let a = agents[position]
            if (version == nil || a.version == version) && (best.map { a.version > $0.version } ?? true) { best = a }
        }
        return best
    }

    /// Indexes agents appended since the last call; edits in place keep their positions.
    /// A roster replaced as a whole is indexed again with `reindexAgents`.
    private func indexNewAgents() {
        if agents.count < indexedAgents {
            agentPositions = [:]
            indexedAgents = 0
        }
        while indexedAgents < agents.count {
            agentPositions[agents[indexedAgents].id, default: []].append(indexedAgents)
            indexedAgents += 1
        }
    }

    func reindexAgents() {
        agentPositions = [:]
        indexedAgents = 0
        indexNewAgents()
    }

    /// An agent reference from a request, resolved in the roster.
    public func agent(_ ref: AgentReference) throws(DomainError) -> Agent {
        guard let agent = agent(ref.id, version: ref.version) else {
            if ref.version != nil, agent(ref.id, version: nil) != nil {
                throw .notFound("Agent '\(ref.id)' has no version \(ref.version!).")
            }
            throw .notFound("Agent '\(ref.id)' was not found.")
        }
        return agent
    }

    public func session(_ id: String) throws(DomainError) -> Session {
        guard let s = sessionsByID[id] else { throw .sessionNotFound(id) }
        return s
    }

    /// A thread of this session; a thread of another session is not found here.
    public func thread(_ threadID: String, in sessionID: String) throws(DomainError) -> SessionThread {
        let session = try session(sessionID)
        guard let t = threadsByID[threadID], t.sessionID == session.id else { throw .threadNotFound(threadID) }
        return t
    }

    public func anyThread(_ id: String) -> SessionThread? { threadsByID[id] }

    /// Sizes of the world, for the stats route.
    public var counts: (sessions: Int, threads: Int, events: Int) {
        var threads = 0
        var events = 0
        for s in sessions {
            threads += s.threads.count
            events += s.log.count
        }
        return (sessions.count, threads, events)
    }

    // MARK: Authentication

    public func accepts(token: String) -> Bool {
        guard !token.isEmpty else { return false }
        if !tokensRequired && tokens.isEmpty { return true }
        // Every configured token is compared, each in constant time.
        var found = false
        for known in tokens where Secrets.same(known, token) { found = true }
        return found
    }

    public func addToken(_ token: String) {
        tokensRequired = true
        if !tokens.contains(token) { tokens.append(token) }
    }

    public func revokeToken(_ token: String) throws(DomainError) {
        guard let i = tokens.firstIndex(of: token) else { throw .notFound("Token '\(token)' is not configured.") }
        tokens.remove(at: i)
    }
}

/// An agent named by a request: an id, and a version or the latest.
public struct AgentReference: Equatable, Sendable {
    public var id: String
    public var version: Int?

    public init(id: String, version: Int? = nil) {
        self.id = id
        self.version = version
    }
}

/// Sessions, threads and events made at run time, by requests and the turns they start.
public struct RunTimeCounts: Equatable, Sendable {
    public var sessions = 0
    public var threads = 0
    public var events = 0
    public init() {}
}
