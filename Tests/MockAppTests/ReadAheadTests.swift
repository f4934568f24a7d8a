import MockJSON
import XCTest

@testable import MockDomain

/// A fixture's sessions read on two threads while it is parsed (`SessionReadAhead`) make the
/// very world the one-thread reading makes; anything the read-ahead cannot vouch for is left
/// to that reading (`finish()` is nil), which then finds the first problem as always.
final class ReadAheadTests: XCTestCase {
    let clock = MockClock(mode: .frozen(1_781_510_400_000))

    /// `sessions` sessions of a coordinator and a child, `events` events each, in the bench
    /// generator's shapes (message, thinking, usage), with times that interleave the threads.
    func document(sessions: Int = 40, events: Int = 30, tail: String = "") -> String {
        var out = #"{"tokens": ["tok_a"], "agents": [{"id": "agent_a", "name": "A", "model": "m", "version": 1},"#
        out += #" {"id": "agent_b", "name": "B", "model": "m", "version": 2}], "sessions": ["#
        for s in 0..<sessions {
            if s > 0 { out += "," }
            out += #"{"id": "sess_\#(s)", "agent": "agent_a", "created_at": "2026-06-15T08:00:00.000Z", "threads": ["#
            for t in 0..<2 {
                if t > 0 { out += "," }
                let parent = t == 0 ? "null" : #""sthr_\#(s)_0""#
                out +=
                    #"{"id": "sthr_\#(s)_\#(t)", "parent_thread_id": \#(parent), "agent_id": "agent_\#(t == 0 ? "a" : "b")","#
                out += #" "role": "\#(t == 0 ? "coordinator" : "child")", "status": "idle", "events": ["#
                for e in 0..<events {
                    if e > 0 { out += "," }
                    let second = e * 2 + t
                    let time = "2026-06-15T08:\(Self.two(second / 60)):\(Self.two(second % 60)).000Z"
                    switch e % 3 {
                    case 0:
                        out +=
                            #"{"id": "evt_\#(s)_\#(t)_\#(e)", "type": "agent.message", "content": [{"type": "text", "text": "n\#(e) ü"}], "created_at": "\#(time)"}"#
                    case 1:
                        out +=
                            #"{"id": "evt_\#(s)_\#(t)_\#(e)", "type": "span.model_request_end", "model_usage": {"input_tokens": \#(e), "output_tokens": 2}, "created_at": "\#(time)"}"#
                    default:
                        out +=
                            #"{"id":"evt_\#(s)_\#(t)_\#(e)","type":"agent.thinking","content":[{"type":"thinking","thinking":"t"}],"created_at":"\#(time)"}"#
                    }
                }
                out += #"], "mailbox": []}"#
            }
            out += "]}"
        }
        return out + "]" + tail + "}"
    }

    static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// The document parsed with a read-ahead: the document and what `finish()` gave.
    func readAhead(_ text: String) throws -> (JSON, SessionReadAhead.Sessions?) {
        let ahead = SessionReadAhead(clock: clock)
        let bytes = Array(text.utf8)
        let document = try bytes.withUnsafeBufferPointer { (buffer) throws(JSONSyntaxError) -> JSON in
            try JSON.parse(
                buffer, maxDepth: Fixture.maxDepth, keepingEncoded: "events", elementsOf: "sessions",
                progress: ahead.observe)
        }
        return (document, ahead.finish())
    }

    /// The world's export; written whole and in parts (as it is sent), the same.
    func load(_ document: JSON, _ sessions: SessionReadAhead.Sessions? = nil) throws -> [UInt8] {
        let store = try Fixture.load(
            document, clock: clock, ids: IDGenerator(seed: 1, clock: clock), sessionsRead: sessions)
        let one = exportInParts(store, of: 1 << 40)
        XCTAssertEqual(exportInParts(store, of: 1000), one)
        XCTAssertEqual(one, Fixture.export(store).encoded())
        return one
    }

    /// The one-thread reading's result or error message.
    func usual(_ text: String) -> String {
        do {
            let document = try JSON.parse(Array(text.utf8), maxDepth: Fixture.maxDepth, keepingEncoded: "events")
            return String(decoding: try load(document), as: UTF8.self)
        } catch let error as FixtureError {
            return "\(error.path): \(error.message)"
        } catch {
            return "\(error)"
        }
    }

    func testSessionsReadAheadMakeTheSameWorld() throws {
        for (sessions, events) in [(1, 1), (2, 30), (40, 30), (300, 4)] {
            let text = document(sessions: sessions, events: events)
            let (document, read) = try readAhead(text)
            let sessionsRead = try XCTUnwrap(read, "\(sessions) sessions were read ahead")
            XCTAssertEqual(sessionsRead.count, sessions)
            // The document kept no session of its own: each was handed over.
            XCTAssertEqual(document["sessions"]?.arrayValue?.allSatisfy { $0 == .null }, true)
            XCTAssertEqual(String(decoding: try load(document, sessionsRead), as: UTF8.self), usual(text))
        }
    }

    func testADocumentWithoutSessionsNeedsNoReadAhead() throws {
        for text in [#"{"agents": []}"#, #"{"sessions": []}"#, #"{"sessions": 5}"#, "[1, 2]"] {
            let (document, read) = try readAhead(text)
            XCTAssertEqual(read?.count, 0, text)
            XCTAssertEqual(try? load(document, read).count, try? load(try JSON.parse(text)).count, text)
        }
    }

