import CLibevent

#if canImport(Glibc)
    import Glibc
#endif

/// One HTTP GET with a deadline, on a private libevent loop: what `cloud-agents-mock health`
/// asks a running server (a container's health check has no curl). Only the status matters.
public enum ReadinessProbe {
    public enum Outcome: Equatable {
        /// The server answered with this status.
        case answered(status: Int)
        /// No answer: the name did not resolve, the connection was refused or closed early, or the
        /// deadline passed (the reason says which).
        case failed(String)
    }

    /// `GET path` on `host:port`, with `headers`. One deadline of `timeoutMillis` covers it all:
    /// resolving the name (libevent's own resolver, on the same loop, so a silent DNS server cannot
    /// hold it up), connecting, and reading the answer.
    public static func get(
        host: String, port: Int, path: String, headers: [(String, String)] = [], timeoutMillis: Int
    ) -> Outcome {
        guard let base = event_base_new() else { return .failed("event_base_new failed") }
        // Reads /etc/resolv.conf and /etc/hosts; numeric addresses need neither.
        let resolver = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS)
        defer {
            if let resolver { evdns_base_free(resolver, 1) }
            // A lookup still pending at the deadline is failed on the loop: one more turn lets it
            // release the connection's buffers it holds.
            event_base_loop(base, EVLOOP_NONBLOCK)
            event_base_free(base)
        }
        guard let connection = evhttp_connection_base_new(base, resolver, host, UInt16(clamping: port)) else {
            return .failed("cannot make a connection to \(host):\(port)")
        }
        evhttp_connection_set_retries(connection, 0)

        final class Exchange {
            var outcome: Outcome?
            let base: OpaquePointer
            init(base: OpaquePointer) { self.base = base }
        }
        let exchange = Exchange(base: base)
        let context = Unmanaged.passUnretained(exchange).toOpaque()
        // The connection is freed while the exchange is still alive: freeing it may call the
        // request's callbacks for a request still pending at the deadline.
        return withExtendedLifetime(exchange) { () -> Outcome in
            defer { evhttp_connection_free(connection) }
            guard
                let request = evhttp_request_new(
                    { request, context in
                        guard let context else { return }
                        let exchange = Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue()
                        let status = request.map { Int(evhttp_request_get_response_code($0)) } ?? 0
                        if exchange.outcome == nil {
                            exchange.outcome =
                                status > 0
                                ? .answered(status: status) : .failed("connection refused or closed before an answer")
                        }
                        event_base_loopbreak(exchange.base)
                    }, context)
            else { return .failed("evhttp_request_new failed") }
            evhttp_request_set_error_cb(request) { error, context in
                guard let context else { return }
                let exchange = Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue()
                exchange.outcome = .failed(ReadinessProbe.describe(error))
            }
            let output = evhttp_request_get_output_headers(request)
            evhttp_add_header(output, "Host", host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
            evhttp_add_header(output, "Connection", "close")
            for (name, value) in headers { evhttp_add_header(output, name, value) }
            // The request belongs to the connection from here on, also when this fails.
            guard evhttp_make_request(connection, request, EVHTTP_REQ_GET, path) == 0 else {
                return .failed("cannot send the request to \(host):\(port)")
            }
            // The deadline: the loop stops there, whatever is still pending (freed with the connection).
            var limit = timeval(tv_sec: timeoutMillis / 1000, tv_usec: (timeoutMillis % 1000) * 1000)
            event_base_loopexit(base, &limit)
            event_base_dispatch(base)
            if let outcome = exchange.outcome, case .answered = outcome { return outcome }
            // A name that does not resolve fails the connection as a refusal does; say which it was.
            if let events = evhttp_connection_get_bufferevent(connection) {
                let code = bufferevent_socket_get_dns_error(events)
                if code != 0 {
                    return .failed("cannot resolve '\(host)': \(String(cString: evutil_gai_strerror(code)))")
                }
            }
            return exchange.outcome ?? .failed("no answer within \(timeoutMillis) ms")
        }
    }

    static func describe(_ error: evhttp_request_error) -> String {
        switch error {
        case EVREQ_HTTP_TIMEOUT: "timed out"
        case EVREQ_HTTP_EOF: "connection refused or closed before an answer"
        case EVREQ_HTTP_INVALID_HEADER: "the answer was not HTTP"
        case EVREQ_HTTP_BUFFER_ERROR: "connection failed"
        case EVREQ_HTTP_DATA_TOO_LONG: "the answer was too long"
        default: "request failed"
        }
    }
}
