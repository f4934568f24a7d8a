import Foundation
import Logging
import MockHTTP
import XCTest

@testable import MockServer

#if canImport(Glibc)
    import Glibc
#endif

/// A stub responder, so these tests see the adapter alone: how replies, streams,
/// deferred answers and disconnects map onto evhttp.
final class StubResponder: Responder {
    weak var server: LibeventServer?
    var sinks: [StreamSink] = []
    var closed = 0

    /// The responder composes the answer the adapter cannot hand over.
    func unavailable(_ request: HTTPRequest, reason: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/json")
        headers.add("x-request-id", "req_stub")
        return HTTPResponse(status: 503, headers: headers, body: Array("{\"composed\":\"\(reason)\"}".utf8))
    }

    /// A body past ReplyBody.lendFrom, in a pattern that a shifted, cut or doubled piece
    /// would break.
    static let bigBody = (0..<(3 * 1024 * 1024 + 7)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 12) }

    func respond(to request: HTTPRequest) -> Reply {
        switch request.rawPath {
        case "/stream-after-stop":
            // A stream whose answer comes once shutdown has begun.
            return .deferred { [weak self] deliver in
                self?.server?.shutdown()
                deliver(.stream(StreamReply(headers: HTTPHeaders()) { sink in sink.finish() }))
            }
        case "/stop":
            server?.shutdown()
            return .response(HTTPResponse(status: 200, body: Array("bye".utf8)))
        case "/echo":
            var headers = HTTPHeaders()
            headers.add("Content-Type", "text/plain")
            let text = "\(request.method) \(request.target) \(request.headers["X-Probe"] ?? "-") \(request.body.count)"
            return .response(HTTPResponse(status: 201, headers: headers, body: Array(text.utf8)))
        case "/big":
            // Past ReplyBody.lendFrom: lent to libevent, not copied.
            // A copy of its own each time: a body freed too early must not survive in the static.
            return .response(HTTPResponse(status: 200, body: Self.bigBody.map { $0 }))
        case "/odd-headers":
            // Fields that would break a line, between two good ones, and no type.
            let headers = HTTPHeaders([
                ("X-Good", "1"), ("X-Bad", "a\r\nInjected: yes"), ("X-Nul", "a\u{0}b"), ("", "nameless"),
                ("X-Bad-Name\r\nInjected", "no"), ("X-Last", "2"),
            ])
            return .response(HTTPResponse(status: 200, headers: headers, body: Array("odd".utf8)))
        case "/own-date":
            // A reply that names its own date and a wrong length.
            let headers = HTTPHeaders([
                ("X-First", "1"), ("date", "Mon, 01 Jan 2001 00:00:00 GMT"), ("Content-Length", "999"),
            ])
            return .response(HTTPResponse(status: 200, headers: headers, body: Array("own".utf8)))
        case "/no-content", "/not-modified":
            // A body given where the status forbids one: it must not reach the wire.
            let status = request.rawPath == "/no-content" ? 204 : 304
            return .response(HTTPResponse(status: status, body: Array("stray".utf8)))
        case "/later":
            return .deferred { [weak self] deliver in
                self?.server?.schedule(after: 50) {
                    deliver(.response(HTTPResponse(status: 202, body: Array("late".utf8))))
                }
            }
        case "/stream":
            var headers = HTTPHeaders()
            headers.add("Content-Type", "text/event-stream")
            return .stream(
                StreamReply(headers: headers) { [weak self] sink in
                    guard let self else { return }
                    sink.onClose = { [weak self] in self?.closed += 1 }
                    sink.write(Array("data: one\n\n".utf8))
                    self.sinks.append(sink)
                    if request.target.hasSuffix("?finish") {
                        sink.write(Array("data: two\n\n".utf8))
                        sink.finish()
                    }
                })
        case "/sized":
            // A reply of known length whose reader does not read: 64 MiB queued at once, more than
            // the kernel takes on loopback.
            let size = 64 << 20
            var headers = HTTPHeaders()
            headers.add("Content-Length", String(size))
            return .stream(
                StreamReply(headers: headers) { [weak self] sink in
                    sink.write([UInt8](repeating: UInt8(ascii: "x"), count: size))
                    self?.sinks.append(sink)
                })
        case "/queued":
            let queued = server?.queuedStreamBytes ?? -1
            return .response(HTTPResponse(status: 200, body: Array("queued=\(queued)".utf8)))
        case "/count":
            let open = sinks.filter(\.isOpen).count
            return .response(HTTPResponse(status: 200, body: Array("open=\(open) closed=\(closed)".utf8)))
        default:
            return .response(HTTPResponse(status: 404))
        }
    }
}