    /// Each of these leaves the reading to the usual path: problems (which it reports with
    /// their first use), and a member after `sessions` (the roster may come after them).
    func testWhatTheReadAheadCannotVouchForIsReadAgain() throws {
        let valid = document(sessions: 40, events: 30)
        let cases: [(String, String)] = [
            // An event id used in the first and in the last session.
            (valid.replacingOnce("evt_39_1_29", with: "evt_0_0_0"), "$.sessions[39].threads[1].events[29].id"),
            // The same within one session.
            (valid.replacingOnce("evt_7_1_3", with: "evt_7_0_3"), "$.sessions[7].threads[1].events[3].id"),
            // A thread id used in two sessions far apart.
            (valid.replacingOnce(#""id": "sthr_38_1""#, with: #""id": "sthr_2_1""#), "$.sessions[38].threads[1].id"),
            // A session id used twice.
            (valid.replacingOnce(#""id": "sess_30""#, with: #""id": "sess_1""#), "$.sessions[30].id"),
            // A broken event in the middle.
            (
                valid.replacingOnce(
                    #""type": "agent.message", "content": [{"type": "text", "text": "n9"#,
                    with: #""type": "", "content": [{"type": "text", "text": "n9"#),
                "$.sessions[0].threads[0].events[9].type"
            ),
            // An agent the roster does not hold.
            (
                valid.replacingOnce(#""agent_id": "agent_b""#, with: #""agent_id": "agent_c""#),
                "$.sessions[0].threads[1].agent_id"
            ),
            // A broken roster.
            (valid.replacingOnce(#""version": 2"#, with: #""version": "two""#), "$.agents[1].version"),
        ]
        for (text, path) in cases {
            XCTAssertNotEqual(text, valid)
            let (_, read) = try readAhead(text)
            XCTAssertNil(read, path)
            XCTAssertTrue(usual(text).hasPrefix(path + ": "), "\(path): \(usual(text).prefix(200))")
        }
        // Members after the sessions: read again, and the world is the one they describe.
        let late = document(sessions: 40, events: 3, tail: #", "description": "late""#)
        let (_, read) = try readAhead(late)
        XCTAssertNil(read)
        XCTAssertTrue(usual(late).hasPrefix("{"), String(usual(late).prefix(200)))
    }

    /// The readers keep only their events' hashes; ids are compared where hashes agree. Here
    /// hashes are made to agree far more often than a real hash would.
    func testEventIDsReadTwiceAreFoundAmongEqualHashes() {
        func reader(_ ids: [Int], hash: (Int) -> UInt32) -> FixtureReader {
            var reader = FixtureReader(store: Store(clock: clock, ids: IDGenerator(seed: 1, clock: clock)))
            for i in ids {
                reader.eventsRead.append(
                    StoredEvent.make(
                        id: "evt_\(i)", type: "t", owner: EventOwner(sessionID: "sess_1", threadID: "sthr_1"),
                        createdAt: 0, encoded: JSON.object([("id", .string("evt_\(i)")), ("type", "t")]).encoded()))
                reader.eventHashes.append(hash(i))
            }
            return reader
        }
        let hashes: [(String, (Int) -> UInt32)] = [
            ("real", { UInt32(truncatingIfNeeded: IDTable.hash("evt_\($0)") >> 32) }),
            ("eight values", { UInt32($0 % 8) << 24 }),
            ("one value", { _ in 7 }),
        ]
        for (name, hash) in hashes {
            let a = Array(0..<300)
            let b = Array(300..<700)
            XCTAssertFalse(SessionReadAhead.anyEventIDTwice([reader(a, hash: hash), reader(b, hash: hash)]), name)
            XCTAssertTrue(SessionReadAhead.anyEventIDTwice([reader(a, hash: hash), reader(b + [0], hash: hash)]), name)
            XCTAssertTrue(
                SessionReadAhead.anyEventIDTwice([reader(a + [299], hash: hash), reader(b, hash: hash)]), name)
            XCTAssertTrue(
                SessionReadAhead.anyEventIDTwice([reader([], hash: hash), reader([5, 5], hash: hash)]), name)
            XCTAssertFalse(SessionReadAhead.anyEventIDTwice([reader([], hash: hash), reader([5], hash: hash)]), name)
        }
    }

    func testASyntaxErrorStopsTheWorkerAndThrows() throws {
        let text = document(sessions: 40, events: 30)
        let broken = String(text.dropLast(40))
        XCTAssertThrowsError(try readAhead(broken)) { error in
            XCTAssertTrue(error is JSONSyntaxError, "\(error)")
        }
    }
}

extension String {
    /// This string with the first `target` replaced.
    fileprivate func replacingOnce(_ target: String, with replacement: String) -> String {
        let bytes = Array(utf8)
        let pattern = Array(target.utf8)
        guard pattern.count <= bytes.count else { return self }
        for start in 0...(bytes.count - pattern.count) where bytes[start..<start + pattern.count].elementsEqual(pattern)
        {
            let replaced = bytes[..<start] + Array(replacement.utf8) + bytes[(start + pattern.count)...]
            return String(decoding: replaced, as: UTF8.self)
        }
        return self
    }
}
