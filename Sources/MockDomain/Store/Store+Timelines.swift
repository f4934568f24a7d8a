import MockJSON

/// A thread's timeline in progress (API.md section 13): where it is in its steps,
/// the children it started, the reports they sent, and what it waits for.
final class Timeline {
    let threadID: String
    let sessionID: String
    /// The text the timeline answers: the user's message, or a child's task.
    let text: String
    /// Step lists being played, innermost last (a confirmation's branch is pushed).
    var frames: [(steps: [Step], index: Int)]
    /// Children started by label, and the reports received and not yet taken by a wait.
    var children: [String: String] = [:]
    var reports: [String: String] = [:]
    /// Every child's latest report, taken or not (for `{{report:label}}`).
    var lastReports: [String: String] = [:]
    /// The children a `wait` step still waits for, in order.
    var waitQueue: [String] = []
    /// What the client must answer before the timeline goes on.
    var client: ClientWait?
    /// The id a preview announced for the next message or thinking step.
    var reservedEventID: String?
    var lastMessage: String?

    enum ClientWait {
        case confirmation(toolUseID: String, result: JSON, allow: [Step], deny: [Step])
        case customTool(eventID: String)
    }

    init(threadID: String, sessionID: String, text: String, steps: [Step]) {
        self.threadID = threadID
        self.sessionID = sessionID
        self.text = text
        self.frames = [(steps, 0)]
    }

    /// The next step, leaving finished frames behind.
    func peek() -> Step? {
        while let last = frames.last, last.index >= last.steps.count { frames.removeLast() }
        guard let last = frames.last else { return nil }
        return last.steps[last.index]
    }

    func pop() -> Step? {
        guard let step = peek() else { return nil }
        frames[frames.count - 1].index += 1
        return step
    }

    func copy() -> Timeline {
        let t = Timeline(threadID: threadID, sessionID: sessionID, text: text, steps: [])
        t.frames = frames
        t.children = children
        t.reports = reports
        t.lastReports = lastReports
        t.waitQueue = waitQueue
        t.client = client
        t.reservedEventID = reservedEventID
        t.lastMessage = lastMessage
        return t
    }
}

/// Which rule a turn played, for the control API.
public struct TurnRecord: Equatable, Sendable {
    public let turnID: String
    public let threadID: String
    /// nil for the default turn.
    public let ruleIndex: Int?
    public let ruleName: String?

    public var json: JSON {
        .object([
            ("turn_id", .string(turnID)), ("session_thread_id", .string(threadID)),
            ("rule", ruleIndex.map { .int($0) } ?? .null), ("rule_name", .string(ruleName)),
            ("default", .bool(ruleIndex == nil)),
        ])
    }
}

extension Store {
    /// The default turn of API.md section 13: a coordinator quotes the message
    /// (previewed in three deltas over its last 300 ms); a child reports its task
    /// as done. 400 ms in all.
    static func defaultSteps(for text: String, child: Bool) -> [Step] {
        if child { return [Step(delay: 400, kind: .report("Done: \(text)"))] }
        return [Step(delay: 400, kind: .message("You said: \"\(text)\"", deltas: 3, previewMs: 300))]
    }

    /// A roster agent by id (that version, or the latest), or else by name.
    func rosterAgent(_ ref: AgentReference) -> Agent? {
        if let a = agent(ref.id, version: ref.version) { return a }
        return latestAgents().last { $0.name == ref.id }.flatMap { agent($0.id, version: ref.version) }
    }

    /// Starts `thread`'s timeline for `text`: the first matching rule of its
    /// agent's script, inline `steps` when given, or the default turn.
    @discardableResult
    func startTimeline(on thread: SessionThread, text: String, steps inline: [Step]? = nil) -> TurnRecord? {
        var steps = inline
        var record: (Int, String?)?
        if steps == nil, let (i, rule) = thread.agent.script?.rule(for: text) {
            steps = rule.steps
            record = (i, rule.name)
        }
        let timeline = Timeline(
            threadID: thread.id, sessionID: thread.sessionID, text: text,
            steps: steps ?? Self.defaultSteps(for: text, child: thread.role == .child))
        timelines[thread.id] = timeline
        scheduleNext(timeline)
        guard let turn = sessionsByID[thread.sessionID]?.turnID else { return nil }
        return TurnRecord(turnID: turn, threadID: thread.id, ruleIndex: record?.0, ruleName: record?.1)
    }

