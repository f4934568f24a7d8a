import MockJSON

/// The one normalisation of an event someone else wrote (a fixture, the control
/// API): checked, then completed the way the server would have written it. The
/// server fills `id`, `schema_version`, `session_id`, `session_thread_id`,
/// `created_at` and `processed_at` when they are absent (or null), puts them in
/// its canonical order, and keeps every other field as given.
struct SuppliedEvent {
    let id: String?
    let type: String
    private let raw: JSONObjectReader

    /// Checks `value` as an event of `thread`; errors name fields under `path`.
    init(_ value: JSON, at path: JSONPath, thread: SessionThread) throws(JSONReadError) {
        raw = try JSONObjectReader(value, at: path)
        let type = try raw.requiredString("type")
        guard !type.isEmpty else { throw raw.fail("type", "must be a non-empty string") }
        // A type goes on an SSE `event:` line: a line break in it would forge frames.
        guard EventIDs.isWellFormedType(type) else {
            throw raw.fail(
                "type", "must be 1 to 128 letters, digits, '.', '_', '-', ':' or '/' (no spaces or line breaks)")
        }
        self.type = type
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
        for (key, expected, what) in [
            ("session_id", thread.sessionID, "session"), ("session_thread_id", thread.id, "thread"),
        ] {
            if let s = try raw.string(key), s != expected {
                throw raw.fail(key, "'\(s)' does not match the enclosing \(what) '\(expected)'")
            }
        }
        for key in ["created_at", "processed_at"] {
            if let s = try raw.string(key), Timestamp.parse(s) == nil {
                throw raw.fail(key, "'\(s)' is not an RFC 3339 timestamp like 2026-06-15T08:00:00.000Z")
            }
        }
    }

    /// The event as stored, with `now` for absent times and `makeID` for an absent id.
    /// Written straight into one buffer: a fixture of a million events comes through here.
    func stored(in thread: SessionThread, now: Int64, makeID: () -> String) -> StoredEvent {
        let id = self.id ?? makeID()
        let created = raw["created_at"] ?? .string(Timestamp.format(now))
        let processed = raw["processed_at"] ?? created
        let millis = created.stringValue.flatMap(Timestamp.parse) ?? now
        var out: [UInt8] = []
        var estimate = 320
        for (_, value) in raw.pairs {
            if case .encoded(let bytes) = value { estimate += bytes.count } else { estimate += 48 }
        }
        out.reserveCapacity(estimate)
        out.appendLiteral("{\"id\":")
        JSON.writeString(id, into: &out)
        out.appendLiteral(",\"type\":")
        JSON.writeString(type, into: &out)
        out.appendLiteral(",\"schema_version\":")
        (raw["schema_version"] ?? "1.0").write(into: &out)
        out.appendLiteral(",\"session_id\":")
        JSON.writeString(thread.sessionID, into: &out)
        out.appendLiteral(",\"session_thread_id\":")
        JSON.writeString(thread.id, into: &out)
        for (key, value) in raw.pairs where !Self.placed(key) {
            out.append(UInt8(ascii: ","))
            JSON.writeString(key, into: &out)
            out.append(UInt8(ascii: ":"))
            value.write(into: &out)
        }
        out.appendLiteral(",\"created_at\":")
        created.write(into: &out)
        out.appendLiteral(",\"processed_at\":")
        processed.write(into: &out)
        out.append(UInt8(ascii: "}"))
        return StoredEvent(id: id, type: type, threadID: thread.id, createdAt: millis, encoded: out)
    }

    /// The fields the server writes in its own places: first (id to thread) or last (times).
    static func placed(_ key: String) -> Bool {
        switch key {
        case "id", "type", "schema_version", "session_id", "session_thread_id", "created_at", "processed_at": true
        default: false
        }
    }
}

/// The id shape every fixture and supplied id must have.
enum EventIDs {
    /// An event type as it may appear on an SSE `event:` line.
    static func isWellFormedType(_ s: String) -> Bool {
        let bytes = s.utf8
        return !bytes.isEmpty && bytes.count <= 128
            && bytes.allSatisfy {
                $0 == 46 || $0 == 95 || $0 == 45 || $0 == 58 || $0 == 47 || (48...57).contains($0)
                    || (65...90).contains($0) || (97...122).contains($0)
            }
    }

    static func isWellFormed(_ s: String, prefix: String) -> Bool {
        var s = s
        let head = prefix.utf8.count
        return s.withUTF8 { bytes in
            guard bytes.count > head + 1, bytes[head] == UInt8(ascii: "_"),
                bytes.prefix(head).elementsEqual(prefix.utf8)
            else { return false }
            return bytes.allSatisfy {
                $0 == 95 || $0 == 45 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0)
            }
        }
    }
}
