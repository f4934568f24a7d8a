import MockHTTP
import MockJSON
import XCTest

@testable import MockApp
@testable import MockDomain

/// Turns on a running clock: the agenda's timer, set through the transport's
/// scheduler, plays each step when its time comes; freezing the clock takes the
/// timer away, and advancing a frozen clock plays what falls due.
final class TurnTests: XCTestCase {
    /// A "real" time the test moves, so the running clock is deterministic.
    final class Wall {
        var now: Int64 = 1_781_514_000_000
    }

    func makeDriver(_ wall: Wall) throws -> AppDriver {
        let clock = MockClock(mode: .offset(0), realNow: { wall.now })
        return try AppDriver(frozenAt: nil, clock: clock)
    }

    func startTurn(_ d: AppDriver) throws -> String {
        let agent = try d.json("POST", "/v1/agents", body: #"{"name": "Echo", "model": "ultimate"}"#)
        let session = try d.json("POST", "/v1/sessions", body: #"{"agent": "\#(agent["id"]!.stringValue!)"}"#)
        let sid = session["id"]!.stringValue!
        let sent = d.send(
            "POST", "/v1/sessions/\(sid)/events", body: #"{"events": [{"type": "user.message", "content": "hi"}]}"#)
        XCTAssertEqual(sent.status, 200)
        return sid
    }

    func types(_ d: AppDriver, _ sid: String) throws -> [String] {
        try d.json("GET", "/v1/sessions/\(sid)/events?limit=100")["data"]!.arrayValue!.map { $0["type"]!.stringValue! }
    }

    func step(_ d: AppDriver, _ wall: Wall, by ms: Int) {
        wall.now += Int64(ms)
        d.scheduler.advance(by: ms)
    }

    func testARunningClockPlaysEachStepWhenItsTimerFires() throws {
        let wall = Wall()
        let d = try makeDriver(wall)
        let sid = try startTurn(d)
        XCTAssertEqual(d.scheduler.pendingCount, 1, "one timer, for the earliest step")
        XCTAssertEqual(try types(d, sid).count, 3)
        step(d, wall, by: 399)
        XCTAssertEqual(try d.json("GET", "/v1/sessions/\(sid)")["status"], "running")
        XCTAssertFalse(try types(d, sid).contains("agent.message"))
        step(d, wall, by: 1)
        XCTAssertEqual(
            try types(d, sid),
            [
                "user.message", "session.thread_status_running", "session.status_running", "agent.message",
                "session.thread_status_idle", "session.status_idle",
            ])
        XCTAssertEqual(d.scheduler.pendingCount, 0, "nothing left to play, no timer")
    }

    func testFreezingTakesTheTimerAwayAndAdvancingPlaysWhatFallsDue() throws {
        let wall = Wall()
        let d = try makeDriver(wall)
        let sid = try startTurn(d)
        d.send("POST", "/_mock/clock/freeze")
        XCTAssertEqual(d.scheduler.pendingCount, 0)
        step(d, wall, by: 10_000)
        XCTAssertEqual(try d.json("GET", "/v1/sessions/\(sid)")["status"], "running", "a frozen clock holds the turn")
        let advanced = try d.json("POST", "/_mock/clock/advance", body: #"{"ms": 400}"#)
        XCTAssertEqual(advanced["steps_played"], 5)
        XCTAssertEqual(try d.json("GET", "/v1/sessions/\(sid)")["status"], "idle")
        // Resuming with a new turn pending arms the timer again.
        d.send("POST", "/v1/sessions/\(sid)/events", body: #"{"events": [{"type": "user.message", "content": "2"}]}"#)
        XCTAssertEqual(d.scheduler.pendingCount, 0)
        d.send("POST", "/_mock/clock/resume")
        XCTAssertEqual(d.scheduler.pendingCount, 1)
    }

    func testResetDropsEveryPendingStep() throws {
        let wall = Wall()
        let d = try makeDriver(wall)
        _ = try startTurn(d)
        d.send("POST", "/_mock/reset")
        XCTAssertTrue(d.app.store.agenda.isEmpty)
        d.scheduler.advance(by: 0)  // frees the replaced world; a turn timer would still be pending
        XCTAssertEqual(d.scheduler.pendingCount, 0)
    }
}
