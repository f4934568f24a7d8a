/// The fast lane for big documents (fixtures and state imports with a million events):
/// a value that is already in this encoder's form, once its insignificant white space is
/// dropped, is kept as those bytes (`.encoded`) instead of becoming a tree that would be
/// encoded again byte for byte. Anything this lane is not sure of (an escape the encoder
/// would write differently, a key with an escape, a large object, any syntax error, deep
/// nesting) makes it give up, and the value goes through the full parser, which is the
/// one judge of what is valid and of the error's wording.
struct CompactScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var pos: Int
    let depthLeft: Int
    /// The value without its white space, gathered a run at a time: only when white space
    /// is met are the bytes before it copied here. A value already compact (an export, a
    /// generated fixture) is copied once, whole, at the end.
    var out: [UInt8] = []
    /// Where the run not yet copied to `out` starts.
    var runStart: Int

    /// Objects with more keys than this go to the full parser (its duplicate check is hashed).
    static let maxKeys = 16

    /// The compact bytes of the value at `start`, and where it ends; nil to give up.
    /// `scratch` is the scanner's working buffer, handed from one value to the next: one
    /// growing buffer per value, freed between the values that are kept, would leave holes
    /// all through the memory a big document's values are later stored in.
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int, depthLeft: Int, scratch: inout [UInt8])
        -> ([UInt8], Int)?
    {
        scratch.removeAll(keepingCapacity: true)
        var scanner = CompactScanner(bytes: bytes, pos: start, depthLeft: depthLeft, out: scratch, runStart: start)
        scratch = []
        defer { scratch = scanner.out }
        guard scanner.value(depth: 0) else { return nil }
        if scanner.out.isEmpty {
            return (Array(UnsafeBufferPointer(rebasing: bytes[start..<scanner.pos])), scanner.pos)
        }
        scanner.flush()
        let kept = [UInt8](unsafeUninitializedCapacity: scanner.out.count) { buffer, count in
            _ = buffer.initialize(from: scanner.out)
            count = scanner.out.count
        }
        return (kept, scanner.pos)
    }

    /// Skips white space; the run before it goes to `out` first.
    @inline(__always)
    mutating func space() {
        guard pos < bytes.count, Self.isSpace(bytes[pos]) else { return }
        flush()
        while pos < bytes.count, Self.isSpace(bytes[pos]) { pos += 1 }
        runStart = pos
    }

    static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }

    /// Copies the run up to `pos` to `out`.
    mutating func flush() {
        if runStart < pos { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<pos])) }
        runStart = pos
    }

    mutating func value(depth: Int) -> Bool {
        guard pos < bytes.count else { return false }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return object(depth: depth + 1)
        case UInt8(ascii: "["): return array(depth: depth + 1)
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "t"): return word("true")
        case UInt8(ascii: "f"): return word("false")
        case UInt8(ascii: "n"): return word("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
        default: return false
        }
    }

    mutating func word(_ w: StaticString) -> Bool {
        let n = w.utf8CodeUnitCount
        guard pos + n <= bytes.count else { return false }
        for i in 0..<n where bytes[pos + i] != w.utf8Start[i] { return false }
        pos += n
        return true
    }

    mutating func number() -> Bool {
        func digits() -> Int {
            let s = pos
            while pos < bytes.count, bytes[pos] >= 48, bytes[pos] <= 57 { pos += 1 }
            return pos - s
        }
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < bytes.count else { return false }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
        } else if digits() == 0 {
            return false
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            guard digits() > 0 else { return false }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard digits() > 0 else { return false }
        }
        return true
    }

    /// Passes a string whose escapes are the ones the encoder writes and whose UTF-8 is
    /// valid; returns the range of its contents in `bytes` and whether it had an escape.
    mutating func string() -> (Range<Int>, escaped: Bool)? {
        pos += 1
        let first = pos
        var escaped = false
        while pos < bytes.count {
            pos = Self.skipPlain(bytes, from: pos)
            guard pos < bytes.count else { break }
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") {
                let contents = first..<pos
                pos += 1
                return (contents, escaped)
            }
            if c < 0x20 { return nil }
            if c == UInt8(ascii: "\\") {
                guard pos + 1 < bytes.count else { return nil }
                switch bytes[pos + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"),
                    UInt8(ascii: "b"), UInt8(ascii: "f"):
                    pos += 2
                case UInt8(ascii: "u"):
                    // Only what the encoder itself writes: \u00XX, lowercase, for a control
                    // character without a short escape.
                    guard pos + 5 < bytes.count, bytes[pos + 2] == 48, bytes[pos + 3] == 48,
                        let high = Self.lowerHex(bytes[pos + 4]), high < 2, let low = Self.lowerHex(bytes[pos + 5])
                    else { return nil }
                    let scalar = high << 4 | low
                    guard ![0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(scalar) else { return nil }
                    pos += 6
                default: return nil
                }
                escaped = true
                continue
            }
            if c < 0x80 {
                pos += 1
                continue
            }
            guard let n = Self.utf8Sequence(bytes, at: pos) else { return nil }
            pos += n
        }
        return nil
    }

    /// The first position at or after `i` holding a byte a string cannot take as is
    /// (quote, backslash, control, non-ASCII), looked for eight bytes at a time: the
    /// bulk of a document is plain ASCII text inside strings.
    static func skipPlain(_ b: UnsafeBufferPointer<UInt8>, from i: Int) -> Int {
        var i = i
        guard let base = b.baseAddress else { return i }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while i + 8 <= b.count {
            let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            // Any byte with its high bit, below 0x20, or equal to '"' or '\\'.
            let quote = word ^ (ones &* 0x22)
            let slash = word ^ (ones &* 0x5C)
            let special =
                (word | (word &- ones &* 0x20) | (quote &- ones) & ~quote | (slash &- ones) & ~slash) & highs
            if special != 0 { break }
            i += 8
        }
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c < 0x20 || c >= 0x80 { return i }
            i += 1
        }
        return i
    }

    static func lowerHex(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        default: nil
        }
    }

    /// The length of the well-formed UTF-8 sequence at `i` (RFC 3629: no overlong forms,
    /// no surrogates, nothing past U+10FFFF), or nil.
    static func utf8Sequence(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> Int? {
        let lead = b[i]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            high = 0x9F
        case 0xF0:
            length = 4
            low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            high = 0x8F
        default: return nil
        }
        guard i + length <= b.count, b[i + 1] >= low, b[i + 1] <= high else { return nil }
        for k in 2..<max(2, length) where b[i + k] < 0x80 || b[i + k] > 0xBF { return nil }
        return length
    }

    /// Passes the opening byte at `pos`; true when the container closes at once (empty).
    mutating func opens(closing: UInt8) -> Bool {
        pos += 1
        space()
        guard pos < bytes.count, bytes[pos] == closing else { return false }
        pos += 1
        return true
    }

    /// After a member or an element: true at `,` (another follows), false at `closing`
    /// (the container ends), nil at anything else.
    mutating func separator(closing: UInt8) -> Bool? {
        space()
        guard pos < bytes.count, bytes[pos] == UInt8(ascii: ",") || bytes[pos] == closing else { return nil }
        pos += 1
        return bytes[pos - 1] == UInt8(ascii: ",")
    }

    mutating func object(depth: Int) -> Bool {
        guard depth <= depthLeft else { return false }
        if opens(closing: UInt8(ascii: "}")) { return true }
        var keys: [Range<Int>] = []
        while true {
            space()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\""), let (key, escaped) = string(), !escaped,
                keys.count < Self.maxKeys
            else { return false }
            // ASCII keys compare as bytes; others (Swift compares them canonically) go the long way.
            guard !bytes[key].contains(where: { $0 >= 0x80 }) else { return false }
            for other in keys where bytes[other].elementsEqual(bytes[key]) { return false }
            keys.append(key)
            space()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { return false }
            pos += 1
            space()
            guard value(depth: depth), let more = separator(closing: UInt8(ascii: "}")) else { return false }
            if !more { return true }
        }
    }

    mutating func array(depth: Int) -> Bool {
        guard depth <= depthLeft else { return false }
        if opens(closing: UInt8(ascii: "]")) { return true }
        while true {
            space()
            guard value(depth: depth), let more = separator(closing: UInt8(ascii: "]")) else { return false }
            if !more { return true }
        }
    }
}