/// Runs the loop on its own thread; everything else talks to it over loopback.
final class RunningServer: @unchecked Sendable {
    let server: LibeventServer
    let responder = StubResponder()
    let port: Int
    private let done = DispatchSemaphore(value: 0)

    init(options: ServerOptions = ServerOptions()) throws {
        var options = options
        options.port = 0
        // As the binary does: a write to a connection the server shut (a cut reply) fails
        // with EPIPE instead of killing the process.
        signal(SIGPIPE, SIG_IGN)
        server = try LibeventServer(responder: responder, options: options, logger: Logger(label: "test"))
        responder.server = server
        port = try server.bind()
        let thread = Thread { [self] in
            server.run()
            done.signal()
        }
        thread.start()
    }

    /// Stops through a request, so that libevent is only ever touched by its own thread.
    func stop() throws {
        XCTAssertEqual(try exchange("GET /stop HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status, 200)
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success, "the loop did not exit")
    }

    struct Answer {
        var status: Int
        var head: String
        var body: String
    }

    /// Sends raw bytes on a new connection and reads until the server closes it.
    func exchange(_ raw: String) throws -> Answer {
        let s = try Socket(port: port)
        defer { s.close() }
        try s.send(raw)
        let text = try s.readAll()
        return Self.parse(text)
    }

    static func parse(_ text: String) -> Answer {
        let parts = text.components(separatedBy: "\r\n\r\n")
        let head = parts.first ?? ""
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        return Answer(status: status, head: head, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }
}

/// A blocking loopback socket with a receive deadline.
final class Socket {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        guard n == bytes.count else { throw POSIXError(.EPIPE) }
    }

    /// Reads what is there until `until` appears (or the peer closes); throws at the deadline.
    func read(until marker: String) throws -> String {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !String(decoding: data, as: UTF8.self).contains(marker) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else { throw POSIXError(.ETIMEDOUT) }
            data += buffer[0..<n]
        }
        return String(decoding: data, as: UTF8.self)
    }

    func readAll() throws -> String { try read(until: "\u{0}never\u{0}") }

    /// Sends `raw` and reads until the peer closes; closes the socket.
    func exchangeAll(_ raw: String) throws -> String {
        defer { close() }
        try send(raw)
        return try readAll()
    }

    /// Every byte until the peer closes; throws at the deadline.
    func readAllBytes() throws -> [UInt8] {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return data }
            guard n > 0 else { throw POSIXError(.ETIMEDOUT) }
            data += buffer[0..<n]
        }
    }

    func close() { Glibc.close(fd) }
}

