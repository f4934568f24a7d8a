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

    /// Where a thread's events are stored, to see whether an append copied them.
    func eventStorage(_ thread: SessionThread) -> [UnsafeRawPointer?] {
        thread.log.events.storage
    }

    func testAnAppendWhileAnExportWaitsDoesNotCopyTheThreadsEvents() throws {
        let d = try AppDriver(fixture: fixture(events: 3000))
        let thread = try XCTUnwrap(d.app.store.anyThread("sthr_a"))
        thread.log.reserve(16)  // room to append in place
        let storage = eventStorage(thread)
        let whole = d.send("GET", "/_mock/state", token: nil).body

        let sink = RecordingSink()
        sink.holdsBytes = true
        _ = d.start("GET", "/_mock/state", token: nil, sink: sink)
        XCTAssertFalse(sink.finished)
        let added = d.send(
            "POST", "/_mock/sessions/sess_a/threads/sthr_a/events", token: nil,
            body: #"{"id": "evt_late", "type": "agent.message", "content": []}"#)
        XCTAssertEqual(added.status, 201, added.bodyText)
        XCTAssertEqual(thread.log.count, 3001)
        XCTAssertEqual(eventStorage(thread), storage, "the append went into the same array, not a copy of it")

        var rounds = 0
        while !sink.finished && rounds < 100 {
            sink.drain()
            rounds += 1
        }
        XCTAssertTrue(Array(sink.frames.joined()) == whole, "the export of the moment it was asked for")
    }

    func testEventsOfAWorldReplacedMidExportAreHandedOverOnceWritten() throws {
        let d = try AppDriver(fixture: fixture(events: 3000))
        let store = d.app.store
        let whole = exportInParts(store, of: 1 << 40)
        var handedOver: [Store.ReplacedWorld] = []
        var writer: Fixture.ExportWriter? = Fixture.ExportWriter(store) { handedOver.append($0) }
        var out: [UInt8] = []
        writer!.write(into: &out, atLeast: 1000)

        // The world is replaced and freed as a reset frees it: the thread's events are kept
        // for the export, not freed under it.
        var replaced = store.adopt(try Fixture.load(fixture(events: 1), clock: store.clock, ids: store.ids))
        while !replaced.isEmpty { replaced.freeSome(budget: 100_000) }
        XCTAssertTrue(handedOver.isEmpty)
        while !writer!.isFinished { writer!.write(into: &out, atLeast: 100_000) }
        XCTAssertTrue(out == whole, "the export of the moment it was asked for")
        XCTAssertEqual(handedOver.count, 1, "written out, the replaced world's events are handed over")
        XCTAssertEqual(handedOver.first?.count, 1)

        // A writer dropped before its end hands over what it still held.
        let again = try AppDriver(fixture: fixture(events: 3000))
        handedOver = []
        writer = Fixture.ExportWriter(again.app.store) { handedOver.append($0) }
        out = []
        writer!.write(into: &out, atLeast: 1000)
        replaced = again.app.store.adopt(try Fixture.load(fixture(events: 1), clock: store.clock, ids: store.ids))
        while !replaced.isEmpty { replaced.freeSome(budget: 100_000) }
        XCTAssertTrue(handedOver.isEmpty)
        writer = nil
        XCTAssertEqual(handedOver.count, 1)
        // Dropped again, a writer that finished hands over nothing more.
        handedOver = []
        let finished = Fixture.ExportWriter(again.app.store) { handedOver.append($0) }
        out = []
        while !finished.isFinished { finished.write(into: &out, atLeast: 1 << 20) }
        XCTAssertTrue(handedOver.isEmpty, "a live world's events are not handed over")
    }
}
