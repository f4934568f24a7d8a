import MockJSON

/// Reads a large fixture's sessions while its file is still being parsed, on a second
/// thread, and on the parsing thread too once the parse is done. Each session's part of the
/// document is let go as soon as it has been read. The two readers each keep their own
/// ids (of events, only hashes); after both have finished, the session, thread and message
/// ids of one are looked up in the other's, and every event id is checked once, by sorting
/// the hashes.
///
/// The result is only a head start: `finish()` returns the sessions only when every one was
/// read without a problem, no id was used twice, and `sessions` was the document's last
/// member (so the roster the readers used was the whole one). Otherwise the caller parses
/// and reads the document again the usual way, on one thread, which finds the same first
/// problem with the same message as if this had never run.
///
/// Use: `observe` every report of `JSON.parse(_:maxDepth:keepingEncoded:elementsOf:progress:)`
/// (with `elementsOf: "sessions"`), then `finish()`, and hand what it returns to
/// `Fixture.load` with the document; on a syntax error, `cancel()`.
public final class SessionReadAhead {
    /// What the parsing thread and the worker share: the sessions handed out so far, the
    /// next one to read, whether more may come, whether a reader met a problem.
    struct Queue {
        var sessions: [JSON] = []
        var next = 0
        var closed = false
        var failed = false
    }

    /// One reader (each thread has its own): its ids, and the sessions it read, by place in
    /// the document.
    final class Reader {
        var reader: FixtureReader
        var sessions: [(Int, Session)] = []
        var failed = false
        let sessionsPath = JSONPath.document.key("sessions")

        init(roster: Store, expecting events: Int) {
            reader = FixtureReader(store: roster)
            reader.checksEventIDsLater = true
            reader.eventsRead.reserveCapacity(events)
            reader.eventHashes.reserveCapacity(events)
        }

        /// Reads the session at place `i`; on a problem, tells `queue` and returns false.
        func read(_ i: Int, _ value: JSON, _ queue: Handoff<Queue>) -> Bool {
            do throws(JSONReadError) {
                sessions.append((i, try reader.readSession(value, sessionsPath.index(i))))
                return true
            } catch {
                failed = true
                queue.update { $0.failed = true }
                return false
            }
        }

        /// Reads sessions until the queue is closed and empty, or a reader failed.
        func readAll(_ queue: Handoff<Queue>) {
            while let (i, value) = SessionReadAhead.take(from: queue), read(i, value, queue) {}
        }
    }

    private let queue = Handoff(Queue())
    /// The roster read from `$.agents`, which the readers look agents up in (read only).
    private var roster: Store
    private var worker: WorkerThread?
    /// The worker's reader: looked at only after the worker is joined.
    private var workerReader: Reader?
    /// This thread's reader, once the parse is done.
    private var mainReader: Reader?
    /// The parse's members so far: set once `sessions` is complete, and when another
    /// member follows it (the sessions may then have been read with a partial roster).
    private var sessionsDone = false
    private var unusable = false
    /// About how many events each reader will read.
    private let expectedEvents: Int

    /// `bytes`: the document's size, from which each reader sizes its lists once (about an
    /// event per 300 bytes, half to each reader) instead of growing them as it goes.
    public init(clock: MockClock, bytes: Int = 0) {
        roster = Store(clock: clock, ids: IDGenerator(seed: 0, clock: clock))
        expectedEvents = min(bytes / 300 / 2, 1 << 25)
    }

    /// One report from the parser.
    public func observe(_ progress: JSON.ParseProgress) {
        guard !unusable else { return }
        switch progress {
        case .member(let key, let value):
            if sessionsDone {
                unusable = true
            } else if key == "sessions" {
                sessionsDone = true
            } else if key == "agents" {
                readRoster(value)
            }
        case .element(let session):
            if worker == nil {
                let reader = Reader(roster: roster, expecting: expectedEvents)
                let queue = queue
                guard let started = WorkerThread({ reader.readAll(queue) }) else {
                    unusable = true
                    return
                }
                worker = started
                workerReader = reader
                mainReader = Reader(roster: roster, expecting: expectedEvents)
            }
            // This thread reads none yet: reading while it parses made the load slower (5 to
            // 8%, medians of 11 to 15 starts of the 1M-event fixture), though it held 90 MB less.
            queue.update { $0.sessions.append(session) }
        }
    }

    /// The parse failed: the worker stops after the session in hand.
    public func cancel() {
        queue.update {
            $0.closed = true
            $0.failed = true
        }
        worker?.join()
        worker = nil
    }

    deinit { cancel() }

    /// The roster, read as `Fixture.load` will read it; a problem there leaves the whole
    /// document to the usual reading.
    private func readRoster(_ agents: JSON) {
        var reader = FixtureReader(store: roster)
        do throws(JSONReadError) {
            try reader.readAgents(try JSONObjectReader(.object([("agents", agents)]), at: .document).array("agents"))
        } catch {
            unusable = true
        }
    }

