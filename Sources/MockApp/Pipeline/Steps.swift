import MockDomain
import MockHTTP
import MockJSON

/// Adds what every answer carries: the request id (both spellings), the JSON
/// content type on whole responses, and the mock's version.
struct StandardHeaders: PipelineStep {
    func handle(_ ctx: RequestContext, next: @escaping (RequestContext) -> Reply) throws(APIError) -> Reply {
        Self.decorate(next(ctx), requestID: ctx.requestID)
    }

    static func decorate(_ reply: Reply, requestID: String) -> Reply {
        func add(_ headers: inout HTTPHeaders, json: Bool) {
            if headers.fields.isEmpty {
                // Nothing to replace (most answers): the fields go in as `set` would leave them.
                headers.reserveCapacity(json ? 4 : 3)
                if json { headers.add("Content-Type", "application/json") }
                headers.add("x-request-id", requestID)
                headers.add("request-id", requestID)
                headers.add("X-Mock-Version", MockVersion.current)
                return
            }
            headers.reserveCapacity(headers.fields.count + 4)
            if json && headers["Content-Type"] == nil { headers.set("Content-Type", "application/json") }
            headers.set("x-request-id", requestID)
            headers.set("request-id", requestID)
            headers.set("X-Mock-Version", MockVersion.current)
        }
        switch reply {
        case .response(var r):
            add(&r.headers, json: true)
            return .response(r)
        case .stream(var s):
            add(&s.headers, json: false)
            return .stream(s)
        case .deferred(let body):
            return .deferred { answer in body(answer.mapped { decorate($0, requestID: requestID) }) }
        }
    }
}

/// Records the request in the journal, and its status once the answer is known.
struct JournalStep: PipelineStep {
    let journal: RequestJournal
    let clock: MockClock

    func handle(_ ctx: RequestContext, next: @escaping (RequestContext) -> Reply) throws(APIError) -> Reply {
        let entry = journal.begin(ctx, now: clock.now())
        return journal.track(next(ctx), entry: entry)
    }
}

/// Applies the first injected fault that matches: an error answer, a delay, a
/// stream mistreated frame by frame (`StreamFaultSink`, a decorator of the stream's
/// sink), or a delay followed by either.
struct FaultStep: PipelineStep {
    let faults: FaultBook
    let errors: ErrorAnswers
    let scheduler: () -> Scheduler?

    func handle(_ ctx: RequestContext, next: @escaping (RequestContext) -> Reply) throws(APIError) -> Reply {
        guard let fault = faults.take(for: ctx) else { return next(ctx) }
        let produce: () -> Reply = {
            if let error = fault.error { return errors.reply(error, requestID: ctx.requestID) }
            let reply = next(ctx)
            guard !fault.stream.isEmpty, case .stream(var stream) = reply else { return reply }
            let start = stream.start
            let timers = scheduler()
            stream.start = { sink in start(StreamFaultSink(sink, abuse: fault.stream, scheduler: timers)) }
            return .stream(stream)
        }
        guard let delay = fault.delayMs, delay > 0, let scheduler = scheduler() else { return produce() }
        return .deferred { answer in
            let timer = scheduler.schedule(after: delay) { answer(produce()) }
            answer.onAbandoned = { timer.cancel() }
        }
    }
}

/// `Authorization: Bearer <token>` on every API route (API.md section 2).
struct BearerAuthentication: PipelineStep {
    let store: Store

    func handle(_ ctx: RequestContext, next: @escaping (RequestContext) -> Reply) throws(APIError) -> Reply {
        if !ctx.route.open { try check(ctx.request.headers) }
        return next(ctx)
    }

    func check(_ headers: HTTPHeaders) throws(APIError) {
        guard let header = headers["Authorization"] else {
            throw APIError.authentication("Missing Authorization header; send 'Authorization: Bearer <token>'.")
        }
        guard let token = Self.token(header) else {
            throw APIError.authentication(
                "Authorization header must use the Bearer scheme: 'Authorization: Bearer <token>'.")
        }
        guard !token.isEmpty else { throw APIError.authentication("The bearer token is empty.") }
        guard store.accepts(token: String(token)) else {
            throw APIError.authentication("Invalid bearer token: the token is not valid or has been revoked.")
        }
    }
}

extension BearerAuthentication {
    /// The token of an `Authorization` value in the Bearer scheme (any case), spaces
    /// trimmed; nil for any other scheme. Read on every request, so it slices rather than copies.
    static func token(_ header: String) -> Substring? {
        var copy = header
        let bounds: (Int, Int)? = copy.withUTF8 { bytes in
            func space(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
            var start = 0
            var end = bytes.count
            while start < end, space(bytes[start]) { start += 1 }
            while end > start, space(bytes[end - 1]) { end -= 1 }
            let scheme: StaticString = "bearer "
            let n = scheme.utf8CodeUnitCount
            guard end - start > n else { return nil }
            for i in 0..<n where bytes[start + i] | 0x20 != scheme.utf8Start[i] { return nil }
            start += n
            while start < end, space(bytes[start]) { start += 1 }
            return (start, end)
        }
        guard let (start, end) = bounds else { return nil }
        let utf8 = header.utf8
        return header[utf8.index(utf8.startIndex, offsetBy: start)..<utf8.index(utf8.startIndex, offsetBy: end)]
    }
}

/// The control API's admin token, when one is configured. The API's bearer
/// tokens never open it; liveness and readiness stay open for container probes.
struct AdminAuthentication: PipelineStep {
    let adminToken: String?

    func handle(_ ctx: RequestContext, next: @escaping (RequestContext) -> Reply) throws(APIError) -> Reply {
        if let adminToken, !ctx.route.open {
            let headers = ctx.request.headers
            let given =
                headers["X-Mock-Admin-Token"]
                ?? headers["Authorization"].flatMap(BearerAuthentication.token).map(String.init)
            guard let given, Secrets.same(given, adminToken) else {
                throw APIError.authentication(
                    "The control API needs the admin token ('X-Mock-Admin-Token: <token>' or 'Authorization: Bearer <token>')."
                )
            }
        }
        return next(ctx)
    }
}

/// Bodies over the group's limit are 413 in the envelope (libevent refuses far
/// larger ones itself, before the router).
struct BodyLimit: PipelineStep {
    let maxBytes: Int
    /// The message; the API's names both sizes.
    let message: (_ size: Int, _ limit: Int) -> String

    func handle(_ ctx: RequestContext, next: @escaping (RequestContext) -> Reply) throws(APIError) -> Reply {
        let size = ctx.request.body.count
        if ctx.route.takesBody && size > maxBytes { throw APIError.tooLarge(message(size, maxBytes)) }
        return next(ctx)
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs; a slice, not a copy.
    var spacesTrimmed: Substring {
        let bytes = utf8
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start = bytes.index(after: start) }
        while end > start, bytes[bytes.index(before: end)] == 0x20 || bytes[bytes.index(before: end)] == 0x09 {
            end = bytes.index(before: end)
        }
        return self[start..<end]
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    public var trimmingSpaces: String { String(Substring(self).spacesTrimmed) }
}
