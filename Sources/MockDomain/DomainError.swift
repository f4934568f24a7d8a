import MockJSON

/// A rule of the API said no. The domain throws only this; the application maps
/// each kind to one HTTP status and envelope type, in one table.
public struct DomainError: Error, Equatable {
    public enum Kind: Equatable, Sendable {
        /// The request is wrong in itself (400).
        case invalid
        /// A session, thread, agent or other named thing does not exist (404).
        case notFound
        /// The request is fine but the world's state refuses it (409); the seed's
        /// archive page gives it the type `invalid_request_error`.
        case stateConflict
        /// The session level's and the agents' 409 (`conflict_error`, API.md section 12).
        case conflict
    }

    public var kind: Kind
    public var message: String
    /// The offending field, relative to the request (`waiting_on.thread_id`).
    public var param: String?

    public init(_ kind: Kind, _ message: String, param: String? = nil) {
        self.kind = kind
        self.message = message
        self.param = param
    }

    public static func invalid(_ message: String, param: String? = nil) -> DomainError {
        DomainError(.invalid, message, param: param)
    }

    public static func notFound(_ message: String) -> DomainError { DomainError(.notFound, message) }

    public static func conflict(_ message: String) -> DomainError { DomainError(.stateConflict, message) }

    /// A 409 of the session level or of agents: `conflict_error`.
    public static func busy(_ message: String) -> DomainError { DomainError(.conflict, message) }

    /// The service's exact words for a message sent while a turn runs (clients retry on them).
    public static let turnInProgress = busy(
        "Session is currently processing a turn. Cancel the current turn or wait for completion.")

    public static func sessionNotFound(_ id: String) -> DomainError { notFound("Session '\(id)' was not found.") }

    public static func threadNotFound(_ id: String) -> DomainError {
        notFound("Session thread '\(id)' was not found.")
    }

    /// A body field refused by the JSON reader, as the domain reports it.
    public init(_ error: JSONReadError) {
        self.init(.invalid, error.sentence, param: error.param)
    }
}
