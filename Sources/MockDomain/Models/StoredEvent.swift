import MockJSON

/// An event as stored: never changed once written, so its bytes are encoded once
/// and reused by every list page and stream frame.
public final class StoredEvent {
    public let id: String
    public let type: String
    /// The thread the event belongs to.
    public let threadID: String
    /// `created_at`, for the session list's time filters and the fixture's session order.
    public let createdAt: Int64
    /// The event's JSON, encoded once. Only the bytes are kept: pages and frames are
    /// built from them, and the rare export parses them back.
    public let bytes: [UInt8]
    /// A transport's rendering of this event (the application keeps its SSE frame
    /// here), made on first use and shared by every stream. The domain never reads it.
    public var rendered: [UInt8]?

    convenience init(id: String, type: String, threadID: String, createdAt: Int64, json: JSON) {
        self.init(id: id, type: type, threadID: threadID, createdAt: createdAt, encoded: json.encoded())
    }

    init(id: String, type: String, threadID: String, createdAt: Int64, encoded: [UInt8]) {
        self.id = id
        self.type = type
        self.threadID = threadID
        self.createdAt = createdAt
        // Exactly as long as the encoding: the encoder's spare capacity, kept for every
        // event of a big fixture, would cost more than the events themselves.
        self.bytes = [UInt8](unsafeUninitializedCapacity: encoded.count) { buffer, count in
            _ = buffer.initialize(from: encoded)
            count = encoded.count
        }
    }

    /// The event as a JSON value (state export, control API answers).
    public var json: JSON {
        // The bytes were produced by our own encoder, so they always parse.
        (try? JSON.parse(bytes)) ?? .null
    }
}
