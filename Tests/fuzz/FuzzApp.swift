// What the fixture and HTTP targets share: an application on the default fixture, built once
// per process (frozen clock, fixed seed, no logging), a scheduler whose time moves only when a
// target says so, a stream sink that keeps nothing, and the checks every answer must pass.

import Logging
import MockApp
import MockDomain
import MockHTTP
import MockJSON

final class FuzzApp {
    let app: MockApplication
    let scheduler = FuzzScheduler()
    /// The default world's export, as the app starts and after every reset.
    let initialState: [UInt8]

    init() {
        var config = AppConfig()
        config.seed = 42
        let clock = MockClock(mode: .frozen(Timestamp.parse("2026-06-15T09:00:00.000Z")!))
        do {
            let fixture = try JSON.parse(BundledResources.defaultFixtureBytes!)
            app = try MockApplication(
                config: config, fixture: fixture, clock: clock,
                logger: Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() })
        } catch {
            fatalError("the default fixture does not load: \(error)")
        }
        app.scheduler = scheduler
        initialState = Fixture.export(app.store).encoded()
    }

    /// The world as `GET /_mock/state` writes it, without going through the journal.
    var state: [UInt8] { Fixture.export(app.store).encoded() }

    /// A request whose answer is whole and immediate (control routes used by the targets), then
    /// a loop turn (a replaced world is freed on the next turns).
    func call(_ method: String, _ target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [])
        -> HTTPResponse
    {
        let request = HTTPRequest(method: method, target: target, headers: headers, body: body)
        guard case .response(let r) = app.respond(to: request) else {
            fatalError("\(method) \(target) did not answer at once")
        }
        checkAnswer(r.status, r.headers, r.body, strict: app.faults.faults.isEmpty)
        scheduler.advance(by: 0)
        return r
    }
}

/// Timers that fire only when `advance` is called.
final class FuzzScheduler: Scheduler {
    private var timers: [(id: Int, due: Int, action: () -> Void)] = []
    private var now = 0
    private var nextID = 0

    var isEmpty: Bool { timers.isEmpty }

    func schedule(after milliseconds: Int, _ action: @escaping () -> Void) -> ScheduledAction {
        nextID += 1
        let id = nextID
        timers.append((id, now + max(0, milliseconds), action))
        return ScheduledAction { [weak self] in self?.timers.removeAll { $0.id == id } }
    }

    /// Moves time forward, running what falls due in due order (a bounded number: a timer
    /// that keeps scheduling itself must not hang the run).
    func advance(by milliseconds: Int) {
        let target = now + milliseconds
        var fired = 0
        while fired < 1000,
            let next = timers.filter({ $0.due <= target }).min(by: { ($0.due, $0.id) < ($1.due, $1.id) })
        {
            timers.removeAll { $0.id == next.id }
            now = next.due
            next.action()
            fired += 1
        }
        now = target
    }
}

/// A stream's sink that takes every frame at once and counts them.
final class CountingSink: StreamSink {
    private(set) var frames = 0
    private(set) var ended = false
    var onClose: (() -> Void)?
    var onQuiet: (() -> Void)?
    var isOpen: Bool { !ended }
    var bufferedBytes: Int { 0 }
    var paceBytes: Int { 1 << 20 }
    var limitBytes: Int { 8 << 20 }

    func write(_ bytes: [UInt8]) -> Bool {
        guard isOpen else { return false }
        frames += 1
        return true
    }

    func keepAlive(_ bytes: [UInt8]) {}
    func finish() { ended = true }
    func abort() { ended = true }
    func whenDrained(to threshold: Int, _ action: @escaping () -> Void) { if isOpen { action() } }

    /// The peer goes away.
    func disconnect() {
        guard isOpen else { return }
        ended = true
        onClose?()
    }
}

/// What every answer must be: a status in 100...599, both request-id headers, the same; and
/// an error (4xx, 5xx) in the envelope `{"type":"error","request_id",
/// "error":{"type","message"[,"param"]}}` with the same request id. `strict` (no injected
/// faults) also asks for a message and the envelope type the status maps to.
func checkAnswer(_ status: Int, _ headers: HTTPHeaders, _ body: [UInt8]?, strict: Bool) {
    expect((100...599).contains(status), "status \(status)")
    let requestID = headers["x-request-id"]
    expect(requestID != nil && requestID == headers["request-id"], "request id headers: \(headers)")
    guard let body else { return }  // a stream
    if headers["Content-Type"] == "application/json" && !body.isEmpty {
        do throws(JSONSyntaxError) {
            _ = try JSON.parse(body, maxDepth: Fixture.maxDepth + 8)
        } catch {
            fatalError("a \(status) answer's JSON does not parse: \(error)")
        }
    }
    guard status >= 400 else { return }
    guard let envelope = try? JSON.parse(body), let top = envelope.objectValue else {
        fatalError("a \(status) answer is not a JSON object: \(text(body))")
    }
    expect(top.map(\.0) == ["type", "request_id", "error"], "envelope keys \(top.map(\.0))")
    expect(envelope["type"] == "error", "envelope type \(String(describing: envelope["type"]))")
    expect(envelope["request_id"]?.stringValue == requestID, "envelope request id")
    guard let error = envelope["error"]?.objectValue else { fatalError("envelope without an error object") }
    let keys = error.map(\.0)
    expect(keys == ["type", "message"] || keys == ["type", "message", "param"], "error keys \(keys)")
    guard let type = envelope["error"]?["type"]?.stringValue, let message = envelope["error"]?["message"]?.stringValue
    else { fatalError("error type and message must be strings: \(text(body))") }
    expect(envelope["error"]?["param"].map { $0.stringValue != nil } ?? true, "error param must be a string")
    guard strict else { return }
    expect(!message.isEmpty, "an empty error message")
    let types: [Int: Set<String>] = [
        400: ["invalid_request_error"], 401: ["authentication_error"], 404: ["not_found_error"],
        405: ["invalid_request_error"], 409: ["invalid_request_error", "conflict_error"],
        413: ["invalid_request_error"], 429: ["rate_limit_error"], 500: ["api_error"], 503: ["api_error"],
    ]
    expect(types[status]?.contains(type) ?? false, "status \(status) with error type '\(type)'")
}
