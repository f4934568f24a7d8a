import MockDomain
import MockHTTP
import MockJSON

/// `/_mock/`: health, readiness, version, routes, OpenAPI, stats, reset, state.
struct InfoRoutes: RouteCollection {
    unowned let app: MockApplication

    func register(into routes: inout RouteTable.Builder) {
        let app = self.app
        // Liveness and readiness stay open so that container and orchestrator
        // probes need no secret; they reveal nothing about the world.
        routes.add("GET", "/health", open: true) { _ throws(APIError) in .json(["status": "ok"]) }
        routes.add("GET", "/ready", open: true) { _ throws(APIError) in
            guard app.ready else { throw APIError.unavailable("Fixtures are not loaded yet.") }
            return .json(["status": "ready", "fixture": .string(app.config.fixtureSource)])
        }
        routes.add("GET", "/version") { _ throws(APIError) in
            .json([
                "name": "cloud-agents-mock", "version": .string(MockVersion.current),
                "api_version": .string(MockVersion.apiVersion),
            ])
        }
        routes.add("GET", "/routes") { _ throws(APIError) in
            .json(["data": .array(app.routeTable.map { ["method": .string($0.method), "path": .string($0.path)] })])
        }
        routes.add("GET", "/openapi.json") { _ throws(APIError) in
            guard let doc = BundledResources.openAPI else {
                throw APIError.internalError("The OpenAPI document is missing from this build.")
            }
            return .json(doc)
        }
        routes.add("GET", "/stats") { _ throws(APIError) in
            let counts = app.store.counts
            return .json([
                "open_streams": .int(app.hub.openCount), "frames_written": .int(app.hub.framesWritten),
                "sessions": .int(counts.sessions), "threads": .int(counts.threads), "events": .int(counts.events),
                "journal_entries": .int(app.journal.entries.count), "journal_bytes": .int(app.journal.bytes),
                "journal_waiters": .int(app.journal.waiterCount),
                "faults": .int(app.faults.faults.count),
                "sessions_being_freed": .int(app.sessionsBeingFreed),
            ])
        }
        routes.add("POST", "/reset") { _ throws(APIError) in
            app.reset()
            return .json(["status": "reset", "sessions": .int(app.store.sessions.count)])
        }
        routes.add("GET", "/state") { ctx throws(APIError) in
            let pretty = ctx.query.first("pretty").map { $0 != "false" && $0 != "0" } ?? false
            // Pretty is for people reading a small world; the compact export streams.
            return pretty ? .json(Fixture.export(app.store).prettyEncoded()) : ExportStream.reply(app)
        }
        routes.add("PUT", "/state") { ctx throws(APIError) in
            guard let body = try ctx.jsonBody(keepingEncoded: "events", maxDepth: Fixture.maxDepth) else {
                throw APIError.invalid("PUT /_mock/state needs a fixture document.")
            }
            do throws(FixtureError) {
                app.replaceWorld(with: try Fixture.load(body, clock: app.clock, ids: app.ids))
            } catch {
                throw APIError.invalid("Invalid state: \(error.path): \(error.message)", param: error.path)
            }
            return .json(["status": "replaced", "sessions": .int(app.store.sessions.count)])
        }
    }
}

/// `/_mock/clock`: read, freeze, advance (playing the turns' steps due on the
/// way), resume, and run until every turn is done.
struct ClockRoutes: RouteCollection {
    let clock: MockClock
    let store: Store
    /// Id generators whose time bits follow the clock when it is set back.
    let generators: [IDGenerator]
    /// Re-arms the turns' timer after the clock changed mode or time.
    let clockChanged: () -> Void

    func register(into routes: inout RouteTable.Builder) {
        let clock = self.clock
        let store = self.store
        let generators = self.generators
        let clockChanged = self.clockChanged
        routes.add("GET", "/clock") { _ throws(APIError) in .json(Self.json(clock)) }
        routes.add("POST", "/clock/freeze") { ctx throws(APIError) in
            let body = try ctx.objectBody()
            var at: Int64?
            if let v = body["at"] {
                guard let s = v.stringValue, let t = Timestamp.parse(s) else {
                    throw APIError.invalid("at must be an RFC 3339 timestamp.", param: "at")
                }
                at = t
            }
            clock.freeze(at: at)
            for g in generators { g.followClock() }
            clockChanged()
            return .json(Self.json(clock))
        }
        routes.add("POST", "/clock/advance") { ctx throws(APIError) in
            let body = try ctx.objectBody()
            let ms: Int64
            // A null `ms` or `by` is a mistake, not "absent": refused, as its schema says.
            if let v = body.raw("ms") {
                guard let n = v.intValue, n >= 0 else {
                    throw APIError.invalid("ms must be a non-negative integer.", param: "ms")
                }
                ms = Int64(n)
            } else if let v = body.raw("by") {
                guard let s = v.stringValue, let n = Duration.parseMillis(s) else {
                    throw APIError.invalid("by must be a duration like '250ms', '30s', '5m' or '2h'.", param: "by")
                }
                ms = n
            } else {
                throw APIError.invalid("Give 'ms' (milliseconds) or 'by' (a duration like '30s').", param: "ms")
            }
            // The clock must stay writable as RFC 3339 (4-digit years); a huge step would
            // also overflow Int64 and stop the server.
            let (target, overflow) = clock.now().addingReportingOverflow(ms)
            guard !overflow, target <= Timestamp.latest else {
                throw APIError.invalid(
                    "Advancing by \(ms) ms would move the clock past 9999-12-31T23:59:59.999Z.",
                    param: body.has("ms") ? "ms" : "by")
            }
            // Every step due by the new time has played when this answers.
            let played = store.advanceClock(by: ms)
            clockChanged()
            return .json(Self.json(clock, played: played, pending: store.pendingStepCount))
        }
        routes.add("POST", "/clock/resume") { _ throws(APIError) in
            clock.resume()
            for g in generators { g.followClock() }
            clockChanged()
            return .json(Self.json(clock))
        }
        routes.add("POST", "/clock/run-until-idle") { ctx throws(APIError) in
            _ = try ctx.objectBody()
            let played = store.runUntilIdle()
            clockChanged()
            return .json(Self.json(clock, played: played, pending: store.pendingStepCount))
        }
    }

    static func json(_ clock: MockClock, played: Int, pending: Int) -> JSON {
        var out = json(clock)
        out.set("steps_played", .int(played))
        out.set("steps_pending", .int(pending))
        return out
    }

    static func json(_ clock: MockClock) -> JSON {
        let mode: String
        var offset: Int64 = 0
        switch clock.mode {
        case .real: mode = "real"
        case .frozen: mode = "frozen"
        case .offset(let d):
            mode = "offset"
            offset = d
        }
        return [
            "now": .string(Timestamp.format(clock.now())), "mode": .string(mode), "offset_ms": .number(String(offset)),
        ]
    }
}

/// Durations for the clock: `250ms`, `30s`, `5m`, `2h`, `1d`.
enum Duration {
    static func parseMillis(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            if suffix == "s" && number.hasSuffix("m") { continue }
            guard let n = Int64(number), n >= 0 else { return nil }
            let (millis, overflow) = n.multipliedReportingOverflow(by: factor)
            return overflow ? nil : millis
        }
        return nil
    }
}
