import MockHTTP
import MockJSON
import XCTest

@testable import MockApp
@testable import MockDomain

final class ArchiveTests: XCTestCase {
    /// A session whose coordinator is blocked on `child`, with mail in the child's box.
    static let fixture = #"""
        {"agents":[{"id":"agent_c","name":"coord","model":"ultimate","version":1},{"id":"agent_w","name":"Worker","model":"ultimate","version":3}],
         "sessions":[{"id":"sess_1","agent":"agent_c","created_at":"2026-06-15T08:00:00.000Z","threads":[
           {"id":"sthr_c","role":"coordinator","agent_id":"agent_c","status":"blocked","waiting_on":{"thread_id":"sthr_w","tool_use_id":"toolu_1"},"events":[]},
           {"id":"sthr_w","role":"child","parent_thread_id":"sthr_c","agent_id":"agent_w","status":"idle","created_by_tool_use_id":"toolu_1",
            "mailbox":[{"id":"msg_1","from_thread_id":"sthr_c","content":"a","status":"pending"},
                       {"id":"msg_2","from_thread_id":"sthr_c","content":[{"type":"text","text":"b"}],"status":"delivered"},
                       {"id":"msg_3","from_thread_id":"sthr_c","content":"c","status":"pending"}]},
           {"id":"sthr_r","role":"child","parent_thread_id":"sthr_c","agent_id":"agent_w","status":"running"},
           {"id":"sthr_t","role":"child","parent_thread_id":"sthr_c","agent_id":"agent_w","status":"terminated"}
         ]}]}
        """#

    func driver() throws -> AppDriver { try AppDriver(fixture: try JSON.parse(Self.fixture)) }

    func testArchiveDoesEverythingInOneStep() throws {
        let d = try driver()
        let r = d.send("POST", "/v1/sessions/sess_1/threads/sthr_w/archive")
        XCTAssertEqual(r.status, 200, r.bodyText)
        let t = try JSON.parse(r.body)
        XCTAssertEqual(t["status"], "archived")
        XCTAssertEqual(t["stop_reason"], ["type": "archive"])
        XCTAssertEqual(t["archived_at"], "2026-06-15T09:00:00.000Z")
        XCTAssertEqual(t["updated_at"], t["archived_at"])
        XCTAssertEqual(try d.json("GET", "/v1/sessions/sess_1/threads/sthr_w"), t)

        let mailbox = try d.json("GET", "/_mock/sessions/sess_1/threads/sthr_w/mailbox", token: nil)["data"]!
            .arrayValue!
        XCTAssertEqual(mailbox.map { $0["status"]!.stringValue! }, ["cancelled", "delivered", "cancelled"])

        let coordinator = try d.json("GET", "/v1/sessions/sess_1/threads/sthr_c")
        XCTAssertEqual(coordinator["status"], "running")
        XCTAssertEqual(coordinator["stop_reason"], .object([]))
        let cEvents = try d.json("GET", "/v1/sessions/sess_1/threads/sthr_c/events")["data"]!.arrayValue!
        XCTAssertEqual(
            cEvents.map { $0["type"]!.stringValue! }, ["agent.tool_result", "session.thread_status_running"])
        XCTAssertEqual(cEvents[0]["tool_use_id"], "toolu_1")
        XCTAssertEqual(cEvents[0]["content"], "Agent cancelled.")
        XCTAssertEqual(cEvents[0]["is_error"], true)
        XCTAssertEqual(cEvents[1]["status"], "running")
        XCTAssertEqual(cEvents[1]["agent_name"], "coord")
        XCTAssertEqual(cEvents[1]["session_thread_id"], "sthr_c")

        let wEvents = try d.json("GET", "/v1/sessions/sess_1/threads/sthr_w/events")["data"]!.arrayValue!
        XCTAssertEqual(wEvents.count, 1)
        let terminated = wEvents[0]
        XCTAssertEqual(terminated["type"], "session.thread_status_terminated")
        XCTAssertEqual(terminated["status"], "archived")
        XCTAssertEqual(terminated["stop_reason"], ["type": "archive"])
        XCTAssertEqual(terminated["agent_name"], "Worker")
        XCTAssertEqual(terminated["schema_version"], "1.0")
        XCTAssertEqual(terminated["session_id"], "sess_1")
        XCTAssertEqual(terminated["created_at"], "2026-06-15T09:00:00.000Z")

        // Archived is final: a second archive is refused and changes nothing.
        let before = try d.json("GET", "/_mock/state", token: nil)
        try assertError(
            d.send("POST", "/v1/sessions/sess_1/threads/sthr_w/archive"), 409, "invalid_request_error",
            "Thread 'sthr_w' is archived; only idle threads can be archived.")
        XCTAssertEqual(try d.json("GET", "/_mock/state", token: nil), before)
    }

    func testCoordinatorAndNonIdleChildrenAreRefusedWithoutChange() throws {
        let d = try driver()
        let before = try d.json("GET", "/_mock/state", token: nil)
        try assertError(
            d.send("POST", "/v1/sessions/sess_1/threads/sthr_c/archive"), 409, "invalid_request_error",
            "Thread 'sthr_c' is the session's coordinator; coordinator threads cannot be archived.")
        try assertError(
            d.send("POST", "/v1/sessions/sess_1/threads/sthr_r/archive"), 409, "invalid_request_error",
            "Thread 'sthr_r' is running; only idle threads can be archived.")
        try assertError(
            d.send("POST", "/v1/sessions/sess_1/threads/sthr_t/archive"), 409, "invalid_request_error",
            "Thread 'sthr_t' is terminated; only idle threads can be archived.")
        try assertError(
            d.send("POST", "/v1/sessions/sess_1/threads/sthr_nope/archive"), 404, "not_found_error",
            "Session thread 'sthr_nope' was not found.")
        XCTAssertEqual(try d.json("GET", "/_mock/state", token: nil), before)
    }

    func testArchiveAcceptsNoBodyEmptyJSONOrEmptyObjectAndRefusesBrokenJSON() throws {
        for body in [nil, "", "{}", " {} "] as [String?] {
            let d = try driver()
            let r = d.send(
                "POST", "/v1/sessions/sess_1/threads/sthr_w/archive", headers: [("Content-Type", "application/json")],
                body: body)
            XCTAssertEqual(r.status, 200, "body \(String(describing: body)): \(r.bodyText)")
        }
        let d = try driver()
        try assertError(
            d.send("POST", "/v1/sessions/sess_1/threads/sthr_w/archive", body: "{nope"), 400, "invalid_request_error",
            "Request body is not valid JSON: expected a string key at line 1, column 2 (byte 1).")
        XCTAssertEqual(try d.json("GET", "/v1/sessions/sess_1/threads/sthr_w")["status"], "idle")
    }

    func testCoordinatorWaitingOnAnotherThreadStaysBlocked() throws {
        let d = try driver()
        _ = try d.app.store.setStatus(sessionID: "sess_1", threadID: "sthr_r", StatusChange(status: .idle))
        XCTAssertEqual(d.send("POST", "/v1/sessions/sess_1/threads/sthr_r/archive").status, 200)
        XCTAssertEqual(try d.json("GET", "/v1/sessions/sess_1/threads/sthr_c")["status"], "blocked")
    }
}
