import MockDomain
import MockHTTP
import MockJSON

/// The requests the API received, newest last, bounded in count. Long-polls
/// (`/_mock/journal/wait`) are woken as soon as a matching entry is complete.
public final class RequestJournal {
    public final class Entry {
        public let seq: Int
        public let method: String
        public let path: String
        /// `path` in its `/v1/...` form, for filters (made on the first filter that reads it).
        lazy var canonicalPath = Glob.canonical(path)
        public let rawQuery: String
        public let headers: HTTPHeaders
        public let body: [UInt8]
        public let requestID: String
        public let receivedAt: Int64
        public fileprivate(set) var status: Int?

        init(seq: Int, ctx: RequestContext, receivedAt: Int64) {
            let request = ctx.request
            self.seq = seq
            self.method = request.method
            self.path = request.rawPath
            self.rawQuery = request.rawQuery
            self.headers = Self.redacted(request.headers)
            self.body = request.body
            self.requestID = ctx.requestID
            self.receivedAt = receivedAt
        }

        /// Credentials are never kept: anyone who can read the journal could replay them.
        static let secretHeaders = ["Authorization", "Proxy-Authorization", "X-Mock-Admin-Token", "Cookie"]

        static func redacted(_ headers: HTTPHeaders) -> HTTPHeaders {
            guard headers.fields.contains(where: { f in secretHeaders.contains { HTTPHeaders.sameName(f.name, $0) } })
            else { return headers }
            return HTTPHeaders(
                headers.fields.map { f in
                    secretHeaders.contains { HTTPHeaders.sameName(f.name, $0) }
                        ? (f.name, Secrets.masked(f.value)) : (f.name, f.value)
                })
        }

        public var json: JSON {
            let query = (try? Query(raw: rawQuery))?.pairs ?? []
            var bodyJSON: JSON = .null
            if !body.isEmpty {
                bodyJSON = (try? JSON.parse(body)) ?? .string(String(decoding: body, as: UTF8.self))
            }
            return .object([
                ("seq", .int(seq)), ("request_id", .string(requestID)), ("method", .string(method)),
                ("path", .string(path)), ("query_string", .string(rawQuery)),
                ("query", .array(query.map { .array([.string($0.0), .string($0.1)]) })),
                ("headers", .array(headers.fields.map { .array([.string($0.name), .string($0.value)]) })),
                ("body", bodyJSON), ("status", status.map(JSON.int) ?? .null),
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
    private var nextSeq = 1
    private var waiters: [Waiter] = []
    private var nextWaiter = 1

    public init(limit: Int) { self.limit = max(1, limit) }

    public var lastSeq: Int { nextSeq - 1 }

    func begin(_ ctx: RequestContext, now: Int64) -> Entry {
        let e = Entry(seq: nextSeq, ctx: ctx, receivedAt: now)
        nextSeq += 1
        storage.append(e)
        if storage.count - head > limit { head = storage.count - limit }
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
            return .deferred { [weak self] deliver in
                body { inner in deliver(self?.track(inner, entry: entry) ?? inner) }
            }
        }
    }

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
