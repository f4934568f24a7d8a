import MockHTTP
import MockJSON
import XCTest

@testable import MockApp
@testable import MockDomain

final class PaginationTests: XCTestCase {
    var d: AppDriver!
    var threadPath: String { "/v1/sessions/\(seedSession)/threads/\(seedChild)/events" }

    override func setUpWithError() throws {
        d = try AppDriver()
        try appendEvents(43)  // 45 events in all
    }

    func appendEvents(_ n: Int) throws {
        for i in 0..<n {
            _ = try d.app.store.appendSuppliedEvents(
                sessionID: seedSession, threadID: seedChild,
                [["type": i % 2 == 0 ? "agent.message" : "agent.tool_use", "n": .int(i)]])
        }
    }

    var allIDs: [String] { try! d.app.store.thread(seedChild, in: seedSession).events.map(\.id) }

    func page(_ query: String) throws -> JSON { try d.json("GET", threadPath + "?" + query) }

    func testDefaultLimitIsTwentyAndCapIsHundred() throws {
        XCTAssertEqual(try page("")["data"]!.arrayValue!.count, 20)
        try appendEvents(100)
        XCTAssertEqual(try page("limit=101")["data"]!.arrayValue!.count, 100)
        XCTAssertEqual(try page("limit=100000000000000000000000")["data"]!.arrayValue!.count, 100)
        XCTAssertEqual(try page("limit=1")["data"]!.arrayValue!.count, 1)
    }

    func testBadLimitsAndOrders() throws {
        let message = "limit must be an integer between 1 and 100."
        for bad in ["abc", "0", "-1", "1e3", "2.0", "", "+5", "%20"] {
            try assertError(
                d.send("GET", threadPath + "?limit=\(bad)"), 400, "invalid_request_error", message, param: "limit")
        }
        try assertError(
            d.send("GET", threadPath + "?order=sideways"), 400, "invalid_request_error",
            "order must be 'asc' or 'desc', got 'sideways'.", param: "order")
    }

    func testPageFieldsAndEmptyPage() throws {
        let ids = allIDs
        let p = try page("limit=10")
        XCTAssertEqual(p["first_id"], .string(ids[0]))
        XCTAssertEqual(p["last_id"], .string(ids[9]))
        XCTAssertEqual(p["has_more"], true)
        XCTAssertNotEqual(p["next_page"], .null)
        let last = try page("after_id=\(ids[44])")
        XCTAssertEqual(last["data"], .array([]))
        XCTAssertEqual(last["first_id"], .null)
        XCTAssertEqual(last["last_id"], .null)
        XCTAssertEqual(last["has_more"], false)
        XCTAssertEqual(last["next_page"], .null)
    }

    func testAfterAndBeforeInBothOrders() throws {
        let ids = allIDs
        XCTAssertEqual(try d.ids(threadPath + "?after_id=\(ids[4])&limit=3"), Array(ids[5...7]))
        XCTAssertEqual(try d.ids(threadPath + "?before_id=\(ids[10])&limit=3"), Array(ids[7...9]))
        XCTAssertEqual(try d.ids(threadPath + "?order=desc&limit=3"), [ids[44], ids[43], ids[42]])
        XCTAssertEqual(try d.ids(threadPath + "?order=desc&after_id=\(ids[10])&limit=3"), [ids[9], ids[8], ids[7]])
        XCTAssertEqual(try d.ids(threadPath + "?order=desc&before_id=\(ids[10])&limit=3"), [ids[13], ids[12], ids[11]])
        let before = try page("before_id=\(ids[2])&limit=5")
        XCTAssertEqual(before["data"]!.arrayValue!.map { $0["id"]!.stringValue! }, Array(ids[0...1]))
        XCTAssertEqual(before["has_more"], false)
        XCTAssertEqual(try page("before_id=\(ids[10])&limit=3")["has_more"], true)
    }

