import MockJSON

/// The session and thread of events: one for all the events of a thread.
public final class EventOwner {
    public let sessionID: String
    public let threadID: String

    init(sessionID: String, threadID: String) {
        self.sessionID = sessionID
        self.threadID = threadID
    }
}

/// What a stored event keeps beside its bytes.
public struct StoredEventHeader {
    let type: String
    let owner: EventOwner
    /// `created_at`, for the session list's time filters and the fixture's session order.
    let createdAt: Int64
    /// A transport's rendering of the event (the application keeps its SSE frame here).
    var rendered: [UInt8]?
    /// The bytes: the id's (`idCount`), then the event's JSON past its standard head
    /// (`headless`) or all of it; `count` in all.
    let idCount: Int32
    let count: Int32
    let headless: Bool
}

/// An event as stored: never changed once written, so its bytes are encoded once
/// and reused by every list page and stream frame.
///
/// One allocation an event: the fields above and the bytes after them. A million-event
/// fixture is a million of these, so what one holds counts. Every event the server writes
/// starts `{"id":…,"type":…,"schema_version":"1.0","session_id":…,"session_thread_id":…`,
/// about 200 bytes that the fields already say: that head is written again on the way out
/// instead of being kept. The id is kept as bytes and made a String when asked for.
public final class StoredEvent: ManagedBuffer<StoredEventHeader, UInt8> {
    static func make(id: String, type: String, thread: SessionThread, createdAt: Int64, json: JSON) -> StoredEvent {
        make(id: id, type: type, owner: thread.eventOwner, createdAt: createdAt, encoded: json.encoded())
    }

    /// `encoded` is the whole event; its head is dropped when it is the standard one.
    static func make(id: String, type: String, owner: EventOwner, createdAt: Int64, encoded: [UInt8]) -> StoredEvent {
        var head: [UInt8] = []
        head.reserveCapacity(headSize(idCount: id.utf8.count, type: type, owner: owner))
        writeHead(id: Array(id.utf8)[...], type: type, owner: owner, into: &head)
        let headless = encoded.count > head.count && encoded.starts(with: head)
        return make(
            id: id, type: type, owner: owner, createdAt: createdAt, headless: headless,
            body: headless ? encoded[head.count...] : encoded[...])
    }

    /// An event whose JSON past the standard head is `tail` (the head must be standard:
    /// ids and types checked to need no escape, schema version 1.0).
    static func make(id: String, type: String, thread: SessionThread, createdAt: Int64, tail: ArraySlice<UInt8>)
        -> StoredEvent
    {
        assert(standardHead(id: id, type: type, owner: thread.eventOwner))
        return make(id: id, type: type, owner: thread.eventOwner, createdAt: createdAt, headless: true, body: tail)
    }

    /// Whether the head written from these fields is what the encoder writes (debug checks
    /// of the callers that skip writing it).
    static func standardHead(id: String, type: String, owner: EventOwner) -> Bool {
        var raw: [UInt8] = []
        writeHead(id: Array(id.utf8), type: type, owner: owner, into: &raw)
        var encoded: [UInt8] = []
        writeEncodedHead(id: id, type: type, schemaVersion: "1.0", owner: owner, into: &encoded)
        return raw == encoded
    }

    /// The head of an event as the encoder writes it, for any schema version: what a
    /// head that is not the standard one is kept as (and what the standard one must equal).
    static func writeEncodedHead(
        id: String, type: String, schemaVersion: JSON, owner: EventOwner, into out: inout [UInt8]
    ) {
        out.appendLiteral("{\"id\":")
        JSON.writeString(id, into: &out)
        out.appendLiteral(",\"type\":")
        JSON.writeString(type, into: &out)
        out.appendLiteral(",\"schema_version\":")
        schemaVersion.write(into: &out)
        out.appendLiteral(",\"session_id\":")
        JSON.writeString(owner.sessionID, into: &out)
        out.appendLiteral(",\"session_thread_id\":")
        JSON.writeString(owner.threadID, into: &out)
    }

    private static func make(
        id: String, type: String, owner: EventOwner, createdAt: Int64, headless: Bool, body: ArraySlice<UInt8>
    ) -> StoredEvent {
        make(id: id, type: type, owner: owner, createdAt: createdAt, headless: headless, bodyCount: body.count) { out in
            body.withUnsafeBufferPointer { _ = out.initialize(fromContentsOf: $0) }
        }
    }

    /// An event with a standard head whose tail, `tailCount` bytes, `write` puts straight
    /// into the event's own memory (it must fill all of it): no buffer in between.
    static func make(
        id: String, type: String, thread: SessionThread, createdAt: Int64, tailCount: Int,
        write: (UnsafeMutableBufferPointer<UInt8>) -> Void
    ) -> StoredEvent {
        assert(standardHead(id: id, type: type, owner: thread.eventOwner))
        return make(
            id: id, type: type, owner: thread.eventOwner, createdAt: createdAt, headless: true, bodyCount: tailCount,
            write: write)
    }

