import MockDomain
import MockHTTP
import MockJSON

/// The requests the API received, newest last, bounded in count and in bytes: a body
/// longer than `bodyLimit` is kept cut (and says so), and past `byteBudget` the oldest
/// entries go first. Long-polls (`/_mock/journal/wait`) are woken as soon as a matching
/// entry is complete.
public final class RequestJournal {
    public final class Entry {
        public let seq: Int
        public let method: String
        public let path: String
        /// `path` in its `/v1/...` form, for filters (made on the first filter that reads it).
        lazy var canonicalPath = Glob.canonical(path)
        public let rawQuery: String
        public let headers: HTTPHeaders
        /// The body as it is shown: compact JSON when it parses (kept encoded, so reading
        /// the journal copies bytes instead of parsing them again), else a string; a body
        /// over the journal's body limit is kept as a string of its first bytes.
        let shownBody: JSON
        /// The body's size as received, and whether `shownBody` is cut short.
        public let bodyBytes: Int
        public let bodyTruncated: Bool
        public let requestID: String
        public let receivedAt: Int64
        public fileprivate(set) var status: Int?
        /// What this entry counts against the journal's byte budget.
        let cost: Int

        init(seq: Int, ctx: borrowing RequestContext, headers: HTTPHeaders, receivedAt: Int64, bodyLimit: Int) {
            // Field by field: binding `ctx.request` to a name would copy the whole request.
            self.seq = seq
            self.method = ctx.request.method
            self.path = ctx.request.rawPath
            self.rawQuery = ctx.request.rawQuery
            self.headers = headers
            self.requestID = ctx.requestID
            self.receivedAt = receivedAt
            let body = ctx.request.body
            bodyBytes = body.count
            bodyTruncated = body.count > bodyLimit
            var kept = 0
            if body.isEmpty {
                shownBody = .null
            } else if bodyTruncated {
                let prefix = body.prefix(bodyLimit)
                kept = prefix.count
                shownBody = .string(String(decoding: prefix, as: UTF8.self))
            } else if let parsed = try? JSON.parse(body) {
                let compact = parsed.encoded()
                kept = compact.count
                shownBody = .encoded(compact)
            } else {
                kept = body.count
                shownBody = .string(String(decoding: body, as: UTF8.self))
            }
            var headerBytes = 0
            for f in headers.fields { headerBytes += f.name.utf8.count + f.value.utf8.count + 4 }
            // The fixed part is a rough size of the entry's object and strings.
            cost = 256 + kept + headerBytes + path.utf8.count + rawQuery.utf8.count
        }

        /// Credentials are never kept: anyone who can read the journal could replay them.
        static let secretHeaders = ["Authorization", "Proxy-Authorization", "X-Mock-Admin-Token", "Cookie"]

        static func secret(_ name: String) -> Bool { secretHeaders.contains { HTTPHeaders.sameName(name, $0) } }

        static func redacted(_ headers: HTTPHeaders) -> HTTPHeaders {
            guard let first = headers.fields.firstIndex(where: { secret($0.name) }) else { return headers }
            // One pass from the first secret on, into storage of the right size.
            var shown = HTTPHeaders()
            shown.reserveCapacity(headers.fields.count)
            for (i, f) in headers.fields.enumerated() {
                shown.add(f.name, i >= first && secret(f.name) ? Secrets.masked(f.value) : f.value)
            }
            return shown
        }

        /// Whether `shown` is what `redacted` makes of `headers`, found without making it;
        /// `secret` says which of `shown`'s fields are credentials (their names are the same).
        static func redacts(_ headers: HTTPHeaders, to shown: HTTPHeaders, secret: [Bool]) -> Bool {
            let given = headers.fields
            let kept = shown.fields
            guard given.count == kept.count else { return false }
            for i in given.indices {
                guard given[i].name == kept[i].name else { return false }
                let same =
                    secret[i] ? Secrets.masked(given[i].value, is: kept[i].value) : given[i].value == kept[i].value
                if !same { return false }
            }
            return true
        }

        public var json: JSON {
            let query = (try? Query(raw: rawQuery))?.pairs ?? []
            return .object([
                ("seq", .int(seq)), ("request_id", .string(requestID)), ("method", .string(method)),
                ("path", .string(path)), ("query_string", .string(rawQuery)),
                ("query", .array(query.map { .array([.string($0.0), .string($0.1)]) })),
                ("headers", .array(headers.fields.map { .array([.string($0.name), .string($0.value)]) })),
                ("body", shownBody), ("body_bytes", .int(bodyBytes)), ("body_truncated", .bool(bodyTruncated)),
                ("status", status.map(JSON.int) ?? .null),
                ("received_at", .string(Timestamp.format(receivedAt))),
            ])
        }
    }

    /// What `GET /_mock/journal` and the wait route filter on.
    public struct Filter {
        public var method: String?
        /// `*` matches any run of characters; matched against the path as sent and
        /// against its `/v1/...` form.
        public var path: String?
        public var since: Int = 0

        public init(method: String? = nil, path: String? = nil, since: Int = 0) {
            self.method = method
            self.path = path
            self.since = since
        }