    func testCursorErrors() throws {
        try assertError(
            d.send("GET", threadPath + "?after_id=evt_nope"), 400, "invalid_request_error",
            "after_id 'evt_nope' is not in this collection.", param: "after_id")
        try assertError(
            d.send("GET", threadPath + "?before_id=evt_nope"), 400, "invalid_request_error",
            "before_id 'evt_nope' is not in this collection.", param: "before_id")
        try assertError(
            d.send("GET", threadPath + "?after_id=\(allIDs[0])&before_id=\(allIDs[3])"), 400, "invalid_request_error",
            "Only one of after_id, before_id and page may be given; got after_id, before_id.", param: "before_id")
        try assertError(
            d.send("GET", threadPath + "?page=garbage!"), 400, "invalid_request_error",
            "page is not a cursor this server issued.", param: "page")
        // A cursor from another collection is refused, not silently restarted.
        let foreign = try XCTUnwrap(PageToken.encode(.after(seedCoordinator)))
        try assertError(
            d.send("GET", threadPath + "?page=\(foreign)"), 400, "invalid_request_error",
            "page '\(seedCoordinator)' is not in this collection.", param: "page")
    }

    /// Walks with `next` until the end, appending `appendEvery` events between pages.
    func walk(_ first: String, next: (JSON) -> String?, appendBetween: Int) throws -> [String] {
        var seen: [String] = []
        var query: String? = first
        var guardCount = 0
        while let q = query {
            let p = try page(q)
            seen += p["data"]!.arrayValue!.map { $0["id"]!.stringValue! }
            query = p["has_more"] == true ? next(p) : nil
            if query != nil { try appendEvents(appendBetween) }
            guardCount += 1
            XCTAssertLessThan(guardCount, 200, "pagination does not end")
            if guardCount >= 200 { break }
        }
        return seen
    }

    func testWalkByNextPageVisitsEverythingOnceWhileAppending() throws {
        let seen = try walk("limit=7", next: { "limit=7&page=\($0["next_page"]!.stringValue!)" }, appendBetween: 2)
        XCTAssertEqual(seen, allIDs, "every item once, in order, including the ones appended during the walk")
        XCTAssertEqual(Set(seen).count, seen.count)
    }

    func testWalkByAfterIDVisitsEverythingOnceWhileAppending() throws {
        let seen = try walk("limit=7", next: { "limit=7&after_id=\($0["last_id"]!.stringValue!)" }, appendBetween: 3)
        XCTAssertEqual(seen, allIDs)
    }

    func testWalkBackwardsByBeforeIDVisitsEverythingOnce() throws {
        let original = allIDs
        let seen = try walk(
            "limit=7&order=desc", next: { "limit=7&order=desc&page=\($0["next_page"]!.stringValue!)" }, appendBetween: 2
        )
        XCTAssertEqual(seen, original.reversed())
        let start = try page("limit=6&before_id=\(original[44])")
        var ids = start["data"]!.arrayValue!.map { $0["id"]!.stringValue! }
        var p = start
        while p["has_more"] == true {
            p = try page("limit=6&before_id=\(p["first_id"]!.stringValue!)")
            ids = p["data"]!.arrayValue!.map { $0["id"]!.stringValue! } + ids
        }
        XCTAssertEqual(ids, Array(original[0..<44]))
    }

    func testBeforeIDWalkByNextPageKeepsDirection() throws {
        let ids = allIDs
        var p = try page("limit=10&before_id=\(ids[30])")
        var seen = p["data"]!.arrayValue!.map { $0["id"]!.stringValue! }
        while p["has_more"] == true {
            p = try page("limit=10&page=\(p["next_page"]!.stringValue!)")
            seen = p["data"]!.arrayValue!.map { $0["id"]!.stringValue! } + seen
        }
        XCTAssertEqual(seen, Array(ids[0..<30]))
    }

