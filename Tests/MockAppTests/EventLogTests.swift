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

    /// A log is read the same however its events fall into chunks: by position, in order, by
    /// id, by type, from both sides of every chunk boundary; reserving room ahead changes nothing.
    func testEventsAcrossChunksReadAsOneList() {
        let size = EventList.chunkSize
        for reserved in [0, 2 * size + 5, 10] {
            let log = EventLog()
            if reserved > 0 { log.reserve(reserved) }
            var events: [StoredEvent] = []
            for i in 0..<(2 * size + 3) {
                let e = event(i, type: i % 3 == 0 ? "type.a" : "type.b")
                log.append(e)
                events.append(e)
            }
            XCTAssertEqual(log.count, events.count)
            XCTAssertEqual(log.events.map(\.id), events.map(\.id))
            for i in [0, size - 1, size, size + 1, 2 * size - 1, 2 * size, events.count - 1] {
                XCTAssertTrue(log.events[i] === events[i], "position \(i)")
            }
            XCTAssertEqual(
                Array(log.events[(size - 2)..<(size + 2)]).map(\.id), events[(size - 2)..<(size + 2)].map(\.id))
            check(log, events, types: ["type.a", "type.b"])
            XCTAssertEqual(log.events.storage.count, 1 + 3, "three chunks, the last holding 3 events")
        }
    }

    /// A copy of a log (the world a reset starts from shares its logs with the template) takes
    /// its first append without copying the events before its last chunk, nor its id index
    /// beyond the page the new id lands in: they stay shared, so the first append to a
    /// 200,000-event thread after a load copies a few thousand references and one page, not
    /// all of them. The original is untouched.
    func testAnAppendToACopyCopiesOnlyTheLastChunk() {
        let size = EventList.chunkSize
        let log = EventLog()
        for i in 0..<(3 * size + 10) { log.append(event(i, type: "type.a")) }
        let before = log.events.storage
        let copy = log.copy()
        copy.append(event(-1, type: "type.a"))
        let after = copy.events.storage
        XCTAssertEqual(Array(after[1...3]), Array(before[1...3]), "the full chunks are shared, not copied")
        XCTAssertNotEqual(after[4], before[4], "the last chunk is the copy's own")
        XCTAssertEqual(log.events.storage, before, "the original did not move")
        // The id index is copied a page at a time too: one page is the copy's own.
        let indexBefore = log.idIndexStorage
        let indexAfter = copy.idIndexStorage
        XCTAssertGreaterThan(indexBefore.count, 2)
        XCTAssertEqual(zip(indexBefore, indexAfter).filter { $0 != $1 }.count, 1, "one page of the id index copied")
        XCTAssertEqual(log.count, 3 * size + 10)
        XCTAssertEqual(copy.count, 3 * size + 11)
        XCTAssertEqual(copy.events[copy.count - 1].id, "evt_-1")
        XCTAssertNil(log.position(of: "evt_-1"))
        XCTAssertEqual(copy.position(of: "evt_-1"), 3 * size + 10)
    }

    /// Appends, reservations (below, at and past the count, with a partly filled last chunk) and
    /// copies in a seeded random order: the list reads as an array built the same way would, and
    /// so do its copies, its slices, its pages and the chunks it hands over.
    func testRandomOperationsReadAsAnArrayWould() throws {
        var random = SplitMix64(seed: 11)
        let size = EventList.chunkSize
        var pool: [StoredEvent] = (0..<(3 * size + 50)).map { event($0, type: "type.a") }
        for round in 0..<40 {
            var list = EventList()
            var model: [StoredEvent] = []
            var copies: [(EventList, [StoredEvent])] = []
            var next = 0
            for _ in 0..<200 {
                switch Int.random(in: 0..<10, using: &random) {
                case 0:
                    list.reserveCapacity(Int.random(in: 0...(model.count + 2 * size), using: &random))
                case 1:
                    copies.append((list, model))
                default:
                    let k = Int.random(in: 1...(round % 2 == 0 ? 50 : 900), using: &random)
                    for _ in 0..<k where next < pool.count {
                        list.append(pool[next])
                        model.append(pool[next])
                        next += 1
                    }
                }
            }
            XCTAssertEqual(list.count, model.count)
            XCTAssertTrue(zip(list, model).allSatisfy { $0 === $1 })
            for (copy, was) in copies {
                XCTAssertEqual(copy.count, was.count)
                XCTAssertTrue(zip(copy, was).allSatisfy { $0 === $1 })
            }
            if model.count > 10 {
                let a = Int.random(in: 0..<model.count, using: &random)
                let b = Int.random(in: a...model.count, using: &random)
                XCTAssertEqual(Array(list[a..<b]).map(\.id), model[a..<b].map(\.id))
                XCTAssertEqual(list[a..<b].firstIndex { $0 === model[a] }, a < b ? a : nil)
                XCTAssertEqual(list.last?.id, model.last?.id)
                XCTAssertEqual(list.reversed().map(\.id), model.reversed().map(\.id))
            }
            var index: [String: Int] = [:]
            for (i, e) in model.enumerated() { index[e.id] = i }
            for order in [PageRequest.Order.asc, .desc] {
                let page = PageRequest(limit: 7, order: order, cursor: model.count > 3 ? .after(model[3].id) : .none)
                let fromList = try page.cut(list, id: { $0.id }, index: { index[$0] })
                let fromArray = try page.cut(model, id: { $0.id }, index: { index[$0] })
                XCTAssertEqual(fromList.items.map(\.id), fromArray.items.map(\.id))
            }
            let chunks = list.takeChunks()
            XCTAssertEqual(chunks.joined().map(\.id), model.map(\.id))
            XCTAssertTrue(chunks.dropLast().allSatisfy { $0.count == size })
            XCTAssertEqual(list.count, 0)
            pool.shuffle(using: &random)
        }
    }
}