final class LibeventServerTests: XCTestCase {
    func testWholeResponseKeepsHeadersAndBodyAndLengths() throws {
        let running = try RunningServer()
        let a = try running.exchange(
            "POST /echo?x=1 HTTP/1.1\r\nHost: x\r\nX-Probe: yes\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
        XCTAssertEqual(a.status, 201)
        XCTAssertTrue(a.head.contains("Content-Type: text/plain"))
        XCTAssertTrue(a.head.contains("Content-Length: 20"))
        XCTAssertEqual(a.body, "POST /echo?x=1 yes 5")
        try running.stop()
    }

    /// A reply's header lines are written by the adapter (evhttp only adds the status line and
    /// what it must): every good field in order, one date, the length, no type that the reply
    /// did not have, and no field that would break a line.
    func testHeaderLinesAreTheRepliesOwnAndNoneIsBroken() throws {
        let running = try RunningServer()
        let text = try Socket(port: running.port).exchangeAll(
            "GET /odd-headers HTTP/1.1\r\nHost: x\r\n\r\nGET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let answers = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0) }
        XCTAssertEqual(answers.count, 2, text)
        let lines = (answers.first ?? "").components(separatedBy: "\r\n")
        XCTAssertEqual(lines.first, "200 OK")
        let fields = lines.dropFirst().prefix { !$0.isEmpty }
        XCTAssertEqual(fields.filter { $0.hasPrefix("Date: ") }.count, 1, text)
        XCTAssertEqual(
            fields.filter { !$0.hasPrefix("Date: ") }, ["X-Good: 1", "X-Last: 2", "Content-Length: 3"], text)
        XCTAssertTrue(answers[0].hasSuffix("\r\n\r\nodd"), text)
        XCTAssertTrue(answers[1].hasPrefix("201 Created"), text)

        // A reply's own date is the one date sent; the length is always the body's.
        let own = try Socket(port: running.port).exchangeAll(
            "GET /own-date HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let ownFields = own.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n").dropFirst()
        XCTAssertEqual(
            ownFields.sorted(),
            ["Connection: close", "Content-Length: 3", "Date: Mon, 01 Jan 2001 00:00:00 GMT", "X-First: 1"], own)
        try running.stop()
    }

    /// 204 and 304 answers end at their head (RFC 9110): a body given with them would be
    /// read as the start of the next answer on a kept-alive connection.
    func testNoContentAndNotModifiedAnswersCarryNoBody() throws {
        let running = try RunningServer()
        let text = try Socket(port: running.port).exchangeAll(
            "GET /no-content HTTP/1.1\r\nHost: x\r\n\r\nGET /not-modified HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let answers = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0) }
        XCTAssertEqual(answers.map { $0.prefix(3) }, ["204", "304", "201"], text)
        XCTAssertFalse(text.contains("stray"), text)
        XCTAssertFalse(answers.prefix(2).contains { $0.contains("Content-Length") }, text)
        XCTAssertTrue(text.hasSuffix("\r\n\r\nGET /echo - 0"), text)
        try running.stop()
    }

    /// Event streams whose readers fall behind are cut when all of them together hold too
    /// much; a reply of known length (a state export) is not one of them, however much of
    /// it waits for its reader.
    /// At shutdown it is not ended with the event streams but left to finish within the grace
    /// period, and cut at its end.
    func testAReplyOfKnownLengthIsNotCountedWithTheEventStreams() throws {
        var options = ServerOptions()
        options.streamBufferBytes = 128 << 20  // one 64 MiB write is let through
        options.shutdownGraceMillis = 300
        let running = try RunningServer(options: options)
        let reader = try Socket(port: running.port)
        defer { reader.close() }
        try reader.send("GET /sized HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(try reader.read(until: "\r\n\r\n").contains("Content-Length: 67108864"))
        let stream = try Socket(port: running.port)
        defer { stream.close() }
        try stream.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(try stream.read(until: "data: one").contains("data: one"))
        let queued = try Socket(port: running.port).exchangeAll(
            "GET /queued HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(queued.hasSuffix("queued=0"), queued)
        // Its reader never reads: the shutdown waits out the grace period, cuts the reply and
        // leaves nothing of it to outlive the loop.
        try running.stop()
        XCTAssertLessThan(try reader.readAllBytes().count, 64 << 20)
    }

    /// A large body is lent to libevent rather than copied: it arrives whole, byte for
    /// byte, on kept-alive and closing connections alike, again and again (each answer's
    /// storage is released by libevent's callback; the sanitizer runs would see a leak).
    func testALargeBodyArrivesWholeAndAgain() throws {
        let running = try RunningServer()
        for _ in 0..<3 {
            let s = try Socket(port: running.port)
            defer { s.close() }
            try s.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\nGET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let raw = try s.readAllBytes()
            let head = Array("HTTP/1.1 200 OK\r\n".utf8)
            var bodies: [ArraySlice<UInt8>] = []
            var rest = raw[...]
            while let end = rest.firstRange(of: Array("\r\n\r\n".utf8)) {
                XCTAssertTrue(rest.starts(with: head))
                let headers = String(decoding: rest[..<end.lowerBound], as: UTF8.self)
                XCTAssertTrue(headers.contains("Content-Length: \(StubResponder.bigBody.count)"), headers)
                let bodyEnd = min(rest.endIndex, end.upperBound + StubResponder.bigBody.count)
                bodies.append(rest[end.upperBound..<bodyEnd])
                rest = rest[bodyEnd...]
            }
            XCTAssertEqual(bodies.count, 2)
            for body in bodies { XCTAssertTrue(body.elementsEqual(StubResponder.bigBody)) }
            XCTAssertTrue(rest.isEmpty)
        }
        try running.stop()
    }

    /// Without TCP_NODELAY (inherited by accepted connections from the listener), a
    /// reply of several segments waited 40 ms for the client's delayed ACK: a page of
    /// 100 events took 43 ms instead of 0.2 ms.
    func testConnectionsSendWithoutNagleDelay() throws {
        let running = try RunningServer()
        let fd = try XCTUnwrap(running.server.listeningSocket)
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        XCTAssertEqual(getsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length), 0)
        XCTAssertEqual(value, 1)
        try running.stop()
    }

    /// evhttp keeps a CONNECT's connection for a tunnel; it stayed open until the idle
    /// timeout (60 s) even with `Connection: close`.
    func testAConnectRequestIsAnsweredAndItsConnectionClosed() throws {
        let running = try RunningServer()
        let a = try running.exchange("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
        XCTAssertNotEqual(a.status, 0)
        XCTAssertTrue(a.head.contains("Connection: close"), a.head)
        try running.stop()
    }

    func testEveryMethodReachesTheResponder() throws {
        let running = try RunningServer()
        for method in ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"] {
            let a = try running.exchange("\(method) /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            XCTAssertEqual(a.status, 201, method)
            XCTAssertTrue(a.body.hasPrefix(method), a.body)
        }
        try running.stop()
    }

    func testDeferredReplyArrivesLater() throws {
        let running = try RunningServer()
        let a = try running.exchange("GET /later HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(a.status, 202)
        XCTAssertEqual(a.body, "late")
        try running.stop()
    }

    func testStreamIsChunkedWithoutLengthAndEndsWithTheTerminatingChunk() throws {
        let running = try RunningServer()
        let s = try Socket(port: running.port)
        defer { s.close() }
        try s.send("GET /stream?finish HTTP/1.1\r\nHost: x\r\n\r\n")
        let text = try s.read(until: "0\r\n\r\n")
        let answer = RunningServer.parse(text)
        XCTAssertEqual(answer.status, 200)
        XCTAssertTrue(answer.head.contains("Transfer-Encoding: chunked"), answer.head)
        XCTAssertFalse(answer.head.contains("Content-Length"), answer.head)
        XCTAssertTrue(answer.body.contains("data: one\n\n") && answer.body.contains("data: two\n\n"), answer.body)
        // The connection stays usable after a finished stream.
        try s.send("GET /count HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(try s.readAll().contains("open=0"))
        try running.stop()
    }

    func testClientLeavingIsNoticedAndForgotten() throws {
        let running = try RunningServer()
        for _ in 0..<20 {
            let s = try Socket(port: running.port)
            try s.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
            _ = try s.read(until: "data: one")
            s.close()
        }
        // Each close callback runs once, on the loop thread; poll with a deadline.
        let deadline = Date().addingTimeInterval(10)
        var last = ""
        while Date() < deadline {
            last = try running.exchange("GET /count HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").body
            if last == "open=0 closed=20" { break }
        }
        XCTAssertEqual(last, "open=0 closed=20")
        XCTAssertEqual(running.server.openStreamCount, 0)
        try running.stop()
    }

    func testShutdownEndsOpenStreamsProperly() throws {
        let running = try RunningServer()
        let s = try Socket(port: running.port)
        defer { s.close() }
        try s.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try s.read(until: "data: one")
        try running.stop()
        XCTAssertTrue(try s.read(until: "0\r\n\r\n").hasSuffix("0\r\n\r\n"), "no terminating chunk at shutdown")
    }

    func testAStreamRefusedDuringShutdownGetsTheRespondersAnswer() throws {
        let running = try RunningServer()
        let answer = try running.exchange("GET /stream-after-stop HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(answer.status, 503)
        XCTAssertTrue(answer.head.lowercased().contains("content-type: application/json"), answer.head)
        XCTAssertTrue(answer.head.contains("x-request-id: req_stub"), answer.head)
        XCTAssertEqual(answer.body, #"{"composed":"The server is shutting down."}"#)
    }
}

final class PeerTextTests: XCTestCase {
    /// The peer is written as `address:port` with the port in plain decimal, whatever its length.
    func testThePeerIsTheAddressAColonAndThePortInDecimal() {
        for port: UInt16 in [0, 5, 10, 99, 100, 9999, 10000, 40000, 65535] {
            for address in ["127.0.0.1", "::1", "fe80::1%eth0"] {
                let text = address.withCString { LibeventServer.peer($0, port) }
                XCTAssertEqual(text, address + ":" + String(port))
            }
        }
    }
}
