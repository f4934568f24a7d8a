// The HTTP target (`fuzz-http`): request values, as the libevent adapter hands them over, into
// an app on the default fixture. The input is up to 8 requests separated by NUL bytes, each
//
//     METHOD TARGET
//     Name: value        (headers, up to an empty line; `Authorization: Bearer fuzz` when none)
//
//     body
//
// Every input starts from a reset app, so a finding replays from its input alone. For every
// request it checks that:
// - the app answers, streams or defers without crashing, and a deferred answer comes once the
//   scheduler has run past the longest wait the API allows (600 s);
// - every answer passes `checkAnswer` (status, request ids, JSON bodies, the error envelope);
// - an immediate 4xx answer leaves the world as it was (its export is the same bytes).

import MockApp
import MockDomain
import MockHTTP

nonisolated(unsafe) private var harness: FuzzApp?

func fuzzHTTP(_ input: [UInt8]) {
    if harness == nil { harness = FuzzApp() }
    let h = harness!
    h.app.reset()
    h.scheduler.advance(by: 0)  // the replaced world is freed on the next loop turns
    var sinks: [CountingSink] = []
    // The world's export while it is known not to have changed: only refusals leave it so.
    var known: [UInt8]?
    for chunk in input.split(separator: 0).prefix(8) {
        let request = request(from: chunk)
        let strict = h.app.faults.faults.isEmpty
        let before = known ?? h.state
        known = nil
        let reply = h.app.respond(to: request)
        if case .response(let r) = reply, (400..<500).contains(r.status) {
            let after = h.state
            expect(
                after == before,
                "\(request.method) \(request.target) answered \(r.status) and changed the world: \(r.bodyText)")
            known = after
        }
        take(reply, strict: strict, into: &sinks, h)
    }
    // The peers leave, and what is still to come runs now (waits time out, delays end), not in
    // the next input.
    for sink in sinks { sink.disconnect() }
    h.scheduler.advance(by: 700_000)
}

/// Checks an answer, starting streams and waiting out deferred answers (which may defer again).
private func take(_ reply: Reply, strict: Bool, into sinks: inout [CountingSink], _ h: FuzzApp, depth: Int = 0) {
    switch reply {
    case .response(let r):
        checkAnswer(r.status, r.headers, r.body, strict: strict)
    case .stream(let s):
        checkAnswer(s.status, s.headers, nil, strict: strict)
        let sink = CountingSink()
        s.start(sink)
        sinks.append(sink)
    case .deferred(let body):
        expect(depth < 4, "an answer deferred again and again")
        var answer: Reply?
        body(PendingAnswer { answer = $0 })
        h.scheduler.advance(by: 600_001)
        guard let answer else { fatalError("a deferred answer did not come within 600 s") }
        take(answer, strict: strict, into: &sinks, h, depth: depth + 1)
    }
}

private func request(from bytes: ArraySlice<UInt8>) -> HTTPRequest {
    var rest = bytes
    func line() -> ArraySlice<UInt8>? {
        guard !rest.isEmpty else { return nil }
        let end = rest.firstIndex(of: 0x0A) ?? rest.endIndex
        var l = rest[..<end]
        rest = end == rest.endIndex ? rest[end...] : rest[(end + 1)...]
        if l.last == 0x0D { l = l.dropLast() }
        return l
    }
    let first = line() ?? []
    let space = first.firstIndex(of: 0x20) ?? first.endIndex
    let method = text(first[..<space])
    let target = space == first.endIndex ? "/" : text(first[(space + 1)...])
    var headers = HTTPHeaders()
    while let l = line(), !l.isEmpty {
        let colon = l.firstIndex(of: UInt8(ascii: ":")) ?? l.endIndex
        let value = colon == l.endIndex ? [] : l[(colon + 1)...].drop { $0 == 0x20 || $0 == 0x09 }
        headers.add(text(l[..<colon]), text(value))
    }
    if headers["Authorization"] == nil { headers.add("Authorization", "Bearer fuzz") }
    return HTTPRequest(method: method, target: target, headers: headers, body: Array(rest), peer: "127.0.0.1:40000")
}
