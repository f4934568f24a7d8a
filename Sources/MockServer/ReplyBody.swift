import CLibevent

/// How a whole reply's body gets into libevent's output buffer.
enum ReplyBody {
    /// From this size on a body is lent to libevent instead of copied: a copy of a large body
    /// (a pretty state export, a journal page) costs as much fresh memory again.
    static let lendFrom = 256 * 1024

    /// Appends `body` to `buffer`. A large body's storage is referenced where it lies and
    /// kept alive by a retained box, released by libevent's callback once the bytes are
    /// written or dropped.
    static func add(_ body: [UInt8], to buffer: OpaquePointer) {
        guard body.count >= lendFrom else {
            _ = body.withUnsafeBytes { evbuffer_add(buffer, $0.baseAddress, $0.count) }
            return
        }
        let box = Lent(body)
        // The box holds the array unchanged until it is released, so its storage stays put:
        // a native array's elements do not move while a reference to them is held and
        // nothing writes to it. Formally the pointer outlives the closure that gave it;
        // the lifetime it needs is the box's, which libevent's callback ends.
        let base = box.bytes.withUnsafeBytes { $0.baseAddress! }
        let context = Unmanaged.passRetained(box).toOpaque()
        let added = evbuffer_add_reference(
            buffer, base, body.count,
            { _, _, context in
                guard let context else { return }
                Unmanaged<Lent>.fromOpaque(context).release()
            }, context)
        if added != 0 {
            // Not taken (no memory for the chain): libevent calls nothing back.
            Unmanaged<Lent>.fromOpaque(context).release()
            _ = body.withUnsafeBytes { evbuffer_add(buffer, $0.baseAddress, $0.count) }
        }
    }

    final class Lent {
        let bytes: [UInt8]
        init(_ bytes: [UInt8]) { self.bytes = bytes }
    }
}
