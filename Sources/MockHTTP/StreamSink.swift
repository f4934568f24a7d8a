/// Where a streaming reply writes. Implemented by the transport (libevent in the
/// server, a recorder in unit tests) and wrapped by decorators (an injected fault
/// that cuts the stream). Every call happens on the event-loop thread.
public protocol StreamSink: AnyObject {
    /// False once the peer went away or the stream was ended.
    var isOpen: Bool { get }
    /// Queues one frame for the peer. Returns false when the stream is over after
    /// this call: it was closed, its reader is too far behind (the sink then ends
    /// it), or a decorator cut it after this frame.
    @discardableResult func write(_ bytes: [UInt8]) -> Bool
    /// Queues bytes that are not a frame (an SSE comment keeping the connection alive).
    func keepAlive(_ bytes: [UInt8])
    /// Ends the response properly (the terminating chunk).
    func finish()
    /// Drops the connection without ending the response, as a network fault would.
    func abort()
    /// Called by the sink's owner when the peer goes away; set by the stream's producer.
    var onClose: (() -> Void)? { get set }
    /// Called when nothing was written for the transport's heartbeat interval; the
    /// producer answers with `keepAlive`.
    var onQuiet: (() -> Void)? { get set }
    /// Bytes written and not yet taken by the peer.
    var bufferedBytes: Int { get }
    /// What a producer that can wait (a history replay) keeps `bufferedBytes` under,
    /// well below the bound past which `write` ends the stream.
    var paceBytes: Int { get }
    /// The bound itself: unread bytes past which `write` ends the stream (a decorator that
    /// queues bytes of its own holds itself to it too).
    var limitBytes: Int { get }
    /// Runs `action` once, later on the loop thread, when `bufferedBytes` is at most
    /// `threshold`; replaces an earlier request; dropped if the stream ends first.
    func whenDrained(to threshold: Int, _ action: @escaping () -> Void)
}

/// Timers, provided by the transport so the application never blocks or spawns threads.
public protocol Scheduler: AnyObject {
    /// Runs `action` on the loop thread after `milliseconds`. The result cancels it.
    @discardableResult func schedule(after milliseconds: Int, _ action: @escaping () -> Void) -> ScheduledAction
}

public final class ScheduledAction {
    private var cancelHandler: (() -> Void)?
    public init(cancel: @escaping () -> Void) { cancelHandler = cancel }
    public func cancel() {
        cancelHandler?()
        cancelHandler = nil
    }
}
