import MockHTTP
import MockJSON
import XCTest

@testable import MockApp
@testable import MockDomain

/// Journal waits and delay faults on a scheduler the test advances.
final class TimeTests: XCTestCase {
    let threads = "/v1/sessions/\(seedSession)/threads"

    func testAWaitIsAnsweredByTheFirstMatchingRequest() throws {
        let d = try AppDriver()
        let wait = d.start("GET", "/_mock/journal/wait?method=GET&path=/v1/sessions/*/threads&timeout_ms=1000")
        XCTAssertFalse(wait.answered)
        d.send("GET", "/v1/sessions/\(seedSession)")  // does not match
        XCTAssertFalse(wait.answered)
        d.send("GET", "/api/v1/cloud/sessions/\(seedSession)/threads")
        XCTAssertEqual(wait.status, 200)
        let body = try JSON.parse(wait.response!.body)
        XCTAssertEqual(body["matched"], true)
        XCTAssertEqual(body["entry"]?["path"], .string("/api/v1/cloud/sessions/\(seedSession)/threads"))
        XCTAssertEqual(d.scheduler.pendingCount, 0, "the timeout was cancelled")
    }

    func testAWaitAlreadySatisfiedAnswersAtOnceAndAnUnmatchedOneAtItsTimeout() throws {
        let d = try AppDriver()
        d.send("GET", threads)
        XCTAssertEqual(try JSON.parse(d.start("GET", "/_mock/journal/wait?path=/v1/*").response!.body)["matched"], true)
        let since = try d.json("GET", "/_mock/journal")["last_seq"]!.intValue!
        let wait = d.start("GET", "/_mock/journal/wait?path=/v1/*&since=\(since)&timeout_ms=250")
        d.scheduler.advance(by: 249)
        XCTAssertFalse(wait.answered)
        d.scheduler.advance(by: 1)
        XCTAssertEqual(try JSON.parse(wait.response!.body)["matched"], false)
    }

    func testAResetAnswersPendingWaitsUnmatched() throws {
        let d = try AppDriver()
        let wait = d.start("GET", "/_mock/journal/wait?path=/v1/*&timeout_ms=5000")
        d.send("POST", "/_mock/reset")
        XCTAssertEqual(try JSON.parse(wait.response!.body)["matched"], false)
    }

    func testADelayFaultHoldsTheAnswerForItsDelayOnly() throws {
        let d = try AppDriver()
        let fault = d.send("POST", "/_mock/faults", body: #"{"path":"/v1/sessions/*/threads","delay_ms":500}"#)
        XCTAssertEqual(fault.status, 201, fault.bodyText)
        let slow = d.start("GET", threads)
        d.scheduler.advance(by: 499)
        XCTAssertFalse(slow.answered)
        XCTAssertEqual(d.send("GET", threads).status, 200, "the fault was for one request")
        d.scheduler.advance(by: 1)
        XCTAssertEqual(slow.status, 200)
        XCTAssertEqual(slow.response?.headers["x-request-id"]?.hasPrefix("req_"), true)
    }

    func testADelayedErrorFaultAnswersWithItsEnvelopeAndRetryAfter() throws {
        let d = try AppDriver()
        d.send(
            "POST", "/_mock/faults",
            body: #"{"method":"GET","path":"/v1/sessions/*/threads","status":503,"retry_after":2,"delay_ms":100}"#)
        let x = d.start("GET", threads)
        XCTAssertFalse(x.answered)
        d.scheduler.advance(by: 100)
        let r = try XCTUnwrap(x.response)
        try assertError(r, 503, "api_error", "Injected fault: service unavailable.")
        XCTAssertEqual(r.headers["Retry-After"], "2")
        XCTAssertEqual(r.headers["retry-after-ms"], "2000")
        let journal = try d.json("GET", "/_mock/journal")
        XCTAssertEqual(journal["data"]?.arrayValue?.last?["status"], 503, "the journal saw the answer the client got")
    }
}
