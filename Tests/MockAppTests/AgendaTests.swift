import XCTest

@testable import MockDomain

/// The agenda's heap: steps come out by due time then scheduling order, dropped
/// threads' steps never come out, and compaction keeps the order.
final class AgendaTests: XCTestCase {
    func step(_ seq: Int, due: Int64, thread: String = "t") -> ScheduledStep {
        ScheduledStep(seq: seq, sessionID: "s", threadID: thread, dueAt: due, action: .advance(step: "x"))
    }

    func testOrderByDueTimeThenSequence() {
        var agenda = Agenda()
        // A deterministic shuffle of due times with ties.
        var dues: [Int64] = []
        var x: Int64 = 7
        for _ in 0..<500 {
            x = (x * 48271) % 2_147_483_647
            dues.append(x % 50)
        }
        for (i, due) in dues.enumerated() { agenda.insert(step(i + 1, due: due)) }
        var out: [(Int64, Int)] = []
        while let s = agenda.popFirst() { out.append((s.dueAt, s.seq)) }
        XCTAssertEqual(out.count, 500)
        XCTAssertTrue(zip(out, out.dropFirst()).allSatisfy { $0 < $1 }, "strictly ordered by (due, seq)")
        XCTAssertTrue(agenda.isEmpty)
    }

    func testDroppedThreadsNeverComeOutAndCompactionKeepsOrder() {
        var agenda = Agenda()
        for i in 0..<300 {
            agenda.insert(step(i + 1, due: Int64(300 - i), thread: i % 3 == 0 ? "keep" : "drop\(i % 2)"))
        }
        agenda.remove(thread: "drop0")
        agenda.remove(thread: "drop1")
        XCTAssertEqual(agenda.count, 100)
        XCTAssertEqual(agenda.sorted().map(\.threadID), Array(repeating: "keep", count: 100))
        var last: Int64 = .min
        var n = 0
        while let s = agenda.popFirst() {
            XCTAssertEqual(s.threadID, "keep")
            XCTAssertGreaterThanOrEqual(s.dueAt, last)
            last = s.dueAt
            n += 1
        }
        XCTAssertEqual(n, 100)
    }
}
