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

/// One route: what it matches, and what the pipeline needs to know about it. A class, so
/// that each request's context holds a reference to it rather than a copy of its fields.
public final class Route {
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
    /// What a request to this route makes grow, for the budgets (`Budgets.needs`).
    let grows: [Budgets.Need]

    init(
        method: String, template: PathTemplate, group: RouteGroup, streams: StreamMode, open: Bool, takesBody: Bool,
        handler: @escaping RouteHandler
    ) {
        self.method = method
        self.template = template
        self.group = group
        self.streams = streams
        self.open = open
        self.takesBody = takesBody
        self.handler = handler
        self.grows = Budgets.needs(group: group, method: method, template: template.text)
    }
}

/// A path template such as `/sessions/{session_id}/threads`, matched segment by segment.
public struct PathTemplate: Equatable, CustomStringConvertible {
    enum Part: Equatable {
        case literal(Substring)
        case parameter(String)
    }

    public let text: String
    /// Split and classified once, when the route is registered.
    let parts: [Part]

    public init(_ text: String) {
        self.text = text
        self.parts = text.split(separator: "/", omittingEmptySubsequences: true).map {
            $0.hasPrefix("{") ? .parameter(String($0.dropFirst().dropLast())) : .literal($0)
        }
    }

    public var description: String { text }

    /// Whether the decoded segments fit; the parameters are only collected for the route that does.
    func fits(_ segments: ArraySlice<Substring>) -> Bool {
        guard segments.count == parts.count else { return false }
        for (part, segment) in zip(parts, segments) {
            switch part {
            case .literal(let text): if text != segment { return false }
            case .parameter: if segment.isEmpty { return false }
            }
        }
        return true
    }

    func parameters(_ segments: ArraySlice<Substring>) -> [String: String] {
        var params: [String: String] = [:]
        for (part, segment) in zip(parts, segments) {
            if case .parameter(let name) = part { params[name] = String(segment) }
        }
        return params
    }
}