    /// The sessions of a document, read ahead, in document order.
    public struct Sessions {
        let sessions: [Session]
        public var count: Int { sessions.count }
    }

    /// After the parse: reads what is left on this thread as well, waits for the worker,
    /// and returns every session of the document, or nil if the document must be read again.
    public func finish() -> Sessions? {
        guard let worker, let mainReader, let workerReader, !unusable else {
            // Nothing was handed out (no sessions, or none in an array): nothing to read ahead.
            cancel()
            return unusable ? nil : Sessions(sessions: [])
        }
        queue.update { $0.closed = true }
        mainReader.readAll(queue)
        worker.join()
        self.worker = nil
        let (failed, count) = queue.update(waking: false) { ($0.failed, $0.sessions.count) }
        guard !failed, !mainReader.failed, !workerReader.failed,
            !Self.overlap(mainReader.reader, workerReader.reader)
        else { return nil }
        return Self.ordered([mainReader, workerReader], count: count).map(Sessions.init)
    }

    /// The next session to read, taken out of the queue (so that it is freed once read).
    /// Waits for one until the queue is closed: nil then, or once a reader failed.
    static func take(from queue: Handoff<Queue>) -> (Int, JSON)? {
        queue.wait { q -> (Int, JSON)?? in
            if q.failed { return .some(nil) }
            if q.next < q.sessions.count {
                defer {
                    q.sessions[q.next] = .null
                    q.next += 1
                }
                return (q.next, q.sessions[q.next])
            }
            return q.closed ? .some(nil) : nil
        }
    }

    /// Whether an id read by one reader was also read by the other, or an event id was
    /// read twice by either (the readers only kept the events' hashes).
    private static func overlap(_ a: FixtureReader, _ b: FixtureReader) -> Bool {
        let (small, large) = a.seenIDs.all.count <= b.seenIDs.all.count ? (a, b) : (b, a)
        for id in small.seenIDs.all where large.seenIDs.contains(id) { return true }
        return anyEventIDTwice([a, b])
    }

    /// Every event's hash beside its place, sorted by hash (a radix sort, four passes of
    /// eight bits: tens of milliseconds for a million, where looking each id up in a table as
    /// it was read cost a cache miss per event); only events whose hashes are equal have
    /// their ids compared.
    static func anyEventIDTwice(_ readers: [FixtureReader]) -> Bool {
        let total = readers.reduce(0) { $0 + $1.eventHashes.count }
        guard total > 1 else { return false }
        var keys = [UInt64](repeating: 0, count: total)
        var scratch = [UInt64](repeating: 0, count: total)
        var offsets: [Int] = []
        var next = 0
        for reader in readers {
            offsets.append(next)
            for hash in reader.eventHashes {
                keys[next] = UInt64(hash) << 32 | UInt64(next)
                next += 1
            }
        }
        keys.withUnsafeMutableBufferPointer { keys in
            scratch.withUnsafeMutableBufferPointer { scratch in
                var (from, to) = (keys, scratch)
                for shift in stride(from: UInt64(32), to: 64, by: 8) {
                    var starts = [Int](repeating: 0, count: 257)
                    for key in from { starts[Int((key >> shift) & 0xFF) + 1] += 1 }
                    for digit in 1...256 { starts[digit] += starts[digit - 1] }
                    for key in from {
                        let digit = Int((key >> shift) & 0xFF)
                        to[starts[digit]] = key
                        starts[digit] += 1
                    }
                    swap(&from, &to)
                }
                // Four passes: the sorted keys are back in `keys`.
            }
        }
        func event(_ key: UInt64) -> StoredEvent {
            let place = Int(key & 0xFFFF_FFFF)
            let r = offsets.lastIndex { $0 <= place }!
            return readers[r].eventsRead[place - offsets[r]]
        }
        var runStart = 0
        for i in 1...total {
            if i < total, keys[i] >> 32 == keys[runStart] >> 32 { continue }
            // keys[runStart..<i] share a hash: compare their ids two by two (a run is short).
            if i - runStart > 1 {
                for x in runStart..<(i - 1) {
                    let first = event(keys[x])
                    for y in (x + 1)..<i {
                        let same = first.withIDBytes { a in event(keys[y]).withIDBytes { a.elementsEqual($0) } }
                        if same { return true }
                    }
                }
            }
            runStart = i
        }
        return false
    }

    /// The readers' sessions in document order; nil if one is missing.
    private static func ordered(_ readers: [Reader], count: Int) -> [Session]? {
        var sessions = [Session?](repeating: nil, count: count)
        for reader in readers {
            for (i, session) in reader.sessions { sessions[i] = session }
        }
        let all = sessions.compactMap { $0 }
        return all.count == count ? all : nil
    }
}
