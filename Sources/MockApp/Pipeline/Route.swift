import MockHTTP

/// The two halves of the server, each with its own pipeline steps.
public enum RouteGroup: Sendable {
    /// The emulated API under `/api/v1/cloud` and `/v1` (and every path that is not `/_mock`).
    case api
    /// The control API under `/_mock`.
    case control
}

/// Whether a route answers with a stream, decided once, when the route is found.
public enum StreamMode: Sendable {
    case never
    case always
    /// Only when the request's `Accept` includes `text/event-stream`.
    case whenAccepted
}

public typealias RouteHandler = (RequestContext) throws(APIError) -> Reply

/// One route: what it matches, and what the pipeline needs to know about it.
public struct Route {
    public let method: String
    public let template: PathTemplate
    public let group: RouteGroup
    public let streams: StreamMode
    /// Open routes skip authentication (the control API's liveness and readiness,
    /// and the API's "no such route", which is answered before authentication).
    public let open: Bool
    /// False for the answers the router itself makes (404, 405): no body limit.
    public let takesBody: Bool
    let handler: RouteHandler
}

/// A path template such as `/sessions/{session_id}/threads`, matched segment by segment.
public struct PathTemplate: Equatable, CustomStringConvertible {
    public let text: String
    let segments: [Substring]

    public init(_ text: String) {
        self.text = text
        self.segments = text.split(separator: "/", omittingEmptySubsequences: true)
    }

    public var description: String { text }

    /// The captured parameters when the decoded segments fit.
    func match(_ parts: ArraySlice<String>) -> [String: String]? {
        guard parts.count == segments.count else { return nil }
        var params: [String: String] = [:]
        for (seg, part) in zip(segments, parts) {
            if seg.hasPrefix("{") {
                guard !part.isEmpty else { return nil }
                params[String(seg.dropFirst().dropLast())] = part
            } else if seg != part {
                return nil
            }
        }
        return params
    }
}
