/// Transport settings: every limit is explicit and has a default.
public struct ServerOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 8787
    /// Largest request header block evhttp reads (`evhttp_set_max_headers_size`).
    public var maxHeaderBytes = 64 * 1024
    /// evhttp's own hard cap on bodies. The app answers 413 in the API's envelope
    /// below it; above it evhttp refuses the connection itself.
    public var hardMaxBodyBytes = 64 * 1024 * 1024
    /// Open connections at most (streams included); past it a new connection is closed at
    /// once. Kept as the process's descriptor limit (see ConnectionBudget).
    public var maxConnections = 16_384
    /// Seconds a client has to send a whole request, counted from when its connection
    /// opened or its previous answer went out (slow senders are cut; see RequestDeadlines).
    public var requestTimeoutSeconds = 60
    /// Idle connection timeout (`evhttp_set_timeout`); also cuts a silent stream.
    public var connectionTimeoutSeconds = 60
    /// A `: heartbeat` comment goes out on a stream quiet for this long.
    public var heartbeatMillis = 15_000
    /// Bytes an SSE client may leave unread before its stream is ended.
    public var streamBufferBytes = 8 * 1024 * 1024
    /// Bytes all streams together may hold for readers that are behind; past it, a write
    /// to a stream that is behind cuts that stream.
    public var streamBufferTotalBytes = 256 * 1024 * 1024
    /// On shutdown, how long ended streams may take to hand their last bytes to
    /// slow readers before the loop exits anyway.
    public var shutdownGraceMillis = 2_000

    public init() {}
}

/// A failing libevent call, named, with errno where it applies.
public struct ServerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