    func testTypeFiltersUnion() throws {
        let byType = try d.app.store.thread(seedChild, in: seedSession).events
        let messages = byType.filter { $0.type == "agent.message" }.map(\.id)
        let toolUses = byType.filter { $0.type == "agent.tool_use" }.map(\.id)
        XCTAssertEqual(try d.ids(threadPath + "?type=agent.message&limit=100"), messages)
        XCTAssertEqual(try d.ids(threadPath + "?types[]=agent.tool_use&limit=100"), toolUses)
        let union = byType.filter {
            $0.type != "session.thread_status_running" && $0.type != "agent.thread_message_sent"
        }
        .map(\.id)
        XCTAssertEqual(try d.ids(threadPath + "?type=agent.message&types[]=agent.tool_use&limit=100"), union)
        XCTAssertEqual(try d.ids(threadPath + "?type=agent.message,agent.tool_use&limit=100"), union)
        // A filtered walk by next_page also sees each matching item once.
        var seen: [String] = []
        var p = try page("types[]=agent.message&limit=4")
        seen += p["data"]!.arrayValue!.map { $0["id"]!.stringValue! }
        while p["has_more"] == true {
            p = try page("types[]=agent.message&limit=4&page=\(p["next_page"]!.stringValue!)")
            seen += p["data"]!.arrayValue!.map { $0["id"]!.stringValue! }
        }
        XCTAssertEqual(seen, messages)
    }

    func testUnknownQueryParametersAreIgnored() throws {
        XCTAssertEqual(try d.ids(threadPath + "?event_deltas[]=x&foo=bar&limit=2"), Array(allIDs[0...1]))
    }

    func testSessionsListIsNewestFirst() throws {
        let a = try d.json("POST", "/v1/sessions", body: #"{"agent":"agent_019f000000000000000000000000001a"}"#)
        let b = try d.json(
            "POST", "/v1/sessions",
            body:
                #"{"agent":{"type":"agent","id":"agent_019f000000000000000000000000002b","version":2},"title":"t","metadata":{"k":"v"},"environment_id":"env_1"}"#
        )
        XCTAssertEqual(b["title"], "t")
        XCTAssertEqual(b["agent"]!["version"], 2)
        XCTAssertEqual(try d.ids("/v1/sessions"), [b["id"]!.stringValue!, a["id"]!.stringValue!, seedSession])
        XCTAssertEqual(try d.ids("/v1/sessions?order=asc&limit=2"), [seedSession, a["id"]!.stringValue!])
        XCTAssertEqual(try d.json("GET", "/v1/sessions/\(seedSession)")["status"], "running")
    }

    /// A page walked over a type index is the page the scan finds, for every cursor, both
    /// orders, several limits, and filters that match much, little or nothing.
    func testPagesOverCandidatesAreThePagesOfTheScan() throws {
        let kinds = ["a", "b", "c"]
        // Deterministic, uneven: "c" is rare.
        var items: [(id: String, type: String)] = []
        for i in 0..<60 {
            let type: String = i % 17 == 0 ? "c" : kinds[(i * 7 + i / 3) % 2]
            items.append((id: "e\(i)", type: type))
        }
        let index = Dictionary(uniqueKeysWithValues: items.enumerated().map { ($1.id, $0) })
        for types in [Set(["a"]), ["c"], ["a", "c"], ["nope"], ["a", "b", "c"]] {
            let candidates = items.indices.filter { types.contains(items[$0].type) }.map { Int32($0) }
            let matches: ((id: String, type: String)) -> Bool = { types.contains($0.type) }
            var cursors: [PageRequest.Cursor] = [.none]
            for item in items { cursors += [.after(item.id), .before(item.id)] }
            for order in [PageRequest.Order.asc, .desc] {
                for limit in [1, 3, 100] {
                    for cursor in cursors {
                        let request = PageRequest(limit: limit, order: order, cursor: cursor)
                        let scan = try request.cut(items, id: { $0.id }, index: { index[$0] }, matches: matches)
                        let walk = try request.cut(
                            items, candidates: candidates, id: { $0.id }, index: { index[$0] }, matches: matches)
                        XCTAssertEqual(
                            scan.items.map(\.id), walk.items.map(\.id), "\(types) \(order) \(limit) \(cursor)")
                        XCTAssertEqual(scan.hasMore, walk.hasMore)
                        XCTAssertEqual(scan.nextCursor, walk.nextCursor)
                    }
                }
            }
        }
    }
}
