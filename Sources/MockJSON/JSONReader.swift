/// Where a value sits in a document: `$.sessions[0].threads[1].status` in a
/// fixture, `children[1].status` in a request body (which has no `$`).
public struct JSONPath: Equatable, Sendable, CustomStringConvertible {
    public enum Component: Equatable, Sendable {
        case key(String)
        case index(Int)
    }

    /// `"$"` for documents read as files; nil for request bodies.
    public let root: String?
    public private(set) var components: [Component]

    public init(root: String?, _ components: [Component] = []) {
        self.root = root
        self.components = components
    }

    /// The root of a fixture or state document.
    public static let document = JSONPath(root: "$")
    /// The root of a request body.
    public static let body = JSONPath(root: nil)

    public func key(_ key: String) -> JSONPath {
        var copy = self
        copy.components.append(.key(key))
        return copy
    }

    public func index(_ i: Int) -> JSONPath {
        var copy = self
        copy.components.append(.index(i))
        return copy
    }

    /// Makes the last component index `i` (in place when this path's storage is its own).
    mutating func setLastIndex(_ i: Int) {
        components[components.count - 1] = .index(i)
    }

    public var isRoot: Bool { components.isEmpty }

    public var description: String {
        var out = root ?? ""
        for c in components {
            switch c {
            case .key(let k): out += out.isEmpty ? k : "." + k
            case .index(let i): out += "[\(i)]"
            }
        }
        return out
    }

    /// This path followed by a relative one (`param` of a domain error, say).
    public func appending(_ relative: String) -> String {
        let base = description
        if relative.isEmpty { return base }
        if base.isEmpty { return relative }
        return relative.hasPrefix("[") ? base + relative : base + "." + relative
    }
}

/// Why a value was refused, located by path. One error, two renderings: a sentence
/// for request bodies (`title must be a string, got number.`) and a phrase after
/// the path for fixtures (`$.title: expected a string, got number`).
public struct JSONReadError: Error, Equatable, Sendable {
    public enum Problem: Equatable, Sendable {
        case missing
        /// `expected` is a noun phrase: "a string", "an object", "true or false".
        case wrongType(expected: String, got: String)
        case unknownField(expected: [String])
        /// Any other rule; `sentence` starts after the path ("is not a valid id").
        case invalid(String)
        /// A rule about several fields, said in a sentence of its own.
        case statement(String)
    }

    public var path: JSONPath
    public var problem: Problem

    public init(path: JSONPath, problem: Problem) {
        self.path = path
        self.problem = problem
    }

    public static func invalid(_ path: JSONPath, _ text: String) -> JSONReadError {
        JSONReadError(path: path, problem: .invalid(text))
    }

    /// The path as a request parameter name; nil for the body itself.
    public var param: String? { path.isRoot ? nil : path.description }

    /// For request bodies: a whole sentence naming the field.
    public var sentence: String {
        let subject = path.isRoot ? "Request body" : path.description
        switch problem {
        case .missing: return "\(subject) is required."
        case .wrongType(let expected, let got): return "\(subject) must be \(expected), got \(got)."
        case .unknownField(let expected):
            return "Unknown field '\(path)'; expected \(expected.joined(separator: ", "))."
        case .invalid(let text): return "\(subject) \(text)."
        case .statement(let text): return text
        }
    }

    /// For fixtures: what follows `path: ` in the message.
    public var phrase: String {
        switch problem {
        case .missing: return "is required"
        case .wrongType(let expected, let got): return "expected \(expected), got \(got)"
        case .unknownField(let expected): return "unknown field (expected \(expected.joined(separator: ", ")))"
        case .invalid(let text), .statement(let text): return text
        }
    }
}

/// Reads one JSON object field by field, with the field's path in every error.
/// The one way the mock reads a JSON document: API bodies, control bodies and
/// fixtures all go through it. Absent and `null` are the same for optional fields.
public struct JSONObjectReader {
    public let pairs: [(String, JSON)]
    public let path: JSONPath

