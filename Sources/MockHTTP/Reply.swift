/// Where a streaming reply writes. Implemented by the transport (libevent in the
/// server, a recorder in unit tests). Every call happens on the event-loop thread.
public protocol StreamSink: AnyObject {
    /// False once the peer went away or the stream was ended.
    var isOpen: Bool { get }
    /// Queues bytes for the peer. Returns false when the stream cannot take them
    /// (closed, or over its buffer bound, in which case the sink ends the stream).
    @discardableResult func write(_ bytes: [UInt8]) -> Bool
    /// Ends the response properly (the terminating chunk).
    func finish()
    /// Drops the connection without ending the response, as a network fault would.
    func abort()
    /// Called by the sink's owner when the peer goes away; set by the stream's producer.
    var onClose: (() -> Void)? { get set }
    /// Bytes written and not yet taken by the peer.
    var bufferedBytes: Int { get }
    /// What a producer that can wait (a history replay) keeps `bufferedBytes` under,
    /// well below the bound past which `write` ends the stream.
    var paceBytes: Int { get }
    /// Runs `action` once, later on the loop thread, when `bufferedBytes` is at most
    /// `threshold`; replaces an earlier request; dropped if the stream ends first.
    func whenDrained(to threshold: Int, _ action: @escaping () -> Void)
}

extension StreamSink {
    /// Sinks that keep nothing queued (unit-test recorders) never make a producer wait.
    public var bufferedBytes: Int { 0 }
    public var paceBytes: Int { Int.max }
    public func whenDrained(to threshold: Int, _ action: @escaping () -> Void) { action() }
}

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
}

/// Timers, provided by the transport so the domain never blocks or spawns threads.
public protocol Scheduler: AnyObject {
    /// Runs `action` on the loop thread after `milliseconds`. The result cancels it.
    @discardableResult func schedule(after milliseconds: Int, _ action: @escaping () -> Void)
        -> ScheduledAction
}

public final class ScheduledAction {
    private var cancelHandler: (() -> Void)?
    public init(cancel: @escaping () -> Void) { cancelHandler = cancel }
    public func cancel() {
        cancelHandler?()
        cancelHandler = nil
    }
}
