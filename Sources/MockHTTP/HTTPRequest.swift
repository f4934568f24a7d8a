/// One HTTP request as the domain sees it: no sockets, no C pointers.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The request target as received (path and query, still percent-encoded).
    public var target: String
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Where the request came from, for the journal (`"127.0.0.1:51234"`).
    public var peer: String

    public init(
        method: String, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
        peer: String = ""
    ) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.peer = peer
    }

    /// The raw path, before the `?`.
    public var rawPath: String {
        let utf8 = target.utf8
        if let q = utf8.firstIndex(of: UInt8(ascii: "?")) { return String(target[..<q]) }
        return target
    }

    /// The raw query, after the `?`, without the `?`.
    public var rawQuery: String {
        let utf8 = target.utf8
        if let q = utf8.firstIndex(of: UInt8(ascii: "?")) { return String(target[utf8.index(after: q)...]) }
        return ""
    }
}