    private static func make(
        id: String, type: String, owner: EventOwner, createdAt: Int64, headless: Bool, bodyCount: Int,
        write: (UnsafeMutableBufferPointer<UInt8>) -> Void
    ) -> StoredEvent {
        var id = id
        let idCount = id.utf8.count
        let count = idCount + bodyCount
        let buffer = create(minimumCapacity: count) { _ in
            StoredEventHeader(
                type: type, owner: owner, createdAt: createdAt, rendered: nil, idCount: Int32(idCount),
                count: Int32(count), headless: headless)
        }
        buffer.withUnsafeMutablePointerToElements { bytes in
            id.withUTF8 { bytes.initialize(from: $0.baseAddress!, count: idCount) }
            write(UnsafeMutableBufferPointer(start: bytes + idCount, count: bodyCount))
        }
        return unsafeDowncast(buffer, to: StoredEvent.self)
    }

    public var id: String { withIDBytes { String(decoding: $0, as: UTF8.self) } }
    public var type: String { header.type }

    /// Whether this event ends a model request: its `model_usage` counts in the session's
    /// usage (asked of every event when a session log is rebuilt).
    var endsModelRequest: Bool { header.type.equalsLengthFirst(Self.modelRequestEnd) }

    private static let modelRequestEnd = "span.model_request_end"
    public var sessionID: String { header.owner.sessionID }
    public var threadID: String { header.owner.threadID }
    public var createdAt: Int64 { header.createdAt }

    /// A transport's rendering of this event (the application keeps its SSE frame
    /// here), made on first use and shared by every stream. The domain never reads it.
    public var rendered: [UInt8]? {
        get { header.rendered }
        set { header.rendered = newValue }
    }

    /// Whether this is the event with that id, without making a String of its own.
    func hasID(_ other: String) -> Bool {
        var other = other
        return withIDBytes { mine in other.withUTF8 { mine.elementsEqual($0) } }
    }

    func withIDBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        withUnsafeMutablePointerToElements { body(UnsafeBufferPointer(start: $0, count: Int(header.idCount))) }
    }

    /// The length of the event's JSON.
    public var byteCount: Int {
        let own = Int(header.count - header.idCount)
        guard header.headless else { return own }
        return Self.headSize(idCount: Int(header.idCount), type: header.type, owner: header.owner) + own
    }

    /// Appends the event's JSON.
    public func write(into out: inout [UInt8]) {
        withUnsafeMutablePointerToElements { bytes in
            let idCount = Int(header.idCount)
            if header.headless {
                Self.writeHead(
                    id: UnsafeBufferPointer(start: bytes, count: idCount), type: header.type, owner: header.owner,
                    into: &out)
            }
            out.append(contentsOf: UnsafeBufferPointer(start: bytes + idCount, count: Int(header.count) - idCount))
        }
    }

    /// The event's JSON in a buffer of its own.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(byteCount)
        write(into: &out)
        return out
    }

    /// The event as a JSON value (state export, control API answers).
    public var json: JSON {
        // The bytes were produced by our own encoder, so they always parse.
        (try? JSON.parse(bytes)) ?? .null
    }

    /// One top-level field of the event, read without parsing the rest (nil when absent):
    /// the head's fields from the header, the others found in the stored bytes where they are.
    public func field(_ key: String) -> JSON? {
        if header.headless {
            switch key {
            case "id": return .string(id)
            case "type": return .string(header.type)
            case "schema_version": return "1.0"
            case "session_id": return .string(header.owner.sessionID)
            case "session_thread_id": return .string(header.owner.threadID)
            default: break
            }
        }
        let lookup: JSON?? = withField(key) { value in value.flatMap { try? JSON.parse(Array($0)) } }
        guard let found = lookup else { return json[key] }
        return found
    }

    /// `body` with the bytes of a top-level field's value where they are stored (nil when the
    /// event has no such field). Not for the head's fields of a headless event (`field`).
    /// Nil, without calling `body`, if the stored bytes cannot be read that way.
    func withField<R>(_ key: String, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R? {
        var key = key
        return key.withUTF8 { key in
            withUnsafeMutablePointerToElements { elements -> R? in
                let idCount = Int(header.idCount)
                let own = UnsafeBufferPointer(start: elements + idCount, count: Int(header.count) - idCount)
                // A headless event's bytes are its members past the head; others, the whole object.
                switch JSON.compactMember(key, in: own, from: header.headless ? 0 : 1) {
                case .found(let range): return body(UnsafeBufferPointer(rebasing: own[range]))
                case .absent: return body(nil)
                case .notCompact: return nil
                }
            }
        }
    }

    /// The standard head, as the encoder writes it (an event whose encoding starts
    /// otherwise keeps it whole).
    static func writeHead<ID: Collection<UInt8>>(id: ID, type: String, owner: EventOwner, into out: inout [UInt8]) {
        out.appendLiteral("{\"id\":\"")
        out.append(contentsOf: id)
        out.appendLiteral("\",\"type\":\"")
        out.appendUTF8(type)
        out.appendLiteral("\",\"schema_version\":\"1.0\",\"session_id\":\"")
        out.appendUTF8(owner.sessionID)
        out.appendLiteral("\",\"session_thread_id\":\"")
        out.appendUTF8(owner.threadID)
        out.append(UInt8(ascii: "\""))
    }

    /// The head's length: its 80 bytes of keys and quotes, and the four values.
    static func headSize(idCount: Int, type: String, owner: EventOwner) -> Int {
        80 + idCount + type.utf8.count + owner.sessionID.utf8.count + owner.threadID.utf8.count
    }
}
