/// Why a document is not JSON, and where reading stopped: the byte offset, and the line and
/// column (both from 1; the column counts characters, not bytes) for people reading the file.
public struct JSONSyntaxError: Error, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var line: Int
    public var column: Int
    public var description: String { "\(reason) at line \(line), column \(column) (byte \(offset))" }

    public init(offset: Int, reason: String, line: Int = 1, column: Int? = nil) {
        self.offset = offset
        self.reason = reason
        self.line = line
        self.column = column ?? offset + 1
    }

    /// The error at `offset` of `bytes`, its line and column counted there (only on this error path).
    init(offset: Int, reason: String, in bytes: UnsafeBufferPointer<UInt8>) {
        var line = 1
        var lineStart = 0
        let end = min(offset, bytes.count)
        for i in 0..<end where bytes[i] == UInt8(ascii: "\n") {
            line += 1
            lineStart = i + 1
        }
        // Characters, not bytes: UTF-8 continuation bytes (10xxxxxx) do not start one.
        var column = 1
        for i in lineStart..<end where bytes[i] & 0xC0 != 0x80 { column += 1 }
        self.init(offset: offset, reason: reason, line: line, column: column)
    }
}

extension JSON {
    /// Strict RFC 8259 parsing (no comments, no trailing commas, no NaN) with a
    /// nesting limit so that hostile input cannot exhaust the stack.
    ///
    /// With `keepingEncoded`, the objects in every array under that key that are in the
    /// encoder's own form once white space is dropped stay bytes (`.encoded`), with the
    /// same checks: a million fixture events are read without building and re-encoding
    /// their trees. The others are parsed as usual.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 256, keepingEncoded key: String? = nil)
        throws(JSONSyntaxError) -> JSON
    {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONSyntaxError) -> JSON in
            var parser = JSONParser(bytes: buffer, maxDepth: maxDepth)
            parser.encodedKey = key
            return try parser.parseDocument()
        }
    }

    /// The same, from memory the caller keeps alive for the call (a mapped file).
    public static func parse(
        _ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int = 256, keepingEncoded key: String? = nil
    ) throws(JSONSyntaxError) -> JSON {
        var parser = JSONParser(bytes: buffer, maxDepth: maxDepth)
        parser.encodedKey = key
        return try parser.parseDocument()
    }

    /// The same, telling `progress` about the document while it is read: each member of
    /// the top-level object once its value is complete, and each element of the top-level
    /// array under `elementsOf` as soon as it is parsed, in order (a fixture's sessions can
    /// be read while the rest of the file is still being parsed). Those elements are handed
    /// over, not kept: in the document returned, each one's place holds `null`. A syntax
    /// error still throws; what `progress` was told before it is then the start of a
    /// document that does not exist.
    public static func parse(
        _ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int = 256, keepingEncoded key: String? = nil,
        elementsOf arrayKey: String, progress: (ParseProgress) -> Void
    ) throws(JSONSyntaxError) -> JSON {
        try withoutActuallyEscaping(progress) { (progress) throws(JSONSyntaxError) -> JSON in
            var parser = JSONParser(bytes: buffer, maxDepth: maxDepth)
            parser.encodedKey = key
            parser.handOutKey = arrayKey
            parser.progress = progress
            return try parser.parseDocument()
        }
    }

    /// What `parse(_:maxDepth:keepingEncoded:elementsOf:progress:)` reports as it goes.
    public enum ParseProgress {
        /// A member of the top-level object, complete.
        case member(String, JSON)
        /// The next element of the top-level array under `elementsOf`.
        case element(JSON)
    }

    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSON {
        try parse(Array(text.utf8))
    }
}

extension JSON {
    /// An `.encoded` object opened one level: its members as values, except that nested
    /// objects and arrays stay encoded (a fixture event's fields, read without parsing
    /// its content). Any other value is returned as it is.
    public var openedOneLevel: JSON {
        guard case .encoded(let bytes) = self, bytes.first == UInt8(ascii: "{") else { return self }
        let opened = try? bytes.withUnsafeBufferPointer { (buffer) throws(JSONSyntaxError) -> JSON in
            var parser = JSONParser(bytes: buffer, maxDepth: 256)
            parser.shallow = true
            return try parser.parseDocument()
        }
        return opened ?? self
    }
}

