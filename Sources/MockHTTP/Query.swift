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
        // Split on bytes: as Characters, a `&` or `=` followed by a combining mark is one
        // grapheme and would not separate anything.
        for part in raw.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let kv = part.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let key = try Query.percentDecode(Substring(kv[0]), plusIsSpace: true)
            let value = kv.count > 1 ? try Query.percentDecode(Substring(kv[1]), plusIsSpace: true) : ""
            pairs.append((key, value))
        }
    }

    public func first(_ key: String) -> String? { pairs.first { $0.0 == key }?.1 }

    public func all(_ key: String) -> [String] { pairs.filter { $0.0 == key }.map(\.1) }

    public func has(_ key: String) -> Bool { pairs.contains { $0.0 == key } }

    public static func percentDecode<S: StringProtocol>(_ s: S, plusIsSpace: Bool) throws(HTTPRequestError) -> String {
        // Most segments and values have nothing to decode: keep their bytes as they are.
        if !s.utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }) {
            return String(s)
        }
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
    public static func segments(_ rawPath: String) throws(HTTPRequestError) -> [Substring] {
        // Slices of the path itself, found on its bytes (splitting on a Character walks
        // grapheme clusters); only a path with a `%` is decoded.
        var bounds: [(Int, Int)] = []
        var hasEscape = false
        var path = rawPath
        path.withUTF8 { bytes in
            var start = 0
            for i in 0...bytes.count where i == bytes.count || bytes[i] == UInt8(ascii: "/") {
                if i > start { bounds.append((start, i)) }
                start = i + 1
            }
            hasEscape = bytes.contains(UInt8(ascii: "%"))
        }
        let utf8 = rawPath.utf8
        let raw = bounds.map { b in
            Substring(rawPath[utf8.index(utf8.startIndex, offsetBy: b.0)..<utf8.index(utf8.startIndex, offsetBy: b.1)])
        }
        guard hasEscape else { return raw }
        var parts: [Substring] = []
        parts.reserveCapacity(raw.count)
        for seg in raw {
            parts.append(Substring(try Query.percentDecode(seg, plusIsSpace: false)))
        }
        return parts
    }
}
