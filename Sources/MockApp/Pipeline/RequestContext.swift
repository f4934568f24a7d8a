import MockHTTP
import MockJSON

/// One request on its way through the pipeline: the request, its id, the route
/// found for it and what routing learnt (parameters, group, whether it streams,
/// the path in its `/v1/...` form for the journal and faults).
public struct RequestContext {
    public let request: HTTPRequest
    public let requestID: String
    public let route: Route
    public let params: [String: String]
    /// True when this request is answered with a stream (the route's mode and the
    /// `Accept` header, decided once).
    public let streams: Bool
    /// `/api/v1/cloud/x` and `/v1/x/` are both `/v1/x` (made when a fault or the journal asks).
    public var canonicalPath: String { Glob.canonical(request.rawPath) }

    public func param(_ name: String) -> String { params[name] ?? "" }

    /// The decoded query string, set just before the handler runs (broken
    /// percent-encoding is a 400 for every route, whether it reads the query or not).
    public internal(set) var query = Query()

    /// The body as JSON; an empty body is `nil`.
    /// `keepingEncoded` is the parser's fast lane for the arrays under that key (state imports' events).
    public func jsonBody(keepingEncoded key: String? = nil, maxDepth: Int = 256) throws(APIError) -> JSON? {
        if request.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return nil }
        do throws(JSONSyntaxError) {
            return try JSON.parse(request.body, maxDepth: maxDepth, keepingEncoded: key)
        } catch {
            throw APIError.invalid("Request body is not valid JSON: \(error.description).")
        }
    }

    /// The body as a JSON object reader; an empty body is `{}`.
    public func objectBody() throws(APIError) -> JSONObjectReader {
        let body = try jsonBody() ?? .object([])
        return try decode { () throws(JSONReadError) in try JSONObjectReader(body, at: .body, expected: "a JSON object")
        }
    }

    /// Runs a body decoder, turning its error into the 400 naming the field.
    public func decode<T>(_ body: () throws(JSONReadError) -> T) throws(APIError) -> T {
        do throws(JSONReadError) {
            return try body()
        } catch {
            throw APIError(error)
        }
    }
}
