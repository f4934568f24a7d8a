import ArgumentParser
import Glibc
import MockServer

/// `cloud-agents-mock health`: asks a running server whether it is ready, for container health
/// checks (the slim image has no curl). Exit 0 when `/_mock/ready` answers 200, 1 otherwise.
struct Health: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask a running server whether it is ready: exit 0 when GET /_mock/ready answers 200, 1 otherwise.",
        discussion: """
            For container health checks. Prints one line: on stdout when ready, on stderr when not.
            Sends CLOUD_AGENTS_MOCK_ADMIN_TOKEN, when set, as X-Mock-Admin-Token (readiness needs none).
            """)

    static let defaultURL = "http://127.0.0.1:8787"

    @Option(help: "The server's root URL (default: CLOUD_AGENTS_MOCK_HEALTH_URL, else \(Health.defaultURL)).")
    var url: String?

    @Option(help: "Give up after this many milliseconds in all.")
    var timeoutMs = 3000

    /// Where to ask: `http://host[:port]`, with an optional trailing slash and nothing else.
    struct Target: Equatable {
        var host: String
        var port: Int
        /// The URL as given, without its trailing slash: what the printed line shows.
        var root: String

        /// `source` names where the text came from (the option or the environment variable) in errors.
        init(parsing text: String, from source: String) throws {
            guard text.lowercased().hasPrefix("http://") else {
                throw ValidationError("\(source) must start with http:// (e.g. \(Health.defaultURL)), got '\(text)'.")
            }
            var rest = Substring(text.dropFirst("http://".count))
            if rest.hasSuffix("/") { rest = rest.dropLast() }
            guard !rest.isEmpty, !rest.contains("/"), !rest.contains("?"), !rest.contains("#"), !rest.contains("@")
            else {
                throw ValidationError(
                    "\(source) must be a server's root URL like \(Health.defaultURL) (no path), got '\(text)'.")
            }
            root = "http://" + rest
            var portText: Substring?
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]") else {
                    throw ValidationError("\(source) has an unclosed '[' in '\(text)'.")
                }
                host = String(rest[rest.index(after: rest.startIndex)..<close])
                let after = rest[rest.index(after: close)...]
                if !after.isEmpty {
                    guard after.hasPrefix(":") else {
                        throw ValidationError("\(source): unexpected text after ']' in '\(text)'.")
                    }
                    portText = after.dropFirst()
                }
            } else if let colon = rest.lastIndex(of: ":") {
                host = String(rest[..<colon])
                portText = rest[rest.index(after: colon)...]
            } else {
                host = String(rest)
            }
            port = 80
            if let portText {
                guard let n = Int(portText), (1...65535).contains(n) else {
                    throw ValidationError("\(source): the port must be from 1 to 65535, got '\(portText)'.")
                }
                port = n
            }
            guard !host.isEmpty else { throw ValidationError("\(source) has no host: '\(text)'.") }
        }
    }

    /// The server to ask: `--url`, else the environment, else the default.
    func target() throws -> Target {
        if let url { return try Target(parsing: url, from: "--url") }
        if let fromEnv = getenv("CLOUD_AGENTS_MOCK_HEALTH_URL").map({ String(cString: $0) }), !fromEnv.isEmpty {
            return try Target(parsing: fromEnv, from: "CLOUD_AGENTS_MOCK_HEALTH_URL")
        }
        return try Target(parsing: Self.defaultURL, from: "the default URL")
    }

    func validate() throws {
        guard (1...600_000).contains(timeoutMs) else {
            throw ValidationError("--timeout-ms must be from 1 to 600000, got \(timeoutMs).")
        }
        _ = try target()
    }

    func run() throws {
        let target = try target()
        let url = target.root
        var headers: [(String, String)] = []
        if let token = getenv("CLOUD_AGENTS_MOCK_ADMIN_TOKEN").map({ String(cString: $0) }), !token.isEmpty {
            headers.append(("X-Mock-Admin-Token", token))
        }
        let outcome = ReadinessProbe.get(
            host: target.host, port: target.port, path: "/_mock/ready", headers: headers, timeoutMillis: timeoutMs)
        switch outcome {
        case .answered(status: 200):
            Console.out("ready: \(url)/_mock/ready answered 200\n")
        case .answered(let status):
            Console.error("not ready: \(url)/_mock/ready answered \(status)\n")
            throw ExitCode(1)
        case .failed(let reason):
            Console.error("not ready: \(url)/_mock/ready: \(reason)\n")
            throw ExitCode(1)
        }
    }
}
