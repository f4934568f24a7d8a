import MockDomain
import MockHTTP
import MockJSON

/// `/_mock/journal` and `/_mock/faults`: what the API received, waiting for it,
/// and injected faults.
struct ObservationRoutes: RouteCollection {
    let journal: RequestJournal
    let faults: FaultBook
    /// Ids for faults, from the control API's own sequence (never the world's).
    let makeID: (String) -> String
    let scheduler: () -> Scheduler?

    func register(into routes: inout RouteTable.Builder) {
        let journal = self.journal
        let faults = self.faults
        let makeID = self.makeID
        let scheduler = self.scheduler
        routes.add("GET", "/journal") { ctx throws(APIError) in
            let filter = try Self.filter(ctx.query, journal: journal)
            var limit: Int?
            if let raw = ctx.query.first("limit") {
                guard let n = Int(raw), n >= 1 else {
                    throw APIError.invalid("limit must be a positive integer, got '\(raw)'.", param: "limit")
                }
                limit = n
            }
            let found = journal.find(filter, limit: limit)
            return .json(["data": .array(found.map(\.json)), "last_seq": .int(journal.lastSeq)])
        }
        routes.add("DELETE", "/journal") { _ throws(APIError) in
            journal.clear()
            return .json(["status": "cleared", "last_seq": .int(journal.lastSeq)])
        }
        routes.add("GET", "/journal/wait") { ctx throws(APIError) in
            let filter = try Self.filter(ctx.query, journal: journal)
            var timeout = 5000
            if let raw = ctx.query.first("timeout_ms") {
                guard let t = Int(raw), t >= 0, t <= 600_000 else {
                    throw APIError.invalid("timeout_ms must be an integer from 0 to 600000.", param: "timeout_ms")
                }
                timeout = t
            }
            guard let scheduler = scheduler() else { throw APIError.internalError() }
            return .deferred { answer in
                var timer: ScheduledAction?
                var cancelWait: (() -> Void)?
                var done = false
                cancelWait = journal.wait(filter) { entry in
                    guard !done else { return }
                    done = true
                    timer?.cancel()
                    answer(.json(["matched": .bool(entry != nil), "entry": entry?.json ?? .null]))
                }
                if done { return }
                timer = scheduler.schedule(after: timeout) {
                    guard !done else { return }
                    done = true
                    cancelWait?()
                    answer(.json(["matched": false, "entry": .null]))
                }
                // A client that hangs up frees its waiter and timer now, not at the timeout.
                answer.onAbandoned = {
                    guard !done else { return }
                    done = true
                    timer?.cancel()
                    cancelWait?()
                }
            }
        }
        routes.add("GET", "/faults") { _ throws(APIError) in .json(["data": .array(faults.faults.map(\.json))]) }
        routes.add("POST", "/faults") { ctx throws(APIError) in
            let body = try ctx.objectBody()
            let fault = try ctx.decode { () throws(JSONReadError) in
                try FaultBook.Fault(body: body, id: makeID("fault"))
            }
            faults.add(fault)
            return .json(201, fault.json)
        }
        routes.add("DELETE", "/faults") { _ throws(APIError) in
            faults.clear()
            return .json(["data": []])
        }
        routes.add("DELETE", "/faults/{fault_id}") { ctx throws(APIError) in
            guard faults.remove(ctx.param("fault_id")) else {
                throw APIError.notFound("Fault '\(ctx.param("fault_id"))' was not found.")
            }
            return .json(["data": .array(faults.faults.map(\.json))])
        }
    }

    static func filter(_ query: Query, journal: RequestJournal) throws(APIError) -> RequestJournal.Filter {
        var since = 0
        if let raw = query.first("since") {
            guard let n = Int(raw), n >= 0 else {
                throw APIError.invalid("since must be a sequence number (an entry's seq, or last_seq).", param: "since")
            }
            // A since from before a reset (sequence numbers restart) would hide new requests.
            guard n <= journal.lastSeq else {
                throw APIError.invalid(
                    "since \(n) is after the journal's last_seq \(journal.lastSeq); sequence numbers restart at reset.",
                    param: "since")
            }
            since = n
        }
        return RequestJournal.Filter(method: query.first("method"), path: query.first("path"), since: since)
    }
}
