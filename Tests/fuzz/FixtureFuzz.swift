// The fixture and state loader's target (`fuzz-fixture`): the input is the body of
// `PUT /_mock/state` on an app that holds the default world. For any input it checks that:
// - an accepted document exports a world that imports again, exports the same bytes and looks
//   the same through the API (agents, sessions, tokens), and a reset then brings back the
//   default world exactly;
// - a refused JSON document is a 400 whose `param` is the JSON path of the problem (`$...`),
//   also named in the message, and the world is unchanged (its export is the same bytes);
// - a body that is not JSON (or is empty) is a 400 without a path, and changes nothing.

import MockApp
import MockDomain
import MockHTTP
import MockJSON

nonisolated(unsafe) private var harness: FuzzApp?

func fuzzFixture(_ input: [UInt8]) {
    if harness == nil { harness = FuzzApp() }
    let h = harness!
    let put = h.call("PUT", "/_mock/state", body: input)
    let isDocument = parses(input)
    switch put.status {
    case 200:
        expect(isDocument, "accepted a body that is not a document")
        let exported = h.state
        let seen = view(h)
        let again = h.call("PUT", "/_mock/state", body: exported)
        expect(again.status == 200, "its own export is refused: \(again.bodyText)")
        expect(h.state == exported, "export → import → export changes the world")
        for (path, (before, after)) in zip(viewPaths, zip(seen, view(h))) {
            expect(
                before == after, "GET \(path) differs after the export is imported: \(text(before)) → \(text(after))")
        }
        expect(h.call("POST", "/_mock/reset").status == 200, "reset refused")
        expect(h.state == h.initialState, "a reset does not bring back the default world")
    case 400:
        let error = (try? JSON.parse(put.body))?["error"]
        let param = error?["param"]?.stringValue
        let message = error?["message"]?.stringValue ?? ""
        if isDocument {
            guard let param else { fatalError("a refused document without a JSON path: \(put.bodyText)") }
            expect(param.hasPrefix("$"), "the path '\(param)' does not start at the document")
            expect(message.hasPrefix("Invalid state: \(param): "), "the message does not name the path: \(message)")
        } else {
            expect(param == nil, "a body that is not a document refused with a path: \(put.bodyText)")
        }
        expect(h.state == h.initialState, "a refused state import changed the world")
    default:
        fatalError("PUT /_mock/state answered \(put.status): \(put.bodyText)")
    }
}

/// What the API shows of the world at a glance (a round trip that loses a field both ways
/// exports the same bytes, but the API shows the difference).
private let viewPaths = ["/v1/agents?limit=100", "/v1/sessions?limit=100", "/_mock/tokens"]

/// Asked with a token the world accepts, and a request id of its own (error bodies carry it).
private func view(_ h: FuzzApp) -> [[UInt8]] {
    let headers = HTTPHeaders([
        ("Authorization", "Bearer \(h.app.store.tokens.first ?? "fuzz")"), ("X-Request-Id", "fuzz-view"),
    ])
    return viewPaths.map { h.call("GET", $0, headers: headers).body }
}

/// Whether the route reads `body` as a document (an empty or blank body is none).
private func parses(_ body: [UInt8]) -> Bool {
    guard !body.allSatisfy({ [0x20, 0x0A, 0x0D, 0x09].contains($0) }) else { return false }
    do throws(JSONSyntaxError) {
        _ = try JSON.parse(body, maxDepth: Fixture.maxDepth)
        return true
    } catch {
        return false
    }
}
