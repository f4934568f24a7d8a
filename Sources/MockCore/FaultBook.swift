import MockHTTP

/// Injected faults, matched by method and path pattern, each for the next N
/// matching requests (or until removed).
public final class FaultBook {
    public struct Fault {
        public var id: String
        public var method: String?
        public var path: String
        /// Requests left; nil means until removed.
        public var remaining: Int?
        public var status: Int?
        public var errorType: String?
        public var message: String?
        public var retryAfterSeconds: Int?
        public var delayMs: Int?
        public var dropAfterFrames: Int?
        public var hits = 0

        public var json: JSON {
            .object([
                ("id", .string(id)), ("type", "fault"), ("method", .string(method)), ("path", .string(path)),
                ("remaining", remaining.map(JSON.int) ?? .null), ("status", status.map(JSON.int) ?? .null),
                ("error_type", .string(errorType)), ("message", .string(message)),
                ("retry_after", retryAfterSeconds.map(JSON.int) ?? .null), ("delay_ms", delayMs.map(JSON.int) ?? .null),
                ("drop_after_frames", dropAfterFrames.map(JSON.int) ?? .null), ("hits", .int(hits)),
            ])
        }
    }

    public private(set) var faults: [Fault] = []

    public init() {}

    public func add(_ fault: Fault) { faults.append(fault) }

    @discardableResult public func remove(_ id: String) -> Bool {
        let before = faults.count
        faults.removeAll { $0.id == id }
        return faults.count != before
    }

    public func clear() { faults.removeAll() }

    /// The first fault matching this request, counted as used. A fault that cuts
    /// streams matches only requests that stream: the others cannot use it up.
    func take(method: String, canonicalPath: String, streams: Bool) -> Fault? {
        let path = Glob.canonical(canonicalPath)
        guard
            let i = faults.firstIndex(where: { f in
                (f.method == nil || f.method!.uppercased() == method.uppercased())
                    && (f.dropAfterFrames == nil || streams)
                    && Glob.matches(Glob.canonical(f.path), path)
            })
        else { return nil }
        faults[i].hits += 1
        let fault = faults[i]
        if let left = faults[i].remaining {
            if left <= 1 { faults.remove(at: i) } else { faults[i].remaining = left - 1 }
        }
        return fault
    }
}

extension MockApp {
    /// Applies one fault: an error envelope, a delay, a stream cut after N frames,
    /// or a delay followed by either.
    func apply(_ fault: FaultBook.Fault, to request: HTTPRequest, apiParts: [String]?, requestID: String) -> Reply {
        let produce: () -> Reply = { [unowned self] in
            if let status = fault.status {
                var error = APIError(
                    status: status, type: fault.errorType ?? Self.defaultErrorType(status),
                    message: fault.message ?? "Injected fault: \(HTTPResponseReason.text(status)).")
                if let retry = fault.retryAfterSeconds {
                    error.headers["Retry-After"] = String(retry)
                    error.headers["retry-after-ms"] = String(retry * 1000)
                }
                return .response(errorResponse(error, requestID: requestID))
            }
            return api(request, apiParts: apiParts, requestID: requestID, dropAfterFrames: fault.dropAfterFrames)
        }
        guard let delay = fault.delayMs, delay > 0, let scheduler else { return produce() }
        return .deferred { deliver in
            scheduler.schedule(after: delay) { deliver(produce()) }
        }
    }

    /// Whether the API answers this request with a stream (API.md section 6, routes 3 and 4).
    static func wantsStream(_ request: HTTPRequest, apiParts: [String]?) -> Bool {
        // sessions/{session_id}/threads/{thread_id}/(stream|events)
        guard request.method == "GET", let apiParts, apiParts.count == 5, apiParts[0] == "sessions",
            apiParts[2] == "threads"
        else { return false }
        if apiParts[4] == "stream" { return true }
        return apiParts[4] == "events" && wantsEventStream(request.headers)
    }

    static func defaultErrorType(_ status: Int) -> String {
        switch status {
        case 400, 405, 409, 413, 422: "invalid_request_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 429: "rate_limit_error"
        case 529: "overloaded_error"
        case 500...: "api_error"
        default: "api_error"
        }
    }
}

enum HTTPResponseReason {
    static func text(_ status: Int) -> String {
        switch status {
        case 429: "rate limited"
        case 500: "internal server error"
        case 502: "bad gateway"
        case 503: "service unavailable"
        case 529: "overloaded"
        default: "status \(status)"
        }
    }
}
