import ArgumentParser
import Glibc
import Logging
import MockApp
import MockDomain
import MockJSON
import MockServer

@main
struct CloudAgentsMock: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloud-agents-mock",
        abstract:
            "A local mock of the Qoder Cloud Agents Managed Agents API (sessions, threads, events, SSE, archive).",
        discussion: """
            Serves the API under /api/v1/cloud and /v1, and a control API for tests under /_mock.
            After binding it prints one line on stdout: 'cloud-agents-mock listening on http://HOST:PORT'.
            Logs go to stderr. SIGTERM or SIGINT stop it cleanly (exit 0).
            """,
        version: MockVersion.current,
        subcommands: [Health.self])

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free port (read it from the ready line).")
    var port = 8787

    @Option(help: "Fixture file or folder of *.json fixtures (default: the built-in seed examples).")
    var fixtures: String?

    @Option(
        name: .customLong("token"),
        help:
            "Accepted bearer token (repeatable; also CLOUD_AGENTS_MOCK_TOKENS, comma-separated). Without any, every non-empty token is accepted."
    )
    var tokens: [String] = []

    @Option(help: "Token required on /_mock/ (also CLOUD_AGENTS_MOCK_ADMIN_TOKEN). Off by default.")
    var adminToken: String?

    @Option(help: "Seed for the id generator, for reproducible ids.")
    var seed: UInt64?

    @Option(help: "Freeze the clock at this RFC 3339 instant from the start (e.g. 2026-06-15T08:10:00.000Z).")
    var frozenClock: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    @Option(help: "Largest request body in bytes (bigger is 413).")
    var maxBodyBytes = 1 << 20

    @Option(help: "Largest request header block in bytes.")
    var maxHeaderBytes = 64 * 1024

    @Option(help: "Open connections at most, streams included; past it new connections are closed at once.")
    var maxConnections = 16_384

    @Option(
        help:
            "Seconds a client has to send a whole request, from when its connection opened or its previous answer went out."
    )
    var requestTimeout = 60

    @Option(help: "Idle connection timeout in seconds.")
    var connectionTimeout = 60

    @Option(help: "Heartbeat interval on quiet SSE streams, in milliseconds (below the connection timeout).")
    var heartbeatMs = 15_000

    @Option(help: "Bytes an SSE reader may leave unread before its stream is ended.")
    var streamBufferBytes = 8 * 1024 * 1024

    @Option(help: "Bytes all SSE streams together may hold for readers that are behind; past it such streams are cut.")
    var streamBufferTotalBytes = 256 * 1024 * 1024

    @Option(help: "How many requests the journal keeps.")
    var journalLimit = 1000

    @Option(help: "Open SSE streams at most; past it, opening one is 429.")
    var maxStreams = Budgets().streams

    @Option(help: "Open SSE streams on one session (its stream and its threads') at most.")
    var maxStreamsPerSession = Budgets().streamsPerSession

    @Option(help: "Fault rules at most.")
    var maxFaults = Budgets().faults

    @Option(help: "Pending journal waits (long-polls) at most.")
    var maxWaits = Budgets().waits

    @Option(help: "Scheduled turn steps at most; past it, starting a turn is 429.")
    var maxPendingSteps = Budgets().pendingSteps

    @Option(help: "Sessions made by requests since the world was loaded, at most.")
    var maxRunTimeSessions = Budgets().runTimeSessions

    @Option(help: "Threads made by requests since the world was loaded, at most.")
    var maxRunTimeThreads = Budgets().runTimeThreads

    @Option(help: "Events made by requests and their turns since the world was loaded, at most.")
    var maxRunTimeEvents = Budgets().runTimeEvents

    @Option(help: "Request bodies longer than this many bytes are kept cut to it in the journal.")
    var journalBodyBytes = 64 * 1024

    @Option(help: "Bytes the journal may hold in all; past it the oldest entries are dropped.")
    var journalMaxBytes = 16 * 1024 * 1024

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535, got \(port).") }
        guard Logger.Level(rawValue: logLevel.lowercased()) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical.")
        }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1.") }
        guard requestTimeout >= 1 else { throw ValidationError("--request-timeout must be at least 1 second.") }
        guard connectionTimeout >= 1 else { throw ValidationError("--connection-timeout must be at least 1 second.") }
        guard heartbeatMs >= 10 else { throw ValidationError("--heartbeat-ms must be at least 10.") }
        guard heartbeatMs < connectionTimeout * 1000 else {
            throw ValidationError(
                "--heartbeat-ms (\(heartbeatMs)) must be shorter than --connection-timeout (\(connectionTimeout) s), or idle streams are cut."
            )
        }
        // The control API takes 64 times this, and libevent's cap is that product: 1 GiB keeps it sane.
        guard (1...(1 << 30)).contains(maxBodyBytes) else {
            throw ValidationError("--max-body-bytes must be between 1 and 1073741824 (1 GiB).")
        }
        guard maxHeaderBytes >= 1024 else { throw ValidationError("--max-header-bytes must be at least 1024.") }
        guard streamBufferBytes >= 4096 else { throw ValidationError("--stream-buffer-bytes must be at least 4096.") }
        guard streamBufferTotalBytes >= 4096 else {
            throw ValidationError("--stream-buffer-total-bytes must be at least 4096.")
        }
        guard journalLimit >= 1 else { throw ValidationError("--journal-limit must be at least 1.") }
        let budgets = [
            ("--max-streams", maxStreams), ("--max-streams-per-session", maxStreamsPerSession),
            ("--max-faults", maxFaults), ("--max-waits", maxWaits), ("--max-pending-steps", maxPendingSteps),
            ("--max-run-time-sessions", maxRunTimeSessions), ("--max-run-time-threads", maxRunTimeThreads),
            ("--max-run-time-events", maxRunTimeEvents),
        ]
        for (name, value) in budgets where value < 0 { throw ValidationError("\(name) must not be negative.") }
        guard journalBodyBytes >= 0 else { throw ValidationError("--journal-body-bytes must not be negative.") }
        guard journalMaxBytes >= 0 else { throw ValidationError("--journal-max-bytes must not be negative.") }
        if let frozenClock, Timestamp.parse(frozenClock) == nil {
            throw ValidationError("--frozen-clock must be an RFC 3339 timestamp, got '\(frozenClock)'.")
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Reads the fixture files and builds the application; the document is dropped on return.
    func loadApplication(config: inout AppConfig, clock: MockClock, logger: Logger) throws -> MockApplication {
        let fixture: JSON
        let sessionsRead: SessionReadAhead.Sessions?
        do {
            (fixture, config.fixtureSource, sessionsRead) = try FixtureFiles.load(path: fixtures, clock: clock)
        } catch let error as FixtureFiles.LoadError {
            Console.error("cloud-agents-mock: \(error.description)\n")
            throw ExitCode(2)
        }
        do {
            return try MockApplication(
                config: config, fixture: fixture, sessionsRead: sessionsRead, clock: clock, logger: logger)
        } catch {
            Console.error("cloud-agents-mock: \(config.fixtureSource): \(error.path): \(error.message)\n")
            throw ExitCode(2)
        }
    }

    func run() throws {
        let level = Logger.Level(rawValue: logLevel.lowercased()) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "cloud-agents-mock")
        let environment = { (name: String) -> String? in getenv(name).map { String(cString: $0) } }

        var config = AppConfig()
        config.tokens = tokens
        if let fromEnv = environment("CLOUD_AGENTS_MOCK_TOKENS") {
            config.tokens += fromEnv.split(separator: ",").map {
                String($0.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
            }
            .filter { !$0.isEmpty }
        }
        config.adminToken = adminToken ?? environment("CLOUD_AGENTS_MOCK_ADMIN_TOKEN").flatMap { $0.isEmpty ? nil : $0 }
        config.seed = seed
        config.maxBodyBytes = maxBodyBytes
        config.journalLimit = journalLimit
        config.budgets.streams = maxStreams
        config.budgets.streamsPerSession = maxStreamsPerSession
        config.budgets.faults = maxFaults
        config.budgets.waits = maxWaits
        config.budgets.pendingSteps = maxPendingSteps
        config.budgets.runTimeSessions = maxRunTimeSessions
        config.budgets.runTimeThreads = maxRunTimeThreads
        config.budgets.runTimeEvents = maxRunTimeEvents
        config.journalBodyBytes = journalBodyBytes
        config.journalMaxBytes = journalMaxBytes

        ProcessMemory.fixThresholds()
        // Made frozen (not frozen afterwards) so that reset returns to this instant.
        let clock = MockClock(mode: frozenClock.flatMap(Timestamp.parse).map { .frozen($0) } ?? .real)
        let app = try loadApplication(config: &config, clock: clock, logger: logger)
        // The fixture's document and its parse are gone now: hand their pages back to the
        // system, so that resident memory is the world's, not the peak of reading it.
        ProcessMemory.returnFreePages()

        // A dead peer must cost a write error, not the process.
        signal(SIGPIPE, SIG_IGN)

        var options = ServerOptions()
        options.host = host
        options.port = port
        options.maxHeaderBytes = maxHeaderBytes
        // libevent refuses larger bodies itself, before the router: at the control API's
        // limit, so a state export loads back, and API bodies below it get the envelope.
        options.hardMaxBodyBytes = config.controlMaxBodyBytes
        options.maxConnections = maxConnections
        options.requestTimeoutSeconds = requestTimeout
        options.connectionTimeoutSeconds = connectionTimeout
        options.heartbeatMillis = heartbeatMs
        options.streamBufferBytes = streamBufferBytes
        options.streamBufferTotalBytes = streamBufferTotalBytes

        let server = try LibeventServer(responder: app, options: options, logger: logger)
        app.scheduler = server
        server.onShutdown = { app.hub.endAll() }
        let bound: Int
        do {
            bound = try server.bind()
        } catch {
            Console.error("cloud-agents-mock: \(error)\n")
            throw ExitCode(1)
        }
        server.handleTerminationSignals()
        if config.adminToken == nil && !Self.isLoopback(host) {
            logger.warning(
                "listening on \(host) without --admin-token: anyone who can reach this port can read the journal and the tokens and change the mock's state"
            )
        }
        // Logged before the ready line, so that once it is out the server does nothing a
        // test could race with (the log's clock reads the time zone file).
        logger.info(
            "serving \(config.fixtureSource): \(app.store.sessions.count) session(s); API under /api/v1/cloud and /v1, control API under /_mock"
        )
        let shownHost = host.contains(":") ? "[\(host)]" : host
        // The ready line: exactly one line on stdout, written unbuffered.
        Console.out("cloud-agents-mock listening on http://\(shownHost):\(bound)\n")
        server.run()
        logger.info("stopped")
    }
}
