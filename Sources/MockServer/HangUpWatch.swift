import CLibevent

#if canImport(Glibc)
    import Glibc
#endif

/// Notices that the peer of a request waiting for a deferred answer has closed its
/// connection: a read watch on the connection's socket that peeks, never consumes. A
/// byte that arrives instead (a pipelined request) ends the watch without a verdict; the
/// wait then ends at its own timeout, as before.
final class HangUpWatch {
    private var event: OpaquePointer?
    private let fd: Int32
    private var onHangUp: (() -> Void)?

    init?(server: LibeventServer, request: OpaquePointer, onHangUp: @escaping () -> Void) {
        fd = LibeventServer.socket(of: request)
        guard fd >= 0 else { return nil }
        self.onHangUp = onHangUp
        let context = Unmanaged.passUnretained(self).toOpaque()
        event = event_new(
            server.base, fd, Int16(EV_READ),
            { _, _, context in
                guard let context else { return }
                Unmanaged<HangUpWatch>.fromOpaque(context).takeUnretainedValue().readable()
            }, context)
        guard let event, event_add(event, nil) == 0 else {
            stop()
            return nil
        }
    }

    private func readable() {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            if let event { event_add(event, nil) }
            return
        }
        let hungUp = n <= 0  // 0: the peer closed; below: the connection failed (reset)
        let action = onHangUp
        stop()
        if hungUp { action?() }
    }

    /// Ends the watch (the answer went out, or the peer left); safe to call twice.
    func stop() {
        onHangUp = nil
        if let event {
            event_free(event)
            self.event = nil
        }
    }

    deinit { stop() }
}
