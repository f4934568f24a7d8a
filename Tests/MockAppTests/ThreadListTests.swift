import MockHTTP
import MockJSON
import XCTest

@testable import MockApp
@testable import MockDomain

final class ThreadListTests: XCTestCase {
    /// The list body kept for a repeated page follows every change of what it shows: a
    /// thread's status, a new thread, a filter, another session; and matches a fresh encoding.
    func testARepeatedListFollowsEveryChange() throws {
        let d = try AppDriver()
        let list = "/v1/sessions/\(seedSession)/threads"
        let first = d.send("GET", list).bodyText
        XCTAssertEqual(d.send("GET", list).bodyText, first)
        let changed = d.send(
            "POST", "/_mock/sessions/\(seedSession)/threads/\(seedChild)/status", body: #"{"status": "running"}"#)
        XCTAssertEqual(changed.status, 200)
        let after = try d.json("GET", list)
        XCTAssertEqual(after["data"]!.arrayValue![1]["status"], "running")
        XCTAssertNotEqual(d.send("GET", list).bodyText, first)
        XCTAssertEqual(try d.json("GET", list + "?limit=1")["has_more"], true)
        XCTAssertEqual(try d.json("GET", list)["has_more"], false)
        let created = try d.json("POST", "/v1/sessions", body: #"{"agent":"agent_019f000000000000000000000000001a"}"#)
        let other = try d.json("GET", "/v1/sessions/\(created["id"]!.stringValue!)/threads")
        XCTAssertEqual(other["data"]!.arrayValue!.count, 1)
        XCTAssertEqual(try d.json("GET", list)["data"]!.arrayValue!.count, 2)
        let page = try d.app.store.listThreads(sessionID: seedSession, page: PageRequest(query: Query()), statuses: [])
        XCTAssertEqual(d.send("GET", list).body, ListBody.encode(page, id: \.id) { $0.bytes })
    }

    func testSeedListMatchesTheSeedPageExample() throws {
        let d = try AppDriver()
        let r = d.send("GET", "/api/v1/cloud/sessions/\(seedSession)/threads")
        XCTAssertEqual(r.status, 200)
        let body = try JSON.parse(r.body)
        XCTAssertEqual(body["first_id"], .string(seedCoordinator))
        XCTAssertEqual(body["last_id"], .string(seedChild))
        XCTAssertEqual(body["has_more"], false)
        XCTAssertEqual(body["next_page"], .null)
        let coordinator = body["data"]!.arrayValue![0]
        let expected = try JSON.parse(
            #"{"id":"sthr_019f00000000000000000000000001aa","type":"session_thread","session_id":"sess_019f00000000000000000000000000aa","parent_thread_id":null,"agent":{"id":"agent_019f000000000000000000000000001a","type":"agent","name":"task-coordinator","model":"ultimate","version":1},"agent_id":"agent_019f000000000000000000000000001a","agent_version":1,"name":"","role":"coordinator","status":"idle","stop_reason":{"type":"end_turn"},"created_by_tool_use_id":null,"archived_at":null,"created_at":"2026-06-15T08:00:00.000Z","updated_at":"2026-06-15T08:05:00.000Z"}"#
        )
        XCTAssertEqual(coordinator, expected)
    }

    func testBothPrefixesAndTrailingSlashAreTheSameHandler() throws {
        let d = try AppDriver()
        let a = d.send("GET", "/api/v1/cloud/sessions/\(seedSession)/threads").bodyText
        XCTAssertEqual(d.send("GET", "/v1/sessions/\(seedSession)/threads").bodyText, a)
        XCTAssertEqual(d.send("GET", "/v1/sessions/\(seedSession)/threads/").bodyText, a)
    }

    func testCoordinatorIsCreatedOnFirstListExactlyOnce() throws {
        let d = try AppDriver()
        let created = try d.json("POST", "/v1/sessions", body: #"{"agent":"agent_019f000000000000000000000000001a"}"#)
        let sid = created["id"]!.stringValue!
        XCTAssertEqual(created["status"], "idle")
        let first = try d.json("GET", "/v1/sessions/\(sid)/threads")
        let data = first["data"]!.arrayValue!
        XCTAssertEqual(data.count, 1)
        let c = data[0]
        XCTAssertEqual(c["role"], "coordinator")
        XCTAssertEqual(c["status"], "idle")
        XCTAssertEqual(c["stop_reason"], .object([]))
        XCTAssertEqual(c["parent_thread_id"], .null)
        XCTAssertEqual(c["name"], "")
        XCTAssertEqual(c["agent"]!["name"], "task-coordinator")
        XCTAssertTrue(c["id"]!.stringValue!.hasPrefix("sthr_"))
        XCTAssertEqual(c["id"]!.stringValue!.count, 5 + 32)
        let second = try d.json("GET", "/v1/sessions/\(sid)/threads")
        XCTAssertEqual(second["data"]!.arrayValue!.map { $0["id"] }, [c["id"]])
        XCTAssertEqual(try d.json("GET", "/v1/sessions/\(sid)/threads?statuses[]=running")["data"], .array([]))
        XCTAssertEqual(d.app.store.sessionsByID[sid]!.threads.count, 1)
    }

    func testCoordinatorFirstThenChildrenByCreation() throws {
        let d = try AppDriver()
        var made: [String] = []
        for _ in 0..<3 {
            var plan = ChildPlan()
            plan.agent = AgentReference(id: d.app.store.agents[1].id)
            let t = try d.app.store.createChild(sessionID: seedSession, plan)
            made.append(t.id)
        }
        XCTAssertEqual(try d.ids("/v1/sessions/\(seedSession)/threads"), [seedCoordinator, seedChild] + made)
        XCTAssertEqual(
            try d.ids("/v1/sessions/\(seedSession)/threads?order=desc"),
            ([seedCoordinator, seedChild] + made).reversed())
    }

    func testStatusFilterIsRepeatableAndPercentEncodedKeysWork() throws {
        let d = try AppDriver()
        XCTAssertEqual(try d.ids("/v1/sessions/\(seedSession)/threads?statuses[]=running"), [seedChild])
        XCTAssertEqual(try d.ids("/v1/sessions/\(seedSession)/threads?statuses%5B%5D=idle"), [seedCoordinator])
        XCTAssertEqual(
            try d.ids("/v1/sessions/\(seedSession)/threads?statuses[]=running&statuses[]=idle"),
            [seedCoordinator, seedChild])
        XCTAssertEqual(try d.ids("/v1/sessions/\(seedSession)/threads?statuses[]=archived"), [])
    }

    func testUnknownSessionAndForeignThreadAreNotFound() throws {
        let d = try AppDriver()
        try assertError(
            d.send("GET", "/v1/sessions/sess_x/threads"), 404, "not_found_error", "Session 'sess_x' was not found.")
        let other = try d.json("POST", "/v1/sessions", body: #"{"agent":"agent_019f000000000000000000000000001a"}"#)
        let sid = other["id"]!.stringValue!
        try assertError(
            d.send("GET", "/v1/sessions/\(sid)/threads/\(seedChild)"), 404, "not_found_error",
            "Session thread '\(seedChild)' was not found.")
        try assertError(
            d.send("POST", "/v1/sessions/\(sid)/threads/\(seedChild)/archive"), 404, "not_found_error",
            "Session thread '\(seedChild)' was not found.")
        try assertError(
            d.send("GET", "/v1/sessions/\(sid)/threads/\(seedChild)/events"), 404, "not_found_error",
            "Session thread '\(seedChild)' was not found.")
    }

    func testRetrieveThread() throws {
        let d = try AppDriver()
        let t = try d.json("GET", "/v1/sessions/\(seedSession)/threads/\(seedChild)")
        XCTAssertEqual(t["status"], "running")
        XCTAssertEqual(t["created_by_tool_use_id"], "toolu_bdrk_01T42NPLcKrBvLJfWgGt3QMt")
    }
}

final class QueryFidelityTests: XCTestCase {
    /// Only the documented bracketed names filter; the service ignores the others, so
    /// a client that drops the brackets must see unfiltered results here too.
    func testUnbracketedArrayNamesAreUnknownParameters() throws {
        let d = try AppDriver()
        let all = try d.ids("/v1/sessions/\(seedSession)/threads")
        XCTAssertEqual(try d.ids("/v1/sessions/\(seedSession)/threads?statuses=running"), all)
        let events = "/v1/sessions/\(seedSession)/threads/\(seedChild)/events"
        XCTAssertEqual(try d.ids(events + "?types=session.thread_status_running").count, 2)
        XCTAssertEqual(try d.ids(events + "?types[]=session.thread_status_running").count, 1)
    }

    func testStatusValuesAreNotCommaLists() throws {
        let d = try AppDriver()
        try assertError(
            d.send("GET", "/v1/sessions/\(seedSession)/threads?statuses[]=running,idle"), 400, "invalid_request_error",
            "statuses[] has an unknown value 'running,idle'; expected one of idle, running, blocked, archived, terminated.",
            param: "statuses[]")
    }
}