/// One member of an object in the encoder's compact form: where its key's contents (between
/// the quotes) and its value sit in the object's bytes.
public struct CompactMember: Sendable {
    public let key: Range<Int>
    public let value: Range<Int>
}

extension JSON {
    /// The top-level members of an object kept as bytes (`.encoded`), found without
    /// decoding anything: such bytes are the encoder's own form, with no white space, no
    /// duplicate keys and keys without escapes, so a key compares as its bytes. Nil for
    /// anything else.
    public static func compactMembers(of bytes: [UInt8]) -> [CompactMember]? {
        bytes.withUnsafeBufferPointer { b -> [CompactMember]? in
            guard b.count >= 2, b[0] == UInt8(ascii: "{"), b[b.count - 1] == UInt8(ascii: "}") else { return nil }
            var members: [CompactMember] = []
            members.reserveCapacity(12)
            var pos = 1
            while pos < b.count - 1 {
                guard b[pos] == UInt8(ascii: "\"") else { return nil }
                let keyStart = pos + 1
                pos = endOfString(b, from: keyStart)
                let key = keyStart..<(pos - 1)
                guard pos < b.count, b[pos] == UInt8(ascii: ":") else { return nil }
                pos += 1
                let valueStart = pos
                pos = endOfValue(b, from: pos)
                members.append(CompactMember(key: key, value: valueStart..<pos))
                // A comma, or the closing brace (the last byte).
                pos += 1
            }
            return members
        }
    }

