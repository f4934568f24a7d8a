import CLibevent
import MockHTTP

#if canImport(Glibc)
    import Glibc
#endif

/// One chunked SSE reply on an evhttp request. Owned by the server's stream table
/// from start until it ends or its peer leaves; the C callbacks hold one retained
/// reference, released exactly once in `release()`.
final class EventStreamSink: StreamSink {
    private unowned let server: LibeventServer
    private var request: OpaquePointer?
    private var connection: OpaquePointer?
    private var heartbeat: OpaquePointer?
    /// Fired (made active) when the output buffer drained far enough for a waiting
    /// producer or an abort; runs on the next loop pass, never inside libevent's
    /// own buffer bookkeeping.
    private var drained: OpaquePointer?
    /// Watches the connection's output buffer: libevent calls it whenever the
    /// buffer changes, so a drop in size is seen as soon as the kernel takes bytes.
    private var outputWatch: OpaquePointer?
    private var drainWaiter: (threshold: Int, action: () -> Void)?
    /// Set by `abort()`: no more writes; the socket is shut once the queued bytes
    /// have gone out, so a "drop after N frames" fault really delivers N frames.
    private var aborting = false
    private var retained: Unmanaged<EventStreamSink>?
    /// Whether evhttp frames this reply in chunks (HTTP/1.1); only then are frames
    /// written to the socket directly.
    private var chunked = false
    var onClose: (() -> Void)?
    var onQuiet: (() -> Void)?

    init(server: LibeventServer, request: OpaquePointer, connection: OpaquePointer) {
        self.server = server
        self.request = request
        self.connection = connection
    }

    var isOpen: Bool { request != nil && !aborting }

    /// A producer that can wait (a history replay) keeps the queue under this, far
    /// below the hard bound, so a long history streams at the reader's pace instead
    /// of being buffered whole (1,000 readers of a 2 MB history would hold 2 GB).
    var paceBytes: Int { max(2048, min(64 * 1024, server.options.streamBufferBytes / 2)) }

    var limitBytes: Int { server.options.streamBufferBytes }

    /// Registers the close callback, the heartbeat timer and the output watch.
    func activate() {
        if let request, let value = evhttp_find_header(evhttp_request_get_output_headers(request), "Transfer-Encoding")
        {
            chunked = String(cString: value).lowercased() == "chunked"
        }
        if let request {
            sized = evhttp_find_header(evhttp_request_get_output_headers(request), "Content-Length") != nil
        }
        let me = Unmanaged.passRetained(self)
        retained = me
        // Fires promptly when the client goes away; the callback belongs to the
        // connection and outlives this request, so `release` clears it.
        evhttp_connection_set_closecb(
            connection,
            { _, ctx in
                guard let ctx else { return }
                Unmanaged<EventStreamSink>.fromOpaque(ctx).takeUnretainedValue().peerClosed()
            }, me.toOpaque())
        heartbeat = event_new(
            server.base, -1, 0,
            { _, _, ctx in
                guard let ctx else { return }
                Unmanaged<EventStreamSink>.fromOpaque(ctx).takeUnretainedValue().beat()
            }, me.toOpaque())
        drained = event_new(
            server.base, -1, 0,
            { _, _, ctx in
                guard let ctx else { return }
                Unmanaged<EventStreamSink>.fromOpaque(ctx).takeUnretainedValue().outputDrained()
            }, me.toOpaque())
        if let output {
            outputWatch = evbuffer_add_cb(
                output,
                { buffer, _, ctx in
                    guard let buffer, let ctx else { return }
                    Unmanaged<EventStreamSink>.fromOpaque(ctx).takeUnretainedValue().outputChanged(
                        length: evbuffer_get_length(buffer))
                }, me.toOpaque())
        }
        armHeartbeat()
    }

    private func armHeartbeat(after ms: Int? = nil) {
        guard let heartbeat else { return }
        let ms = ms ?? server.options.heartbeatMillis
        var tv = timeval(tv_sec: ms / 1000, tv_usec: Int((ms % 1000) * 1000))
        event_add(heartbeat, &tv)
    }

