import MockDomain
import MockHTTP
import MockJSON

/// The one place that frames Server-Sent Events (API.md section 7): an event is
/// `id:`, `event:` and `data:` (its JSON on one line) and a blank line; a
/// heartbeat is a comment line.
enum SSE {
    static let heartbeat = Array(": heartbeat\n\n".utf8)

    static var headers: HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "text/event-stream")
        headers.add("Cache-Control", "no-cache")
        headers.add("X-Accel-Buffering", "no")
        return headers
    }

    /// The event's frame, made once and kept with the event for every stream.
    static func frame(_ event: StoredEvent) -> [UInt8] {
        if let made = event.rendered { return made }
        var out: [UInt8] = []
        out.reserveCapacity(event.byteCount + event.id.utf8.count + event.type.utf8.count + 24)
        head(id: event.id, event: event.type, into: &out)
        event.write(into: &out)
        out.append(contentsOf: "\n\n".utf8)
        event.rendered = out
        return out
    }

    /// `id:` and `event:` lines, and the start of the `data:` line.
    static func head(id: String, event: String, into out: inout [UInt8]) {
        out.appendLiteral("id: ")
        field(id, into: &out)
        out.appendLiteral("\nevent: ")
        field(event, into: &out)
        out.appendLiteral("\ndata: ")
    }

    /// A field's value on its line. Ids and types are checked where they enter, and this
    /// is the last guard: a line break here would let a value forge an event no one wrote,
    /// so CR and LF become spaces.
    static func field(_ value: String, into out: inout [UInt8]) {
        for byte in value.utf8 { out.append(byte == 0x0A || byte == 0x0D ? 0x20 : byte) }
    }

    /// A preview frame (API.md section 12): `event_start` or `event_delta`, with the
    /// previewed event's id as its SSE id. Never stored, so made each time.
    static func previewFrame(_ preview: Preview) -> [UInt8] {
        let data: JSON
        let name: String
        if let delta = preview.delta {
            name = "event_delta"
            data = [
                "type": "event_delta", "event_id": .string(preview.eventID),
                "delta": [
                    "type": "content_delta", "index": .int(delta.index),
                    "content": ["type": "text", "text": .string(delta.text)],
                ],
            ]
        } else {
            name = "event_start"
            data = [
                "type": "event_start", "event": ["id": .string(preview.eventID), "type": .string(preview.eventType)],
            ]
        }
        var out: [UInt8] = []
        head(id: preview.eventID, event: name, into: &out)
        data.write(into: &out)
        out.append(contentsOf: "\n\n".utf8)
        return out
    }
}
