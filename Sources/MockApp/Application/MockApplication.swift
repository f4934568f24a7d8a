import Logging
import MockDomain
import MockHTTP
import MockJSON

/// Settings of the application that are not transport settings.
public struct AppConfig {
    /// Bearer tokens from the command line or environment (added to the fixture's).
    public var tokens: [String] = []
    /// When set, `/_mock/` needs this token (`Authorization: Bearer` or `X-Mock-Admin-Token`).
    public var adminToken: String?
    /// Largest accepted API request body; bigger is 413 in the envelope.
    public var maxBodyBytes = 1 << 20
    /// Largest control request body: world building takes whole state documents, so
    /// anything `GET /_mock/state` writes up to this size loads back with `PUT`.
    public var controlMaxBodyBytes: Int { maxBodyBytes * Self.controlBodyFactor }
    /// How many times the API's body limit the control API takes.
    public static let controlBodyFactor = 64
    /// How many requests the journal keeps.
    public var journalLimit = 1000
    /// Request bodies longer than this are kept cut to it in the journal.
    public var journalBodyBytes = 64 << 10
    /// The most the journal holds in all; past it the oldest entries go.
    public var journalMaxBytes = 16 << 20
    /// What requests may make grow (streams, faults, waits, steps, run-time objects).
    public var budgets = Budgets()
    /// The id generators' seed; nil for random ids.
    public var seed: UInt64?
    /// Where the fixture came from, for messages.
    public var fixtureSource = "(built in)"

    public init() {}
}

/// The composition root: the store, the stream hub, the journal and faults, the
/// route table and one pipeline per route group, behind one `Responder`. The CLI
/// and the tests both build this; transports only call `respond`.
///
/// A request goes: request id → route (found once: group, parameters, whether it
/// streams) → the group's steps → the handler. API: journal → faults → bearer
/// authentication → body limit. Control: admin authentication → body limit.
public final class MockApplication: Responder {
    public let config: AppConfig
    public let clock: MockClock
    /// The world's ids (sessions, threads, events, ...).
    public let ids: IDGenerator
    /// Request ids of API requests: their own sequence, so that polling the
    /// control API never shifts an id the API answers with.
    let apiRequestIDs: IDGenerator
    /// Request ids and fault ids of the control API.
    let controlIDs: IDGenerator
    public let store: Store
    public let hub: EventStreamHub
    public let journal: RequestJournal
    public let faults: FaultBook
    public let logger: Logger
    /// Timers for delays, long-polls and turns; set by the transport.
    public weak var scheduler: Scheduler? {
        didSet { armAgenda() }
    }
    /// The timer that plays the next step of a turn (real or offset clock only).
    private var agendaTimer: ScheduledAction?
    public private(set) var ready = false
    /// The fixture's world as loaded at start (with the configured tokens); reset
    /// swaps in a copy of it, so the fixture is read and checked only once.
    let resetTemplate: Store
    private(set) var routes = RouteTable()
    /// One pipeline per group, held apart rather than in a dictionary: picking one is then a
    /// branch, not a hash of the group on every request.
    private var apiPipeline: Pipeline?
    private var controlPipeline: Pipeline?
    let errors: ErrorAnswers

    /// Builds the app and loads `fixture`; a broken fixture throws and nothing is kept.
    /// `sessionsRead` are its sessions if they were read while it was parsed.
    public init(
        config: AppConfig, fixture: JSON, sessionsRead: SessionReadAhead.Sessions? = nil,
        clock: MockClock = MockClock(),
        logger: Logger? = nil
    ) throws(FixtureError) {
        self.config = config
        self.clock = clock
        self.ids = IDGenerator(seed: config.seed, clock: clock)
        self.apiRequestIDs = IDGenerator(seed: Self.derived(config.seed, 1), clock: clock)
        self.controlIDs = IDGenerator(seed: Self.derived(config.seed, 2), clock: clock)
        self.hub = EventStreamHub()
        self.journal = RequestJournal(
            limit: config.journalLimit, bodyLimit: config.journalBodyBytes, byteBudget: config.journalMaxBytes)
        self.faults = FaultBook()
        let logger = logger ?? Logger(label: "cloud-agents-mock")
        self.logger = logger
        self.errors = ErrorAnswers(logger: logger)
        self.store = try Fixture.load(fixture, clock: clock, ids: ids, sessionsRead: sessionsRead)
        for token in config.tokens { store.addToken(token) }
        resetTemplate = store.clone()
        store.observer = hub
        store.agendaChanged = { [unowned self] in self.armAgenda() }
        assemble()
        ready = true
    }

    /// The seeds of the request-id sequences follow the world's seed, apart from it.
    static func derived(_ seed: UInt64?, _ stream: UInt64) -> UInt64? {
        seed.map { $0 ^ (0x9E37_79B9_7F4A_7C15 &* stream) }
    }

