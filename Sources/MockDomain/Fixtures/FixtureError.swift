import MockJSON

/// A problem in a fixture or a `PUT /_mock/state` body, located by JSON path
/// (`$.sessions[0].threads[1].status`).
public struct FixtureError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    init(_ error: JSONReadError) {
        self.init(path: error.path.description, message: error.phrase)
    }
}
