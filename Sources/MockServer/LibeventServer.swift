import CLibevent
import Logging
import MockHTTP

#if canImport(Glibc)
    import Glibc
#endif

/// The HTTP server: one libevent loop on the calling thread owns every request,
/// stream and timer, and hands requests to the responder one at a time.
public final class LibeventServer: Scheduler {
    let base: OpaquePointer
    let http: OpaquePointer
    let options: ServerOptions
    let responder: Responder
    let logger: Logger
    private var listener: OpaquePointer?
    /// Refuses connections past the descriptor budget without spinning (see ConnectionBudget).
    private var connectionBudget: ConnectionBudget?
    /// The connection budget in effect once bound (`options.maxConnections`, or less if the
    /// descriptor hard limit is lower).
    public private(set) var maxConnections = 0
    /// The budget of each listener, for evhttp's accept error callback (whose context is evhttp's).
    nonisolated(unsafe) static var budgets: [OpaquePointer: ConnectionBudget] = [:]
    static let acceptError: evconnlistener_errorcb = { accepting, _ in
        let error = errno
        guard let accepting, let budget = LibeventServer.budgets[accepting] else { return }
        budget.acceptFailed(listener: evconnlistener_get_fd(accepting), error: error)
    }
    /// Whole requests within `options.requestTimeoutSeconds` (nil when they could not be installed).
    var requestDeadlines: RequestDeadlines?
    private var signalEvents: [OpaquePointer] = []
    /// Bytes queued in user space for all open streams together (kept by each stream's
    /// output watch), bounded by `options.streamBufferTotalBytes`.
    var queuedStreamBytes = 0
    /// Open SSE streams, kept alive here until they end or their peer goes away.
    var streams: [ObjectIdentifier: EventStreamSink] = [:]
    private var stopping = false
    private var date = HTTPDate()
    /// An empty buffer lent to each chunk write, which moves its contents to the connection.
    let scratch: OpaquePointer
    /// Frames written straight to streams' sockets, framed as chunks once for all their streams.
    var streamChunks = StreamChunks()
    /// Runs when a shutdown begins, before the loop exits (the app ends its streams here).
    public var onShutdown: (() -> Void)?