/// Reads straight from the document's memory: the caller keeps the array alive for the parse.
private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var pos = 0
    var depth = 0
    /// Arrays under this key keep their objects as compact bytes where they can.
    var encodedKey: String?
    /// The compact scanner's working buffer, kept from one value to the next.
    var scratch: [UInt8] = []
    /// Objects and arrays below the top level are kept as their bytes (`openedOneLevel`).
    var shallow = false
    /// Told of the top-level object's members, and of the elements of its array under
    /// `handOutKey`, as they are read.
    var progress: ((JSON.ParseProgress) -> Void)?
    var handOutKey: String?

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// Objects with this many keys switch from a scan to a hash set for the duplicate check.
    static let hashedFrom = 16

    func fail(_ reason: String) -> JSONSyntaxError { JSONSyntaxError(offset: pos, reason: reason, in: bytes) }

    func duplicate(_ key: String, at offset: Int) -> JSONSyntaxError {
        let shown = key.count > 60 ? String(key.prefix(60)) + "…" : key
        return JSONSyntaxError(offset: offset, reason: "duplicate key '\(shown)'", in: bytes)
    }

    mutating func parseDocument() throws(JSONSyntaxError) -> JSON {
        // A UTF-8 byte order mark is tolerated, as most JSON readers do.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { pos = 3 }
        skipSpace()
        let value = try parseValue()
        skipSpace()
        if pos != bytes.count { throw fail("unexpected data after the JSON value") }
        return value
    }

    mutating func skipSpace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    mutating func parseValue() throws(JSONSyntaxError) -> JSON {
        guard pos < bytes.count else { throw fail("unexpected end of input") }
        if shallow, depth > 0, bytes[pos] == UInt8(ascii: "{") || bytes[pos] == UInt8(ascii: "[") {
            return try skipContainer()
        }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected character")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let count = word.utf8CodeUnitCount
        guard pos + count <= bytes.count else { throw fail("invalid literal") }
        for i in 0..<count where bytes[pos + i] != word.utf8Start[i] { throw fail("invalid literal") }
        pos += count
    }

    mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        if depth > maxDepth { throw fail("nesting deeper than \(maxDepth) levels") }
    }

    mutating func parseObject() throws(JSONSyntaxError) -> JSON {
        try enter()
        defer { depth -= 1 }
        pos += 1
        var pairs: [(String, JSON)] = []
        var seen = Set<String>()
        skipSpace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") {
            pos += 1
            return .object(pairs)
        }
        while true {
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else {
                throw fail("expected a string key")
            }
            let keyOffset = pos
            let key = try parseString()
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            pos += 1
            skipSpace()
            let value: JSON
            let topLevel = depth == 1 && progress != nil
            if topLevel, key == handOutKey, pos < bytes.count, bytes[pos] == UInt8(ascii: "[") {
                value = try parseArray(keepingEncoded: key == encodedKey, handingOut: true)
            } else if let encodedKey, key == encodedKey, pos < bytes.count, bytes[pos] == UInt8(ascii: "[") {
                value = try parseArray(keepingEncoded: true)
            } else {
                value = try parseValue()
            }
            // A repeated key is refused (RFC 8259 leaves its meaning open; clients
            // that send one have a bug worth seeing). Small objects are scanned;
            // from `hashedFrom` keys on, a set keeps the check linear, so a body
            // with 90,000 keys costs milliseconds, not seconds.
            if pairs.count < Self.hashedFrom {
                if pairs.contains(where: { $0.0 == key }) { throw duplicate(key, at: keyOffset) }
                if pairs.count + 1 == Self.hashedFrom { seen = Set(pairs.map(\.0)).union([key]) }
            } else if !seen.insert(key).inserted {
                throw duplicate(key, at: keyOffset)
            }
            pairs.append((key, value))
            if topLevel { progress?(.member(key, value)) }
            skipSpace()
            guard pos < bytes.count else { throw fail("unexpected end of input in an object") }
            if bytes[pos] == UInt8(ascii: ",") {
                pos += 1
                continue
            }
            if bytes[pos] == UInt8(ascii: "}") {
                pos += 1
                return .object(pairs)
            }
            throw fail("expected ',' or '}'")
        }
    }

    mutating func parseArray(keepingEncoded: Bool = false, handingOut: Bool = false) throws(JSONSyntaxError) -> JSON {
        try enter()
        defer { depth -= 1 }
        pos += 1
        var items: [JSON] = []
        skipSpace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") {
            pos += 1
            return .array(items)
        }
        while true {
            skipSpace()
            if keepingEncoded, pos < bytes.count, bytes[pos] == UInt8(ascii: "{"),
                let (encoded, end) = CompactScanner.scan(bytes, at: pos, depthLeft: maxDepth - depth, scratch: &scratch)
            {
                items.append(.encoded(encoded))
                pos = end
            } else {
                items.append(try parseValue())
            }
            if handingOut {
                progress?(.element(items[items.count - 1]))
                items[items.count - 1] = .null
            }
            skipSpace()
            guard pos < bytes.count else { throw fail("unexpected end of input in an array") }
            if bytes[pos] == UInt8(ascii: ",") {
                pos += 1
                continue
            }
            if bytes[pos] == UInt8(ascii: "]") {
                pos += 1
                return .array(items)
            }
            throw fail("expected ',' or ']'")
        }
    }

    /// The bytes of the object or array at `pos`, already known to be compact and valid.
    mutating func skipContainer() throws(JSONSyntaxError) -> JSON {
        let start = pos
        var open = 0
        var inString = false
        while pos < bytes.count {
            let c = bytes[pos]
            pos += 1
            if inString {
                if c == UInt8(ascii: "\\") {
                    pos += 1
                } else if c == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch c {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): open += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                open -= 1
                if open == 0 { return .encoded(Array(UnsafeBufferPointer(rebasing: bytes[start..<pos]))) }
            default: break
            }
        }
        throw fail("unexpected end of input")
    }

    mutating func parseNumber() throws(JSONSyntaxError) -> JSON {
        let start = pos
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        func digits() -> Int {
            let s = pos
            while pos < bytes.count, bytes[pos] >= 48, bytes[pos] <= 57 { pos += 1 }
            return pos - s
        }
        guard pos < bytes.count else { throw fail("invalid number") }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
        } else if digits() == 0 {
            throw fail("invalid number")
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            if digits() == 0 { throw fail("invalid number") }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") {
                pos += 1
            }
            if digits() == 0 { throw fail("invalid number") }
        }
        return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self))
    }

    mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard pos + 4 <= bytes.count else { throw fail("invalid \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 65...70: d = UInt32(c - 55)
            case 97...102: d = UInt32(c - 87)
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    mutating func parseString() throws(JSONSyntaxError) -> String {
        pos += 1
        // The usual string, ASCII with no escape, is made from the document's bytes at once.
        let start = pos
        var high: UInt8 = 0
        while pos < bytes.count {
            pos = CompactScanner.skipPlain(bytes, from: pos)
            guard pos < bytes.count else { break }
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") {
                if high < 0x80 {
                    pos += 1
                    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos - 1]), as: UTF8.self)
                }
                break
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { break }
            high |= c
            pos += 1
        }
        pos = start
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else { throw fail("unterminated string") }
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") {
                pos += 1
                break
            }
            if c < 0x20 { throw fail("control character in a string") }
            if c != UInt8(ascii: "\\") {
                out.append(c)
                pos += 1
                continue
            }
            pos += 1
            guard pos < bytes.count else { throw fail("unterminated string") }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): out.append(34)
            case UInt8(ascii: "\\"): out.append(92)
            case UInt8(ascii: "/"): out.append(47)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard pos + 1 < bytes.count, bytes[pos] == 92, bytes[pos + 1] == UInt8(ascii: "u") else {
                        throw fail("unpaired surrogate")
                    }
                    pos += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw fail("unpaired surrogate")
                }
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
            default: throw fail("invalid escape")
            }
        }
        // Invalid UTF-8 is refused rather than silently repaired.
        guard let s = String(validating: out, as: UTF8.self) else {
            throw fail("invalid UTF-8 in a string")
        }
        return s
    }
}
