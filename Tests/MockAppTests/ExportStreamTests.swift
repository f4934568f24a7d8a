import MockHTTP
import MockJSON
import XCTest

@testable import MockApp
@testable import MockDomain

/// `GET /_mock/state` is written part by part as the peer takes it; what it sends is the world
/// of the moment it was asked for, whatever happens to the world in between.
final class ExportStreamTests: XCTestCase {
    /// One session whose coordinator holds `events` events of about 250 bytes each.
    func fixture(events: Int) throws -> JSON {
        var out = #"{"tokens": ["t"], "agents": [{"id": "agent_a", "name": "A"}], "sessions": [{"id": "sess_a","#
        out += #" "agent": "agent_a", "created_at": "2026-06-15T08:00:00.000Z", "threads": [{"id": "sthr_a","#
        out += #" "role": "coordinator", "status": "idle", "events": ["#
        let text = String(repeating: "x", count: 160)
        for e in 0..<events {
            if e > 0 { out += "," }
            out += #"{"id": "evt_\#(e)", "type": "agent.message", "content": [{"type": "text", "text": "\#(text)"}]}"#
        }
        out += "]}]}]}"
        return try JSON.parse(Array(out.utf8), keepingEncoded: "events")
    }

    func testALargeExportIsSentInPartsAndIsOfItsMoment() throws {
        let d = try AppDriver(fixture: fixture(events: 3000))
        let whole = d.send("GET", "/_mock/state", token: nil)
        XCTAssertEqual(whole.status, 200)
        XCTAssertEqual(whole.headers["Content-Type"], "application/json")
        XCTAssertEqual(whole.headers["Content-Length"], String(whole.body.count))
        XCTAssertGreaterThan(whole.body.count, 4 * ExportStream.partBytes)
        XCTAssertTrue(try JSON.parse(whole.body) == Fixture.export(d.app.store))

        // A reader that takes nothing until told: one part is queued, and no more.
        let sink = RecordingSink()
        sink.holdsBytes = true
        let exchange = d.start("GET", "/_mock/state", token: nil, sink: sink)
        XCTAssertEqual(exchange.streamHead?.headers["Content-Length"], String(whole.body.count))
        XCTAssertEqual(sink.frames.count, 1)
        XCTAssertGreaterThanOrEqual(sink.frames[0].count, ExportStream.partBytes)
        XCTAssertLessThan(sink.frames[0].count, ExportStream.partBytes + 1024)

        // Meanwhile the world changes: an event more, then a reset.
        let added = d.send(
            "POST", "/_mock/sessions/sess_a/threads/sthr_a/events", token: nil,
            body: #"{"id": "evt_late", "type": "agent.message", "content": []}"#)
        XCTAssertEqual(added.status, 201, added.bodyText)
        let withLate = d.send("GET", "/_mock/state", token: nil).body
        XCTAssertEqual(withLate.count, whole.body.count + 1 + added.body.count - #"{"data":[]}"#.count)
        sink.drain()
        XCTAssertEqual(sink.frames.count, 2)
        // A reset hands the old world's events over to be freed a chunk at a time.
        XCTAssertEqual(d.send("POST", "/_mock/reset", token: nil).status, 200)

        var rounds = 0
        while !sink.finished && rounds < 100 {
            sink.drain()
            rounds += 1
        }
        XCTAssertTrue(sink.finished)
        // (Compared with ==: a failure's message would print megabytes.)
        XCTAssertTrue(Array(sink.frames.joined()) == whole.body, "the export of the moment it was asked for")
        XCTAssertTrue(d.send("GET", "/_mock/state", token: nil).body == whole.body, "the reset world")
    }

    func testAReaderThatLeavesStopsTheExport() throws {
        let d = try AppDriver(fixture: fixture(events: 3000))
        let sink = RecordingSink()
        sink.holdsBytes = true
        _ = d.start("GET", "/_mock/state", token: nil, sink: sink)
        XCTAssertEqual(sink.frames.count, 1)
        sink.disconnect()
        sink.drain()
        XCTAssertEqual(sink.frames.count, 1, "nothing is written for a reader that left")
        XCTAssertFalse(sink.finished)
    }

    func testASmallExportIsOnePart() throws {
        let d = try AppDriver()
        let sink = RecordingSink()
        sink.holdsBytes = true
        let exchange = d.start("GET", "/_mock/state", token: nil, sink: sink)
        XCTAssertEqual(sink.frames.count, 1)
        XCTAssertTrue(sink.finished)
        XCTAssertEqual(exchange.streamHead?.headers["Content-Length"], String(sink.frames[0].count))
        XCTAssertEqual(sink.frames[0], Fixture.export(d.app.store).encoded())
    }
}
