import MockHTTP
import XCTest

@testable import MockCore

/// Drives the app with request values, as a transport would, without sockets.
final class AppDriver {
    let app: MockApp
    let scheduler = ManualScheduler()

    init(fixture: JSON? = nil, config: AppConfig = AppConfig(), frozenAt: String? = "2026-06-15T09:00:00.000Z") throws {
        var config = config
        if config.seed == nil { config.seed = 42 }
        let clock = MockClock()
        if let frozenAt { clock.freeze(at: Timestamp.parse(frozenAt)!) }
        let doc = try fixture ?? JSON.parse(BundledResources.defaultFixtureBytes!)
        app = try MockApp(config: config, fixture: doc, clock: clock)
        app.scheduler = scheduler
    }

    @discardableResult
    func send(
        _ method: String, _ target: String, token: String? = "t", headers: [(String, String)] = [], body: String? = nil
    ) -> HTTPResponse {
        var h = HTTPHeaders(headers)
        if let token { h.add("Authorization", "Bearer \(token)") }
        let request = HTTPRequest(method: method, target: target, headers: h, body: Array((body ?? "").utf8))
        switch app.respond(to: request) {
        case .response(let r): return r
        case .stream(let s): return HTTPResponse(status: s.status, headers: s.headers, body: [])
        case .deferred:
            XCTFail("unexpected deferred reply")
            return HTTPResponse(status: 0)
        }
    }

    func json(_ method: String, _ target: String, token: String? = "t", body: String? = nil) throws -> JSON {
        try JSON.parse(send(method, target, token: token, body: body).body)
    }

    func ids(_ target: String) throws -> [String] {
        try json("GET", target)["data"]!.arrayValue!.map { $0["id"]!.stringValue! }
    }
}

final class ManualScheduler: Scheduler {
    var pending: [(Int, () -> Void)] = []
    func schedule(after milliseconds: Int, _ action: @escaping () -> Void) -> ScheduledAction {
        pending.append((milliseconds, action))
        return ScheduledAction {}
    }
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
