import CLibevent
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// A whole request within a deadline (slowloris): evhttp's timeout counts only idle time,
/// so a client sending a byte every 20 s held its connection forever. Each connection
/// here gets `limit` to deliver a complete request, counted from when it was accepted or
/// its previous answer went out; while the server answers (a stream, a long-poll) the
/// clock stops. A sweep shuts the socket of any connection past its deadline, and evhttp
/// then frees it as it does a closed one.
///
/// evhttp 2.1 says nothing when it accepts a connection, so the listener's callback is
/// wrapped: the one evhttp installed is read from the listener (libevent 2.1's layout:
/// ops, lock, cb, errorcb, user_data), checked against what is known of it, and called
/// after the connection is noted. If the check fails, deadlines stay off (logged).
final class RequestDeadlines {
    private struct Connection {
        /// When the current wait for a request began (monotonic ms).
        var since: Int
        /// An answer is being produced (a stream, a deferred answer): no deadline meanwhile.
        var answering: Bool
    }

    /// By descriptor: descriptors are small numbers the kernel hands out again, so a
    /// connection is found by indexing on each request, not by hashing.
    private var connections: [Connection?] = []
    let limitMillis: Int
    private unowned let server: LibeventServer
    private var sweeper: OpaquePointer?
    private var evhttpAccept: evconnlistener_cb?
    private var evhttpContext: UnsafeMutableRawPointer?
    /// Connections cut for taking too long, since the start.
    private(set) var cut = 0

    init(server: LibeventServer, limitMillis: Int) {
        self.server = server
        self.limitMillis = limitMillis
    }

    /// Wraps the listener's accept callback; false (deadlines off) if its layout is not the expected one.
    func install(on listener: OpaquePointer, errorCallback: evconnlistener_errorcb, http: OpaquePointer) -> Bool {
        let fields = UnsafeRawPointer(listener).assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        guard let accept = fields[2], let errorSlot = fields[3], let context = fields[4],
            errorSlot == unsafeBitCast(errorCallback, to: UnsafeMutableRawPointer.self),
            context == UnsafeMutableRawPointer(http)
        else { return false }
        evhttpAccept = unsafeBitCast(accept, to: evconnlistener_cb.self)
        evhttpContext = context
        evconnlistener_set_cb(
            listener,
            { listener, fd, address, length, context in
                guard let context else { return }
                let deadlines = Unmanaged<RequestDeadlines>.fromOpaque(context).takeUnretainedValue()
                deadlines.note(fd, Connection(since: LibeventServer.monotonicMillis(), answering: false))
                deadlines.evhttpAccept?(listener, fd, address, length, deadlines.evhttpContext)
            }, Unmanaged.passUnretained(self).toOpaque())
        let period = max(100, min(1000, limitMillis / 4))
        sweeper = event_new(
            server.base, -1, Int16(EV_PERSIST),
            { _, _, context in
                guard let context else { return }
                Unmanaged<RequestDeadlines>.fromOpaque(context).takeUnretainedValue().sweep()
            }, Unmanaged.passUnretained(self).toOpaque())
        var tv = timeval(tv_sec: period / 1000, tv_usec: (period % 1000) * 1000)
        if let sweeper { event_add(sweeper, &tv) }
        return true
    }

    /// A request arrived whole on `fd`: its answer is being produced.
    func answering(_ fd: Int32) {
        guard fd >= 0, Int(fd) < connections.count, connections[Int(fd)] != nil else { return }
        connections[Int(fd)]!.answering = true
    }

    /// The answer on `fd` went out: the next request's deadline starts now.
    func answered(_ fd: Int32) {
        guard fd >= 0, Int(fd) < connections.count, connections[Int(fd)] != nil else { return }
        connections[Int(fd)] = Connection(since: LibeventServer.monotonicMillis(), answering: false)
    }

    private func note(_ fd: Int32, _ connection: Connection) {
        guard fd >= 0 else { return }
        if Int(fd) >= connections.count {
            connections.append(contentsOf: repeatElement(nil, count: Int(fd) + 1 - connections.count))
        }
        connections[Int(fd)] = connection
    }

    private func sweep() {
        let now = LibeventServer.monotonicMillis()
        var late: [Int32] = []
        for (fd, c) in connections.enumerated() {
            if let c, !c.answering && now - c.since >= limitMillis { late.append(Int32(fd)) }
        }
        var closed = 0
        for fd in late {
            connections[Int(fd)] = nil
            // A descriptor evhttp has closed meanwhile fails here harmlessly (or was taken
            // by a newer connection, which its accept noted afresh).
            if shutdown(fd, Int32(SHUT_RDWR)) == 0 { closed += 1 }
        }
        cut += closed
        if closed > 0 {
            server.logger.notice("closed \(closed) connection(s) that sent no whole request within \(limitMillis) ms")
        }
    }

    func stop() {
        if let sweeper {
            event_del(sweeper)
            event_free(sweeper)
        }
        sweeper = nil
        connections.removeAll()
    }

    deinit { stop() }
}
