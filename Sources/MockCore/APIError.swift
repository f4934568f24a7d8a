/// A typed failure of the emulated API. The one place that turns it into the
/// error envelope of API.md section 3 is `APIError.envelope(requestID:)`.
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

    public static func sessionNotFound(_ id: String) -> APIError {
        notFound("Session '\(id)' was not found.")
    }

    public static func threadNotFound(_ id: String) -> APIError {
        notFound("Session thread '\(id)' was not found.")
    }

    /// 409 with `invalid_request_error`: seed 004 names this type for refused archives.
    public static func conflict(_ message: String) -> APIError {
        APIError(status: 409, type: "invalid_request_error", message: message)
    }

    /// 405 on a known path: `Allow` lists the methods the path does take.
    public static func methodNotAllowed(_ method: String, path: String, allowed: [String]) -> APIError {
        let list = allowed.joined(separator: ", ")
        return APIError(
            status: 405, type: "invalid_request_error",
            message: "Method \(method) is not allowed on \(path); allowed: \(list).", headers: ["Allow": list])
    }

    public static func internalError() -> APIError {
        APIError(status: 500, type: "api_error", message: "Internal server error.")
    }

    public func envelope(requestID: String) -> JSON {
        var error: [(String, JSON)] = [("type", .string(type)), ("message", .string(message))]
        if let param { error.append(("param", .string(param))) }
        return .object([("type", "error"), ("request_id", .string(requestID)), ("error", .object(error))])
    }
}
