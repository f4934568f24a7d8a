import Logging
import MockHTTP

/// Settings of the application that are not transport settings.
public struct AppConfig {
    /// Bearer tokens from the command line or environment (added to the fixture's).
    public var tokens: [String] = []
    /// When set, `/_mock/` needs this token (`Authorization: Bearer` or `X-Mock-Admin-Token`).
    public var adminToken: String?
    /// Largest accepted request body; bigger is 413 in the envelope.
    public var maxBodyBytes = 1 << 20
    /// How many requests the journal keeps.
    public var journalLimit = 1000
    /// The id generator's seed; nil for random ids.
    public var seed: UInt64?
    /// Where the fixture came from, for messages.
    public var fixtureSource = "(built in)"

    public init() {}
}

/// The composition root: store, stream hub, router, journal and faults behind one
/// `Responder`. The CLI and the tests both build this; transports only call `respond`.
public final class MockApp: Responder {
    public let config: AppConfig
    public let clock: MockClock
    public let ids: IDGenerator
    public let store: Store
    public let hub: EventStreamHub
    public let journal: RequestJournal
    public let faults: FaultBook
    public var logger: Logger
    /// Timers for delays and long-polls; set by the transport.
    public weak var scheduler: Scheduler?
    public private(set) var ready = false
    /// The fixture's world as loaded at start (with the configured tokens); reset
    /// swaps in a copy of it, so the fixture is read and checked only once.
    let resetTemplate: Store

    var apiRouter = Router()
    var controlRouter = Router()

    /// Builds the app and loads `fixture`; a broken fixture throws and nothing is kept.
    public init(config: AppConfig, fixture: JSON, clock: MockClock = MockClock(), logger: Logger? = nil)
        throws(FixtureError)
    {
        self.config = config
        self.clock = clock
        self.ids = IDGenerator(seed: config.seed, clock: clock)
        self.hub = EventStreamHub()
        self.journal = RequestJournal(limit: config.journalLimit)
        self.faults = FaultBook()
        self.logger = logger ?? Logger(label: "cloud-agents-mock")
        self.store = try Fixture.load(fixture, clock: clock, ids: ids)
        for token in config.tokens { store.addToken(token) }
        resetTemplate = store.clone()
        store.observer = hub
        registerAPIRoutes()
        registerControlRoutes()
        ready = true
    }

    /// Every route the server answers, for `/_mock/routes` and the OpenAPI drift test.
    public var routeTable: [(method: String, path: String)] {
        apiRouter.routes.map { ($0.method, "/v1" + $0.template.text) }
            + controlRouter.routes.map { ($0.method, "/_mock" + $0.template.text) }
    }

    // MARK: Responding

    public func respond(to request: HTTPRequest) -> Reply {
        let requestID = Self.requestID(from: request.headers) ?? ids.make("req")
        let parts: [String]
        do throws(APIError) {
            parts = try Router.split(request.rawPath)
        } catch {
            return finish(.response(errorResponse(error, requestID: requestID)), requestID: requestID)
        }
        if parts.first == "_mock" {
            return finish(control(request, parts: Array(parts.dropFirst()), requestID: requestID), requestID: requestID)
        }
        let apiParts: [String]?
        if parts.count >= 3, parts[0] == "api", parts[1] == "v1", parts[2] == "cloud" {
            apiParts = Array(parts.dropFirst(3))
        } else if parts.first == "v1" {
            apiParts = Array(parts.dropFirst())
        } else {
            apiParts = nil
        }
        let entry = journal.begin(request, requestID: requestID, now: clock.now())
        var reply: Reply
        if let fault = faults.take(
            method: request.method, canonicalPath: "/v1/" + (apiParts ?? parts).joined(separator: "/"),
            streams: Self.wantsStream(request, apiParts: apiParts))
        {
            reply = apply(fault, to: request, apiParts: apiParts, requestID: requestID)
        } else {
            reply = api(request, apiParts: apiParts, requestID: requestID, dropAfterFrames: nil)
        }
        reply = finish(reply, requestID: requestID)
        return journal.track(reply, entry: entry)
    }

