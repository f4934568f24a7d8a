import MockJSON

/// One step of a running turn, due at an instant of the mock's clock.
public struct ScheduledStep {
    public enum Action: Equatable {
        /// `event_start` for an event about to be written (a preview; nothing stored).
        case previewStart(eventID: String, type: String)
        /// One `event_delta` of that event's text.
        case previewDelta(eventID: String, index: Int, text: String)
        /// The thread's timeline plays its next step (named here for the control API).
        case advance(step: String)
    }

    public let seq: Int
    public let sessionID: String
    public let threadID: String
    public let dueAt: Int64
    public let action: Action

    /// What the control API shows of a pending step.
    public var json: JSON {
        var pairs: [(String, JSON)] = [
            ("seq", .int(seq)), ("session_thread_id", .string(threadID)),
            ("due_at", .string(Timestamp.format(dueAt))),
        ]
        switch action {
        case .previewStart(let id, let type):
            pairs += [("kind", "preview_start"), ("event_id", .string(id)), ("event_type", .string(type))]
        case .previewDelta(let id, let index, let text):
            pairs += [
                ("kind", "preview_delta"), ("event_id", .string(id)), ("index", .int(index)), ("text", .string(text)),
            ]
        case .advance(let step):
            pairs += [("kind", "step"), ("step", .string(step))]
        }
        return .object(pairs)
    }
}

/// The agenda: every pending step of every running turn, played in order of due
/// time (then of scheduling) as the mock's clock reaches it. With the real clock
/// the application's timer plays them; with a frozen clock only advancing the
/// clock does, so a test can stop in the middle of a turn and look.
extension Store {
    /// The earliest due time, if any step is pending.
    public var nextDue: Int64? { pending.first()?.dueAt }

    /// How many steps are pending, in all sessions.
    public var pendingStepCount: Int { pending.count }

    /// Every pending step, in the order they will play.
    public var agenda: [ScheduledStep] { pending.sorted() }

    /// The pending steps of one session, in the order they will play.
    public func agenda(of sessionID: String) throws(DomainError) -> [ScheduledStep] {
        let session = try session(sessionID)
        return pending.sorted { $0.sessionID == session.id }
    }

    /// Steps a single clock move or timer tick plays at most: a script that keeps
    /// scheduling steps at no delay cannot hold the loop; the rest play next time.
    public static let stepsPerRun = 10_000

    func schedule(_ action: ScheduledStep.Action, on thread: SessionThread, at dueAt: Int64) {
        stepCounter += 1
        let step = ScheduledStep(
            seq: stepCounter, sessionID: thread.sessionID, threadID: thread.id, dueAt: dueAt, action: action)
        let earliest = pending.first()?.seq
        pending.insert(step)
        if pending.first()?.seq != earliest { agendaChanged?() }
    }

    /// Drops the pending steps and timelines of a session, or of one of its threads.
    func dropSteps(sessionID: String, threadID: String? = nil) {
        let earliest = pending.first()?.seq
        if let threadID {
            pending.remove(thread: threadID)
            if let t = timelines.removeValue(forKey: threadID) { void(t) }
        } else {
            pending.remove(session: sessionID)
            for id in timelines.keys.sorted() where timelines[id]?.sessionID == sessionID {
                if let t = timelines.removeValue(forKey: id) { void(t) }
            }
        }
        if let session = sessionsByID[sessionID], !session.previews.isEmpty {
            // A preview whose event will no longer be written is forgotten.
            session.previews = session.previews.filter { timelines[$0.value.threadID]?.reservedEventID == $0.key }
        }
        if pending.first()?.seq != earliest { agendaChanged?() }
    }

    /// A dropped timeline that waited for the client's answer: that request is
    /// void, and an answer to it is refused like an answer to nothing.
    private func void(_ timeline: Timeline) {
        guard let client = timeline.client, let session = sessionsByID[timeline.sessionID] else { return }
        switch client {
        case .confirmation(let toolUse, _, _, _): session.voided.insert(toolUse)
        case .customTool(let eventID): session.voided.insert(eventID)
        }
    }

    /// Plays every step due by the clock's current time (at most `stepsPerRun`);
    /// returns how many played.
    @discardableResult public func playDue() -> Int {
        var played = 0
        while played < Self.stepsPerRun, let step = pending.first(), step.dueAt <= clock.now() {
            _ = pending.popFirst()
            play(step)
            played += 1
        }
        if played > 0 { agendaChanged?() }
        return played
    }

    /// Moves the clock forward by `millis`, playing each step at its own due time
    /// on the way (with a frozen clock, events carry exactly their due times),
    /// never past the last instant RFC 3339 can write. Returns how many steps played.
    @discardableResult public func advanceClock(by millis: Int64, limit: Int = stepsPerRun) -> Int {
        // The clock moves by exactly `millis` (never past the last instant RFC 3339 can
        // write), counted as it goes: a running clock read twice would lose the time between.
        let start = clock.now()
        let total = max(0, min(millis, Timestamp.latest - start))
        let target = start + total
        var advanced: Int64 = 0
        var played = 0
        while played < limit, let due = nextDue, due <= target {
            let now = clock.now()
            if due > now {
                let step = min(due - now, total - advanced)
                clock.advance(by: step)
                advanced += step
            }
            let n = playDue()
            played += n
            if n == 0 { break }
        }
        if total > advanced { clock.advance(by: total - advanced) }
        return played
    }

    /// Runs the clock forward until no step is pending (every turn has ended or
    /// waits for the client), at most `limit` steps and never past the last
    /// instant RFC 3339 can write. Returns the steps played.
    @discardableResult public func runUntilIdle(limit: Int = 100_000) -> Int {
        var played = 0
        while played < limit, let due = nextDue, due <= Timestamp.latest {
            let n = advanceClock(by: max(0, due - clock.now()), limit: limit - played)
            played += n
            if n == 0 { break }
        }
        return played
    }

    private func play(_ step: ScheduledStep) {
        guard let session = sessionsByID[step.sessionID], let thread = threadsByID[step.threadID],
            !thread.status.isFinal
        else { return }
        switch step.action {
        case .previewStart(let id, let type):
            if session.previews[id] == nil {
                session.previews[id] = PreviewMark(
                    threadID: thread.id, sessionPosition: session.log.count, threadPosition: thread.log.count)
            }
            observer?.previewed(Preview(eventID: id, eventType: type, delta: nil), in: [thread.log, session.log])
        case .previewDelta(let id, let index, let text):
            // Resuming from a previewed id starts where its preview began: nothing
            // written since is lost (what the reader had seen may come again).
            if session.previews[id] == nil {
                session.previews[id] = PreviewMark(
                    threadID: thread.id, sessionPosition: session.log.count, threadPosition: thread.log.count)
            }
            observer?.previewed(
                Preview(eventID: id, eventType: "agent.message", delta: (index, text)), in: [thread.log, session.log])

        case .advance:
            advance(thread)
        }
    }
}
