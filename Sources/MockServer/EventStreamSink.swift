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
    private var retained: Unmanaged<EventStreamSink>?
    private static let heartbeatFrame = Array(": heartbeat\n\n".utf8)
    var onClose: (() -> Void)?

    init(server: LibeventServer, request: OpaquePointer, connection: OpaquePointer) {
        self.server = server
        self.request = request
        self.connection = connection
    }

    var isOpen: Bool { request != nil }

    /// Registers the close callback and the heartbeat timer.
    func activate() {
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
        armHeartbeat()
    }

    private func armHeartbeat() {
        guard let heartbeat else { return }
        let ms = server.options.heartbeatMillis
        var tv = timeval(tv_sec: ms / 1000, tv_usec: Int((ms % 1000) * 1000))
        event_add(heartbeat, &tv)
    }

    private func beat() {
        write(Self.heartbeatFrame)
    }

    /// Bytes queued for the peer and not yet taken by the kernel.
    private var unsent: Int {
        guard let connection, let bev = evhttp_connection_get_bufferevent(connection),
            let output = bufferevent_get_output(bev)
        else { return 0 }
        return evbuffer_get_length(output)
    }

    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        guard let request else { return false }
        if unsent + bytes.count > server.options.streamBufferBytes {
            // A reader this far behind is ended rather than buffered without limit;
            // it resumes with Last-Event-ID (API.md section 7).
            server.logger.notice("ending a stream whose reader is \(unsent) bytes behind")
            finish()
            return false
        }
        let buffer = evbuffer_new()
        _ = bytes.withUnsafeBytes { evbuffer_add(buffer, $0.baseAddress, $0.count) }
        evhttp_send_reply_chunk(request, buffer)
        evbuffer_free(buffer)
        armHeartbeat()
        return true
    }

    /// Ends the response with the terminating chunk.
    func finish() {
        guard let request else { return }
        let callback = onClose
        release()
        evhttp_send_reply_end(request)
        callback?()
    }

    /// Drops the connection as a network fault would: no terminating chunk. The
    /// close callback stays armed and runs when libevent sees the socket die.
    func abort() {
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
        if let connection { evhttp_connection_set_closecb(connection, nil, nil) }
        if let heartbeat {
            event_del(heartbeat)
            event_free(heartbeat)
        }
        heartbeat = nil
        request = nil
        connection = nil
        server.forget(self)
        retained?.release()
        retained = nil
    }
}
