import MockDomain
import MockHTTP

/// How much of each resource the mock may hold at once (issue 12): a request that would
/// take more is refused with 429 before its handler runs, so nothing changes. Connections,
/// request bodies, the journal and stream buffers have their own bounds in the transport
/// and the journal; these are the ones requests make grow.
public struct Budgets: Sendable {
    /// Open SSE streams, in all and on one session (its own stream and its threads').
    public var streams = 12_000
    public var streamsPerSession = 4_000
    /// Fault rules waiting for requests.
    public var faults = 1_000
    /// Pending long-polls of the journal.
    public var waits = 1_000
    /// Turn steps scheduled and not yet played.
    public var pendingSteps = 100_000
    /// Made by requests since the world was loaded (fixture, reset, state import).
    public var runTimeSessions = 100_000
    public var runTimeThreads = 200_000
    public var runTimeEvents = 1_000_000

    public init() {}

    /// What one request may need, by route.
    enum Need {
        case stream, faults, waits, sessions, threads, events, steps
    }

    /// The table: which routes make which resources grow (looked up once, when a route is
    /// registered). Everything else needs none; an API request that streams also needs a stream.
    static func needs(group: RouteGroup, method: String, template: String) -> [Need] {
        switch (group, method, template) {
        case (.api, "POST", "/sessions"): return [.sessions, .threads, .events, .steps]
        case (.api, "POST", "/sessions/{session_id}/events"): return [.events, .steps]
        case (.control, "POST", "/sessions"): return [.sessions, .threads, .events, .steps]
        case (.control, "POST", "/sessions/{session_id}/threads"): return [.threads, .events]
        case (.control, "POST", "/sessions/{session_id}/threads/{thread_id}/events"): return [.events]
        case (.control, "POST", "/faults"): return [.faults]
        case (.control, "GET", "/journal/wait"): return [.waits]
        default: return []
        }
    }
}

/// Refuses, with 429 `rate_limit_error`, a request whose route would pass a budget.
struct BudgetCheck: PipelineStep {
    let budgets: Budgets
    let store: Store
    let hub: EventStreamHub
    let journal: RequestJournal
    let faults: FaultBook

    func handle(_ ctx: RequestContext, next: @escaping (RequestContext) -> Reply) throws(APIError) -> Reply {
        if ctx.streams && ctx.route.group == .api { try check(.stream, ctx) }
        for need in ctx.route.grows { try check(need, ctx) }
        return next(ctx)
    }

    private func check(_ need: Budgets.Need, _ ctx: RequestContext) throws(APIError) {
        let made = store.createdAtRunTime
        switch need {
        case .stream:
            try within(hub.openCount, budgets.streams, "open streams", option: "--max-streams")
            if let session = try? store.session(ctx.param("session_id")) {
                var open = hub.openCount(on: session.log)
                for thread in session.threads { open += hub.openCount(on: thread.log) }
                try within(
                    open, budgets.streamsPerSession, "open streams on session '\(session.id)'",
                    option: "--max-streams-per-session")
            }
        case .faults: try within(faults.faults.count, budgets.faults, "fault rules", option: "--max-faults")
        case .waits: try within(journal.waiterCount, budgets.waits, "pending journal waits", option: "--max-waits")
        case .steps:
            try within(
                store.pendingStepCount, budgets.pendingSteps, "scheduled turn steps", option: "--max-pending-steps")
        case .sessions:
            try within(
                made.sessions, budgets.runTimeSessions, "sessions made at run time", option: "--max-run-time-sessions")
        case .threads:
            try within(
                made.threads, budgets.runTimeThreads, "threads made at run time", option: "--max-run-time-threads")
        case .events:
            try within(made.events, budgets.runTimeEvents, "events made at run time", option: "--max-run-time-events")
        }
    }

    private func within(_ count: Int, _ limit: Int, _ what: String, option: String) throws(APIError) {
        guard count >= limit else { return }
        throw APIError(
            status: 429, type: "rate_limit_error",
            message:
                "The mock's budget of \(limit) \(what) is used up (\(option)); end some, reset the mock, or start it with a larger budget."
        )
    }
}
