import MockHTTP
import MockJSON
import XCTest

@testable import MockApp
@testable import MockDomain

/// The stream hub through the app, with recording sinks: no sockets, no clocks.
final class StreamHubTests: XCTestCase {
    let stream = "/v1/sessions/\(seedSession)/threads/\(seedChild)/stream"
    let seedEvents = ["evt_019f0000000000000000000000000101", "evt_019f0000000000000000000000000102"]

    func append(_ d: AppDriver, _ n: Int, type: String = "agent.message", text: String = "x") {
        let events = (0..<n).map { _ in #"{"type":"\#(type)","content":"\#(text)"}"# }.joined(separator: ",")
        let r = d.send(
            "POST", "/_mock/sessions/\(seedSession)/threads/\(seedChild)/events", body: "{\"events\":[\(events)]}")
        XCTAssertEqual(r.status, 201, r.bodyText)
    }

    /// Arms a fault on the seed's thread streams with these JSON members (`"split_frames":1`).
    func armStreamFault(_ d: AppDriver, _ members: String, file: StaticString = #filePath, line: UInt = #line) {
        let r = d.send("POST", "/_mock/faults", body: #"{"path":"/v1/sessions/*/threads/*/stream","# + members + "}")
        XCTAssertEqual(r.status, 201, r.bodyText, file: file, line: line)
    }

    func allIDs(_ d: AppDriver) throws -> [String] {
        try d.app.store.thread(seedChild, in: seedSession).events.map(\.id)
    }

    func testHistoryThenLiveThenEndOnFinalStatus() throws {
        let d = try AppDriver()
        let x = d.start("GET", stream)
        XCTAssertEqual(x.status, 200)
        XCTAssertEqual(x.streamHead?.headers["Content-Type"], "text/event-stream")
        XCTAssertEqual(x.sink.eventIDs, seedEvents)
        append(d, 2)
        XCTAssertEqual(x.sink.eventIDs, try allIDs(d))
        XCTAssertFalse(x.sink.finished)
        d.send(
            "POST", "/_mock/sessions/\(seedSession)/threads/\(seedChild)/status", body: #"{"status":"terminated"}"#)
        XCTAssertTrue(x.sink.finished, "a final status ends the stream")
        XCTAssertEqual(x.sink.eventIDs, try allIDs(d))
        let last = String(decoding: x.sink.frames.last!, as: UTF8.self)
        XCTAssertTrue(last.contains("event: session.thread_status_terminated\ndata: {"), last)
        XCTAssertTrue(last.hasSuffix("}\n\n"))
        XCTAssertEqual(d.app.hub.openCount, 0)
        // A stream opened on a finished thread replays it and ends.
        let again = d.start("GET", stream)
        XCTAssertTrue(again.sink.finished)
        XCTAssertEqual(again.sink.eventIDs, try allIDs(d))
    }

    func testResumeAndFiltersAndBadLastEventID() throws {
        let d = try AppDriver()
        let resumed = d.start("GET", stream, headers: [("Last-Event-ID", seedEvents[0])])
        XCTAssertEqual(resumed.sink.eventIDs, [seedEvents[1]])
        let filtered = d.start("GET", stream + "?types[]=agent.thinking")
        append(d, 1, type: "agent.message")
        append(d, 1, type: "agent.thinking")
        XCTAssertEqual(filtered.sink.eventIDs, [try allIDs(d).last!])
        let bad = d.start("GET", stream, headers: [("Last-Event-ID", "evt_elsewhere")])
        XCTAssertEqual(bad.status, 400)
        XCTAssertNil(bad.streamHead, "a bad Last-Event-ID is refused before anything streams")
        XCTAssertEqual(d.app.hub.openCount, 2)
    }

    func testTheEventsRouteStreamsOnlyWhenAsked() throws {
        let d = try AppDriver()
        let events = "/v1/sessions/\(seedSession)/threads/\(seedChild)/events"
        XCTAssertNotNil(d.start("GET", events).response)
        let sse = d.start("GET", events, headers: [("Accept", "text/event-stream")])
        XCTAssertEqual(sse.sink.eventIDs, seedEvents)
    }

    func testALongHistoryIsReplayedAtTheReadersPaceWithAppendsInOrder() throws {
        let d = try AppDriver()
        append(d, 60, text: String(repeating: "a", count: 200))
        let sink = RecordingSink()
        sink.holdsBytes = true
        sink.paceBytes = 2000
        let x = d.start("GET", stream, sink: sink)
        XCTAssertLessThan(x.sink.eventIDs.count, 62, "the history is not queued whole")
        XCTAssertLessThanOrEqual(sink.bufferedBytes, 2000)
        var rounds = 0
        while x.sink.eventIDs.count < 62 + 5 && rounds < 200 {
            if rounds == 3 { append(d, 5) }  // written while the replay is under way
            XCTAssertLessThanOrEqual(sink.bufferedBytes, 2000)
            sink.drain()
            rounds += 1
        }
        XCTAssertEqual(x.sink.eventIDs, try allIDs(d), "every event once, in order")
        append(d, 1)
        XCTAssertEqual(x.sink.eventIDs, try allIDs(d), "then live")
    }

    func testASlowLiveReaderIsEndedAtItsBound() throws {
        let d = try AppDriver()
        let sink = RecordingSink()
        sink.holdsBytes = true
        sink.bound = 3000
        let x = d.start("GET", stream, sink: sink)
        XCTAssertEqual(d.app.hub.openCount, 1)
        append(d, 40, text: String(repeating: "b", count: 100))
        XCTAssertTrue(x.sink.finished, "a reader too far behind is ended")
        XCTAssertEqual(d.app.hub.openCount, 0)
        // What it got is a prefix of the thread, so it resumes with Last-Event-ID, losing nothing.
        let got = x.sink.eventIDs
        XCTAssertEqual(got, Array(try allIDs(d).prefix(got.count)))
        let resumed = d.start("GET", stream, headers: [("Last-Event-ID", got.last!)])
        XCTAssertEqual(got + resumed.sink.eventIDs, try allIDs(d))
    }

    func testADropFaultCutsTheStreamAfterNFramesOnce() throws {
        let d = try AppDriver()
        armStreamFault(d, #""drop_after_frames":1"#)
        // A request that cannot stream does not use it up.
        XCTAssertEqual(d.send("GET", "/v1/sessions/\(seedSession)/threads").status, 200)
        let cut = d.start("GET", stream)
        XCTAssertEqual(cut.sink.eventIDs, [seedEvents[0]])
        XCTAssertTrue(cut.sink.aborted, "dropped, not ended")
        XCTAssertFalse(cut.sink.finished)
        XCTAssertEqual(d.app.hub.openCount, 0)
        let whole = d.start("GET", stream)
        XCTAssertEqual(whole.sink.eventIDs, seedEvents)
        XCTAssertFalse(whole.sink.aborted)
    }

    func testASplitFaultWritesPiecesInOrderEachAfterThePreviousDrained() throws {
        let d = try AppDriver()
        armStreamFault(d, #""split_frames":5,"heartbeat_between_frames":true"#)
        let sink = RecordingSink()
        sink.holdsBytes = true
        let x = d.start("GET", stream, sink: sink)
        // One piece is out; the rest waits, and the producer sees it as buffered.
        XCTAssertEqual(sink.frames, [Array(": hea".utf8)])
        XCTAssertGreaterThan(sink.bufferedBytes, 0)
        var rounds = 0
        while sink.bufferedBytes > 0 && rounds < 10_000 {
            sink.drain()
            rounds += 1
        }
        XCTAssertTrue(sink.frames.allSatisfy { $0.count <= 5 })
        let whole = String(decoding: sink.frames.joined(), as: UTF8.self)
        let clean = d.start("GET", stream)
        let expected = clean.sink.frames.map { ": heartbeat\n\n" + String(decoding: $0, as: UTF8.self) }.joined()
        XCTAssertEqual(whole, expected)
        XCTAssertFalse(x.sink.finished || x.sink.aborted)
    }

    func testASplitFaultOnASinkThatDrainsAtOnceDoesNotNest() throws {
        let d = try AppDriver()
        // 1-byte pieces of long frames: a sink that reports each drain at once must not cost
        // a nested call per piece.
        append(d, 3, text: String(repeating: "n", count: 200_000))
        armStreamFault(d, #""split_frames":1"#)
        let x = d.start("GET", stream)
        XCTAssertGreaterThan(x.sink.frames.count, 600_000)
        XCTAssertTrue(x.sink.frames.allSatisfy { $0.count == 1 })
    }

    func testAFrameDelayFaultHoldsItsQueueToTheStreamsBound() throws {
        let d = try AppDriver()
        armStreamFault(d, #""frame_delay_ms":60000"#)
        let sink = RecordingSink()
        sink.bound = 20_000
        let x = d.start("GET", stream, sink: sink)
        XCTAssertEqual(x.sink.frames.count, 0, "the first frame waits its delay")
        // Live events pile up behind the delay until the stream's bound: then it ends, as a slow
        // reader's would, and nothing more is queued.
        append(d, 40, text: String(repeating: "q", count: 1000))
        XCTAssertTrue(x.sink.finished, "ended at the bound")
        XCTAssertEqual(d.app.hub.openCount, 0)
        d.scheduler.advance(by: 600_000)
        XCTAssertEqual(x.sink.frames.count, 0, "nothing queued is written after the end")
    }

    func testAStreamFaultSinkLetsGoOfItselfWhenItsStreamEnds() throws {
        let d = try AppDriver()
        armStreamFault(d, #""split_frames":3"#)
        let sink = RecordingSink()
        sink.holdsBytes = true
        let x = d.start("GET", stream, sink: sink)
        XCTAssertFalse(x.sink.frames.isEmpty)
        XCTAssertNotNil(sink.onClose, "the decorator holds itself through the inner sink's callback")
        // The peer goes away mid-piece: that hold (a cycle) ends with the stream.
        sink.disconnect()
        XCTAssertEqual(d.app.hub.openCount, 0)
        XCTAssertNil(sink.onClose, "the decorator let go of the inner sink's close callback")
    }

    func testQuietStreamsGetHeartbeatsAndLeaversAreForgotten() throws {
        let d = try AppDriver()
        let x = d.start("GET", stream)
        x.sink.onQuiet?()
        XCTAssertEqual(x.sink.keepAlives, [Array(": heartbeat\n\n".utf8)])
        XCTAssertEqual(x.sink.eventIDs, seedEvents, "a heartbeat is not an event")
        x.sink.disconnect()
        XCTAssertEqual(d.app.hub.openCount, 0)
        append(d, 1)
        XCTAssertEqual(x.sink.eventIDs, seedEvents)
    }

    func testResetEndsEveryStream() throws {
        let d = try AppDriver()
        let a = d.start("GET", stream)
        let b = d.start("GET", "/v1/sessions/\(seedSession)/threads/\(seedCoordinator)/stream")
        XCTAssertEqual(d.send("POST", "/_mock/reset").status, 200)
        XCTAssertTrue(a.sink.finished && b.sink.finished)
        XCTAssertEqual(d.app.hub.openCount, 0)
    }
}