    /// Puts the timeline's next step on the agenda (with its previews before it),
    /// or ends the timeline when no step is left.
    func scheduleNext(_ timeline: Timeline) {
        guard let thread = threadsByID[timeline.threadID] else { return }
        guard let step = timeline.peek() else {
            finish(timeline)
            return
        }
        let due = clock.now() + step.delay
        switch step.kind {
        case .message(let text, let deltas, let over) where deltas > 0:
            let id = ids.make("evt")
            timeline.reservedEventID = id
            let start = due - over
            let pieces = Self.split(expand(text, in: timeline), into: deltas)
            schedule(.previewStart(eventID: id, type: "agent.message"), on: thread, at: start)
            for (i, piece) in pieces.enumerated() {
                schedule(
                    .previewDelta(eventID: id, index: i, text: piece), on: thread,
                    at: start + over * Int64(i) / Int64(pieces.count))
            }
        case .thinking where step.delay > 0:
            let id = ids.make("evt")
            timeline.reservedEventID = id
            schedule(.previewStart(eventID: id, type: "agent.thinking"), on: thread, at: due - min(step.delay, 100))
        default:
            break
        }
        schedule(.advance(step: step.name), on: thread, at: due)
    }

    /// Plays the next step of a thread's timeline (the agenda's `advance`).
    func advance(_ thread: SessionThread) {
        guard let timeline = timelines[thread.id], let step = timeline.pop(),
            let session = sessionsByID[thread.sessionID]
        else { return }
        if perform(step, timeline, thread, session) { scheduleNext(timeline) }
    }

