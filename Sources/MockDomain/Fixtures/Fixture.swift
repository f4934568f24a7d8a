import MockJSON

/// Reads and writes the fixture format (API.md section 10, fixtures/README.md):
/// `tokens`, `agents`, and `sessions` with their `threads`, each thread with its
/// `events` and `mailbox`, in the API's own field names. Reading checks shapes and
/// hands every part to the store, whose rules relate them; export writes the same
/// format, so a world exported from a failing test loads again unchanged.
public enum Fixture {
    /// Builds a new store from `document`, or throws the first problem found.
    /// Nothing is half-loaded: the caller swaps the result in only on success.
    public static func load(_ document: JSON, clock: MockClock, ids: IDGenerator) throws(FixtureError) -> Store {
        var reader = FixtureReader(store: Store(clock: clock, ids: ids))
        do throws(JSONReadError) {
            try reader.read(document)
        } catch {
            throw FixtureError(error)
        }
        // What the fixture holds is the starting point, not something made at run time.
        reader.store.createdAtRunTime = RunTimeCounts()
        return reader.store
    }

    public static func export(_ store: Store) -> JSON {
        var top: [(String, JSON)] = []
        top.append(("tokens", .array(store.tokens.map(JSON.string))))
        if store.tokensRequired && store.tokens.isEmpty { top.append(("tokens_required", true)) }
        top.append(("agents", .array(store.agents.map(\.fixtureJSON))))
        top.append(("sessions", .array(store.sessions.map(sessionJSON))))
        return .object(top)
    }

    /// How deep a fixture document may nest. An event's content may nest as deep as an API
    /// request body allows (256 levels, counted from the body), and in a fixture each event
    /// sits a few levels further in (document, sessions, threads, events): with this margin
    /// whatever the API stored exports and loads again.
    public static let maxDepth = 256 + 8

    /// About the export's encoded size, a little over: a world of a million events is
    /// written into one buffer reserved once, not grown (and copied) thirty times.
    public static func exportSizeHint(_ store: Store) -> Int {
        var size = 4096 + store.agents.count * 2048
        for session in store.sessions {
            size += 4096
            for thread in session.threads {
                size += 4096 + thread.mailbox.count * 1024
                for event in thread.events { size += event.bytes.count + 1 }
            }
        }
        return size
    }

    static func sessionJSON(_ s: Session) -> JSON {
        guard case .object(var pairs) = s.json else { return s.json }
        pairs.removeAll { $0.0 == "status" || $0.0 == "usage" }  // derived from the threads and events
        pairs.append(("threads", .array(s.threads.map(threadJSON))))
        return .object(pairs)
    }

    static func threadJSON(_ t: SessionThread) -> JSON {
        guard case .object(var pairs) = t.json else { return t.json }
        if let w = t.waitingOn {
            pairs.append(("waiting_on", ["thread_id": .string(w.threadID), "tool_use_id": .string(w.toolUseID)]))
        }
        pairs.append(("events", .array(t.events.map { .encoded($0.bytes) })))
        pairs.append(("mailbox", .array(t.mailbox.map(mailboxJSON))))
        return .object(pairs)
    }

    static func mailboxJSON(_ m: MailboxMessage) -> JSON {
        guard case .object(var pairs) = m.json else { return m.json }
        pairs.removeAll { $0.0 == "type" }
        return .object(pairs)
    }
}
