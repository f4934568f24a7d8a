import MockHTTP
import MockJSON
import XCTest

@testable import MockApp
@testable import MockDomain

/// Drives the app with request values, as a transport would, without sockets:
/// streams write into recording sinks, and timers wait on a scheduler that the
/// test advances, so streams, waits and delays are tested deterministically.
final class AppDriver {
    let app: MockApplication
    let scheduler = ManualScheduler()

    init(
        fixture: JSON? = nil, config: AppConfig = AppConfig(), frozenAt: String? = "2026-06-15T09:00:00.000Z",
        clock: MockClock? = nil
    ) throws {
        var config = config
        if config.seed == nil { config.seed = 42 }
        let clock = clock ?? MockClock()
        if let frozenAt, clock.mode == .real { clock.freeze(at: Timestamp.parse(frozenAt)!) }
        let doc = try fixture ?? JSON.parse(BundledResources.defaultFixtureBytes!)
        app = try MockApplication(config: config, fixture: doc, clock: clock)
        app.scheduler = scheduler
    }

    func request(
        _ method: String, _ target: String, token: String? = "t", headers: [(String, String)] = [], body: String? = nil
    ) -> HTTPRequest {
        var h = HTTPHeaders(headers)
        if let token { h.add("Authorization", "Bearer \(token)") }
        return HTTPRequest(method: method, target: target, headers: h, body: Array((body ?? "").utf8))
    }

    /// Sends a request whose answer is whole, now (an event stream's head has an empty body).
    @discardableResult
    func send(
        _ method: String, _ target: String, token: String? = "t", headers: [(String, String)] = [], body: String? = nil
    ) -> HTTPResponse {
        switch app.respond(to: request(method, target, token: token, headers: headers, body: body)) {
        case .response(let r): return r
        case .stream(let s):
            // A body of known length (the state export) is read whole, as a client would.
            guard s.headers["Content-Length"] != nil else { return HTTPResponse(status: s.status, headers: s.headers) }
            let sink = RecordingSink()
            s.start(sink)
            XCTAssertTrue(sink.finished, "a stream of known length ends once written")
            return HTTPResponse(status: s.status, headers: s.headers, body: Array(sink.frames.joined()))
        case .deferred:
            XCTFail("unexpected deferred reply")
            return HTTPResponse(status: 0)
        }
    }

    /// Sends a request and collects its answer as it comes: at once, after the
    /// scheduler runs what is due, or as a stream into a recording sink.
    func start(
        _ method: String, _ target: String, token: String? = "t", headers: [(String, String)] = [], body: String? = nil,
        sink: RecordingSink = RecordingSink()
    ) -> Exchange {
        let exchange = Exchange(sink: sink)
        exchange.take(app.respond(to: request(method, target, token: token, headers: headers, body: body)))
        return exchange
    }

    func json(_ method: String, _ target: String, token: String? = "t", body: String? = nil) throws -> JSON {
        try JSON.parse(send(method, target, token: token, body: body).body)
    }

    func ids(_ target: String) throws -> [String] {
        try json("GET", target)["data"]!.arrayValue!.map { $0["id"]!.stringValue! }
    }
}

/// One request's answer as it arrives.
final class Exchange {
    let sink: RecordingSink
    private(set) var response: HTTPResponse?
    private(set) var streamHead: StreamReply?

    init(sink: RecordingSink) { self.sink = sink }

    func take(_ reply: Reply) {
        switch reply {
        case .response(let r): response = r
        case .stream(let s):
            streamHead = s
            s.start(sink)
        case .deferred(let body): body(PendingAnswer { [weak self] inner in self?.take(inner) })
        }
    }

    var answered: Bool { response != nil || streamHead != nil }
    var status: Int? { response?.status ?? streamHead?.status }
}

/// A scheduler whose time moves only when the test says so.
final class ManualScheduler: Scheduler {
    private struct Timer {
        let id: Int
        let due: Int
        let action: () -> Void
    }

    private(set) var now = 0
    private var timers: [Timer] = []
    private var nextID = 0

    var pendingCount: Int { timers.count }

    func schedule(after milliseconds: Int, _ action: @escaping () -> Void) -> ScheduledAction {
        nextID += 1
        let id = nextID
        timers.append(Timer(id: id, due: now + milliseconds, action: action))
        return ScheduledAction { [weak self] in self?.timers.removeAll { $0.id == id } }
    }

    /// Runs the earliest timer due now, if any, and nothing it schedules.
    func runNext() {
        guard let next = timers.filter({ $0.due <= now }).min(by: { ($0.due, $0.id) < ($1.due, $1.id) }) else { return }
        timers.removeAll { $0.id == next.id }
        next.action()
    }

