import MockHTTP
import MockJSON
import XCTest

@testable import MockApp
@testable import MockDomain

final class FixtureTests: XCTestCase {
    func load(_ text: String) -> FixtureError? {
        do {
            _ = try Fixture.load(
                try JSON.parse(text), clock: MockClock(), ids: IDGenerator(seed: 1, clock: MockClock()))
            return nil
        } catch let e as FixtureError {
            return e
        } catch {
            XCTFail("not JSON: \(error)")
            return nil
        }
    }

    let agents = #""agents":[{"id":"agent_a","name":"A","model":"m","version":1}]"#

    func testErrorsNameTheJSONPath() {
        XCTAssertEqual(load("[]"), FixtureError(path: "$", message: "expected an object, got array"))
        XCTAssertEqual(
            load(#"{"bogus":1}"#),
            FixtureError(path: "$.bogus", message: "unknown field (expected tokens, agents, sessions)"))
        XCTAssertEqual(
            load(
                "{\(agents),\"sessions\":[{\"id\":\"sess_1\",\"agent\":\"agent_a\",\"threads\":[{\"id\":\"sthr_1\",\"status\":\"bogus\"}]}]}"
            ),
            FixtureError(
                path: "$.sessions[0].threads[0].status",
                message: "unknown status 'bogus' (expected one of idle, running, blocked, archived, terminated)"))
        XCTAssertEqual(
            load("{\(agents),\"sessions\":[{\"id\":\"session_1\",\"agent\":\"agent_a\"}]}"),
            FixtureError(
                path: "$.sessions[0].id",
                message: "'session_1' is not a valid id: expected 'sess_' followed by letters, digits, '_' or '-'"))
        XCTAssertEqual(
            load(
                "{\(agents),\"sessions\":[{\"id\":\"sess_1\",\"agent\":\"agent_a\",\"threads\":[{\"id\":\"sthr_1\",\"role\":\"coordinator\"},{\"id\":\"sthr_2\",\"role\":\"coordinator\"}]}]}"
            ), FixtureError(path: "$.sessions[0].threads[1].role", message: "a session has at most one coordinator"))
        XCTAssertEqual(
            load(
                "{\(agents),\"sessions\":[{\"id\":\"sess_1\",\"agent\":\"agent_a\",\"threads\":[{\"id\":\"sthr_1\",\"role\":\"child\",\"parent_thread_id\":\"sthr_9\"}]}]}"
            ),
            FixtureError(
                path: "$.sessions[0].threads[0].parent_thread_id",
                message: "'sthr_9' is not a thread of session 'sess_1'"))
        XCTAssertEqual(
            load("{\(agents),\"sessions\":[{\"id\":\"sess_1\",\"agent\":\"agent_b\"}]}"),
            FixtureError(path: "$.sessions[0].agent", message: "unknown agent 'agent_b' (not in $.agents)"))
        XCTAssertEqual(
            load(
                "{\(agents),\"sessions\":[{\"id\":\"sess_1\",\"agent\":\"agent_a\",\"threads\":[{\"id\":\"sthr_1\",\"events\":[{\"id\":\"evt_1\",\"type\":\"x\"},{\"id\":\"evt_1\",\"type\":\"y\"}]}]}]}"
            ),
            FixtureError(
                path: "$.sessions[0].threads[0].events[1].id",
                message: "duplicate id 'evt_1' (first used at $.sessions[0].threads[0].events[0].id)"))
        XCTAssertEqual(
            load("{\(agents),\"sessions\":[{\"id\":\"sess_1\",\"agent\":\"agent_a\",\"created_at\":\"yesterday\"}]}"),
            FixtureError(
                path: "$.sessions[0].created_at",
                message: "'yesterday' is not an RFC 3339 timestamp like 2026-06-15T08:00:00.000Z"))
        XCTAssertEqual(
            load(
                "{\(agents),\"sessions\":[{\"id\":\"sess_1\",\"agent\":\"agent_a\",\"threads\":[{\"id\":\"sthr_1\",\"status\":\"blocked\"}]}]}"
            ),
            FixtureError(
                path: "$.sessions[0].threads[0].waiting_on", message: "a blocked thread needs {thread_id, tool_use_id}")
        )
    }

    /// A parent cycle (a → b → a) used to load: two children whose family leads nowhere.
    func testAParentCycleIsRefused() {
        let threads =
            #"{"id":"sthr_c","role":"coordinator"},{"id":"sthr_a","role":"child","parent_thread_id":"sthr_b"},"#
            + #"{"id":"sthr_b","role":"child","parent_thread_id":"sthr_a"}"#
        XCTAssertEqual(
            load("{\(agents),\"sessions\":[{\"id\":\"sess_1\",\"agent\":\"agent_a\",\"threads\":[\(threads)]}]}"),
            FixtureError(
                path: "$.sessions[0].threads[1].parent_thread_id",
                message: "the parents of 'sthr_a' form a cycle; every child must lead back to the coordinator"))
        // A deep but rooted family loads.
        var chain = #"{"id":"sthr_c","role":"coordinator"}"#
        var parent = "sthr_c"
        for i in 0..<2000 {
            chain += #",{"id":"sthr_\#(i)","role":"child","parent_thread_id":"\#(parent)"}"#
            parent = "sthr_\(i)"
        }
        XCTAssertNil(
            load("{\(agents),\"sessions\":[{\"id\":\"sess_1\",\"agent\":\"agent_a\",\"threads\":[\(chain)]}]}"))
    }

    func testExportImportExportIsIdentical() throws {
        let d = try AppDriver(fixture: try JSON.parse(ArchiveTests.fixture))
        d.send("POST", "/v1/sessions/sess_1/threads/sthr_w/archive")
        let first = Fixture.export(d.app.store).encoded()
        let again = try Fixture.load(try JSON.parse(first), clock: d.app.clock, ids: d.app.ids)
        XCTAssertEqual(Fixture.export(again).encoded(), first)
    }

    func testBundledDefaultFixtureIsTheRepositoryFile() throws {
        let repoFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fixtures/default.json")
        let onDisk = try Data(contentsOf: repoFile)
        XCTAssertEqual(
            [UInt8](onDisk), BundledResources.defaultFixtureBytes, "fixtures/default.json and the bundled copy drifted")
    }
}

final class DeterminismTests: XCTestCase {
    func script(_ d: AppDriver) -> [String] {
        var out: [String] = []
        let s = d.send("POST", "/v1/sessions", body: #"{"agent":"agent_019f000000000000000000000000001a"}"#)
        out.append(s.bodyText)
        let sid = try! JSON.parse(s.body)["id"]!.stringValue!
        out.append(d.send("GET", "/v1/sessions/\(sid)/threads").bodyText)
        out.append(d.send("GET", "/v1/sessions/\(seedSession)/threads/\(seedChild)/events").bodyText)
        out.append(d.send("GET", "/v1/sessions/nope", headers: []).bodyText)
        return out
    }

    func testSameSeedAndFrozenClockGiveIdenticalBodies() throws {
        XCTAssertEqual(script(try AppDriver()), script(try AppDriver()))
        var other = AppConfig()
        other.seed = 7
        XCTAssertNotEqual(script(try AppDriver()), script(try AppDriver(config: other)))
    }

    func testIDsAreTimeOrderedAndWellFormed() throws {
        let clock = MockClock(mode: .frozen(Timestamp.parse("2026-06-15T08:00:00.000Z")!))
        let ids = IDGenerator(seed: 1, clock: clock)
        var made: [String] = []
        for i in 0..<5000 {
            if i % 1000 == 0 { clock.advance(by: 1) }
            made.append(ids.make("evt"))
        }
        XCTAssertEqual(made, made.sorted())
        XCTAssertEqual(Set(made).count, made.count)
        for id in made.prefix(3) {
            XCTAssertEqual(id.count, 4 + 32)
            XCTAssertTrue(id.dropFirst(4).allSatisfy { "0123456789abcdef".contains($0) })
        }
    }

    func testTimestamps() {
        XCTAssertEqual(Timestamp.format(0), "1970-01-01T00:00:00.000Z")
        let t = Timestamp.parse("2026-06-15T08:01:01.000Z")!
        XCTAssertEqual(Timestamp.format(t), "2026-06-15T08:01:01.000Z")
        XCTAssertEqual(Timestamp.parse("2026-06-15T10:01:01.5+02:00"), t + 500)
        XCTAssertNil(Timestamp.parse("2026-13-01T00:00:00Z"))
        XCTAssertEqual(Timestamp.format(Timestamp.parse("2024-02-29T23:59:59.999Z")!), "2024-02-29T23:59:59.999Z")
    }
}

final class EmbeddedResourceTests: XCTestCase {
    /// The binary carries its resources compiled in; scripts/embed_resources.py writes
    /// them from Sources/MockApp/Resources, and they must not drift apart.
    func testCompiledInResourcesAreTheFilesByteForByte() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/MockApp/Resources")
        for (name, bytes) in [
            ("default-fixture.json", BundledResources.defaultFixtureBytes),
            ("openapi.json", BundledResources.openAPI),
        ] {
            let onDisk = try Data(contentsOf: folder.appendingPathComponent(name))
            XCTAssertEqual(
                [UInt8](onDisk), bytes,
                "\(name) and its compiled-in copy drifted: run python3 scripts/embed_resources.py")
        }
    }
}

final class LargeRosterTests: XCTestCase {
    /// Agents are found through an index: 30,000 agents, each with a session on it, load in
    /// one pass (a scan per look-up made such a fixture quadratic), and versions still resolve.
    func testManyAgentsLoadAndResolve() throws {
        var agents: [String] = []
        var sessions: [String] = []
        for i in 0..<30_000 {
            agents.append(#"{"id":"agent_\#(i)","name":"A\#(i)","model":"m","version":1}"#)
            sessions.append(#"{"id":"sess_\#(i)","agent":"agent_\#(i)"}"#)
        }
        agents.append(#"{"id":"agent_7","name":"A7","model":"m","version":2}"#)
        let doc = "{\"agents\":[\(agents.joined(separator: ","))],\"sessions\":[\(sessions.joined(separator: ","))]}"
        let clock = MockClock()
        let store = try Fixture.load(try JSON.parse(doc), clock: clock, ids: IDGenerator(seed: 1, clock: clock))
        XCTAssertEqual(store.agents.count, 30_001)
        XCTAssertEqual(store.agent("agent_7", version: nil)?.version, 2)
        XCTAssertEqual(store.agent("agent_7", version: 1)?.version, 1)
        XCTAssertNil(store.agent("agent_7", version: 3))
        XCTAssertEqual(store.agent("agent_29999", version: nil)?.name, "A29999")
        XCTAssertNil(store.agent("agent_missing", version: nil))
        let copy = store.clone()
        XCTAssertEqual(copy.agent("agent_7", version: nil)?.version, 2)
    }
}
