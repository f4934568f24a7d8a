import MockJSON

/// The one normalisation of an event someone else wrote (a fixture, the control
/// API): checked, then completed the way the server would have written it. The
/// server fills `id`, `schema_version`, `session_id`, `session_thread_id`,
/// `created_at` and `processed_at` when they are absent (or null), puts them in
/// its canonical order, and keeps every other field as given.
struct SuppliedEvent {
    let id: String?
    let type: String
    /// The fields the server writes in its own places (`placed(_:)`), as given.
    private let raw: JSONObjectReader
    /// Every other field, kept as given and in its order.
    private let rest: Rest
    /// `created_at` as given, in milliseconds.
    private let givenTime: Int64?

    private enum Rest {
        case pairs([(String, JSON)])
        /// A fixture event kept as compact bytes: its other members are copied as they are.
        case compact([UInt8], [CompactMember])
    }

    /// Checks `value` as an event of `thread`; errors name fields under `path`. `typeName`
    /// may give an equal String the reader already holds, so that a million events share a
    /// handful of type names instead of holding one each.
    init(
        _ value: JSON, at path: JSONPath, thread: SessionThread, typeName: (String) -> String = { $0 }
    ) throws(JSONReadError) {
        if case .encoded(let bytes) = value, let members = JSON.compactMembers(of: bytes) {
            // Only the few placed fields are decoded; the rest (the bulk) stays bytes.
            var placed: [(String, JSON)] = []
            placed.reserveCapacity(Self.placedNames.count)
            var rest: [CompactMember] = []
            rest.reserveCapacity(members.count)
            for member in members {
                if let key = Self.placedKey(bytes[member.key]) {
                    placed.append((key, Self.decode(bytes[member.value])))
                } else {
                    rest.append(member)
                }
            }
            try self.init(placed: placed, rest: .compact(bytes, rest), at: path, thread: thread, typeName: typeName)
        } else {
            let reader = try JSONObjectReader(value, at: path)
            try self.init(
                placed: reader.pairs.filter { Self.placed($0.0) },
                rest: .pairs(reader.pairs.filter { !Self.placed($0.0) }),
                at: path, thread: thread, typeName: typeName)
        }
    }

    private init(
        placed: [(String, JSON)], rest: Rest, at path: JSONPath, thread: SessionThread, typeName: (String) -> String
    ) throws(JSONReadError) {
        raw = try JSONObjectReader(.object(placed), at: path)
        self.rest = rest
        let type = try raw.requiredString("type")
        guard !type.isEmpty else { throw raw.fail("type", "must be a non-empty string") }
        // A type goes on an SSE `event:` line: a line break in it would forge frames.
        guard EventIDs.isWellFormedType(type) else {
            throw raw.fail(
                "type", "must be 1 to 128 letters, digits, '.', '_', '-', ':' or '/' (no spaces or line breaks)")
        }
        self.type = typeName(type)
        if let given = raw["id"] {
            guard let s = given.stringValue, EventIDs.isWellFormed(s, prefix: "evt") else {
                throw raw.fail(
                    "id",
                    "'\(given.stringValue ?? given.typeName)' is not a valid id: expected 'evt_' followed by letters, digits, '_' or '-'"
                )
            }
            id = s
        } else {
            id = nil
        }
        if let s = try raw.string("session_id"), s != thread.sessionID {
            throw raw.fail("session_id", "'\(s)' does not match the enclosing session '\(thread.sessionID)'")
        }
        if let s = try raw.string("session_thread_id"), s != thread.id {
            throw raw.fail("session_thread_id", "'\(s)' does not match the enclosing thread '\(thread.id)'")
        }
        var givenTime: Int64?
        for key in ["created_at", "processed_at"] {
            guard let s = try raw.string(key) else { continue }
            guard let t = Timestamp.parse(s) else {
                throw raw.fail(key, "'\(s)' is not an RFC 3339 timestamp like 2026-06-15T08:00:00.000Z")
            }
            if key == "created_at" { givenTime = t }
        }
        self.givenTime = givenTime
    }

    /// The event as stored, with `now` for absent times and `makeID` for an absent id.
    /// Written straight into one buffer: a fixture of a million events comes through here.
    func stored(in thread: SessionThread, now: Int64, makeID: () -> String) -> StoredEvent {
        let id = self.id ?? makeID()
        let created = raw["created_at"] ?? .string(Timestamp.format(now))
        let processed = raw["processed_at"] ?? created
        let schemaVersion = raw["schema_version"] ?? "1.0"
        // The standard head (ids and types are checked to need no escape) is the event's
        // own fields; any other schema version keeps the whole encoding.
        let standard = schemaVersion == "1.0"
        if standard, case .compact(let bytes, let members) = rest, let createdText = created.stringValue,
            let processedText = processed.stringValue, Self.plain(createdText), Self.plain(processedText)
        {
            return Self.storedDirectly(
                id: id, type: type, thread: thread, createdAt: givenTime ?? now, bytes: bytes, members: members,
                times: (createdText, processedText))
        }
        var out: [UInt8] = []
        var estimate = 64
        switch rest {
        case .pairs(let pairs):
            for (_, value) in pairs {
                if case .encoded(let bytes) = value { estimate += bytes.count } else { estimate += 48 }
            }
        case .compact(_, let members):
            for member in members { estimate += member.value.upperBound - member.key.lowerBound + 2 }
        }
        if !standard { estimate += 200 }
        out.reserveCapacity(estimate)
        if !standard {
            StoredEvent.writeEncodedHead(
                id: id, type: type, schemaVersion: schemaVersion, owner: thread.eventOwner, into: &out)
        }
        switch rest {
        case .pairs(let pairs):
            for (key, value) in pairs {
                out.append(UInt8(ascii: ","))
                JSON.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                value.write(into: &out)
            }
        case .compact(let bytes, let members):
            for member in members {
                out.append(UInt8(ascii: ","))
                // `"key":value`, as it was: the key's opening quote is just before its contents.
                out.append(contentsOf: bytes[(member.key.lowerBound - 1)..<member.value.upperBound])
            }
        }
        out.appendLiteral(",\"created_at\":")
        created.write(into: &out)
        out.appendLiteral(",\"processed_at\":")
        processed.write(into: &out)
        out.append(UInt8(ascii: "}"))
        let createdAt = givenTime ?? now
        if standard {
            return StoredEvent.make(id: id, type: type, thread: thread, createdAt: createdAt, tail: out[...])
        }
        return StoredEvent.make(id: id, type: type, owner: thread.eventOwner, createdAt: createdAt, encoded: out)
    }

