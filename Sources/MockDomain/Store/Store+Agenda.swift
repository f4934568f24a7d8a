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
    public var nextDue: Int64? { agenda.first?.dueAt }

    /// The pending steps of one session, in the order they will play.
    public func agenda(of sessionID: String) throws(DomainError) -> [ScheduledStep] {
        let session = try session(sessionID)
        return agenda.filter { $0.sessionID == session.id }
    }

    func schedule(_ action: ScheduledStep.Action, on thread: SessionThread, at dueAt: Int64) {
        stepCounter += 1
        let step = ScheduledStep(
            seq: stepCounter, sessionID: thread.sessionID, threadID: thread.id, dueAt: dueAt, action: action)
        // After every step due at the same time or earlier: ties play in scheduling order.
        var i = agenda.count
        while i > 0 && agenda[i - 1].dueAt > dueAt { i -= 1 }
        agenda.insert(step, at: i)
        if i == 0 { agendaChanged?() }
    }

    /// Drops the pending steps of a session, or of one of its threads.
    func dropSteps(sessionID: String, threadID: String? = nil) {
        let first = agenda.first?.seq
        agenda.removeAll { $0.sessionID == sessionID && (threadID == nil || $0.threadID == threadID) }
        if let threadID {
            timelines[threadID] = nil
        } else {
            for (id, t) in timelines where t.sessionID == sessionID { timelines[id] = nil }
        }
        if let session = sessionsByID[sessionID], !session.previews.isEmpty {
            // A preview whose event will no longer be written is forgotten.
            session.previews = session.previews.filter { timelines[$0.value.threadID]?.reservedEventID == $0.key }
        }
        if agenda.first?.seq != first { agendaChanged?() }
    }

    /// Plays every step due by the clock's current time; returns how many played.
    @discardableResult public func playDue() -> Int {
        var played = 0
        while let step = agenda.first, step.dueAt <= clock.now() {
            agenda.removeFirst()
            play(step)
            played += 1
        }
        if played > 0 { agendaChanged?() }
        return played
    }

    /// Moves the clock forward by `millis`, playing each step at its own due time
    /// on the way (with a frozen clock, events carry exactly their due times).
    /// Returns how many steps played.
    @discardableResult public func advanceClock(by millis: Int64) -> Int {
        let target = clock.now() + millis
        var played = 0
        while let due = nextDue, due <= target {
            let now = clock.now()
            if due > now { clock.advance(by: due - now) }
            played += playDue()
        }
        let now = clock.now()
        if target > now { clock.advance(by: target - now) }
        return played
    }

    /// Runs the clock forward until no step is pending (every turn has ended or
    /// waits for the client), at most `limit` steps. Returns the steps played.
    @discardableResult public func runUntilIdle(limit: Int = 100_000) -> Int {
        var played = 0
        while let due = nextDue, played < limit {
            let now = clock.now()
            played += advanceClock(by: max(0, due - now))
        }
        return played
    }

    private func play(_ step: ScheduledStep) {
        guard let session = sessionsByID[step.sessionID], let thread = threadsByID[step.threadID],
            !thread.status.isFinal
        else { return }
        let now = clock.now()
        switch step.action {
        case .previewStart(let id, let type):
            session.previews[id] = PreviewMark(
                threadID: thread.id, sessionPosition: session.log.count, threadPosition: thread.log.count)
            observer?.previewed(Preview(eventID: id, eventType: type, delta: nil), in: [thread.log, session.log])
        case .previewDelta(let id, let index, let text):
            session.previews[id] = PreviewMark(
                threadID: thread.id, sessionPosition: session.log.count, threadPosition: thread.log.count)
            observer?.previewed(
                Preview(eventID: id, eventType: "agent.message", delta: (index, text)), in: [thread.log, session.log])

        case .advance:
            advance(thread)
        }
    }
}
