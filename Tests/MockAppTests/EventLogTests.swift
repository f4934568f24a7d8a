import MockJSON
import XCTest

@testable import MockDomain

/// A log's indexes (by id, by type) answer as a scan of its events would, however many
/// types it holds, and a copy grows apart from its original.
final class EventLogTests: XCTestCase {
    func event(_ i: Int, type: String) -> StoredEvent {
        StoredEvent.make(
            id: "evt_\(i)", type: type, owner: EventOwner(sessionID: "sess_1", threadID: "sthr_1"), createdAt: Int64(i),
            encoded: JSON.object([("id", .string("evt_\(i)")), ("type", .string(type))]).encoded())
    }

    func check(
        _ log: EventLog, _ events: [StoredEvent], types: [String], file: StaticString = #filePath, line: UInt = #line
    ) {
        for type in types + ["none"] {
            let scanned = events.indices.filter { events[$0].type == type }.map(Int32.init)
            XCTAssertEqual(log.positions(ofTypes: [type]), scanned, type, file: file, line: line)
        }
        let pair = Set(types.prefix(2))
        XCTAssertEqual(
            log.positions(ofTypes: pair), events.indices.filter { pair.contains(events[$0].type) }.map(Int32.init),
            file: file, line: line)
        for (i, e) in events.enumerated() { XCTAssertEqual(log.position(of: e.id), i, file: file, line: line) }
        XCTAssertNil(log.position(of: "evt_none"), file: file, line: line)
    }

    func testTypesFewAndManyAreIndexedAsAScanFindsThem() {
        for typeCount in [3, 16, 17, 40] {
            let types = (0..<typeCount).map { "type.\($0)" }
            let log = EventLog()
            var events: [StoredEvent] = []
            // Types first seen at different times, some often, some rarely.
            for i in 0..<600 {
                let e = event(i, type: types[(i * i / 7 + i / 50) % typeCount])
                log.append(e)
                events.append(e)
            }
            check(log, events, types: types)
            let copy = log.copy()
            var grown = events
            for i in 600..<650 {
                let e = event(i, type: i % 2 == 0 ? "type.new\(i)" : types[0])
                copy.append(e)
                grown.append(e)
            }
            check(copy, grown, types: types + ["type.new600", "type.new648"])
            check(log, events, types: types)
            XCTAssertTrue(log.positions(ofTypes: ["type.new600"]).isEmpty)
        }
    }
}