    /// One step's effects, through the store's rules. Returns whether the timeline
    /// goes on at once (false: it ended, or waits for a child or the client).
    private func perform(_ step: Step, _ timeline: Timeline, _ thread: SessionThread, _ session: Session) -> Bool {
        let now = clock.now()
        // A child playing its agent's script skips the coordinator's steps: children
        // start no children of their own (and a script cannot start itself forever).
        if thread.role == .child && ScriptReader.isCoordinatorStep(step) { return true }
        let reserved = timeline.reservedEventID
        timeline.reservedEventID = nil
        switch step.kind {
        case .message(let text, _, _):
            let body = expand(text, in: timeline)
            timeline.lastMessage = body
            addEvent(to: thread, type: "agent.message", fields: [("content", Self.blocks(body))], at: now, id: reserved)
        case .thinking(let text):
            addEvent(
                to: thread, type: "agent.thinking",
                fields: [("content", .array([["type": "thinking", "thinking": .string(expand(text, in: timeline))]]))],
                at: now, id: reserved)
        case .tool(let name, let input, let result, let isError, let server):
            let content = result.stringValue.map { Self.blocks($0) } ?? result
            if let server {
                let use = addEvent(
                    to: thread, type: "agent.mcp_tool_use",
                    fields: [("mcp_server_name", .string(server)), ("name", .string(name)), ("input", input)], at: now)
                addEvent(
                    to: thread, type: "agent.mcp_tool_result",
                    fields: [("mcp_tool_use_id", .string(use.id)), ("content", content), ("is_error", .bool(isError))],
                    at: now)
            } else {
                let toolUse = ids.make("toolu")
                addEvent(
                    to: thread, type: "agent.tool_use",
                    fields: [("tool_use_id", .string(toolUse)), ("name", .string(name)), ("input", input)], at: now)
                addEvent(
                    to: thread, type: "agent.tool_result",
                    fields: [("tool_use_id", .string(toolUse)), ("content", content), ("is_error", .bool(isError))],
                    at: now)
            }
        case .confirm(let name, let input, let result, let allow, let deny):
            let toolUse = ids.make("toolu")
            let use = addEvent(
                to: thread, type: "agent.tool_use",
                fields: [
                    ("tool_use_id", .string(toolUse)), ("name", .string(name)), ("input", input),
                    ("evaluated_permission", "ask"),
                ], at: now)
            timeline.client = .confirmation(toolUseID: toolUse, result: result, allow: allow, deny: deny)
            waitForClient(thread, session, eventID: use.id, at: now)
            return false
        case .customTool(let name, let input):
            let use = addEvent(
                to: thread, type: "agent.custom_tool_use", fields: [("name", .string(name)), ("input", input)], at: now)
            timeline.client = .customTool(eventID: use.id)
            waitForClient(thread, session, eventID: use.id, at: now)
            return false
        case .usage(let counts):
            let start = addEvent(to: thread, type: "span.model_request_start", fields: [], at: now)
            var usage = Usage()
            usage.add(counts)
            addEvent(
                to: thread, type: "span.model_request_end",
                fields: [("model_request_start_id", .string(start.id)), ("model_usage", usage.json)], at: now)
        case .error(let error):
            addEvent(to: ensureCoordinator(session), type: "session.error", fields: [("error", error)], at: now)
        case .endTurn:
            finish(timeline)
            return false
        case .start(let label, let ref, let task, let steps):
            guard let agent = rosterAgent(ref) else { return true }  // checked at load; gone since
            let task = expand(task, in: timeline)
            var plan = ChildPlan()
            plan.status = .idle
            plan.task = task
            let child = insertChild(plan, agent: agent, in: session, parent: thread)
            timeline.children[label] = child.id
            let text = Self.blocks(task)
            addEvent(
                to: child, type: "agent.thread_message_sent",
                fields: [
                    ("direction", "coordinator_to_child"), ("content", text),
                    ("from_session_thread_id", .string(thread.id)), ("to_session_thread_id", .string(child.id)),
                ], at: now)
            child.mailbox.append(
                MailboxMessage(
                    id: ids.make("msg"), fromThreadID: thread.id, toThreadID: child.id, content: text,
                    status: .delivered, createdAt: now))
            transition(child, to: .running, at: now)
            settle(session)
            startTimeline(on: child, text: task, steps: steps)
        case .wait(let labels):
            timeline.waitQueue = labels.compactMap { timeline.children[$0] }
            return takeReports(timeline, thread, session)
        case .report(let text):
            let body = expand(text, in: timeline)
            if thread.role == .coordinator {
                // Only a child reports; a coordinator says it instead.
                addEvent(to: thread, type: "agent.message", fields: [("content", Self.blocks(body))], at: now)
                finish(timeline)
            } else {
                timelines[thread.id] = nil
                deliverReport(from: thread, text: body, in: session)
            }
            return false
        case .send(let label, let text):
            guard let childID = timeline.children[label], let child = threadsByID[childID], !child.status.isFinal else {
                return true
            }
            let content = Self.blocks(expand(text, in: timeline))
            addEvent(
                to: thread, type: "agent.thread_message_sent",
                fields: [
                    ("direction", "coordinator_to_child"), ("content", content),
                    ("from_session_thread_id", .string(thread.id)), ("to_session_thread_id", .string(child.id)),
                ], at: now)
            child.mailbox.append(
                MailboxMessage(
                    id: ids.make("msg"), fromThreadID: thread.id, toThreadID: child.id, content: content,
                    status: .pending, createdAt: now))
            if child.status == .idle { deliverFollowUp(to: child, in: session) }
        case .archive(let label):
            if let childID = timeline.children[label] {
                _ = try? archive(sessionID: session.id, threadID: childID)
            }
        }
        return true
    }

    /// A confirmation or a custom tool: the thread goes idle, its stop reason
    /// naming the event the client must answer; the session follows.
    private func waitForClient(_ thread: SessionThread, _ session: Session, eventID: String, at now: Int64) {
        transition(
            thread, to: .idle, stopReason: ["type": "requires_action", "event_ids": .array([.string(eventID)])], at: now
        )
        settle(session)
    }