    /// `expected` names the object in the type error ("a thread object").
    public init(_ value: JSON, at path: JSONPath, expected: String = "an object") throws(JSONReadError) {
        guard case .object(let pairs) = value else {
            throw JSONReadError(path: path, problem: .wrongType(expected: expected, got: value.typeName))
        }
        self.pairs = pairs
        self.path = path
    }

    public var json: JSON { .object(pairs) }

    /// The raw value, nil when absent or null.
    public subscript(key: String) -> JSON? {
        guard let v = JSON.member(key, in: pairs), !v.isNull else { return nil }
        return v
    }

    /// The raw value, null included; nil only when absent.
    public func raw(_ key: String) -> JSON? { JSON.member(key, in: pairs) }

    /// Whether the key is present at all, null included.
    public func has(_ key: String) -> Bool { JSON.member(key, in: pairs) != nil }

    /// Refuses the first key that is not in `known` (test authors' typos: `time` for `times`).
    public func rejectUnknown(_ known: [String]) throws(JSONReadError) {
        let set = Set(known)
        for (key, _) in pairs where !set.contains(key) {
            throw JSONReadError(path: path.key(key), problem: .unknownField(expected: known.sorted()))
        }
    }

    public func fail(_ key: String, _ text: String) -> JSONReadError { .invalid(path.key(key), text) }

    func wrongType(_ key: String, _ expected: String, _ got: JSON) -> JSONReadError {
        JSONReadError(path: path.key(key), problem: .wrongType(expected: expected, got: got.typeName))
    }

    public func required(_ key: String) throws(JSONReadError) -> JSON {
        guard let v = self[key] else { throw JSONReadError(path: path.key(key), problem: .missing) }
        return v
    }

    public func string(_ key: String) throws(JSONReadError) -> String? {
        guard let v = self[key] else { return nil }
        guard let s = v.stringValue else { throw wrongType(key, "a string", v) }
        return s
    }

    public func requiredString(_ key: String) throws(JSONReadError) -> String {
        let v = try required(key)
        guard let s = v.stringValue else { throw wrongType(key, "a string", v) }
        return s
    }

    public func int(_ key: String, in range: ClosedRange<Int>? = nil) throws(JSONReadError) -> Int? {
        guard let v = self[key] else { return nil }
        guard let n = v.intValue else {
            if let range { throw fail(key, "must be an integer from \(range.lowerBound) to \(range.upperBound)") }
            throw wrongType(key, "an integer", v)
        }
        if let range, !range.contains(n) {
            throw fail(key, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    public func bool(_ key: String) throws(JSONReadError) -> Bool? {
        guard let v = self[key] else { return nil }
        guard let b = v.boolValue else { throw wrongType(key, "true or false", v) }
        return b
    }

    public func object(_ key: String, expected: String = "an object") throws(JSONReadError) -> JSONObjectReader? {
        guard let v = self[key] else { return nil }
        return try JSONObjectReader(v, at: path.key(key), expected: expected)
    }

    /// The items of an array field with their paths; absent or null is empty.
    public func array(_ key: String, expected: String = "an array") throws(JSONReadError) -> [(JSON, JSONPath)] {
        guard let v = self[key] else { return [] }
        guard case .array(let items) = v else { throw wrongType(key, expected, v) }
        let base = path.key(key)
        return items.enumerated().map { ($0.element, base.index($0.offset)) }
    }

    /// `body` for each element of the array under `key` (absent: none) with its path. One
    /// path is reused from element to element: a million fixture events are not each given
    /// a path of their own, which only an error would show.
    public func forEach(
        in key: String, expected: String = "an array", _ body: (JSON, JSONPath) throws(JSONReadError) -> Void
    ) throws(JSONReadError) {
        guard let v = self[key] else { return }
        guard case .array(let items) = v else { throw wrongType(key, expected, v) }
        var elementPath = path.key(key).index(0)
        for (i, item) in items.enumerated() {
            elementPath.setLastIndex(i)
            try body(item, elementPath)
        }
    }

    /// How many elements the array under `key` has (0 when absent or not an array).
    public func count(in key: String) -> Int { self[key]?.arrayValue?.count ?? 0 }
}
