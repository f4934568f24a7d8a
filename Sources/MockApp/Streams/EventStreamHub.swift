import MockDomain
import MockHTTP

/// Live SSE subscribers, per event log (a thread's history, or a session's events
/// across its threads).
///
/// Each subscriber keeps a cursor into its log: the position of the next event
/// it has not been sent yet. Opening a stream registers the subscriber and
/// replays the history from its cursor at the reader's pace (never more than the
/// sink's `paceBytes` queued); a subscriber whose cursor has reached the end gets
/// every new event as the store writes it. A replay that is still going when
/// events arrive simply reads them from the log later, so no event is lost,
/// repeated or reordered, however the two interleave. Previews go only to
/// subscribers that asked for them and are live (caught up).
public final class EventStreamHub: StoreObserver {
    final class Subscription {
        let sink: StreamSink
        let log: EventLog
        let types: Set<String>
        /// Event types whose previews this stream asked for (`event_deltas[]`).
        let deltas: Set<String>
        /// Position in `log.events` of the next event not yet considered.
        var next: Int
        /// False once removed from the hub; a replay waiting on its sink then stops.
        var registered = true

        init(sink: StreamSink, log: EventLog, types: Set<String>, deltas: Set<String>, next: Int) {
            self.sink = sink
            self.log = log
            self.types = types
            self.deltas = deltas
            self.next = next
        }

        var caughtUp: Bool { next >= log.count }

        func wants(_ type: String) -> Bool { types.isEmpty || types.contains(type) }

        /// Writes one frame; false when the subscription is over.
        func deliver(_ frame: [UInt8]) -> Bool {
            guard sink.isOpen else { return false }
            return sink.write(frame)
        }
    }

    private var byLog: [ObjectIdentifier: [Subscription]] = [:]
    public private(set) var openCount = 0

    /// Streams open on one log.
    public func openCount(on log: EventLog) -> Int { byLog[ObjectIdentifier(log)]?.count ?? 0 }
    /// Frames written since start, for the stats route.
    public private(set) var framesWritten = 0

    public init() {}

    /// Starts a stream on `log` from the event at position `next` (0 for the
    /// whole history), then live events; a closed log replays and ends. Quiet
    /// streams get heartbeats when the transport says so.
    public func open(_ start: StreamStart, types: Set<String>, deltas: Set<String> = [], sink: StreamSink) {
        let sub = Subscription(sink: sink, log: start.log, types: types, deltas: deltas, next: start.next)
        byLog[ObjectIdentifier(start.log), default: []].append(sub)
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
    /// taken half of that. A caught-up subscriber of a closed log is ended.
    private func replay(_ sub: Subscription) {
        guard sub.registered else { return }
        let pace = sub.sink.paceBytes
        while !sub.caughtUp {
            let event = sub.log.events[sub.next]
            guard sub.wants(event.type) else {
                sub.next += 1
                continue
            }
            let queued = sub.sink.bufferedBytes
            let frame = SSE.frame(event)
            if queued > 0 && queued + frame.count > pace {
                // Wait until the frame fits under the pace with room to spare (half
                // the pace, at least), so the next pass surely writes; a frame bigger
                // than the pace itself waits for an empty queue.
                let threshold = frame.count >= pace ? 0 : min(pace / 2, pace - frame.count)
                sub.sink.whenDrained(to: threshold) { [weak self, weak sub] in
                    guard let self, let sub else { return }
                    self.replay(sub)
                }
                return
            }
            sub.next += 1
            framesWritten += 1
            guard sub.deliver(frame) else {
                remove(sub)
                return
            }
        }
        if sub.log.closed {
            remove(sub)
            sub.sink.finish()
        }
    }

    private func remove(_ sub: Subscription) {
        guard sub.registered else { return }
        sub.registered = false
        let key = ObjectIdentifier(sub.log)
        guard var list = byLog[key], let i = list.firstIndex(where: { $0 === sub }) else { return }
        list.remove(at: i)
        byLog[key] = list.isEmpty ? nil : list
        openCount -= 1
        sub.sink.onClose = nil
        sub.sink.onQuiet = nil
    }

    public func appended(_ event: StoredEvent, to log: EventLog) {
        guard let list = byLog[ObjectIdentifier(log)] else { return }
        let position = log.count - 1
        // Only subscribers whose cursor stood right at this event are live; the
        // others are still replaying and will read it from the log.
        for sub in list where sub.next == position {
            sub.next += 1
            guard sub.wants(event.type) else { continue }
            framesWritten += 1
            if !sub.deliver(SSE.frame(event)) { remove(sub) }
        }
    }

    public func closed(_ log: EventLog) {
        guard let list = byLog[ObjectIdentifier(log)] else { return }
        // Subscribers still replaying end when their replay reaches the end.
        for sub in list where sub.caughtUp {
            remove(sub)
            sub.sink.finish()
        }
    }

    public func previewed(_ preview: Preview, in logs: [EventLog]) {
        var frame: [UInt8]?
        for log in logs {
            guard let list = byLog[ObjectIdentifier(log)] else { continue }
            for sub in list
            where sub.caughtUp && sub.deltas.contains(preview.eventType) && sub.wants(preview.eventType) {
                let bytes = frame ?? SSE.previewFrame(preview)
                frame = bytes
                framesWritten += 1
                if !sub.deliver(bytes) { remove(sub) }
            }
        }
    }

    public func worldReplaced() { endAll() }

    /// Ends every open stream properly (reset, state import, shutdown).
    public func endAll() {
        let all = byLog.values.flatMap { $0 }
        for sub in all {
            remove(sub)
            sub.sink.finish()
        }
    }
}