    /// Where the value of member `key` sits in compact object bytes whose members start at
    /// `start` (just past the `{`, or at the `,` before a member), found without decoding
    /// anything: `.found(range)`, `.absent`, or `.notCompact` when the bytes are not in the
    /// encoder's form (a caller then parses them).
    public static func compactMember(
        _ key: UnsafeBufferPointer<UInt8>, in b: UnsafeBufferPointer<UInt8>, from start: Int
    ) -> CompactLookup {
        var pos = start
        if pos < b.count, b[pos] == UInt8(ascii: ",") { pos += 1 }
        if pos < b.count, b[pos] == UInt8(ascii: "}") { return .absent }
        while pos < b.count {
            guard b[pos] == UInt8(ascii: "\"") else { return .notCompact }
            let keyStart = pos + 1
            pos = endOfString(b, from: keyStart)
            let found = UnsafeBufferPointer(rebasing: b[keyStart..<(pos - 1)])
            guard pos < b.count, b[pos] == UInt8(ascii: ":") else { return .notCompact }
            pos += 1
            let valueStart = pos
            pos = endOfValue(b, from: pos)
            guard pos < b.count, pos > valueStart else { return .notCompact }
            if found.count == key.count, found.elementsEqual(key) { return .found(valueStart..<pos) }
            switch b[pos] {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "}"): return .absent
            default: return .notCompact
            }
        }
        return .notCompact
    }

    /// What `compactMember(_:in:from:)` found.
    public enum CompactLookup: Equatable {
        case found(Range<Int>)
        case absent
        case notCompact
    }

    /// Just past the closing quote of a string whose contents start at `i`.
    private static func endOfString(_ b: UnsafeBufferPointer<UInt8>, from i: Int) -> Int {
        var i = i
        while i < b.count {
            i = CompactScanner.skipPlain(b, from: i)
            guard i < b.count else { break }
            switch b[i] {
            case UInt8(ascii: "\""): return i + 1
            case UInt8(ascii: "\\"): i += 2
            default: i += 1
            }
        }
        return b.count
    }

    /// Just past the value starting at `i`, in compact bytes known to be valid.
    private static func endOfValue(_ b: UnsafeBufferPointer<UInt8>, from i: Int) -> Int {
        var i = i
        var depth = 0
        while i < b.count {
            switch b[i] {
            case UInt8(ascii: "\""): i = endOfString(b, from: i + 1)
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 0 { return i }
                depth -= 1
                i += 1
            case UInt8(ascii: ","):
                if depth == 0 { return i }
                i += 1
            default: i += 1
            }
            if depth == 0, i < b.count, b[i] == UInt8(ascii: ",") || b[i] == UInt8(ascii: "}") { return i }
        }
        return i
    }
}
