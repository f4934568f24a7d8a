/// A request target the server cannot decode (broken percent-encoding, bad UTF-8).
public struct HTTPRequestError: Error, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// A decoded query string. Keys and values are percent-decoded (`statuses%5B%5D`
/// is `statuses[]`), `+` is a space, repeated keys are lists, and broken
/// percent-encoding is an error rather than a guess.
public struct Query {
    public private(set) var pairs: [(String, String)] = []

    public init() {}

    public init(raw: String) throws(HTTPRequestError) {
        guard !raw.isEmpty else { return }
        for part in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = try Query.percentDecode(kv[0], plusIsSpace: true)
            let value = kv.count > 1 ? try Query.percentDecode(kv[1], plusIsSpace: true) : ""
            pairs.append((key, value))
        }
    }

    public func first(_ key: String) -> String? { pairs.first { $0.0 == key }?.1 }

    public func all(_ key: String) -> [String] { pairs.filter { $0.0 == key }.map(\.1) }

    public func has(_ key: String) -> Bool { pairs.contains { $0.0 == key } }

    public static func percentDecode<S: StringProtocol>(_ s: S, plusIsSpace: Bool) throws(HTTPRequestError) -> String {
        var out: [UInt8] = []
        let bytes = Array(s.utf8)
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "%") {
                guard i + 2 < bytes.count, let h = hexValue(bytes[i + 1]), let l = hexValue(bytes[i + 2]) else {
                    throw HTTPRequestError("Malformed percent-encoding in the request URL.")
                }
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(plusIsSpace && c == UInt8(ascii: "+") ? 0x20 : c)
                i += 1
            }
        }
        guard let text = String(validating: out, as: UTF8.self) else {
            throw HTTPRequestError("The request URL does not decode to valid UTF-8.")
        }
        return text
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 65...70: c - 55
        case 97...102: c - 87
        default: nil
        }
    }
}

/// The decoded segments of a request path: `/v1/sessions/a%20b/` is
/// `["v1", "sessions", "a b"]` (a trailing slash is tolerated).
public enum RequestPath {
    public static func segments(_ rawPath: String) throws(HTTPRequestError) -> [String] {
        var parts: [String] = []
        for seg in rawPath.split(separator: "/", omittingEmptySubsequences: true) {
            parts.append(try Query.percentDecode(seg, plusIsSpace: false))
        }
        return parts
    }
}
