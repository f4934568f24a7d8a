import MockJSON
import XCTest

@testable import MockDomain

/// Fixture events read through the parser's fast lane (kept as compact bytes) must give
/// the very world the full parser gives, and the same errors.
final class FastLaneTests: XCTestCase {
    /// Events in every shape the lane must take or give up on: pretty-printed white space,
    /// escapes the encoder writes (kept) and ones it does not (`\/`, `\u00e9`, a surrogate
    /// pair: parsed), multi-byte UTF-8, numbers with exponents, nesting, an object with
    /// more keys than the lane checks, a key with an escape, non-ASCII keys.
    let document = #"""
        {"agents": [{"id": "agent_a", "name": "A", "model": "m", "version": 1}],
         "sessions": [{"id": "sess_a", "agent": "agent_a", "status": "idle",
           "created_at": "2026-06-15T08:00:00.000Z",
           "threads": [{"id": "sthr_a", "role": "coordinator", "status": "idle",
             "created_at": "2026-06-15T08:00:00.000Z",
             "events": [
               {"id": "evt_1", "type": "user.message",
                "content": [ {"type": "text", "text": "plain \"quoted\" \\ back\nline\ttab \u001f"} ],
                "created_at": "2026-06-15T08:00:01.000Z"},
               {"id": "evt_2", "type": "agent.message", "content": [{"type": "text", "text": "请调研 – ok 😀"}],
                "n": -12.5e+3, "z": 0, "t": true, "f": false, "nil": null, "deep": [[[{"a": [1, 2, {}]}]], []]},
               {"id": "evt_3", "type": "agent.message", "content": [{"type": "text", "text": "slash \/"}]},
               {"id": "evt_8", "type": "agent.message", "content": [{"type": "text", "text": "\u00e9 and \u001F"}]},
               {"id": "evt_4", "type": "agent.message", "pair": "\ud83d\ude00"},
               {"id": "evt_5", "type": "agent.message", "wide": {"k01": 1, "k02": 2, "k03": 3, "k04": 4,
                 "k05": 5, "k06": 6, "k07": 7, "k08": 8, "k09": 9, "k10": 10, "k11": 11, "k12": 12,
                 "k13": 13, "k14": 14, "k15": 15, "k16": 16, "k17": 17}},
               {"id": "evt_6", "type": "agent.message", "escaped\u0020key": 1, "ключ": "значение"},
               {"id": "evt_7", "type": "agent.message", "processed_at": "2026-06-15T08:00:09.000Z",
                "schema_version": "1.0", "session_id": "sess_a", "session_thread_id": "sthr_a"}
             ]}]}]}
        """#

    func world(_ bytes: [UInt8], fast: Bool) throws -> [UInt8] {
        let json = try JSON.parse(bytes, keepingEncoded: fast ? "events" : nil)
        let clock = MockClock(mode: .frozen(1_781_510_400_000))
        let store = try Fixture.load(json, clock: clock, ids: IDGenerator(seed: 7, clock: clock))
        return Fixture.export(store).encoded()
    }

    func testTheFastLaneGivesTheSameWorldAsTheFullParser() throws {
        let bytes = Array(document.utf8)
        let parsed = try JSON.parse(bytes, keepingEncoded: "events")
        // The lane did take some events (and left others to the parser).
        let session = parsed["sessions"]?.arrayValue?.first
        let thread = session?["threads"]?.arrayValue?.first
        let events = thread?["events"]?.arrayValue ?? []
        let kept = events.filter { if case .encoded = $0 { true } else { false } }.count
        XCTAssertEqual(events.count, 8)
        XCTAssertTrue(kept >= 3 && kept < 8, "kept \(kept) of 8 as bytes")
        let fast = try world(bytes, fast: true)
        let full = try world(bytes, fast: false)
        XCTAssertEqual(String(decoding: fast, as: UTF8.self), String(decoding: full, as: UTF8.self))
    }

    /// Events are stored without the head the server can write again (id, type, schema
    /// version 1.0, session and thread): whatever the head, each event comes back byte for
    /// byte, in pages, in the export written whole and in parts, and as the tree.
    func testEventsComeBackWithTheirHeadsExactly() throws {
        let text = #"""
            {"agents": [{"id": "agent_a", "name": "A"}],
             "sessions": [{"id": "sess_a", "agent": "agent_a", "created_at": "2026-06-15T08:00:00.000Z",
               "threads": [{"id": "sthr_a", "role": "coordinator", "events": [
                 {"id": "evt_1", "type": "user.message", "content": []},
                 {"id": "evt_2", "type": "agent.message", "schema_version": "2.0", "x": 1},
                 {"id": "evt_3", "type": "agent.message", "schema_version": null, "x": 2},
                 {"id": "evt_4", "type": "a/b:c_d-e.f", "schema_version": {"major": 1}},
                 {"id": "evt_5", "type": "agent.message", "schema_version": "1.0", "session_id": "sess_a",
                  "session_thread_id": "sthr_a", "created_at": "2026-06-15T08:00:05.000Z",
                  "processed_at": "2026-06-15T08:00:06.000Z"}
               ]}, {"id": "sthr_b", "role": "child", "parent_thread_id": "sthr_a", "events": [
                 {"id": "evt_6", "type": "agent.thinking", "turn_id": "turn_1"}]}]}]}
            """#
        for fast in [true, false] {
            let json = try JSON.parse(Array(text.utf8), keepingEncoded: fast ? "events" : nil)
            let clock = MockClock(mode: .frozen(1_781_510_400_000))
            let store = try Fixture.load(json, clock: clock, ids: IDGenerator(seed: 7, clock: clock))
            let tree = Fixture.export(store).encoded()
            XCTAssertEqual(
                String(decoding: exportInParts(store, of: 1 << 40), as: UTF8.self),
                String(decoding: tree, as: UTF8.self))
            // Written in parts as small as can be (one event or one piece each), the same bytes.
            XCTAssertEqual(exportInParts(store, of: 1), tree)
            // The session's order is by time: evt_5 is the latest.
            let events = try XCTUnwrap(store.sessions.first?.log.events)
            XCTAssertEqual(events.map(\.id), ["evt_1", "evt_2", "evt_3", "evt_4", "evt_6", "evt_5"])
            let texts = ["evt_1", "evt_2", "evt_3", "evt_4", "evt_5", "evt_6"].map { id in
                String(decoding: events.first { $0.id == id }?.bytes ?? [], as: UTF8.self)
            }
            let head = #"{"id":"evt_1","type":"user.message","schema_version":"1.0","session_id":"sess_a","#
            XCTAssertEqual(
                texts[0],
                head
                    + #""session_thread_id":"sthr_a","content":[],"created_at":"2026-06-15T08:00:00.000Z","processed_at":"2026-06-15T08:00:00.000Z"}"#
            )
            XCTAssertTrue(
                texts[1].hasPrefix(#"{"id":"evt_2","type":"agent.message","schema_version":"2.0","#), texts[1])
            XCTAssertTrue(texts[2].contains(#""schema_version":"1.0","#), texts[2])
            XCTAssertTrue(texts[3].contains(#""schema_version":{"major":1},"#), texts[3])
            XCTAssertTrue(texts[4].hasSuffix(#""processed_at":"2026-06-15T08:00:06.000Z"}"#), texts[4])
            XCTAssertTrue(texts[5].contains(#""session_thread_id":"sthr_b","turn_id":"turn_1","#), texts[5])
            for event in events {
                XCTAssertEqual(event.byteCount, event.bytes.count)
                XCTAssertEqual(event.json.encoded(), event.bytes)
                // Each field read alone is the field of the whole event, head or not.
                guard case .object(let pairs) = event.json else { return XCTFail("\(event.id) is not an object") }
                for (key, value) in pairs { XCTAssertEqual(event.field(key), value, "\(event.id).\(key)") }
                for key in ["absent", "i", "ids", "content2", "type_", ""] {
                    XCTAssertNil(event.field(key), "\(event.id).\(key)")
                }
                XCTAssertEqual(
                    store.sessions[0].log.position(of: event.id).map { store.sessions[0].log.events[$0].id }, event.id)
            }
            XCTAssertNil(store.sessions[0].log.position(of: "evt_9"))
        }
    }

    /// Event ids are unique across sessions too, and found again in a log of any size.
    func testEventIDsAreUniqueAcrossTheDocumentAndIndexed() throws {
        func session(_ n: Int, events: [String]) -> String {
            let list = events.map { #"{"id":"\#($0)","type":"x"}"# }.joined(separator: ",")
            return #"{"id":"sess_\#(n)","agent":"agent_a","threads":[{"id":"sthr_\#(n)","events":[\#(list)]}]}"#
        }
        let many = (0..<5000).map { "evt_\($0)" }
        let text =
            #"{"agents":[{"id":"agent_a","name":"A"}],"sessions":["#
            + session(1, events: many) + "," + session(2, events: ["evt_x", "evt_4321"]) + "]}"
        let clock = MockClock(mode: .frozen(0))
        XCTAssertThrowsError(
            try Fixture.load(
                JSON.parse(Array(text.utf8), keepingEncoded: "events"), clock: clock,
                ids: IDGenerator(seed: 1, clock: clock))
        ) { error in
            XCTAssertEqual(
                error as? FixtureError,
                FixtureError(
                    path: "$.sessions[1].threads[0].events[1].id",
                    message: "duplicate id 'evt_4321' (first used at $.sessions[0].threads[0].events[4321].id)"))
        }
        let fine = #"{"agents":[{"id":"agent_a","name":"A"}],"sessions":["# + session(1, events: many) + "]}"
        let store = try Fixture.load(
            JSON.parse(Array(fine.utf8), keepingEncoded: "events"), clock: clock,
            ids: IDGenerator(seed: 1, clock: clock))
        let log = store.sessions[0].log
        for (i, id) in many.enumerated() { XCTAssertEqual(log.position(of: id), i) }
        XCTAssertNil(log.position(of: "evt_5000"))
        XCTAssertNil(log.position(of: "evt_"))
    }

    func testBrokenEventsGetTheFullParsersErrors() {
        let broken = [
            #"{"sessions":[{"threads":[{"events":[{"id":"evt_1","id":"evt_2"}]}]}]}"#,
            #"{"sessions":[{"threads":[{"events":[{"id":"evt_1","x":[1,]}]}]}]}"#,
            #"{"sessions":[{"threads":[{"events":[{"id":"evt_1","x":"\x"}]}]}]}"#,
            #"{"sessions":[{"threads":[{"events":[{"id":"evt_1","x":01}]}]}]}"#,
            #"{"sessions":[{"threads":[{"events":[{"id":"evt_1"}"#,
        ]
        for text in broken {
            var fast: JSONSyntaxError?
            var full: JSONSyntaxError?
            do throws(JSONSyntaxError) { _ = try JSON.parse(Array(text.utf8), keepingEncoded: "events") } catch {
                fast = error
            }
            do throws(JSONSyntaxError) { _ = try JSON.parse(Array(text.utf8)) } catch { full = error }
            XCTAssertNotNil(full, text)
            XCTAssertEqual(fast, full, text)
        }
        // Invalid UTF-8 and nesting past the limit, too.
        let bad: [UInt8] = Array(#"{"events":[{"x":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}]}"#.utf8)
        XCTAssertThrowsError(try JSON.parse(bad, keepingEncoded: "events"))
        let deep = #"{"events":["# + String(repeating: "[", count: 300) + String(repeating: "]", count: 300) + "]}"
        let deepObject =
            #"{"events":[{"a":"# + String(repeating: "[", count: 300) + String(repeating: "]", count: 300) + "}]}"
        XCTAssertThrowsError(try JSON.parse(Array(deep.utf8), keepingEncoded: "events"))
        XCTAssertThrowsError(try JSON.parse(Array(deepObject.utf8), keepingEncoded: "events"))
    }
}

/// A session's usage read from the stored bytes of `model_usage` adds what reading the field
/// as a value adds, whatever the field holds.
final class UsageBytesTests: XCTestCase {
    func testUsageFromBytesIsUsageFromTheValue() throws {
        let usages = [
            #"{"input_tokens":5,"output_tokens":7,"cache_creation_input_tokens":1,"cache_read_input_tokens":2}"#,
            #"{"output_tokens":-3,"extra":{"input_tokens":100},"input_tokens":0}"#,
            #"{"input_tokens":1.5,"output_tokens":1e3,"cache_read_input_tokens":"7"}"#,
            #"{"input_tokens":99999999999999999999,"output_tokens":9223372036854775807}"#,
            #"{"input_tokens":null,"output_tokens":[1],"cache_creation_input_tokens":true}"#,
            #"{}"#, "5", "null", #""x""#, "[1,2]",
        ]
        let owner = EventOwner(sessionID: "sess_1", threadID: "sthr_1")
        for usage in usages {
            for head in [
                #"{"id":"evt_1","type":"span.model_request_end","schema_version":"1.0","session_id":"sess_1","session_thread_id":"sthr_1","#,
                #"{"id":"evt_1","type":"span.model_request_end","schema_version":"2.0","#,
            ] {
                let text = head + #""model_usage":"# + usage + #","created_at":"2026-06-15T08:00:00.000Z"}"#
                let event = StoredEvent.make(
                    id: "evt_1", type: "span.model_request_end", owner: owner, createdAt: 0,
                    encoded: Array(text.utf8))
                var fromBytes = Usage()
                fromBytes.add(from: event)
                fromBytes.add(from: event)
                var fromValue = Usage()
                fromValue.add(try JSON.parse(text)["model_usage"])
                fromValue.add(try JSON.parse(text)["model_usage"])
                XCTAssertEqual(fromBytes, fromValue, text)
            }
        }
        // A usage worth counting was counted (the comparison above is not of two zeros).
        var usage = Usage()
        usage.add(
            from: StoredEvent.make(
                id: "evt_1", type: "span.model_request_end", owner: owner, createdAt: 0,
                encoded: Array(#"{"id":"evt_1","model_usage":{"output_tokens":7}}"#.utf8)))
        XCTAssertEqual(usage.counts, [0, 7, 0, 0])
    }
}