    /// A timeline ran out or ended its turn: a coordinator goes idle; a child
    /// that has not reported reports its last message (so no wait is left without an end).
    func finish(_ timeline: Timeline) {
        timelines[timeline.threadID] = nil
        guard let thread = threadsByID[timeline.threadID], let session = sessionsByID[timeline.sessionID],
            !thread.status.isFinal
        else { return }
        if thread.role == .child {
            deliverReport(from: thread, text: timeline.lastMessage ?? "Done: \(timeline.text)", in: session)
            return
        }
        if thread.status == .running || thread.status == .blocked {
            transition(thread, to: .idle, stopReason: ["type": "end_turn"], at: clock.now())
        }
        settle(session)
    }

    /// A child's report: sent on the child, received by its parent through the
    /// mailbox, the child idle; a parent waiting on it takes it as the `Agent`
    /// tool's result and runs on; a follow-up waiting in the child's mailbox starts
    /// its next turn.
    func deliverReport(from child: SessionThread, text: String, in session: Session) {
        let now = clock.now()
        let content = Self.blocks(text)
        guard let parentID = child.parentThreadID, let parent = threadsByID[parentID] else { return }
        let fields: [(String, JSON)] = [
            ("direction", "child_to_coordinator"), ("content", content),
            ("from_session_thread_id", .string(child.id)), ("to_session_thread_id", .string(parent.id)),
        ]
        addEvent(to: child, type: "agent.thread_message_sent", fields: fields, at: now)
        parent.mailbox.append(
            MailboxMessage(
                id: ids.make("msg"), fromThreadID: child.id, toThreadID: parent.id, content: content,
                status: .delivered, createdAt: now))
        addEvent(to: parent, type: "agent.thread_message_received", fields: fields + [("is_error", false)], at: now)
        dropSteps(sessionID: session.id, threadID: child.id)
        if child.status == .running || child.status == .blocked {
            transition(child, to: .idle, stopReason: ["type": "end_turn"], at: now)
        }
        if let waiting = timelines[parent.id] {
            waiting.reports[child.id] = text
            waiting.lastReports[child.id] = text
            if waiting.waitQueue.first == child.id, waiting.client == nil,
                takeReports(waiting, parent, session)
            {
                scheduleNext(waiting)
            }
        }
        if child.mailbox.contains(where: { $0.status == .pending }) { deliverFollowUp(to: child, in: session) }
        settle(session)
    }

    /// Takes the reports a `wait` step waits for, in order, each as the `Agent`
    /// tool's result; blocks on the first child that has not reported. Returns
    /// whether the timeline goes on now.
    func takeReports(_ timeline: Timeline, _ thread: SessionThread, _ session: Session) -> Bool {
        let now = clock.now()
        while let childID = timeline.waitQueue.first {
            let child = threadsByID[childID]
            let toolUse = child?.createdByToolUseID ?? ""
            if let report = timeline.reports.removeValue(forKey: childID) {
                timeline.waitQueue.removeFirst()
                timeline.lastMessage = report
                addEvent(
                    to: thread, type: "agent.tool_result",
                    fields: [("tool_use_id", .string(toolUse)), ("content", Self.blocks(report)), ("is_error", false)],
                    at: now)
                continue
            }
            guard let child, child.status == .running || child.status == .blocked else {
                // Archived, deleted, or stopped without a report: the wait ends in an error.
                timeline.waitQueue.removeFirst()
                let why = child?.status == .archived ? "Agent cancelled." : "Agent interrupted."
                addEvent(
                    to: thread, type: "agent.tool_result",
                    fields: [("tool_use_id", .string(toolUse)), ("content", .string(why)), ("is_error", true)], at: now)
                continue
            }
            if thread.status != .blocked || thread.waitingOn?.threadID != childID {
                transition(thread, to: .blocked, waitingOn: WaitTarget(threadID: childID, toolUseID: toolUse), at: now)
                settle(session)
            }
            return false
        }
        if thread.status == .blocked { transition(thread, to: .running, at: now) }
        return true
    }

