/// A JSON value that keeps object key order and number literals as written, so
/// that whatever a fixture or a client sends comes back byte for byte.
public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The number's literal text, validated by the parser (`"1"`, `"2.50"`, `"-3e2"`).
    case number(String)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])
    /// A value already encoded by this encoder (a stored event), written out as is.
    /// It lets an export splice thousands of events without parsing them back.
    case encoded([UInt8])

    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        switch (lhs, rhs) {
        case (.encoded(let a), .encoded(let b)): return a == b
        case (.encoded, _), (_, .encoded): return lhs.encoded() == rhs.encoded()
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public static func int(_ value: Int) -> JSON { .number(String(value)) }

    public subscript(key: String) -> JSON? {
        guard case .object(let pairs) = self else { return nil }
        return Self.member(key, in: pairs)
    }

    /// The value of `key` among an object's members (a fixture's million events are each
    /// looked up this way a dozen times: lengths first).
    static func member(_ key: String, in pairs: [(String, JSON)]) -> JSON? {
        pairs.first { $0.0.equalsLengthFirst(key) }?.1
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var intValue: Int? {
        if case .number(let n) = self { return Int(n) }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var objectValue: [(String, JSON)]? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var arrayValue: [JSON]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The name of this value's JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        case .encoded(let bytes): (try? JSON.parse(bytes))?.typeName ?? "invalid"
        }
    }

    /// Sets `key`, replacing it in place when present, appending otherwise.
    public mutating func set(_ key: String, _ value: JSON) {
        guard case .object(var pairs) = self else { return }
        if let i = pairs.firstIndex(where: { $0.0 == key }) {
            pairs[i].1 = value
        } else {
            pairs.append((key, value))
        }
        self = .object(pairs)
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByNilLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(integerLiteral value: Int) { self = .number(String(value)) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(elements) }
}

extension JSON {
    /// Optional string: `.null` when absent.
    public static func string(_ value: String?) -> JSON {
        value.map(JSON.string) ?? .null
    }
}

extension String {
    /// Equality, the lengths compared first: two different Strings are compared on the slow
    /// path even when their lengths differ, and a native String knows its length without a
    /// walk. For the few names compared millions of times (members, event types).
    @inlinable
    public func equalsLengthFirst(_ other: String) -> Bool {
        utf8.count == other.utf8.count && self == other
    }
}
