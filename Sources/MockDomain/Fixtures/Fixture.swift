import MockJSON

/// Reads and writes the fixture format (API.md section 10, fixtures/README.md):
/// `tokens`, `agents`, and `sessions` with their `threads`, each thread with its
/// `events` and `mailbox`, in the API's own field names. Reading checks shapes and
/// hands every part to the store, whose rules relate them; export writes the same
/// format, so a world exported from a failing test loads again unchanged.
public enum Fixture {
    /// Builds a new store from `document`, or throws the first problem found.
    /// Nothing is half-loaded: the caller swaps the result in only on success.
    /// `sessionsRead` are the document's sessions if they were read while it was parsed
    /// (`SessionReadAhead`); the document then holds `null` in their places.
    public static func load(
        _ document: JSON, clock: MockClock, ids: IDGenerator, sessionsRead: SessionReadAhead.Sessions? = nil
    ) throws(FixtureError) -> Store {
        var reader = FixtureReader(store: Store(clock: clock, ids: ids))
        do throws(JSONReadError) {
            try reader.read(document, sessionsRead: sessionsRead?.sessions)
        } catch {
            throw FixtureError(error)
        }
        // What the fixture holds is the starting point, not something made at run time.
        reader.store.createdAtRunTime = RunTimeCounts()
        return reader.store
    }

    /// The world as a fixture document (`GET /_mock/state`, pretty or as a value).
    public static func export(_ store: Store) -> JSON {
        let sessions = store.sessions.map { session in
            JSON.object(
                sessionPairs(session) + [
                    (
                        "threads",
                        .array(
                            session.threads.map { thread in
                                .object(
                                    threadPairs(thread) + [
                                        ("events", .array(thread.events.map { .encoded($0.bytes) })),
                                        ("mailbox", mailbox(thread)),
                                    ])
                            })
                    )
                ])
        }
        return .object(topPairs(store) + [("sessions", .array(sessions))])
    }

    /// The export encoded: the same bytes as `export(store).encoded()`, written straight
    /// into one buffer of the exact size, measured first. A million events are not each
    /// copied into a value of their own first, and nothing in between is the size of the
    /// world. From `twoThreadsFrom` events on, two threads write it, half each: a world of a
    /// million events is 465 MB to write, half of it the kernel zeroing fresh pages, and the
    /// two halves fault and copy at once (if no second thread can be started, this one
    /// writes both). The world is only read meanwhile: the event loop waits for this request.
    public static func encoded(_ store: Store, twoThreadsFrom: Int = 200_000) -> [UInt8] {
        let pieces = layout(store)
        let sizes = pieces.map { piece in
            switch piece {
            case .bytes(let b): b.count
            case .events(let t): t.events.reduce(max(0, t.events.count - 1)) { $0 + $1.byteCount }
            }
        }
        let total = sizes.reduce(0, +)
        let events = store.sessions.reduce(0) { $0 + $1.log.count }
        // The second half starts at the first piece past the middle.
        var split = pieces.count
        var offset = total
        if events >= twoThreadsFrom {
            (split, offset) = (0, 0)
            while split < pieces.count && offset < total / 2 {
                offset += sizes[split]
                split += 1
            }
        }
        return [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            guard let base = buffer.baseAddress else { return }
            let rest = pieces[split...]
            let secondHalf = { precondition(write(rest, at: base + offset) == total - offset, "export measured wrong") }
            let second = rest.isEmpty ? nil : WorkerThread(secondHalf)
            precondition(write(pieces[..<split], at: base) == offset, "an export piece was measured wrong")
            if let second { second.join() } else if !rest.isEmpty { secondHalf() }
            initialized = total
        }
    }

    /// A piece of the export: bytes as they are, or a thread's events, comma-separated.
    private enum Piece {
        case bytes([UInt8])
        case events(SessionThread)
    }

