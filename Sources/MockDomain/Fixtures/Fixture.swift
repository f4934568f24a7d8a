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

    /// The export of one moment of the world, written out in parts: `GET /_mock/state` sends
    /// a world of a million events (465 MB) as its peer takes it, a part at a time, so
    /// the server never holds a second copy of the world and answers other requests between
    /// two parts. What is small (the roster, sessions, threads, mailboxes) is encoded when the
    /// writer is made; each thread's events are those its log held then (events never change
    /// once stored, and a log only grows), read from the log as they are written. The size is
    /// known before the first byte, for a `Content-Length`.
    ///
    /// While the writer is to write a log's events, the log keeps them even if its world is
    /// replaced; once written, events of a replaced world are handed to `handOver` (the
    /// application frees them a slice at a time) rather than freed in one go when the export
    /// ends. A writer dropped before the end hands over what it still held.
    public final class ExportWriter {
        /// A piece of the export: bytes as they are, or a thread's events, comma-separated.
        private enum Piece {
            case bytes([UInt8])
            /// The log's first `count` events and the length of their JSON, separators not
            /// counted.
            case events(EventLog, count: Int, bytes: Int)
        }

        private var pieces: [Piece]
        /// The export's length in bytes.
        public let byteCount: Int
        /// Where writing goes on: the piece, and the event within an `events` piece.
        private var piece = 0
        private var event = 0
        private let handOver: (Store.ReplacedWorld) -> Void
        /// Events of replaced worlds written out and not handed over yet.
        private var retired: [[StoredEvent]] = []

        public init(_ store: Store, handOver: @escaping (Store.ReplacedWorld) -> Void = { _ in }) {
            pieces = Self.layout(store)
            self.handOver = handOver
            byteCount = pieces.reduce(0) { total, piece in
                switch piece {
                case .bytes(let b): total + b.count
                case .events(_, let count, let bytes): total + bytes + max(0, count - 1)
                }
            }
        }

        deinit {
            while piece < pieces.count {
                done(with: piece)
                piece += 1
            }
            handOverRetired()
        }

        /// True once every byte was written.
        public var isFinished: Bool { piece == pieces.count }

        /// Appends the export's next bytes to `out`, whole pieces and whole events, until at
        /// least `atLeast` bytes were added or the export is complete.
        public func write(into out: inout [UInt8], atLeast: Int) {
            defer { handOverRetired() }
            let goal = out.count + atLeast
            while piece < pieces.count && out.count < goal {
                switch pieces[piece] {
                case .bytes(let b):
                    out.append(contentsOf: b)
                case .events(let log, let count, _):
                    let events = log.events  // shared for this call only: nothing appends meanwhile
                    while event < count && out.count < goal {
                        if event > 0 { out.append(UInt8(ascii: ",")) }
                        events[event].write(into: &out)
                        event += 1
                    }
                    guard event == count else { return }
                    event = 0
                }
                done(with: piece)
                piece += 1
            }
        }

        /// Lets go of a piece; the events of a replaced world's log are kept for `handOver`.
        private func done(with index: Int) {
            guard case .events(let log, _, _) = pieces[index] else { return }
            pieces[index] = .bytes([])
            log.exportsReading -= 1
            if log.exportsReading == 0 && log.retired { retired.append(contentsOf: log.takeEvents()) }
        }

        private func handOverRetired() {
            guard !retired.isEmpty else { return }
            handOver(Store.ReplacedWorld(histories: retired))
            retired = []
        }

        /// The export as pieces, in order: what is small encoded, each thread's log with the
        /// count of events it holds now.
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
                    thread.log.exportsReading += 1
                    pieces.append(.events(thread.log, count: thread.log.count, bytes: thread.log.eventBytes))
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