    /// Moves time forward, running each timer that falls due, in due order.
    func advance(by milliseconds: Int) {
        let target = now + milliseconds
        while let next = timers.filter({ $0.due <= target }).min(by: { ($0.due, $0.id) < ($1.due, $1.id) }) {
            timers.removeAll { $0.id == next.id }
            now = next.due
            next.action()
        }
        now = target
    }
}

/// A stream sink that records what is written. By default it keeps nothing queued;
/// a test can make it hold bytes (a slow reader) and let them drain.
final class RecordingSink: StreamSink {
    private(set) var frames: [[UInt8]] = []
    private(set) var keepAlives: [[UInt8]] = []
    private(set) var finished = false
    private(set) var aborted = false
    var onClose: (() -> Void)?
    var onQuiet: (() -> Void)?
    /// When set, written bytes stay queued until `drain`; past `bound` the stream ends.
    var holdsBytes = false
    var bound = Int.max
    var paceBytes = Int.max
    var limitBytes: Int { bound }
    private(set) var bufferedBytes = 0
    private var waiter: (threshold: Int, action: () -> Void)?

    var isOpen: Bool { !finished && !aborted }

    func write(_ bytes: [UInt8]) -> Bool {
        guard isOpen else { return false }
        if holdsBytes && bufferedBytes > 0 && bufferedBytes + bytes.count > bound {
            finish()
            return false
        }
        frames.append(bytes)
        if holdsBytes { bufferedBytes += bytes.count }
        return true
    }

    func keepAlive(_ bytes: [UInt8]) {
        guard isOpen else { return }
        keepAlives.append(bytes)
    }

    func finish() {
        guard isOpen else { return }
        finished = true
        waiter = nil
        onClose?()
    }

    func abort() {
        guard isOpen else { return }
        aborted = true
        waiter = nil
    }

    func whenDrained(to threshold: Int, _ action: @escaping () -> Void) {
        guard isOpen else { return }
        if bufferedBytes <= threshold {
            action()
        } else {
            waiter = (threshold, action)
        }
    }

    /// The reader takes `bytes` (all by default).
    func drain(_ bytes: Int = .max) {
        bufferedBytes = max(0, bufferedBytes - bytes)
        if let w = waiter, bufferedBytes <= w.threshold {
            waiter = nil
            w.action()
        }
    }

    /// The peer goes away: like the server's sink, it lets go of whoever waits to write.
    func disconnect() {
        aborted = true
        waiter = nil
        onClose?()
    }

    /// The `id:` of each event frame, in order.
    var eventIDs: [String] {
        frames.compactMap { frame in
            let text = String(decoding: frame, as: UTF8.self)
            guard text.hasPrefix("id: ") else { return nil }
            return String(text.dropFirst(4).prefix { $0 != "\n" })
        }
    }
}

/// The export as `GET /_mock/state` sends it: written by one `ExportWriter` in parts of at
/// least `size` bytes, each part adding something, joined.
func exportInParts(_ store: Store, of size: Int, file: StaticString = #filePath, line: UInt = #line) -> [UInt8] {
    let writer = Fixture.ExportWriter(store)
    var out: [UInt8] = []
    while !writer.isFinished {
        let before = out.count
        writer.write(into: &out, atLeast: size)
        guard out.count > before else {
            XCTFail("a part added nothing", file: file, line: line)
            break
        }
    }
    XCTAssertEqual(out.count, writer.byteCount, "the measured size", file: file, line: line)
    return out
}

let seedSession = "sess_019f00000000000000000000000000aa"
let seedCoordinator = "sthr_019f00000000000000000000000001aa"
let seedChild = "sthr_019f00000000000000000000000002bb"

/// Asserts the error envelope exactly (request id compared separately).
func assertError(
    _ r: HTTPResponse, _ status: Int, _ type: String, _ message: String, param: String? = nil,
    file: StaticString = #filePath, line: UInt = #line
) throws {
    XCTAssertEqual(r.status, status, r.bodyText, file: file, line: line)
    let rid = try XCTUnwrap(r.headers["x-request-id"], file: file, line: line)
    XCTAssertEqual(r.headers["request-id"], rid, file: file, line: line)
    XCTAssertEqual(r.headers["Content-Type"], "application/json", file: file, line: line)
    var error: [(String, JSON)] = [("type", .string(type)), ("message", .string(message))]
    if let param { error.append(("param", .string(param))) }
    let expected = JSON.object([("type", "error"), ("request_id", .string(rid)), ("error", .object(error))])
    XCTAssertEqual(r.bodyText, expected.encodedString(), file: file, line: line)
}