    /// A thread released from its wait by the API (archive, interrupt) already has
    /// its error result; its timeline goes on with the next child or step.
    func resumeAfterRelease(_ waiting: SessionThread, from child: SessionThread, in session: Session) {
        guard let timeline = timelines[waiting.id], timeline.waitQueue.first == child.id else { return }
        timeline.waitQueue.removeFirst()
        timeline.reports[child.id] = nil
        if takeReports(timeline, waiting, session) { scheduleNext(timeline) }
    }

    /// The first pending follow-up of an idle child is delivered: received on the
    /// child, which starts a new turn on it.
    func deliverFollowUp(to child: SessionThread, in session: Session) {
        guard let i = child.mailbox.firstIndex(where: { $0.status == .pending }), !child.status.isFinal else { return }
        let now = clock.now()
        child.mailbox[i].status = .delivered
        let message = child.mailbox[i]
        addEvent(
            to: child, type: "agent.thread_message_received",
            fields: [
                ("direction", "coordinator_to_child"), ("content", message.content),
                ("from_session_thread_id", .string(message.fromThreadID)),
                ("to_session_thread_id", .string(child.id)), ("is_error", false),
            ], at: now)
        transition(child, to: .running, at: now)
        settle(session)
        startTimeline(on: child, text: Self.text(of: message.content))
    }

    /// A client's answer to what a timeline waits for: the thread runs again,
    /// with the tool's result and the matching branch for a confirmation.
    func answer(_ event: Outgoing, in session: Session) {
        guard let thread = event.thread, let timeline = timelines[thread.id], let client = timeline.client else {
            return
        }
        let now = clock.now()
        switch (client, event.type) {
        case (.confirmation(let toolUse, let result, let allow, let deny), "user.tool_confirmation"):
            guard event.answers == toolUse else { return }
            timeline.client = nil
            transition(thread, to: .running, at: now)
            settle(session)
            let allowed = event.allowed
            let content: JSON =
                allowed
                ? (result.stringValue.map { Self.blocks($0) } ?? result)
                : Self.blocks(event.denyMessage ?? "The user denied this tool use.")
            addEvent(
                to: thread, type: "agent.tool_result",
                fields: [("tool_use_id", .string(toolUse)), ("content", content), ("is_error", .bool(!allowed))],
                at: now)
            timeline.frames.append((allowed ? allow : deny, 0))
            scheduleNext(timeline)
        case (.customTool(let eventID), "user.custom_tool_result"):
            guard event.answers == eventID else { return }
            timeline.client = nil
            transition(thread, to: .running, at: now)
            settle(session)
            scheduleNext(timeline)
        default:
            return
        }
    }

    /// `{{message}}` is the text the timeline answers; `{{report:label}}` the last
    /// report of that child.
    func expand(_ text: String, in timeline: Timeline) -> String {
        guard text.contains("{{") else { return text }
        // One pass from left to right: what a placeholder brings in is not read again,
        // so the result never depends on the order anything is looked up in.
        var out = ""
        var rest = Substring(text)
        while let open = rest.firstRange(of: "{{") {
            out += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            guard let close = after.firstRange(of: "}}") else {
                rest = rest[open.lowerBound...]
                break
            }
            let name = after[..<close.lowerBound]
            if name == "message" {
                out += timeline.text
            } else if name.hasPrefix("report:"), let child = timeline.children[String(name.dropFirst(7))] {
                out += timeline.lastReports[child] ?? ""
            } else {
                out += rest[open.lowerBound..<close.upperBound]
            }
            rest = after[close.upperBound...]
        }
        return out + rest
    }

    static func blocks(_ text: String) -> JSON { .array([["type": "text", "text": .string(text)]]) }

    /// The text of a message's content: a string, or its text blocks joined.
    static func text(of content: JSON) -> String {
        if let s = content.stringValue { return s }
        return (content.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
    }
}
