import MockDomain
import MockHTTP

/// Collections of routes register themselves into a table under one group
/// (Hummingbird's route collections, in small).
public protocol RouteCollection {
    func register(into routes: inout RouteTable.Builder)
}

/// Every route of both groups. Resolving a request gives exactly one route: a
/// registered one, or the router's own 404 or 405 answer, so the pipeline runs
/// the same steps for all of them.
public struct RouteTable {
    public private(set) var routes: [Route] = []
    /// Positions in `routes` by group and segment count, in registration order: a
    /// request is compared with the few routes of its shape only.
    private var byShape: [Shape: [Int]] = [:]

    private struct Shape: Hashable {
        let group: RouteGroup
        let segments: Int
    }

    public init() {}

    /// Adds routes to one group.
    public struct Builder {
        let group: RouteGroup
        var routes: [Route] = []

        public mutating func add(
            _ method: String, _ template: String, streams: StreamMode = .never, open: Bool = false,
            _ handler: @escaping RouteHandler
        ) {
            routes.append(
                Route(
                    method: method, template: PathTemplate(template), group: group, streams: streams, open: open,
                    takesBody: true, handler: handler))
        }
    }

    public mutating func add(_ group: RouteGroup, _ collections: [RouteCollection]) {
        var builder = Builder(group: group)
        for c in collections { c.register(into: &builder) }
        for route in builder.routes {
            byShape[Shape(group: group, segments: route.template.parts.count), default: []].append(routes.count)
            routes.append(route)
        }
        resolutions.forgetAll()
    }

    /// Every route as `(method, path)`, for `/_mock/routes` and the OpenAPI drift test.
    public var listing: [(method: String, path: String)] {
        routes.map { ($0.method, ($0.group == .api ? "/v1" : "/_mock") + $0.template.text) }
    }

    /// The route for `request`, with its parameters. Only a path that does not
    /// decode throws; it is answered before any other step.
    func resolve(_ request: HTTPRequest, requestID: (RouteGroup) -> String) throws(HTTPRequestError) -> RequestContext {
        let key = Resolutions.Key(method: request.method, path: request.rawPath)
        let route: Route
        let params: [String: String]
        if let known = resolutions.lookUp(key) {
            (route, params) = known
        } else {
            (route, params) = try match(request)
            resolutions.remember(key, (route, params))
        }
        let streams: Bool
        switch route.streams {
        case .never: streams = false
        case .always: streams = true
        case .whenAccepted:
            streams = request.headers.values("Accept").contains { $0.lowercased().contains("text/event-stream") }
        }
        return RequestContext(
            request: request, requestID: requestID(route.group), route: route, params: params, streams: streams)
    }

    /// Where a method and path lead is the same every time: a test suite asks for the same
    /// few paths over and over, so the answers are kept (a bounded number; the whole set
    /// is dropped when full, so no path pattern can make it grow).
    final class Resolutions {
        struct Key: Hashable {
            let method: String
            let path: String
        }
        static let limit = 1024
        private(set) var found: [Key: (Route, [String: String])] = [:]
        /// The last key looked up and its answer: a client polling one path asks the same
        /// again and again, and comparing two keys is cheaper than hashing one.
        private var last: (key: Key, value: (Route, [String: String]))?

        func forgetAll() {
            found.removeAll()
            last = nil
        }

        func lookUp(_ key: Key) -> (Route, [String: String])? {
            if let last, last.key == key { return last.value }
            guard let value = found[key] else { return nil }
            last = (key, value)
            return value
        }

        func remember(_ key: Key, _ value: (Route, [String: String])) {
            guard found[key] == nil else { return }
            if found.count >= Self.limit { found.removeAll(keepingCapacity: true) }
            found[key] = value
        }
    }

    let resolutions = Resolutions()

    /// The route and parameters of a path not resolved before.
    private func match(_ request: HTTPRequest) throws(HTTPRequestError) -> (Route, [String: String]) {
        let parts = try RequestPath.segments(request.rawPath)
        let group: RouteGroup
        var rest: ArraySlice<Substring>?
        if parts.first == "_mock" {
            group = .control
            rest = parts.dropFirst()
        } else {
            group = .api
            if parts.count >= 3, parts[0] == "api", parts[1] == "v1", parts[2] == "cloud" {
                rest = parts.dropFirst(3)
            } else if parts.first == "v1" {
                rest = parts.dropFirst()
            }
        }
        var allowed: [String] = []
        var found: (Route, [String: String])?
        if let rest, let candidates = byShape[Shape(group: group, segments: rest.count)] {
            for position in candidates {
                let route = routes[position]
                guard route.template.fits(rest) else { continue }
                if route.method == request.method {
                    found = (route, route.template.parameters(rest))
                    break
                }
                if !allowed.contains(route.method) { allowed.append(route.method) }
            }
        }
        if let found { return found }
        if !allowed.isEmpty { return (Self.methodNotAllowed(group, allowed: allowed), [:]) }
        return (Self.notFound(group), [:])
    }

    /// 404 in the API's envelope. The API answers it before authentication; the
    /// control API, behind its admin token, after.
    static func notFound(_ group: RouteGroup) -> Route {
        Route(
            method: "*", template: PathTemplate("/"), group: group, streams: .never, open: group == .api,
            takesBody: false
        ) { ctx throws(APIError) in
            let what = group == .api ? "route" : "control route"
            throw APIError.notFound("No \(what) for \(ctx.request.method) \(ctx.request.rawPath).")
        }
    }

    static func methodNotAllowed(_ group: RouteGroup, allowed: [String]) -> Route {
        Route(
            method: "*", template: PathTemplate("/"), group: group, streams: .never, open: false, takesBody: false
        ) { ctx throws(APIError) in
            throw APIError.methodNotAllowed(ctx.request.method, path: ctx.request.rawPath, allowed: allowed)
        }
    }
}

/// Runs a domain call; its refusal becomes the API error the one table maps it to.
func domain<T>(_ body: () throws(DomainError) -> T) throws(APIError) -> T {
    do throws(DomainError) {
        return try body()
    } catch {
        throw APIError(error)
    }
}