    private func assemble() {
        let scheduler: () -> Scheduler? = { [unowned self] in self.scheduler }
        routes.add(
            .api,
            [AgentRoutes(store: store), SessionRoutes(store: store, hub: hub), ThreadRoutes(store: store, hub: hub)])
        routes.add(
            .control,
            [
                InfoRoutes(app: self),
                ClockRoutes(
                    clock: clock, store: store, generators: [ids, apiRequestIDs, controlIDs],
                    clockChanged: { [unowned self] in self.armAgenda() }),
                WorldRoutes(store: store),
                ObservationRoutes(
                    journal: journal, faults: faults, makeID: { [unowned self] in self.controlIDs.make($0) },
                    scheduler: scheduler),
            ])
        let maxBody = config.maxBodyBytes
        let budgetCheck = BudgetCheck(budgets: config.budgets, store: store, hub: hub, journal: journal, faults: faults)
        apiPipeline = Pipeline(
            [
                StandardHeaders(), JournalStep(journal: journal, clock: clock),
                FaultStep(faults: faults, errors: errors, scheduler: scheduler), BearerAuthentication(store: store),
                BodyLimit(maxBytes: maxBody) { size, limit in
                    "Request body is \(size) bytes; the limit is \(limit) bytes."
                },
                budgetCheck,
            ], errors: errors)
        controlPipeline = Pipeline(
            [
                StandardHeaders(), AdminAuthentication(adminToken: config.adminToken),
                BodyLimit(maxBytes: config.controlMaxBodyBytes) { size, limit in
                    "Request body is \(size) bytes; the control API's limit is \(limit) bytes (\(AppConfig.controlBodyFactor) times --max-body-bytes)."
                }, budgetCheck,
            ], errors: errors)
    }

    /// Every route the server answers, for `/_mock/routes` and the OpenAPI drift test.
    public var routeTable: [(method: String, path: String)] { routes.listing }

    /// Sets the timer for the agenda's earliest step. A frozen clock has none:
    /// its steps play only when a test advances it.
    func armAgenda() {
        agendaTimer?.cancel()
        agendaTimer = nil
        guard let due = store.nextDue, let scheduler else { return }
        if case .frozen = clock.mode { return }
        let delay = max(0, min(due - clock.now(), 86_400_000))
        agendaTimer = scheduler.schedule(after: Int(delay)) { [weak self] in
            guard let self else { return }
            self.agendaTimer = nil
            self.store.playDue()
            self.armAgenda()
        }
    }

    // MARK: Responding

    public func respond(to request: HTTPRequest) -> Reply {
        let clientID = Self.requestID(from: request.headers)
        let ctx: RequestContext
        do throws(HTTPRequestError) {
            ctx = try routes.resolve(request) { group in
                clientID ?? (group == .api ? apiRequestIDs : controlIDs).make("req")
            }
        } catch {
            let control = request.rawPath.hasPrefix("/_mock/") || request.rawPath == "/_mock"
            let requestID = clientID ?? (control ? controlIDs : apiRequestIDs).make("req")
            return StandardHeaders.decorate(errors.reply(APIError(error), requestID: requestID), requestID: requestID)
        }
        switch ctx.route.group {
        case .api: return apiPipeline!.run(ctx)
        case .control: return controlPipeline!.run(ctx)
        }
    }

    public func unavailable(_ request: HTTPRequest, reason: String) -> HTTPResponse {
        let requestID = Self.requestID(from: request.headers) ?? controlIDs.make("req")
        guard
            case .response(let r) = StandardHeaders.decorate(
                errors.reply(APIError.unavailable(reason), requestID: requestID), requestID: requestID)
        else { return HTTPResponse(status: 503) }
        return r
    }

    /// A client-supplied `X-Request-Id` is echoed when it is a sane header value.
    static func requestID(from headers: HTTPHeaders) -> String? {
        guard let v = headers["X-Request-Id"], !v.isEmpty, v.utf8.count <= 200,
            v.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return nil }
        return v
    }

    /// Back to the state right after start: the fixture's world, tokens, an empty
    /// journal counting from 1 (pending waits answered unmatched), no faults, the
    /// starting clock mode and the id seeds, so the same requests after a reset get
    /// the same bytes as after a fresh start. Open streams end. Done in one loop
    /// turn, so no request observes it half-done.
    ///
    /// The fixture is decoded and checked once, at start; resets clone that world
    /// (events are immutable and shared), which costs a few allocations per thread
    /// instead of a full fixture load: see scripts/bench_reset.py.
    public func reset() {
        clock.restart()
        ids.reseed(config.seed)
        apiRequestIDs.reseed(Self.derived(config.seed, 1))
        controlIDs.reseed(Self.derived(config.seed, 2))
        replaceWorld(with: resetTemplate.clone())
        journal.restart()
        faults.clear()
    }

    /// What resets and state imports replaced, being freed.
    private var leftovers: Store.ReplacedWorld?
    private var disposal: ScheduledAction?
    /// Past this many sessions waiting to be freed (worlds replaced faster than they go),
    /// the excess is freed at once: the backlog, and so memory, stays bounded.
    static let leftoverBound = 200_000

    /// Sessions of replaced worlds not freed yet (`/_mock/stats`).
    public var sessionsBeingFreed: Int { leftovers?.count ?? 0 }

    /// Swaps `world` in (reset, state import) and frees the one it replaces gradually.
    func replaceWorld(with world: Store) {
        freeGradually(store.adopt(world))
    }

    /// Frees a replaced world a slice per loop turn (about 5,000 objects, a few
    /// milliseconds), so a reset after a long run holds no other client for long.
    /// Without a scheduler (unit tests) it goes at once. State exports hand over here the
    /// events of a replaced world that they kept until written.
    func freeGradually(_ world: Store.ReplacedWorld) {
        guard !world.isEmpty, let scheduler else { return }
        if leftovers == nil { leftovers = world } else { leftovers!.append(world) }
        while leftovers!.count > Self.leftoverBound { leftovers!.freeSome(budget: 50_000) }
        if disposal == nil { freeNextSlice(on: scheduler) }
    }

    private func freeNextSlice(on scheduler: Scheduler) {
        disposal = scheduler.schedule(after: 0) { [weak self, weak scheduler] in
            guard let self else { return }
            leftovers?.freeSome(budget: 5_000)
            if let scheduler, !(leftovers?.isEmpty ?? true) {
                freeNextSlice(on: scheduler)
            } else {
                leftovers = nil
                disposal = nil
            }
        }
    }
}
