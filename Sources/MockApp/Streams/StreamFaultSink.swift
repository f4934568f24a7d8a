import MockDomain
import MockHTTP

/// How an injected fault mistreats a stream, for client authors testing their SSE
/// parser and reconnection: frames sent in small pieces, a heartbeat before every
/// frame, each frame held back, the connection dropped after N whole frames or in
/// the middle of frame N.
struct StreamAbuse: Equatable {
    enum Split: Equatable {
        /// Pieces of this many bytes.
        case bytes(Int)
        /// Pieces of 1 to 8 bytes, sizes drawn from a generator seeded by the fault's id,
        /// so a run repeats.
        case random(seed: UInt64)
    }

    var split: Split?
    var dropAfterFrames: Int?
    var dropInFrame: Int?
    var heartbeatBetweenFrames = false
    var frameDelayMs: Int?

    var isEmpty: Bool {
        split == nil && dropAfterFrames == nil && dropInFrame == nil && !heartbeatBetweenFrames
            && frameDelayMs == nil
    }
}

/// A sink decorator that applies a `StreamAbuse`. What it must hold back (a frame's
/// later pieces, frames behind a delay, the end) waits in its own queue, in order; the
/// producer sees that queue in `bufferedBytes`, so a paced history replay still waits
/// for the reader. Every call happens on the loop thread.
final class StreamFaultSink: StreamSink {
    private enum Item {
        case bytes([UInt8])
        case pause(Int)
        case finish
        case drop
    }

    private let inner: StreamSink
    private let abuse: StreamAbuse
    private let scheduler: Scheduler?
    private var queue: [Item] = []
    private var head = 0
    /// Offset into the queue's first `.bytes` item already written (split pieces).
    private var sentOfHead = 0
    private var queuedBytes = 0
    private var frames = 0
    /// The stream's end (a finish or a drop) is queued: the producer is done with it.
    private var ended = false
    /// Waiting for the inner sink to drain a piece, or for a frame's delay.
    private var waiting = false
    /// Inside `pump`: a drain reported at once (by a sink with nothing queued) resumes
    /// the loop there instead of nesting a call per piece.
    private var pumping = false
    private var timer: ScheduledAction?
    private var producerDrainWaiter: (threshold: Int, action: () -> Void)?
    /// Draws the sizes of random pieces.
    private var random: SplitMix64

    init(_ inner: StreamSink, abuse: StreamAbuse, scheduler: Scheduler?) {
        self.inner = inner
        self.abuse = abuse
        self.scheduler = scheduler
        if case .random(let seed) = abuse.split {
            random = SplitMix64(seed: seed)
        } else {
            random = SplitMix64(seed: 0)
        }
        // Held strongly on purpose: the producer may let go of this sink once it queued
        // the end, and the queue must still drain. The cycle ends when the stream does.
        inner.onClose = { self.innerClosed() }
    }

    private func innerClosed() {
        inner.onClose = nil
        stop()
        onClose?()
    }

    var isOpen: Bool { inner.isOpen && !ended }

    var onClose: (() -> Void)?

    var onQuiet: (() -> Void)? {
        get { inner.onQuiet }
        set { inner.onQuiet = newValue }
    }

    var bufferedBytes: Int { inner.bufferedBytes + queuedBytes }
    var paceBytes: Int { inner.paceBytes }
    var limitBytes: Int { inner.limitBytes }

    func write(_ bytes: [UInt8]) -> Bool {
        guard isOpen else { return false }
        if bufferedBytes > 0 && bufferedBytes + bytes.count > limitBytes {
            // Held back (pieces, delays) past the stream's bound, as a slow reader would be:
            // the stream ends, cut if a frame is half out, and the reader resumes with
            // Last-Event-ID. The queue never grows past the bound.
            let halfway = sentOfHead > 0
            stop()
            if halfway { inner.abort() } else { inner.finish() }
            return false
        }
        frames += 1
        if abuse.heartbeatBetweenFrames { enqueue(.bytes(SSE.heartbeat)) }
        if let delay = abuse.frameDelayMs, delay > 0 { enqueue(.pause(delay)) }
        if frames == abuse.dropInFrame {
            // Half the frame (at least a byte, never all of it when it has two), then the drop.
            enqueue(.bytes(Array(bytes.prefix(max(1, bytes.count / 2)))))
            enqueue(.drop)
        } else {
            enqueue(.bytes(bytes))
            if frames == abuse.dropAfterFrames { enqueue(.drop) }
        }
        pump()
        return isOpen
    }