    /// A fixture event's stored tail written straight into the event: its other members'
    /// bytes as they were, then the times. Sized first, so nothing is copied twice.
    private static func storedDirectly(
        id: String, type: String, thread: SessionThread, createdAt: Int64, bytes: [UInt8], members: [CompactMember],
        times: (created: String, processed: String)
    ) -> StoredEvent {
        var times = times
        let createdKey: StaticString = ",\"created_at\":\""
        let processedKey: StaticString = "\",\"processed_at\":\""
        var count = createdKey.utf8CodeUnitCount + times.created.utf8.count + processedKey.utf8CodeUnitCount
        count += times.processed.utf8.count + 2
        for member in members { count += member.value.upperBound - member.key.lowerBound + 2 }
        return StoredEvent.make(id: id, type: type, thread: thread, createdAt: createdAt, tailCount: count) { out in
            var at = 0
            func put(_ part: UnsafeBufferPointer<UInt8>) {
                _ = UnsafeMutableBufferPointer(rebasing: out[at..<(at + part.count)]).initialize(fromContentsOf: part)
                at += part.count
            }
            func put(_ literal: StaticString) {
                put(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
            }
            bytes.withUnsafeBufferPointer { source in
                for member in members {
                    put(",")
                    // `"key":value`, as it was: the key's opening quote is just before its contents.
                    put(UnsafeBufferPointer(rebasing: source[(member.key.lowerBound - 1)..<member.value.upperBound]))
                }
            }
            put(createdKey)
            times.created.withUTF8 { put($0) }
            put(processedKey)
            times.processed.withUTF8 { put($0) }
            put("\"}")
            precondition(at == out.count, "a stored event's tail was sized wrong")
        }
    }

    /// A string the encoder writes as it is, between quotes (a time: no quote, backslash,
    /// control character or non-ASCII byte).
    private static func plain(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { $0.allSatisfy { $0 >= 0x20 && $0 < 0x80 && $0 != 0x22 && $0 != 0x5C } }
    }

    /// The fields the server writes in its own places: first (id to thread) or last (times).
    static func placed(_ key: String) -> Bool {
        switch key {
        case "id", "type", "schema_version", "session_id", "session_thread_id", "created_at", "processed_at": true
        default: false
        }
    }

    /// The placed field these key bytes name, if any: compared as bytes, no String made.
    private static func placedKey(_ key: ArraySlice<UInt8>) -> String? {
        key.withUnsafeBufferPointer { key in
            for (name, bytes) in placedNames where key.count == bytes.utf8CodeUnitCount {
                if key.elementsEqual(UnsafeBufferPointer(start: bytes.utf8Start, count: key.count)) { return name }
            }
            return nil
        }
    }

    private static let placedNames: [(String, StaticString)] = [
        ("id", "id"), ("type", "type"), ("schema_version", "schema_version"), ("session_id", "session_id"),
        ("session_thread_id", "session_thread_id"), ("created_at", "created_at"), ("processed_at", "processed_at"),
    ]

    /// A placed field's value from compact bytes: a string without escapes directly,
    /// anything else through the parser (the bytes are valid JSON).
    private static func decode(_ value: ArraySlice<UInt8>) -> JSON {
        if value.count >= 2, value.first == UInt8(ascii: "\""), !value.contains(UInt8(ascii: "\\")) {
            return .string(String(decoding: value.dropFirst().dropLast(), as: UTF8.self))
        }
        return (try? JSON.parse(Array(value))) ?? .null
    }
}

/// The id shape every fixture and supplied id must have.
enum EventIDs {
    /// An event type as it may appear on an SSE `event:` line.
    static func isWellFormedType(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { bytes in
            !bytes.isEmpty && bytes.count <= 128
                && bytes.allSatisfy {
                    $0 == 46 || $0 == 95 || $0 == 45 || $0 == 58 || $0 == 47 || (48...57).contains($0)
                        || (65...90).contains($0) || (97...122).contains($0)
                }
        }
    }

    static func isWellFormed(_ s: String, prefix: String) -> Bool {
        var s = s
        var prefix = prefix
        return s.withUTF8 { bytes in
            prefix.withUTF8 { head in
                guard bytes.count > head.count + 1, bytes[head.count] == UInt8(ascii: "_"),
                    UnsafeBufferPointer(rebasing: bytes[..<head.count]).elementsEqual(head)
                else { return false }
                return idBytes.withUnsafeBufferPointer { allowed in bytes.allSatisfy { allowed[Int($0)] } }
            }
        }
    }

    /// The bytes an id may hold: letters, digits, '_' and '-' (a table: a million fixture
    /// events each have an id of 30-odd bytes checked here).
    private static let idBytes: [Bool] = (0..<256).map { c in
        c == 95 || c == 45 || (48...57).contains(c) || (65...90).contains(c) || (97...122).contains(c)
    }
}
