import MockHTTP
import MockJSON

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
        /// What it does to a stream's frames; empty for a fault that does not touch streams.
        var stream = StreamAbuse()
        public var hits = 0

        /// The error answer of a fault with a status.
        var error: APIError? {
            guard let status else { return nil }
            var error = APIError(
                status: status, type: errorType ?? APIError.defaultType(for: status),
                message: message ?? "Injected fault: \(Self.reason(status)).")
            if let retry = retryAfterSeconds {
                error.headers["Retry-After"] = String(retry)
                error.headers["retry-after-ms"] = String(retry * 1000)
            }
            return error
        }

        static func reason(_ status: Int) -> String {
            switch status {
            case 429: "rate limited"
            case 500: "internal server error"
            case 502: "bad gateway"
            case 503: "service unavailable"
            case 529: "overloaded"
            default: "status \(status)"
            }
        }

        private var splitJSON: JSON {
            switch stream.split {
            case nil: .null
            case .bytes(let n): .int(n)
            case .random: "random"
            }
        }

        public var json: JSON {
            func int(_ n: Int?) -> JSON { n.map(JSON.int) ?? .null }
            let fields: [(String, JSON)] = [
                ("id", .string(id)), ("type", "fault"), ("method", .string(method)), ("path", .string(path)),
                ("remaining", int(remaining)), ("status", int(status)), ("error_type", .string(errorType)),
                ("message", .string(message)), ("retry_after", int(retryAfterSeconds)), ("delay_ms", int(delayMs)),
                ("drop_after_frames", int(stream.dropAfterFrames)), ("drop_in_frame", int(stream.dropInFrame)),
                ("split_frames", splitJSON), ("heartbeat_between_frames", .bool(stream.heartbeatBetweenFrames)),
                ("frame_delay_ms", int(stream.frameDelayMs)), ("hits", .int(hits)),
            ]
            return .object(fields)
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

    /// The first fault matching this request, counted as used. A fault that acts on
    /// streams matches only requests that stream: the others cannot use it up.
    func take(for ctx: RequestContext) -> Fault? {
        // Most runs inject nothing: no fault, nothing to compare the request with.
        guard !faults.isEmpty else { return nil }
        let method = ctx.request.method.uppercased()
        guard
            let i = faults.firstIndex(where: { f in
                (f.method == nil || f.method!.uppercased() == method)
                    && (f.stream.isEmpty || ctx.streams)
                    && Glob.matches(Glob.canonical(f.path), ctx.canonicalPath)
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