    /// The export as pieces, in order: what is small encoded, each thread's events left to
    /// be written where they go.
    private static func layout(_ store: Store) -> [Piece] {
        var pieces: [Piece] = []
        var text: [UInt8] = []
        func cut() {
            if !text.isEmpty { pieces.append(.bytes(text)) }
            text = []
        }
        open(topPairs(store), into: &text)
        text.appendLiteral(",\"sessions\":[")
        for (i, session) in store.sessions.enumerated() {
            if i > 0 { text.append(UInt8(ascii: ",")) }
            open(sessionPairs(session), into: &text)
            text.appendLiteral(",\"threads\":[")
            for (j, thread) in session.threads.enumerated() {
                if j > 0 { text.append(UInt8(ascii: ",")) }
                open(threadPairs(thread), into: &text)
                text.appendLiteral(",\"events\":[")
                cut()
                pieces.append(.events(thread))
                text.appendLiteral("],\"mailbox\":")
                mailbox(thread).write(into: &text)
                text.append(UInt8(ascii: "}"))
            }
            text.appendLiteral("]}")
        }
        text.appendLiteral("]}")
        cut()
        return pieces
    }

    /// Writes `pieces` at `out`; the number of bytes written.
    private static func write(_ pieces: ArraySlice<Piece>, at out: UnsafeMutablePointer<UInt8>) -> Int {
        var at = 0
        var scratch: [UInt8] = []
        scratch.reserveCapacity(512)
        for piece in pieces {
            switch piece {
            case .bytes(let b):
                b.withUnsafeBufferPointer { (out + at).update(from: $0.baseAddress!, count: $0.count) }
                at += b.count
            case .events(let thread):
                for (k, event) in thread.events.enumerated() {
                    if k > 0 {
                        out[at] = UInt8(ascii: ",")
                        at += 1
                    }
                    at += event.write(to: out + at, scratch: &scratch)
                }
            }
        }
        return at
    }

    /// An object's opening brace and members, left open for more (never empty here).
    private static func open(_ pairs: [(String, JSON)], into out: inout [UInt8]) {
        precondition(!pairs.isEmpty)
        JSON.object(pairs).write(into: &out)
        out.removeLast()
    }

    /// The document's members before `sessions`.
    static func topPairs(_ store: Store) -> [(String, JSON)] {
        var top: [(String, JSON)] = []
        top.append(("tokens", .array(store.tokens.map(JSON.string))))
        if store.tokensRequired && store.tokens.isEmpty { top.append(("tokens_required", true)) }
        top.append(("agents", .array(store.agents.map(\.fixtureJSON))))
        return top
    }

    /// How deep a fixture document may nest. An event's content may nest as deep as an API
    /// request body allows (256 levels, counted from the body), and in a fixture each event
    /// sits a few levels further in (document, sessions, threads, events): with this margin
    /// whatever the API stored exports and loads again.
    public static let maxDepth = 256 + 8

    /// A session's members before `threads`.
    static func sessionPairs(_ s: Session) -> [(String, JSON)] {
        guard case .object(var pairs) = s.json else { return [] }
        pairs.removeAll { $0.0 == "status" || $0.0 == "usage" }  // derived from the threads and events
        return pairs
    }

    /// A thread's members before `events` and `mailbox`.
    static func threadPairs(_ t: SessionThread) -> [(String, JSON)] {
        guard case .object(var pairs) = t.json else { return [] }
        if let w = t.waitingOn {
            pairs.append(("waiting_on", ["thread_id": .string(w.threadID), "tool_use_id": .string(w.toolUseID)]))
        }
        return pairs
    }

    static func mailbox(_ t: SessionThread) -> JSON { .array(t.mailbox.map(mailboxJSON)) }

    static func mailboxJSON(_ m: MailboxMessage) -> JSON {
        guard case .object(var pairs) = m.json else { return m.json }
        pairs.removeAll { $0.0 == "type" }
        return .object(pairs)
    }
}
