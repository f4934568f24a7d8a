import MockHTTP
import MockJSON
import XCTest

@testable import MockApp
@testable import MockDomain

/// What the fuzz targets found (issue 12), each pinned; the inputs are kept in
/// Tests/fuzz/regressions, which every fuzz run replays.
final class FuzzFindingsTests: XCTestCase {
    /// Days a month does not have were rolled over (2025-02-29 read as March 1), and offsets
    /// past 23:59 were taken; RFC 3339 allows neither.
    func testTimestampsRefuseDaysAndOffsetsThatDoNotExist() {
        for text in [
            "2025-02-29T12:30:45.1-00:00", "1900-02-29T00:00:00Z", "2026-04-31T00:00:00.000Z",
            "2026-06-15T08:00:00.000+24:00", "2026-06-15T08:00:00.000-05:60", "2026-06-15T08:00:00.000+99:99",
        ] {
            XCTAssertNil(Timestamp.parse(text), text)
        }
        XCTAssertEqual(Timestamp.parse("2000-02-29T00:00:00Z").map(Timestamp.format), "2000-02-29T00:00:00.000Z")
        XCTAssertEqual(Timestamp.parse("2026-12-31T23:00:00+23:59").map(Timestamp.format), "2026-12-30T23:01:00.000Z")
    }

    /// A day that does not exist is a 400 in the API too, not a different day.
    func testAnEventDatedOnADayThatDoesNotExistIsRefused() throws {
        let d = try AppDriver()
        let sid = "sess_019f00000000000000000000000000aa"
        let r = d.send(
            "POST", "/_mock/sessions/\(sid)/threads/sthr_019f00000000000000000000000001aa/events",
            body: #"[{"type":"agent.message","content":"x","created_at":"2026-02-30T00:00:00.000Z"}]"#)
        XCTAssertEqual(r.status, 400, r.bodyText)
    }

    /// A cursor on an id that starts with a combining mark had a token that did not decode:
    /// compared as Characters, the mark joined the prefix's `:`.
    func testAPageTokenDecodesToTheCursorItWasMadeFrom() {
        for cursor in [PageRequest.Cursor.after("\u{301}x"), .before("\u{6EC}"), .after("sess_1")] {
            XCTAssertEqual(PageToken.encode(cursor).flatMap(PageToken.decode), cursor)
        }
        XCTAssertNil(PageToken.decode(Base64URL.encode(Array("after:".utf8))))
    }

    /// A `&` or `=` followed by a combining mark did not separate pairs (one Character).
    func testAQuerySplitsOnItsBytes() throws {
        let query = try Query(raw: "x=caf\u{E9}&\u{301}y=1&a=\u{301}")
        XCTAssertEqual(query.pairs.map(\.0), ["x", "\u{301}y", "a"])
        XCTAssertEqual(query.pairs.map(\.1), ["caf\u{E9}", "1", "\u{301}"])
    }
}