    /// A client-supplied `X-Request-Id` is echoed when it is a sane header value.
    static func requestID(from headers: HTTPHeaders) -> String? {
        guard let v = headers["X-Request-Id"], !v.isEmpty, v.utf8.count <= 200,
            v.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return nil }
        return v
    }

    func api(_ request: HTTPRequest, apiParts: [String]?, requestID: String, dropAfterFrames: Int?) -> Reply {
        do throws(APIError) {
            guard let apiParts else {
                throw APIError.notFound("No route for \(request.method) \(request.rawPath).")
            }
            let route: Route
            let params: [String: String]
            switch apiRouter.resolve(method: request.method, parts: apiParts) {
            case .notFound:
                throw APIError.notFound("No route for \(request.method) \(request.rawPath).")
            case .wrongMethod(let allowed):
                try authenticate(request)
                throw APIError.methodNotAllowed(request.method, path: request.rawPath, allowed: allowed)
            case .found(let r, let p):
                route = r
                params = p
            }
            try authenticate(request)
            if request.body.count > config.maxBodyBytes {
                throw APIError(
                    status: 413, type: "invalid_request_error",
                    message: "Request body is \(request.body.count) bytes; the limit is \(config.maxBodyBytes) bytes.")
            }
            let query = try Query(raw: request.rawQuery)
            var ctx = RequestContext(request: request, query: query, params: params, requestID: requestID)
            ctx.dropAfterFrames = dropAfterFrames
            return try route.handler(ctx)
        } catch {
            return .response(errorResponse(error, requestID: requestID))
        }
    }

    func authenticate(_ request: HTTPRequest) throws(APIError) {
        guard let header = request.headers["Authorization"] else {
            throw APIError.authentication("Missing Authorization header; send 'Authorization: Bearer <token>'.")
        }
        let trimmed = header.trimmingSpaces
        guard trimmed.count > 6, trimmed.prefix(7).lowercased() == "bearer " else {
            throw APIError.authentication(
                "Authorization header must use the Bearer scheme: 'Authorization: Bearer <token>'.")
        }
        let token = String(trimmed.dropFirst(7)).trimmingSpaces
        guard !token.isEmpty else { throw APIError.authentication("The bearer token is empty.") }
        guard store.accepts(token: token) else {
            throw APIError.authentication("Invalid bearer token: the token is not valid or has been revoked.")
        }
    }

    // MARK: Responses

    func errorResponse(_ error: APIError, requestID: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        for (name, value) in error.headers.sorted(by: { $0.key < $1.key }) { headers.add(name, value) }
        if error.status >= 500 {
            logger.error("answered \(error.status): \(error.message)", metadata: ["request_id": "\(requestID)"])
        }
        return HTTPResponse(
            status: error.status, headers: headers, body: error.envelope(requestID: requestID).encoded())
    }

    public static func json(_ status: Int = 200, _ body: [UInt8]) -> Reply {
        .response(HTTPResponse(status: status, body: body))
    }

    public static func json(_ status: Int = 200, _ value: JSON) -> Reply {
        json(status, value.encoded())
    }

    /// Adds the headers every response carries: request id (both spellings),
    /// content type and the mock's version.
    func finish(_ reply: Reply, requestID: String) -> Reply {
        func decorate(_ headers: inout HTTPHeaders, json: Bool) {
            if json && headers["Content-Type"] == nil { headers.set("Content-Type", "application/json") }
            headers.set("x-request-id", requestID)
            headers.set("request-id", requestID)
            headers.set("X-Mock-Version", MockVersion.current)
        }
        switch reply {
        case .response(var r):
            decorate(&r.headers, json: true)
            return .response(r)
        case .stream(var s):
            decorate(&s.headers, json: false)
            return .stream(s)
        case .deferred(let body):
            return .deferred { deliver in
                body { inner in deliver(self.finish(inner, requestID: requestID)) }
            }
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
