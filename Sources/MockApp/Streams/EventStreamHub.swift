import MockDomain
import MockHTTP

/// Live SSE subscribers, per thread.
///
/// Each subscriber keeps a cursor into its thread's event list: the position of
/// the next event it has not been sent yet. Opening a stream registers the
/// subscriber and replays the history from its cursor at the reader's pace (never
/// more than the sink's `paceBytes` queued); a subscriber whose cursor has reached
/// the end gets every new event as the store writes it. A replay that is still
/// going when events arrive simply reads them from the list later, so no event is
/// lost, repeated or reordered, however the two interleave.
public final class EventStreamHub: StoreObserver {
    final class Subscription {
        let sink: StreamSink
        let thread: SessionThread
        let types: Set<String>
        /// Position in `thread.events` of the next event not yet considered.
        var next: Int
        /// False once removed from the hub; a replay waiting on its sink then stops.
        var registered = true

        init(sink: StreamSink, thread: SessionThread, types: Set<String>, next: Int) {
            self.sink = sink
            self.thread = thread
            self.types = types
            self.next = next
        }

        var caughtUp: Bool { next >= thread.events.count }

        func wants(_ event: StoredEvent) -> Bool { types.isEmpty || types.contains(event.type) }

        /// Writes one frame; false when the subscription is over.
        func deliver(_ event: StoredEvent) -> Bool {
            guard sink.isOpen else { return false }
            return sink.write(SSE.frame(event))
        }
    }

    private var byThread: [String: [Subscription]] = [:]
    public private(set) var openCount = 0
    /// Frames written since start, for the stats route.
    public private(set) var framesWritten = 0

    public init() {}

    /// Starts a stream on `thread` from the event at position `next` (0 for the
    /// whole history), then live events; a thread that is already final replays
    /// and ends. Quiet streams get heartbeats when the transport says so.
    public func open(thread: SessionThread, from next: Int, types: Set<String>, sink: StreamSink) {
        let sub = Subscription(sink: sink, thread: thread, types: types, next: next)
        byThread[thread.id, default: []].append(sub)
        openCount += 1
        sink.onClose = { [weak self, weak sub] in
            guard let self, let sub else { return }
            self.remove(sub)
        }
        sink.onQuiet = { [weak sink] in sink?.keepAlive(SSE.heartbeat) }
        replay(sub)
    }

    /// Writes history from the subscriber's cursor until it has caught up, or until
    /// the sink holds `paceBytes`, in which case it carries on once the reader has
    /// taken half of that. A caught-up subscriber of a final thread is ended.
    private func replay(_ sub: Subscription) {
        guard sub.registered else { return }
        let pace = sub.sink.paceBytes
        while !sub.caughtUp {
            let event = sub.thread.events[sub.next]
            guard sub.wants(event) else {
                sub.next += 1
                continue
            }
            let queued = sub.sink.bufferedBytes
            let frameSize = SSE.frame(event).count
            if queued > 0 && queued + frameSize > pace {
                // Wait until the frame fits under the pace with room to spare (half
                // the pace, at least), so the next pass surely writes; a frame bigger
                // than the pace itself waits for an empty queue.
                let threshold = frameSize >= pace ? 0 : min(pace / 2, pace - frameSize)
                sub.sink.whenDrained(to: threshold) { [weak self, weak sub] in
                    guard let self, let sub else { return }
                    self.replay(sub)
                }
                return
            }
            sub.next += 1
            framesWritten += 1
            guard sub.deliver(event) else {
                remove(sub)
                return
            }
        }
        if sub.thread.status.isFinal {
            remove(sub)
            sub.sink.finish()
        }
    }

    private func remove(_ sub: Subscription) {
        guard sub.registered else { return }
        sub.registered = false
        guard var list = byThread[sub.thread.id], let i = list.firstIndex(where: { $0 === sub }) else { return }
        list.remove(at: i)
        byThread[sub.thread.id] = list.isEmpty ? nil : list
        openCount -= 1
        sub.sink.onClose = nil
        sub.sink.onQuiet = nil
    }

    public func eventAdded(_ event: StoredEvent, to thread: SessionThread) {
        guard let list = byThread[thread.id] else { return }
        let position = thread.events.count - 1
        // Only subscribers whose cursor stood right at this event are live; the
        // others are still replaying and will read it from the list.
        for sub in list where sub.next == position {
            sub.next += 1
            guard sub.wants(event) else { continue }
            framesWritten += 1
            if !sub.deliver(event) { remove(sub) }
        }
    }

    public func threadFinished(_ thread: SessionThread) {
        guard let list = byThread[thread.id] else { return }
        // Subscribers still replaying end when their replay reaches the final event.
        for sub in list where sub.caughtUp {
            remove(sub)
            sub.sink.finish()
        }
    }

    public func worldReplaced() { endAll() }

    /// Ends every open stream properly (reset, state import, shutdown).
    public func endAll() {
        let all = byThread.values.flatMap { $0 }
        for sub in all {
            remove(sub)
            sub.sink.finish()
        }
    }
}
