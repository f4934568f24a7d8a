/// One HTTP request as the domain sees it: no sockets, no C pointers.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The request target as received (path and query, still percent-encoded).
    public var target: String {
        didSet { (rawPath, rawQuery) = Self.split(target) }
    }
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
        (rawPath, rawQuery) = Self.split(target)
        self.headers = headers
        self.body = body
        self.peer = peer
    }

    /// The raw path, before the `?`.
    public private(set) var rawPath: String
    /// The raw query, after the `?`, without the `?`.
    public private(set) var rawQuery: String

    /// Split once, when the target is set: every step and the journal read both halves.
    private static func split(_ target: String) -> (String, String) {
        var copy = target
        guard let offset = copy.withUTF8({ $0.firstIndex(of: UInt8(ascii: "?")) }) else { return (target, "") }
        let q = target.utf8.index(target.utf8.startIndex, offsetBy: offset)
        return (String(target[..<q]), String(target[target.utf8.index(after: q)...]))
    }
}
