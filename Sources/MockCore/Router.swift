import MockHTTP

/// A path template such as `/sessions/{session_id}/threads`, matched segment by segment.
public struct PathTemplate: Equatable, CustomStringConvertible {
    public let text: String
    let segments: [Substring]

    public init(_ text: String) {
        self.text = text
        self.segments = text.split(separator: "/", omittingEmptySubsequences: true)
    }

    public var description: String { text }

    /// The captured parameters when `path` (already split and decoded) fits.
    func match(_ parts: [String]) -> [String: String]? {
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

/// What a handler gets: the request, its decoded query and path parameters.
public struct RequestContext {
    public let request: HTTPRequest
    public let query: Query
    public let params: [String: String]
    public let requestID: String
    /// An injected "drop the connection after N frames" fault, for stream handlers.
    public var dropAfterFrames: Int?

    public func param(_ name: String) -> String { params[name] ?? "" }

    /// The body as JSON; an empty body is `nil`.
    public func jsonBody() throws(APIError) -> JSON? {
        if request.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return nil }
        do throws(JSONSyntaxError) {
            return try JSON.parse(request.body)
        } catch {
            throw APIError.invalid("Request body is not valid JSON: \(error.description).")
        }
    }

    /// The body as a JSON object; an empty body is `{}`.
    public func jsonObject() throws(APIError) -> JSON {
        guard let body = try jsonBody() else { return .object([]) }
        guard case .object = body else {
            throw APIError.invalid("Request body must be a JSON object, got \(body.typeName).")
        }
        return body
    }
}

public typealias RouteHandler = (RequestContext) throws(APIError) -> Reply

public struct Route {
    public let method: String
    public let template: PathTemplate
    let handler: RouteHandler
}

/// A method + template table. Unknown paths are 404; known paths with another
/// method are 405 with `Allow`, both in the API's envelope.
public struct Router {
    public private(set) var routes: [Route] = []

    public init() {}

    public mutating func add(_ method: String, _ template: String, _ handler: @escaping RouteHandler) {
        routes.append(Route(method: method, template: PathTemplate(template), handler: handler))
    }

    public enum Resolution {
        case found(Route, [String: String])
        case wrongMethod(allowed: [String])
        case notFound
    }

    public func resolve(method: String, parts: [String]) -> Resolution {
        var allowed: [String] = []
        for route in routes {
            guard let params = route.template.match(parts) else { continue }
            if route.method == method { return .found(route, params) }
            if !allowed.contains(route.method) { allowed.append(route.method) }
        }
        return allowed.isEmpty ? .notFound : .wrongMethod(allowed: allowed)
    }
}

extension Router {
    /// Splits a raw path into percent-decoded segments; a trailing slash is tolerated.
    public static func split(_ rawPath: String) throws(APIError) -> [String] {
        var parts: [String] = []
        for seg in rawPath.split(separator: "/", omittingEmptySubsequences: true) {
            parts.append(try Query.percentDecode(seg, plusIsSpace: false))
        }
        return parts
    }
}
