/// A reply whose headers go out now and whose body is written over time.
public struct StreamReply {
    public var status: Int
    public var headers: HTTPHeaders
    /// Called once, right after the headers were sent, with the sink to write to.
    public var start: (StreamSink) -> Void

    public init(status: Int = 200, headers: HTTPHeaders, start: @escaping (StreamSink) -> Void) {
        self.status = status
        self.headers = headers
        self.start = start
    }
}

/// What the application answers to one request.
public enum Reply {
    /// A whole response, sent at once.
    case response(HTTPResponse)
    /// A streamed (chunked) response.
    case stream(StreamReply)
    /// An answer that comes later (long-polls, injected delays). The closure is
    /// called once with a function that delivers the reply; calling that function
    /// after the peer went away is harmless.
    case deferred((@escaping (Reply) -> Void) -> Void)
}

/// Whatever answers requests: the application, as seen by a transport.
public protocol Responder: AnyObject {
    func respond(to request: HTTPRequest) -> Reply
    /// The answer to a request the transport will not hand over (the server is
    /// shutting down): composed by the responder, so it has the same envelope,
    /// request id and headers as every other answer.
    func unavailable(_ request: HTTPRequest, reason: String) -> HTTPResponse
}
