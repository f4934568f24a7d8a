import MockDomain
import MockHTTP

/// `GET /_mock/state` as a reply of known length whose body is written as the peer takes it:
/// a part of about 120 KiB whenever the connection's queue is empty, so a large world is
/// never copied whole into the server's memory and the event loop answers other requests
/// between two parts. The export is of the moment the request was answered: the writer holds
/// what it needs of that moment, whatever the world does meanwhile.
final class ExportStream {
    private let writer: Fixture.ExportWriter
    private let sink: StreamSink
    /// Bytes handed to the sink so far: all of them, and no more, are what the length said.
    private var written = 0
    /// About how much is written at a time: enough that the kernel's socket buffer never runs
    /// dry between two parts, small enough to be a short turn on the loop, and under the
    /// size from which the allocator maps fresh pages (the transport copies each part into
    /// a block of its own; at 1 MiB, faulting those pages in was a tenth of the export).
    static let partBytes = 120 * 1024

    private init(_ writer: Fixture.ExportWriter, _ sink: StreamSink) {
        self.writer = writer
        self.sink = sink
    }

    /// The export of `app`'s world; events of a world replaced while they wait to be written
    /// are handed back to `app`, to be freed a slice at a time once written.
    static func reply(_ app: MockApplication) -> Reply {
        let writer = Fixture.ExportWriter(app.store) { [weak app] world in app?.freeGradually(world) }
        let headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", String(writer.byteCount))])
        return .stream(StreamReply(headers: headers) { sink in ExportStream(writer, sink).writeParts() })
    }

    /// Writes parts while the connection's queue is empty (a write to an empty queue is
    /// never refused), then waits for it to empty again; the sink holds this object only
    /// while it waits, and lets go of it when the peer leaves. The part buffer lives only
    /// while parts are written (the sink copies what it is given): an export waiting on a
    /// slow reader holds none.
    private func writeParts() {
        var part: [UInt8] = []
        while sink.isOpen {
            if writer.isFinished {
                precondition(written == writer.byteCount, "the export's Content-Length was measured wrong")
                sink.finish()
                return
            }
            if sink.bufferedBytes > 0 {
                sink.whenDrained(to: 0) { [self] in writeParts() }
                return
            }
            // Room for a part and the event that ends it, made once per call: grown by
            // doubling, the buffer would be copied several times per part.
            if part.capacity == 0 { part.reserveCapacity(Self.partBytes + 16 * 1024) }
            part.removeAll(keepingCapacity: true)
            writer.write(into: &part, atLeast: Self.partBytes)
            written += part.count
            guard sink.write(part) else { return }
        }
    }
}