        func matches(_ e: Entry) -> Bool {
            guard e.seq > since, e.status != nil else { return false }
            if let method, method.uppercased() != e.method.uppercased() { return false }
            if let path, !Glob.matches(path, e.path) && !Glob.matches(Glob.canonical(path), e.canonicalPath) {
                return false
            }
            return true
        }
    }

    struct Waiter {
        let id: Int
        let filter: Filter
        /// nil when the wait is ended without a match (reset).
        let wake: (Entry?) -> Void
    }

    /// Kept entries are `storage[head...]`; dropping the oldest only moves `head`,
    /// and the dead prefix is compacted in one go now and then, so a full journal
    /// costs O(1) per request instead of shifting every entry.
    private var storage: [Entry] = []
    private var head = 0
    public var entries: ArraySlice<Entry> { storage[head...] }
    public let limit: Int
    /// Bodies longer than this are kept cut to it.
    public let bodyLimit: Int
    /// The most the kept entries may count together (see `Entry.cost`); the newest entry
    /// is kept whatever it costs.
    public let byteBudget: Int
    /// What the kept entries count now.
    public private(set) var bytes = 0
    private var nextSeq = 1
    private var waiters: [Waiter] = []
    private var nextWaiter = 1

    public init(limit: Int, bodyLimit: Int = 64 << 10, byteBudget: Int = 16 << 20) {
        self.limit = max(1, limit)
        self.bodyLimit = max(0, bodyLimit)
        self.byteBudget = max(0, byteBudget)
    }

    public var lastSeq: Int { nextSeq - 1 }

    /// The headers of the last entry, as kept. A client's requests mostly carry the same
    /// headers: an entry whose redacted headers would equal these shares them instead.
    private var lastHeaders = HTTPHeaders()
    /// Which of `lastHeaders` are credentials, found once when they were made.
    private var lastSecret: [Bool] = []

    func begin(_ ctx: RequestContext, now: Int64) -> Entry {
        if !Entry.redacts(ctx.request.headers, to: lastHeaders, secret: lastSecret) {
            lastHeaders = Entry.redacted(ctx.request.headers)
            lastSecret = lastHeaders.fields.map { Entry.secret($0.name) }
        }
        let e = Entry(seq: nextSeq, ctx: ctx, headers: lastHeaders, receivedAt: now, bodyLimit: bodyLimit)
        nextSeq += 1
        storage.append(e)
        bytes += e.cost
        while storage.count - head > 1 && (storage.count - head > limit || bytes > byteBudget) {
            bytes -= storage[head].cost
            head += 1
        }
        if head >= max(limit, 256) {
            storage.removeFirst(head)
            head = 0
        }
        return e
    }

    /// Records the reply's status on `entry` once it is known, then wakes waiters.
    func track(_ reply: Reply, entry: Entry) -> Reply {
        switch reply {
        case .response(let r):
            complete(entry, status: r.status)
            return reply
        case .stream(let s):
            var s = s
            let start = s.start
            let status = s.status
            s.start = { [weak self] sink in
                self?.complete(entry, status: status)
                start(sink)
            }
            return .stream(s)
        case .deferred(let body):
            return .deferred { [weak self] answer in
                body(
                    answer.mapped(
                        { inner in self?.track(inner, entry: entry) ?? inner },
                        // nginx's "client closed request": the client left before the answer.
                        alsoOnAbandon: { self?.complete(entry, status: Self.clientClosedRequest) }))
            }
        }
    }

    /// The status an entry gets when its client hangs up before a deferred answer.
    public static let clientClosedRequest = 499

    private func complete(_ entry: Entry, status: Int) {
        entry.status = status
        let due = waiters.filter { $0.filter.matches(entry) }
        guard !due.isEmpty else { return }
        waiters.removeAll { w in due.contains { $0.id == w.id } }
        for w in due { w.wake(entry) }
    }

    public func find(_ filter: Filter, limit: Int? = nil) -> [Entry] {
        let all = entries.filter(filter.matches)
        if let limit, all.count > limit { return Array(all.suffix(limit)) }
        return all
    }

    /// Forgets the entries; sequence numbers keep counting, so a `since` taken
    /// before the clear stays meaningful.
    public func clear() {
        storage.removeAll()
        head = 0
        bytes = 0
    }

    /// Back to a fresh start (reset): no entries, sequence numbers from 1 again, and
    /// every pending wait answered unmatched, since the `since` it was given no
    /// longer means anything.
    func restart() {
        clear()
        nextSeq = 1
        let pending = waiters
        waiters.removeAll()
        for w in pending { w.wake(nil) }
    }

    /// Calls `wake` with the first matching entry, now or later; with nil if the
    /// journal restarts first. The result cancels the wait.
    func wait(_ filter: Filter, wake: @escaping (Entry?) -> Void) -> () -> Void {
        if let hit = entries.first(where: filter.matches) {
            wake(hit)
            return {}
        }
        let id = nextWaiter
        nextWaiter += 1
        waiters.append(Waiter(id: id, filter: filter, wake: wake))
        return { [weak self] in self?.waiters.removeAll { $0.id == id } }
    }

    public var waiterCount: Int { waiters.count }
}
