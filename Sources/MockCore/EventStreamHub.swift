import MockHTTP

/// Live SSE subscribers, per thread. Opening a stream writes the thread's history
/// and registers the subscriber in the same loop turn, so no event can fall
/// between the two; every later event is fanned out as the store writes it.
public final class EventStreamHub: StoreObserver {
    final class Subscription {
        let sink: StreamSink
        let threadID: String
        let types: Set<String>
        /// Injected fault: drop the connection after this many more frames.
        var framesLeft: Int?

        init(sink: StreamSink, threadID: String, types: Set<String>, framesLeft: Int?) {
            self.sink = sink
            self.threadID = threadID
            self.types = types
            self.framesLeft = framesLeft
        }

        func wants(_ event: StoredEvent) -> Bool { types.isEmpty || types.contains(event.type) }

        /// Writes one frame; false when the subscription is over.
        func deliver(_ event: StoredEvent) -> Bool {
            guard sink.isOpen else { return false }
            guard sink.write(event.frame) else { return false }
            if let left = framesLeft {
                framesLeft = left - 1
                if left - 1 <= 0 {
                    sink.abort()
                    return false
                }
            }
            return true
        }
    }

    private var byThread: [String: [Subscription]] = [:]
    public private(set) var openCount = 0
    /// Frames written since start, for the stats route.
    public private(set) var framesWritten = 0

    public init() {}

    /// Starts a stream on `thread`: history after `lastEventID` (already validated),
    /// then live events; a thread that is already final replays and ends.
    public func open(
        thread: SessionThread, after lastEventID: String?, types: Set<String>, dropAfterFrames: Int?, sink: StreamSink
    ) {
        let sub = Subscription(sink: sink, threadID: thread.id, types: types, framesLeft: dropAfterFrames)
        var start = 0
        if let lastEventID, let i = thread.eventIndex[lastEventID] { start = i + 1 }
        var i = start
        while i < thread.events.count {
            let event = thread.events[i]
            i += 1
            guard sub.wants(event) else { continue }
            framesWritten += 1
            guard sub.deliver(event) else { return }
        }
        if thread.status.isFinal {
            sink.finish()
            return
        }
        byThread[thread.id, default: []].append(sub)
        openCount += 1
        sink.onClose = { [weak self, weak sub] in
            guard let self, let sub else { return }
            self.remove(sub)
        }
    }

    private func remove(_ sub: Subscription) {
        guard var list = byThread[sub.threadID], let i = list.firstIndex(where: { $0 === sub }) else { return }
        list.remove(at: i)
        byThread[sub.threadID] = list.isEmpty ? nil : list
        openCount -= 1
        sub.sink.onClose = nil
    }

    public func subscriberCount(thread: String) -> Int { byThread[thread]?.count ?? 0 }

    public func eventAdded(_ event: StoredEvent, to thread: SessionThread) {
        guard let list = byThread[thread.id] else { return }
        for sub in list where sub.wants(event) {
            framesWritten += 1
            if !sub.deliver(event) { remove(sub) }
        }
    }

    public func threadFinished(_ thread: SessionThread) {
        guard let list = byThread[thread.id] else { return }
        for sub in list {
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
