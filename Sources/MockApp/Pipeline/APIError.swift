import MockDomain
import MockHTTP
import MockJSON

/// An answer that is an error: status, envelope fields and extra headers. Every
/// failure (a domain rule, a body field, a URL, the pipeline's own checks) becomes
/// one of these, and `ErrorAnswers` is the one place that turns it into a response.
public struct APIError: Error, Equatable {
    public var status: Int
    public var type: String
    public var message: String
    public var param: String?
    /// Extra response headers (`Allow` on 405, `Retry-After` on injected faults).
    public var headers: [String: String] = [:]

    public init(status: Int, type: String, message: String, param: String? = nil, headers: [String: String] = [:]) {
        self.status = status
        self.type = type
        self.message = message
        self.param = param
        self.headers = headers
    }

    public static func invalid(_ message: String, param: String? = nil) -> APIError {
        APIError(status: 400, type: "invalid_request_error", message: message, param: param)
    }

    public static func authentication(_ message: String) -> APIError {
        APIError(status: 401, type: "authentication_error", message: message)
    }

    public static func notFound(_ message: String) -> APIError {
        APIError(status: 404, type: "not_found_error", message: message)
    }

    /// 405 on a known path: `Allow` lists the methods the path does take.
    public static func methodNotAllowed(_ method: String, path: String, allowed: [String]) -> APIError {
        let list = allowed.joined(separator: ", ")
        return APIError(
            status: 405, type: "invalid_request_error",
            message: "Method \(method) is not allowed on \(path); allowed: \(list).", headers: ["Allow": list])
    }

    public static func tooLarge(_ message: String) -> APIError {
        APIError(status: 413, type: "invalid_request_error", message: message)
    }

    public static func internalError(_ message: String = "Internal server error.") -> APIError {
        APIError(status: 500, type: "api_error", message: message)
    }

    public static func unavailable(_ message: String) -> APIError {
        APIError(status: 503, type: "api_error", message: message)
    }

    /// The one table from the domain's refusals to statuses and envelope types
    /// (API.md section 3).
    public init(_ error: DomainError) {
        switch error.kind {
        case .invalid: self.init(status: 400, type: "invalid_request_error", message: error.message, param: error.param)
        case .notFound: self.init(status: 404, type: "not_found_error", message: error.message, param: error.param)
        // Seed 004 names `invalid_request_error` for refused archives.
        case .stateConflict:
            self.init(status: 409, type: "invalid_request_error", message: error.message, param: error.param)
        case .conflict: self.init(status: 409, type: "conflict_error", message: error.message, param: error.param)
        }
    }

    /// A body field the JSON reader refused.
    public init(_ error: JSONReadError) {
        self.init(status: 400, type: "invalid_request_error", message: error.sentence, param: error.param)
    }

    /// A request target that does not decode.
    public init(_ error: HTTPRequestError) {
        self.init(status: 400, type: "invalid_request_error", message: error.message)
    }

    /// The envelope of API.md section 3.
    public func envelope(requestID: String) -> JSON {
        var error: [(String, JSON)] = [("type", .string(type)), ("message", .string(message))]
        if let param { error.append(("param", .string(param))) }
        return .object([("type", "error"), ("request_id", .string(requestID)), ("error", .object(error))])
    }

    /// The default envelope type of a status, for injected faults.
    static func defaultType(for status: Int) -> String {
        switch status {
        case 400, 405, 409, 413, 422: "invalid_request_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 429: "rate_limit_error"
        case 529: "overloaded_error"
        default: "api_error"
        }
    }
}
