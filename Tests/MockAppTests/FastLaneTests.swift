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