    public init(responder: Responder, options: ServerOptions, logger: Logger) throws {
        guard let base = event_base_new() else { throw ServerError("event_base_new failed") }
        guard let http = evhttp_new(base) else {
            event_base_free(base)
            throw ServerError("evhttp_new failed")
        }
        guard let scratch = evbuffer_new() else {
            evhttp_free(http)
            event_base_free(base)
            throw ServerError("evbuffer_new failed")
        }
        self.scratch = scratch
        self.base = base
        self.http = http
        self.options = options
        self.responder = responder
        self.logger = logger
        // Allow every method: evhttp would answer the others with its own 501, and
        // the router answers 405 in the API's envelope instead.
        let all: [evhttp_cmd_type] = [
            EVHTTP_REQ_GET, EVHTTP_REQ_POST, EVHTTP_REQ_HEAD, EVHTTP_REQ_PUT, EVHTTP_REQ_DELETE,
            EVHTTP_REQ_OPTIONS, EVHTTP_REQ_TRACE, EVHTTP_REQ_CONNECT, EVHTTP_REQ_PATCH,
        ]
        evhttp_set_allowed_methods(http, UInt16(all.reduce(0) { $0 | $1.rawValue }))
        evhttp_set_max_headers_size(http, Int(options.maxHeaderBytes))
        // A reply without a type goes without one: evhttp would give it
        // `text/html; charset=ISO-8859-1`, and it could not see the type of a reply whose
        // headers are packed (`ReplyHeaders`).
        evhttp_set_default_content_type(http, nil)
        evhttp_set_max_body_size(http, Int(options.hardMaxBodyBytes))
        // A body past that cap is read and thrown away before the 413 goes out, then the
        // connection closes (a lingering close, as nginx does): closing while the client
        // still sends would reset the connection under it, and it would never read the
        // answer. The request deadline bounds how long that reading may take.
        evhttp_set_flags(http, Int32(EVHTTP_SERVER_LINGERING_CLOSE))
        evhttp_set_timeout(http, Int32(options.connectionTimeoutSeconds))
        evhttp_set_gencb(
            http,
            { req, ctx in
                guard let req, let ctx else { return }
                Unmanaged<LibeventServer>.fromOpaque(ctx).takeUnretainedValue().handle(req)
            }, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        for ev in signalEvents { event_free(ev) }
        evhttp_free(http)
        evbuffer_free(scratch)
        event_base_free(base)
    }

    /// Binds and listens; returns the port actually bound (useful with port 0).
    public func bind() throws -> Int {
        guard let handle = evhttp_bind_socket_with_handle(http, options.host, UInt16(clamping: options.port)) else {
            throw ServerError("cannot listen on \(options.host):\(options.port): \(String(cString: strerror(errno)))")
        }
        listener = handle
        connectionBudget = ConnectionBudget(logger: logger)
        maxConnections = connectionBudget!.apply(maxConnections: options.maxConnections)
        if let accepting = evhttp_bound_socket_get_listener(handle) {
            // The callback's context is the listener's (evhttp's), so it finds the budget by listener.
            Self.budgets[accepting] = connectionBudget
            evconnlistener_set_error_cb(accepting, Self.acceptError)
            let deadlines = RequestDeadlines(server: self, limitMillis: options.requestTimeoutSeconds * 1000)
            if deadlines.install(on: accepting, errorCallback: Self.acceptError, http: http) {
                requestDeadlines = deadlines
            } else {
                logger.notice("request deadlines are off: this libevent's listener is not laid out as 2.1's")
            }
        }
        let fd = evhttp_bound_socket_get_fd(handle)
        // Accepted connections inherit it: without it a reply of more than one segment
        // waits for the peer's delayed ACK (40 ms on Linux) before its last segment goes.
        var on: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard ok == 0 else { throw ServerError("getsockname failed: \(String(cString: strerror(errno)))") }
        if Int32(storage.ss_family) == AF_INET6 {
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin6_port))
                }
            }
        }
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }

    /// The listening socket's descriptor (nil before `bind` and after shutdown).
    var listeningSocket: Int32? { listener.map { evhttp_bound_socket_get_fd($0) } }

    /// SIGTERM and SIGINT start an orderly shutdown from inside the loop.
    public func handleTerminationSignals() {
        for sig in [SIGTERM, SIGINT] {
            let ev = event_new(
                base, sig, Int16(EV_SIGNAL | EV_PERSIST),
                { _, _, ctx in
                    guard let ctx else { return }
                    Unmanaged<LibeventServer>.fromOpaque(ctx).takeUnretainedValue().shutdown()
                }, Unmanaged.passUnretained(self).toOpaque())
            if let ev {
                event_add(ev, nil)
                signalEvents.append(ev)
            }
        }
    }

    /// Runs the loop until `shutdown`.
    public func run() {
        event_base_dispatch(base)
    }

    /// Stops accepting, ends every open event stream properly, then leaves the loop once
    /// the ended streams have handed their last bytes to the kernel and replies of known
    /// length being written have been written (or after
    /// `shutdownGraceMillis`), and a moment later still so the other replies already
    /// queued reach their clients (breaking the loop at once would drop them).
    public func shutdown() {
        guard !stopping else { return }
        stopping = true
        logger.info("shutting down")
        requestDeadlines?.stop()
        if let listener {
            if let accepting = evhttp_bound_socket_get_listener(listener) { Self.budgets[accepting] = nil }
            evhttp_del_accept_socket(http, listener)
            self.listener = nil
        }
        // The signal events stay: a second SIGTERM while the streams drain is a no-op,
        // not the default action (death by signal instead of exit status 0).
        onShutdown?()
        // Event streams end here; a reply of known length (a state export being written)
        // goes on to its last byte within the grace period: ended now, its client would
        // get less than its Content-Length said.
        for sink in Array(streams.values) where !sink.sized { sink.finish() }
        let deadline = Self.monotonicMillis() + options.shutdownGraceMillis
        func exitWhenFlushed() {
            let writing = streams.values.contains { $0.sized && $0.isOpen }
            if (endsInFlight > 0 || writing) && Self.monotonicMillis() < deadline {
                schedule(after: 10) { exitWhenFlushed() }
                return
            }
            // Past the grace period, a reply still being written is cut (its reader stopped
            // reading); nothing of it may outlive the loop.
            for sink in Array(streams.values) where sink.sized { sink.cut() }
            var tv = timeval(tv_sec: 0, tv_usec: 100_000)
            event_base_loopexit(base, &tv)
        }
        exitWhenFlushed()
    }

    /// Stream endings whose terminating chunk is still queued in user space. A reader
    /// behind by up to a replay window would lose it if the loop left on a fixed delay.
    private var endsInFlight = 0

    /// During shutdown, counts one ending until evhttp reports the reply fully
    /// written (its on-complete callback runs in `evhttp_send_done`, before the
    /// request is freed). An ending whose peer dies first is never reported, which
    /// is why only shutdown counts, and the grace deadline covers it.
    func endStarted(_ req: OpaquePointer) {
        guard stopping else { return }
        endsInFlight += 1
        evhttp_request_set_on_complete_cb(
            req,
            { _, ctx in
                guard let ctx else { return }
                Unmanaged<LibeventServer>.fromOpaque(ctx).takeUnretainedValue().endsInFlight -= 1
            }, Unmanaged.passUnretained(self).toOpaque())
    }

    static func monotonicMillis() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
    }

    // MARK: Requests

    /// The socket of a request's connection (-1 when it has none).
    static func socket(of req: OpaquePointer) -> Int32 {
        guard let connection = evhttp_request_get_connection(req),
            let events = evhttp_connection_get_bufferevent(connection)
        else { return -1 }
        return bufferevent_getfd(events)
    }

    func handle(_ req: OpaquePointer) {
        requestDeadlines?.answering(Self.socket(of: req))
        let request = Self.read(req)
        if Self.leavesBodyUnread(request) {
            // The unread body would be parsed as the next request on this kept-alive
            // connection (evhttp then answers that with its own HTML 400/501), so the
            // connection closes after this reply.
            evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close")
        }
        if request.method == "CONNECT" { closeAfterReply(req) }
        deliver(responder.respond(to: request), for: request, to: req)
    }

    /// evhttp 2.1 never closes a CONNECT's connection, whatever its headers say (it
    /// expects a tunnel); no route tunnels, so the connection ends once the answer is
    /// out instead of idling until the timeout.
    func closeAfterReply(_ req: OpaquePointer) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close")
        evhttp_request_set_on_complete_cb(
            req,
            { req, _ in
                guard let req else { return }
                let fd = LibeventServer.socket(of: req)
                if fd >= 0 { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
            }, nil)
    }

    /// evhttp 2.1 reads no body for HEAD and TRACE (`evhttp_method_may_have_body`);
    /// a client may send one anyway.
    static func leavesBodyUnread(_ request: HTTPRequest) -> Bool {
        guard request.method == "HEAD" || request.method == "TRACE" else { return false }
        if request.headers["Transfer-Encoding"] != nil { return true }
        guard let length = request.headers["Content-Length"] else { return false }
        return !length.allSatisfy { $0 == "0" || $0 == " " || $0 == "\t" }
    }

    static func methodName(_ cmd: evhttp_cmd_type) -> String {
        switch cmd {
        case EVHTTP_REQ_GET: "GET"
        case EVHTTP_REQ_POST: "POST"
        case EVHTTP_REQ_HEAD: "HEAD"
        case EVHTTP_REQ_PUT: "PUT"
        case EVHTTP_REQ_DELETE: "DELETE"
        case EVHTTP_REQ_OPTIONS: "OPTIONS"
        case EVHTTP_REQ_TRACE: "TRACE"
        case EVHTTP_REQ_CONNECT: "CONNECT"
        case EVHTTP_REQ_PATCH: "PATCH"
        default: "UNKNOWN"
        }
    }

    static func read(_ req: OpaquePointer) -> HTTPRequest {
        let method = methodName(evhttp_request_get_command(req))
        let target = evhttp_request_get_uri(req).map { String(cString: $0) } ?? "/"
        var headers = HTTPHeaders()
        if let list = evhttp_request_get_input_headers(req) {
            var count = 0
            var node = list.pointee.tqh_first
            while let n = node {
                count += 1
                node = n.pointee.next.tqe_next
            }
            headers.reserveCapacity(count)
            node = list.pointee.tqh_first
            while let n = node {
                headers.add(String(cString: n.pointee.key), String(cString: n.pointee.value))
                node = n.pointee.next.tqe_next
            }
        }
        var body: [UInt8] = []
        if let input = evhttp_request_get_input_buffer(req) {
            let length = evbuffer_get_length(input)
            if length > 0 {
                body = [UInt8](repeating: 0, count: length)
                _ = body.withUnsafeMutableBytes { evbuffer_copyout(input, $0.baseAddress, length) }
            }
        }
        var peer = ""
        if let conn = evhttp_request_get_connection(req) {
            var address: UnsafeMutablePointer<CChar>?
            var port: UInt16 = 0
            evhttp_connection_get_peer(conn, &address, &port)
            if let address { peer = Self.peer(address, port) }
        }
        return HTTPRequest(method: method, target: target, headers: headers, body: body, peer: peer)
    }

    /// `address:port`, written into one string: joining the address, the colon and the
    /// port's digits as strings made a string at each step.
    static func peer(_ address: UnsafePointer<CChar>, _ port: UInt16) -> String {
        let length = strlen(address)
        return String(unsafeUninitializedCapacity: length + 6) { out in
            var i = 0
            while i < length {
                out[i] = UInt8(bitPattern: address[i])
                i += 1
            }
            out[i] = UInt8(ascii: ":")
            i += 1
            var divisor: UInt16 = 10000
            while divisor > 1 && port / divisor == 0 { divisor /= 10 }
            while divisor > 0 {
                out[i] = UInt8(ascii: "0") + UInt8(port / divisor % 10)
                i += 1
                divisor /= 10
            }
            return i
        }
    }

    func deliver(_ reply: Reply, for request: HTTPRequest, to req: OpaquePointer) {
        switch reply {
        case .response(let response):
            send(response, to: req)
        case .stream(let stream):
            startStream(stream, for: request, on: req)
        case .deferred(let body):
            // evhttp keeps a request the user has not answered alive even when its
            // peer leaves (http.c, evhttp_connection_incoming_fail), and answering
            // it then just frees it; so answering late is always safe, exactly once.
            var watch: HangUpWatch?
            let answer = PendingAnswer { [weak self] reply in
                watch?.stop()
                watch = nil
                self?.deliver(reply, for: request, to: req)
            }
            body(answer)
            guard !answer.isAnswered else { return }
            // evhttp reads nothing from a connection while its request waits for an
            // answer, so it would not see the peer leave: a watch of its own does, and
            // the answer's holder lets go of its wait now instead of at its timeout.
            watch = HangUpWatch(server: self, request: req) { [weak self] in
                watch = nil
                answer.abandon()
                // Answered so that evhttp frees the request and closes the connection.
                guard let self else { return }
                self.send(self.responder.unavailable(request, reason: "The client went away."), to: req)
            }
        }
    }

    func send(_ response: HTTPResponse, to req: OpaquePointer) {
        // The next request's deadline starts once this answer is out (the request is
        // freed by sending it, so its socket is read first).
        let socket = Self.socket(of: req)
        defer { requestDeadlines?.answered(socket) }
        let out = evhttp_request_get_output_headers(req)
        // What evhttp would add, made here for less: the date once a second, the length
        // without printf. Replies that carry no body (HEAD, 1xx, 204, 304) get no length, as
        // from evhttp; HTTP/1.0 replies get a date too. evhttp sends whatever body it is
        // given, even to HEAD, 204 and 304: those answers are given none.
        let sendsBody = HTTPResponse.carriesBody(response.status) && evhttp_request_get_command(req) != EVHTTP_REQ_HEAD
        ReplyHeaders.add(response.headers, date: &date, to: out)
        if sendsBody {
            var length = String(response.body.count)
            _ = length.withUTF8 { cam_append_header(out, "Content-Length", $0.baseAddress, $0.count) }
        }
        if sendsBody && !response.body.isEmpty {
            ReplyBody.add(response.body, to: scratch)
            if response.body.count >= ReplyBody.lendFrom { Self.allowLargeWrites(req) }
        }
        // evhttp moves the body out of the scratch buffer; whatever it leaves (a HEAD
        // reply, a request whose connection is gone) must not reach the next reply.
        HTTPResponse.reason(for: response.status).withCString { reason in
            evhttp_send_reply(req, Int32(response.status), reason, scratch)
        }
        let left = evbuffer_get_length(scratch)
        if left > 0 { evbuffer_drain(scratch, left) }
    }

    /// libevent hands a connection's queue to the kernel 16 KiB per turn of the loop: a body
    /// of hundreds of megabytes (a state export) took tens of thousands of turns, and a
    /// stream's backlog drained as slowly. A large body or a stream may write up to 1 MiB
    /// a turn: the 1M-event export reached curl in 0.51-0.54 s instead of 0.61-0.69 s.
    static func allowLargeWrites(_ req: OpaquePointer) {
        guard let connection = evhttp_request_get_connection(req),
            let events = evhttp_connection_get_bufferevent(connection)
        else { return }
        _ = bufferevent_set_max_single_write(events, 1 << 20)
    }

    /// Passing a String where C wants a `const char *` copies a small string (most header
    /// names and values) into a new heap array on every call; `withCString` lends it from
    /// the stack instead, and evhttp copies what it keeps (`evhttp_add_header` strdups).
    static func addHeader(_ headers: UnsafeMutablePointer<evkeyvalq>?, _ name: String, _ value: String) {
        name.withCString { name in
            value.withCString { value in _ = evhttp_add_header(headers, name, value) }
        }
    }

    func startStream(_ stream: StreamReply, for request: HTTPRequest, on req: OpaquePointer) {
        guard !stopping, let conn = evhttp_request_get_connection(req) else {
            // The responder composes it, so it has the envelope and request id of every other answer.
            send(responder.unavailable(request, reason: "The server is shutting down."), to: req)
            return
        }
        let out = evhttp_request_get_output_headers(req)
        for field in stream.headers { Self.addHeader(out, field.name, field.value) }
        // evhttp dates HTTP/1.1 replies only.
        Self.addHeader(out, "Date", date.now())
        HTTPResponse.reason(for: stream.status).withCString { reason in
            evhttp_send_reply_start(req, Int32(stream.status), reason)
        }
        Self.allowLargeWrites(req)
        let sink = EventStreamSink(server: self, request: req, connection: conn)
        streams[ObjectIdentifier(sink)] = sink
        sink.activate()
        stream.start(sink)
    }

    func forget(_ sink: EventStreamSink) {
        streams[ObjectIdentifier(sink)] = nil
    }

    public var openStreamCount: Int { streams.count }

    // MARK: Scheduler

    private final class TimerBox {
        var event: OpaquePointer?
        var action: (() -> Void)?
    }

    @discardableResult
    public func schedule(after milliseconds: Int, _ action: @escaping () -> Void) -> ScheduledAction {
        let box = TimerBox()
        box.action = action
        let unmanaged = Unmanaged.passRetained(box)
        box.event = event_new(
            base, -1, 0,
            { _, _, ctx in
                guard let ctx else { return }
                let unmanaged = Unmanaged<TimerBox>.fromOpaque(ctx)
                let box = unmanaged.takeUnretainedValue()
                let action = box.action
                box.action = nil
                if let ev = box.event { event_free(ev) }
                box.event = nil
                unmanaged.release()
                action?()
            }, unmanaged.toOpaque())
        var tv = timeval(tv_sec: milliseconds / 1000, tv_usec: Int((milliseconds % 1000) * 1000))
        event_add(box.event, &tv)
        return ScheduledAction {
            guard let ev = box.event else { return }
            event_del(ev)
            event_free(ev)
            box.event = nil
            box.action = nil
            unmanaged.release()
        }
    }
}