    /// Quiet for the heartbeat interval: the producer decides what keeps the
    /// connection alive (the app writes an SSE comment).
    /// Writes do not move the timer (a timer update per frame per stream is most of
    /// a fan-out's cost); the timer, when it fires, looks at when the last write was.
    private func beat() {
        guard request != nil, !aborting else { return }
        let quiet = LibeventServer.monotonicMillis() - lastWrite
        let interval = server.options.heartbeatMillis
        if quiet < interval {
            armHeartbeat(after: interval - quiet)
            return
        }
        onQuiet?()
        armHeartbeat()
    }

    /// When the last bytes were queued (monotonic milliseconds).
    private var lastWrite = LibeventServer.monotonicMillis()

    private var output: OpaquePointer? {
        guard let connection, let bev = evhttp_connection_get_bufferevent(connection) else { return nil }
        return bufferevent_get_output(bev)
    }

    /// Bytes queued for the peer and not yet taken by the kernel.
    var bufferedBytes: Int {
        guard let output else { return 0 }
        return evbuffer_get_length(output)
    }

    func keepAlive(_ bytes: [UInt8]) {
        write(bytes)
    }

    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        guard let request, !aborting else { return false }
        let unsent = bufferedBytes
        // A frame larger than the bound itself still goes out on an empty queue;
        // otherwise a reader could never get past it.
        if unsent > 0 && unsent + bytes.count > server.options.streamBufferBytes {
            // A reader this far behind is ended rather than buffered without limit;
            // it resumes with Last-Event-ID (API.md section 7).
            server.logger.notice("ending a stream whose reader is \(unsent) bytes behind")
            finish()
            return false
        }
        if unsent > 0 && server.queuedStreamBytes + bytes.count > server.options.streamBufferTotalBytes {
            // All streams together hold too much for readers that are behind: this one,
            // behind too, is cut at once (its queue freed, not left to drain), and its
            // reader resumes with Last-Event-ID. Readers that keep up queue nothing.
            server.logger.notice(
                "cutting a stream whose reader is \(unsent) bytes behind: streams hold \(server.queuedStreamBytes) bytes in all"
            )
            cut()
            return false
        }
        lastWrite = LibeventServer.monotonicMillis()
        if chunked && unsent == 0 && sendDirectly(bytes) { return true }
        // The chunk's bytes move out of the server's scratch buffer into the connection's.
        _ = bytes.withUnsafeBytes { evbuffer_add(server.scratch, $0.baseAddress, $0.count) }
        evhttp_send_reply_chunk(request, server.scratch)
        // evhttp leaves the bytes where they are when it sends nothing (no connection, a
        // HEAD request): they must never reach the next stream written.
        let left = evbuffer_get_length(server.scratch)
        if left > 0 { evbuffer_drain(server.scratch, left) }
        return true
    }

    /// With nothing queued before it, a frame goes straight to the socket as one chunk,
    /// and only what the kernel does not take is queued. Through evhttp, every frame to
    /// every stream turned writing on and off in epoll (two extra system calls per
    /// stream per event, a third of a fan-out's cost). The chunk is the server's, made
    /// once per frame for all the streams it goes to (`StreamChunks`), and
    /// goes out in one contiguous `send`. False when there is no socket.
    private func sendDirectly(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return true }
        guard let connection, let bev = evhttp_connection_get_bufferevent(connection),
            let output = bufferevent_get_output(bev)
        else { return false }
        let fd = bufferevent_getfd(bev)
        guard fd >= 0 else { return false }
        let chunk = server.streamChunks.chunk(of: bytes)
        let sent = chunk.withUnsafeBytes {
            send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
        }
        keepConnectionTimerFresh(bev)
        if sent == chunk.count { return true }
        // The rest waits in the connection's queue; after an error, libevent meets the
        // same error on its own write and closes the connection as usual.
        let from = max(sent, 0)
        _ = chunk.withUnsafeBytes { evbuffer_add(output, $0.baseAddress! + from, $0.count - from) }
        return true
    }

    /// evhttp's idle timeout restarts whenever evhttp itself writes (it turns reading
    /// on again, which re-adds the read timeout). Frames sent directly do the same, at
    /// most four times per timeout, so a stream that only gets heartbeats stays open.
    private func keepConnectionTimerFresh(_ bev: OpaquePointer) {
        guard lastWrite - timerRefreshed >= server.options.connectionTimeoutSeconds * 250 else { return }
        timerRefreshed = lastWrite
        bufferevent_enable(bev, Int16(EV_READ))
    }

    private var timerRefreshed = 0

    func whenDrained(to threshold: Int, _ action: @escaping () -> Void) {
        guard request != nil, !aborting else { return }
        drainWaiter = (threshold, action)
        if bufferedBytes <= threshold, let drained { event_active(drained, EV_TIMEOUT, 0) }
    }

    /// Called by libevent inside its buffer code: only note the fact here.
    /// What this stream adds to `server.queuedStreamBytes` (its queue's length when last seen).
    private var counted = 0
    /// A reply of known length (a state export): it writes only to an empty queue, so it
    /// holds at most one part, and it is not counted with the event streams, whose readers
    /// that fall behind are cut when all of them together hold too much (exports that
    /// nobody read would otherwise get event streams cut).
    private(set) var sized = false

    private func outputChanged(length: Int) {
        if !sized {
            server.queuedStreamBytes += length - counted
            counted = length
        }
        guard let drained else { return }
        if aborting ? length == 0 : (drainWaiter.map { length <= $0.threshold } ?? false) {
            event_active(drained, EV_TIMEOUT, 0)
        }
    }

    private func outputDrained() {
        if aborting {
            if bufferedBytes == 0 { shutDownSocket() }
            return
        }
        guard let waiter = drainWaiter, bufferedBytes <= waiter.threshold else { return }
        drainWaiter = nil
        waiter.action()
    }

    /// Ends the response with the terminating chunk.
    func finish() {
        guard let request, !aborting else { return }
        let callback = onClose
        release()
        server.endStarted(request)
        evhttp_send_reply_end(request)
        callback?()
    }

    /// Drops the connection as a network fault would: no terminating chunk, but
    /// only after the frames already written have left (evhttp queues writes in
    /// user space; shutting the socket at once would lose them). The close
    /// callback stays armed and runs when libevent sees the socket die.
    func abort() {
        guard request != nil, !aborting else { return }
        aborting = true
        drainWaiter = nil
        if let heartbeat { event_del(heartbeat) }
        if bufferedBytes == 0 { shutDownSocket() }
    }

    /// Ends the stream now, dropping what is queued: the socket is shut, so evhttp frees
    /// the connection and its buffers on its next write instead of holding them.
    func cut() {
        guard let request else { return }
        let callback = onClose
        shutDownSocket()
        release()
        evhttp_send_reply_end(request)
        callback?()
    }

    private func shutDownSocket() {
        guard let connection, let bev = evhttp_connection_get_bufferevent(connection) else { return }
        let fd = bufferevent_getfd(bev)
        if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// The peer went away. evhttp has already detached the request from its
    /// connection; ending it now only frees it.
    private func peerClosed() {
        guard let request else { return }
        let callback = onClose
        release()
        evhttp_send_reply_end(request)
        callback?()
    }

    private func release() {
        if let connection, let events = evhttp_connection_get_bufferevent(connection) {
            server.requestDeadlines?.answered(bufferevent_getfd(events))
        }
        if let outputWatch, let output { evbuffer_remove_cb_entry(output, outputWatch) }
        outputWatch = nil
        server.queuedStreamBytes -= counted
        counted = 0
        if let connection { evhttp_connection_set_closecb(connection, nil, nil) }
        if let heartbeat {
            event_del(heartbeat)
            event_free(heartbeat)
        }
        heartbeat = nil
        if let drained {
            event_del(drained)
            event_free(drained)
        }
        drained = nil
        drainWaiter = nil
        onQuiet = nil
        aborting = false
        request = nil
        connection = nil
        server.forget(self)
        retained?.release()
        retained = nil
    }
}
