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
    func stored(in thread: SessionThread, now: Int64, makeID: () -> String) -> StoredEvent {
        let id = self.id ?? makeID()
        let head: [(String, JSON)] = [
            ("id", .string(id)), ("type", .string(type)), ("schema_version", raw["schema_version"] ?? "1.0"),
            ("session_id", .string(thread.sessionID)), ("session_thread_id", .string(thread.id)),
        ]
        let skip = Set(head.map(\.0)).union(["created_at", "processed_at"])
        let rest = raw.pairs.filter { !skip.contains($0.0) }
        let created = raw["created_at"] ?? .string(Timestamp.format(now))
        let processed = raw["processed_at"] ?? created
        let millis = created.stringValue.flatMap(Timestamp.parse) ?? now
        return StoredEvent(
            id: id, type: type, threadID: thread.id, createdAt: millis,
            json: .object(head + rest + [("created_at", created), ("processed_at", processed)]))
    }
}

/// The id shape every fixture and supplied id must have.
enum EventIDs {
    static func isWellFormed(_ s: String, prefix: String) -> Bool {
        s.hasPrefix(prefix + "_") && s.utf8.count > prefix.utf8.count + 1
            && s.utf8.allSatisfy {
                $0 == 95 || $0 == 45 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0)
            }
    }
}
