import MockJSON

/// What the control API shows of a session's turns and timelines.
public struct TimelineView {
    public let threadID: String
    public let nextStep: String?
    public let waiting: JSON

    public var json: JSON {
        .object([("session_thread_id", .string(threadID)), ("next_step", .string(nextStep)), ("waiting", waiting)])
    }
}

extension Store {
    /// `PUT /_mock/agents/{id}/script`: replaces the script of every version of an
    /// agent (null removes it). Checked like a fixture's; nothing changes when it is refused.
    public func setScript(agentID: String, _ source: JSON?) throws(DomainError) -> Agent {
        let current = try agent(AgentReference(id: agentID))
        var script: Script?
        if let source, source != .null {
            let reader = ScriptReader(knows: { [self] in rosterAgent($0) != nil })
            do throws(JSONReadError) {
                script = try reader.read(source, at: JSONPath.body.key("script"))
            } catch {
                throw DomainError(error)
            }
        }
        for i in agentPositions[current.id] ?? [] { agents[i].script = script }
        // Threads carry their agent's snapshot: they follow the new script from their next turn.
        for session in sessions {
            for t in session.threads where t.agent.id == current.id { t.state.agent.script = script }
            if session.agent.id == current.id { session.state.agent.script = script }
        }
        return try agent(AgentReference(id: agentID))
    }

    /// The timelines in progress of a session: each thread's next step and what it waits for.
    public func timelines(of sessionID: String) throws(DomainError) -> [TimelineView] {
        let session = try session(sessionID)
        return session.threads.compactMap { thread in
            guard let t = timelines[thread.id] else { return nil }
            var waiting: JSON = .null
            if let child = t.waitQueue.first {
                waiting = ["kind": "child", "session_thread_id": .string(child)]
            } else if let client = t.client {
                switch client {
                case .confirmation(let toolUse, _, _, _):
                    waiting = ["kind": "confirmation", "tool_use_id": .string(toolUse)]
                case .customTool(let eventID):
                    waiting = ["kind": "custom_tool_result", "custom_tool_use_id": .string(eventID)]
                }
            }
            return TimelineView(threadID: thread.id, nextStep: t.peek()?.name, waiting: waiting)
        }
    }
}
