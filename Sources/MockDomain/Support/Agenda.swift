/// The pending steps of every turn: a min-heap by (due time, scheduling order),
/// with the live steps by sequence number and by thread. Dropping a thread's steps
/// costs its own steps, not the whole agenda: dropped entries leave the heap when
/// they reach its top (and the heap is rebuilt when they are the majority).
struct Agenda {
    private var heap: [ScheduledStep] = []
    private(set) var live: [Int: ScheduledStep] = [:]
    private var byThread: [String: Set<Int>] = [:]

    var count: Int { live.count }
    var isEmpty: Bool { live.isEmpty }

    private static func before(_ a: ScheduledStep, _ b: ScheduledStep) -> Bool {
        (a.dueAt, a.seq) < (b.dueAt, b.seq)
    }

    mutating func insert(_ step: ScheduledStep) {
        live[step.seq] = step
        byThread[step.threadID, default: []].insert(step.seq)
        heap.append(step)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.before(heap[i], heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    /// The earliest live step.
    mutating func first() -> ScheduledStep? {
        while let top = heap.first, live[top.seq] == nil { popHeap() }
        return heap.first
    }

    mutating func popFirst() -> ScheduledStep? {
        guard let step = first() else { return nil }
        popHeap()
        forget(step)
        return step
    }

    /// Drops one thread's steps.
    mutating func remove(thread threadID: String) {
        for seq in byThread.removeValue(forKey: threadID) ?? [] { live[seq] = nil }
        compactIfSparse()
    }

    /// Drops a session's steps (cancel, delete: rare, so a pass over the live steps).
    mutating func remove(session sessionID: String) {
        for (_, step) in live where step.sessionID == sessionID { forget(step) }
        compactIfSparse()
    }

    /// Live steps in the order they will play.
    func sorted(where keep: (ScheduledStep) -> Bool = { _ in true }) -> [ScheduledStep] {
        live.values.filter(keep).sorted(by: Self.before)
    }

    private mutating func forget(_ step: ScheduledStep) {
        live[step.seq] = nil
        byThread[step.threadID]?.remove(step.seq)
        if byThread[step.threadID]?.isEmpty == true { byThread[step.threadID] = nil }
    }

    private mutating func popHeap() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var m = i
            if l < heap.count && Self.before(heap[l], heap[m]) { m = l }
            if r < heap.count && Self.before(heap[r], heap[m]) { m = r }
            if m == i { return }
            heap.swapAt(i, m)
            i = m
        }
    }

    private mutating func compactIfSparse() {
        guard heap.count > 64 && heap.count > 2 * live.count else { return }
        heap = []
        let steps = live.values.sorted(by: Self.before)
        heap.reserveCapacity(steps.count)
        // A sorted array is a valid min-heap.
        heap.append(contentsOf: steps)
    }
}
