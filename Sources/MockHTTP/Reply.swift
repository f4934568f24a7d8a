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
    /// called once with the pending answer: call it with the reply (once; calling it
    /// after the peer went away is harmless), and set its `onAbandoned` to let go of
    /// what the wait holds when the peer leaves first.
    case deferred((PendingAnswer) -> Void)
}

/// A reply still to come, and the way to hear that nobody waits for it any more.
public final class PendingAnswer {
    private var deliver: ((Reply) -> Void)?
    /// Set by whoever answers: called once if the peer goes away before the answer (its
    /// timers and waits can be cancelled then). Not called once answered.
    public var onAbandoned: (() -> Void)?

    public init(_ deliver: @escaping (Reply) -> Void) { self.deliver = deliver }

    /// Delivers the reply; only the first call counts.
    public func callAsFunction(_ reply: Reply) {
        guard let deliver else { return }
        self.deliver = nil
        onAbandoned = nil
        deliver(reply)
    }

    public var isAnswered: Bool { deliver == nil }

    /// The peer left: the answer is no longer wanted (the transport calls this).
    public func abandon() {
        let abandoned = onAbandoned
        onAbandoned = nil
        deliver = nil
        abandoned?()
    }

    /// A pending answer whose reply is `transform`ed on its way to this one; abandoning
    /// this one runs `alsoOnAbandon`, then abandons it too (for steps that decorate a
    /// deferred reply).
    public func mapped(
        _ transform: @escaping (Reply) -> Reply, alsoOnAbandon: (() -> Void)? = nil
    ) -> PendingAnswer {
        let inner = PendingAnswer { [self] reply in self(transform(reply)) }
        onAbandoned = { [weak inner] in
            alsoOnAbandon?()
            inner?.abandon()
        }
        return inner
    }
}

/// Whatever answers requests: the application, as seen by a transport.
public protocol Responder: AnyObject {
    func respond(to request: HTTPRequest) -> Reply
    /// The answer to a request the transport will not hand over (the server is
    /// shutting down): composed by the responder, so it has the same envelope,
    /// request id and headers as every other answer.
    func unavailable(_ request: HTTPRequest, reason: String) -> HTTPResponse
}