    func keepAlive(_ bytes: [UInt8]) {
        guard isOpen else { return }
        // Between frames a heartbeat goes at once, even while a delay runs, so a long
        // `frame_delay_ms` does not let the connection's idle timeout fire.
        if sentOfHead == 0 {
            inner.keepAlive(bytes)
        } else {
            enqueue(.bytes(bytes))
        }
    }

    func finish() {
        guard isOpen else { return }
        enqueue(.finish)
        pump()
    }

    func abort() {
        stop()
        inner.abort()
    }

    func whenDrained(to threshold: Int, _ action: @escaping () -> Void) {
        guard isOpen else { return }
        producerDrainWaiter = (threshold, action)
        if head == queue.count && !waiting { passWaiterOn() }
    }

    /// With nothing of its own queued, the producer's wait is the inner sink's. The waiter
    /// stays here until it fires: a split piece's own drain wait replaces the inner sink's
    /// waiter, and the queue passes this one on again once it is idle.
    private func passWaiterOn() {
        guard let waiter = producerDrainWaiter else { return }
        inner.whenDrained(to: waiter.threshold) {
            guard let waiter = self.producerDrainWaiter else { return }
            self.producerDrainWaiter = nil
            waiter.action()
        }
    }

    private func enqueue(_ item: Item) {
        switch item {
        case .bytes(let b): queuedBytes += b.count
        case .finish, .drop: ended = true
        case .pause: break
        }
        queue.append(item)
    }

    /// Writes what the queue holds, in order, until it must wait for a piece to leave
    /// the process or for a delay to pass.
    private func pump() {
        guard !pumping else { return }
        pumping = true
        defer { pumping = false }
        while !waiting, head < queue.count, inner.isOpen {
            switch queue[head] {
            case .pause(let ms):
                head += 1
                guard let scheduler else { continue }
                waiting = true
                timer = scheduler.schedule(after: ms) {
                    self.timer = nil
                    self.resume()
                }
            case .bytes(let bytes):
                guard let split = abuse.split else {
                    head += 1
                    queuedBytes -= bytes.count
                    guard inner.write(bytes) else { return stop() }
                    continue
                }
                let size = min(pieceSize(split), bytes.count - sentOfHead)
                let piece = Array(bytes[sentOfHead..<sentOfHead + size])
                sentOfHead += size
                queuedBytes -= size
                if sentOfHead == bytes.count {
                    head += 1
                    sentOfHead = 0
                }
                guard inner.write(piece) else { return stop() }
                // The next piece goes once this one has left the process: its own chunk
                // and its own write to the socket.
                waiting = true
                inner.whenDrained(to: 0) { self.resume() }
            case .finish:
                head += 1
                return inner.finish()
            case .drop:
                head += 1
                return inner.abort()
            }
        }
        guard head == queue.count, !waiting else { return }
        queue.removeAll(keepingCapacity: true)
        head = 0
        passWaiterOn()
    }

    private func resume() {
        waiting = false
        pump()
    }

    /// Nothing more goes: the stream ended (inner sink closed, aborted, or past its bound)
    /// and what was queued is dropped, with any delay still running.
    private func stop() {
        producerDrainWaiter = nil
        queue.removeAll()
        head = 0
        sentOfHead = 0
        queuedBytes = 0
        waiting = false
        timer?.cancel()
        timer = nil
        ended = true
    }

    private func pieceSize(_ split: StreamAbuse.Split) -> Int {
        switch split {
        case .bytes(let n): return n
        case .random: return Int(random.next() % 8) + 1
        }
    }
}
