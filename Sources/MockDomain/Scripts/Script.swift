import MockJSON

/// An agent's script (API.md section 13): rules tried in order against each
/// incoming message; the first that matches plays its timeline. Read once, with
/// every problem named by its JSON path; kept with its source so that a state
/// export writes it back as given.
public final class Script: Equatable, @unchecked Sendable {
    public struct Rule {
        public let name: String?
        public let match: Match
        public let steps: [Step]
    }

    public enum Match {
        case any
        case equals(String)
        case contains(String)
        case matches(String, Regex<AnyRegexOutput>)

        func accepts(_ text: String) -> Bool {
            switch self {
            case .any: true
            case .equals(let s): text == s
            case .contains(let s): text.contains(s)
            case .matches(_, let regex): (try? regex.firstMatch(in: text)) != nil
            }
        }
    }

    public let rules: [Rule]
    /// The script as written, for export.
    public let source: JSON

    init(rules: [Rule], source: JSON) {
        self.rules = rules
        self.source = source
    }

    public static func == (a: Script, b: Script) -> Bool { a.source == b.source }

    /// The first rule that accepts `text`, with its index.
    func rule(for text: String) -> (index: Int, rule: Rule)? {
        for (i, rule) in rules.enumerated() where rule.match.accepts(text) { return (i, rule) }
        return nil
    }
}

/// One step of a timeline, after `delay` milliseconds of the mock's clock.
public struct Step {
    public enum Kind {
        /// An `agent.message`, optionally previewed in `deltas` pieces over `previewMs`.
        case message(String, deltas: Int, previewMs: Int64)
        case thinking(String)
        /// An `agent.tool_use` and its `agent.tool_result` (or the MCP pair when `server` is set).
        case tool(name: String, input: JSON, result: JSON, isError: Bool, server: String?)
        /// A tool use the client must confirm; the branch that follows the answer.
        case confirm(name: String, input: JSON, result: JSON, allow: [Step], deny: [Step])
        /// An `agent.custom_tool_use` the client runs and answers with `user.custom_tool_result`.
        case customTool(name: String, input: JSON)
        /// A model request: `span.model_request_start` and `_end` with its usage.
        case usage(JSON)
        case error(JSON)
        case endTurn
        /// Starts a child from the roster with its task; `label` names it for waits.
        case start(label: String, agent: AgentReference, task: String, steps: [Step]?)
        /// Waits for these children, one after the other.
        case wait([String])
        /// A child reports to its coordinator and goes idle.
        case report(String)
        /// A follow-up message to a child, delivered when its current turn ends.
        case send(label: String, text: String)
        /// Archives an idle child, with every effect of the archive rules.
        case archive(String)
    }

    public let delay: Int64
    public let kind: Kind

    /// Whether a timeline goes on after this step (ending the turn or reporting ends it).
    var ends: Bool {
        switch kind {
        case .endTurn, .report: true
        default: false
        }
    }

    var name: String {
        switch kind {
        case .message: "message"
        case .thinking: "thinking"
        case .tool: "tool"
        case .confirm: "confirm"
        case .customTool: "custom_tool"
        case .usage: "usage"
        case .error: "error"
        case .endTurn: "end_turn"
        case .start: "start"
        case .wait: "wait"
        case .report: "report"
        case .send: "send"
        case .archive: "archive"
        }
    }
}

/// Reads scripts; the roster check (`start` names an agent of the roster) is the
/// store's, given as `knows`.
struct ScriptReader {
    static let stepKinds = [
        "message", "thinking", "tool", "confirm", "custom_tool", "usage", "error", "end_turn", "start", "wait",
        "report", "send", "archive",
    ]
    /// Whether an agent reference names an agent of the roster.
    let knows: (AgentReference) -> Bool

    func read(_ value: JSON, at path: JSONPath) throws(JSONReadError) -> Script {
        guard let list = value.arrayValue else {
            throw JSONReadError(path: path, problem: .wrongType(expected: "a list of rules", got: value.typeName))
        }
        var rules: [Script.Rule] = []
        var catchAll: Int?
        for (i, item) in list.enumerated() {
            let at = path.index(i)
            if let earlier = catchAll {
                throw .invalid(at, "can never be reached: rule \(earlier) already matches any message")
            }
            let rule = try readRule(item, at: at)
            if case .any = rule.match { catchAll = i }
            rules.append(rule)
        }
        return Script(rules: rules, source: value)
    }

    func readRule(_ value: JSON, at path: JSONPath) throws(JSONReadError) -> Script.Rule {
        let obj = try JSONObjectReader(value, at: path, expected: "a rule object {when, steps}")
        try obj.rejectUnknown(["name", "when", "steps"])
        let match = try readMatch(obj)
        var scope = Scope(children: [])
        let steps = try readSteps(obj.required("steps"), at: path.key("steps"), scope: &scope)
        // A timeline that starts or waits for children is a coordinator's; a report
        // is a child's: one timeline cannot be both.
        if Self.contains(steps, where: Self.isCoordinatorStep), Self.contains(steps, where: Self.isReport) {
            throw .invalid(
                path.key("steps"),
                "reports to a coordinator but also starts or waits for children: a report comes from a child, never from a coordinator"
            )
        }
        return Script.Rule(name: try obj.string("name"), match: match, steps: steps)
    }

    static func isCoordinatorStep(_ step: Step) -> Bool {
        switch step.kind {
        case .start, .wait, .send, .archive: true
        default: false
        }
    }

    static func isReport(_ step: Step) -> Bool {
        if case .report = step.kind { return true }
        return false
    }

    /// Whether any step of `steps`, branches included (not children's own steps), satisfies `test`.
    static func contains(_ steps: [Step], where test: (Step) -> Bool) -> Bool {
        steps.contains { step in
            if test(step) { return true }
            if case .confirm(_, _, _, let allow, let deny) = step.kind {
                return contains(allow, where: test) || contains(deny, where: test)
            }
            return false
        }
    }

    func readMatch(_ obj: JSONObjectReader) throws(JSONReadError) -> Script.Match {
        guard let when = obj["when"] else { return .any }
        if when.stringValue == "any" { return .any }
        let m = try JSONObjectReader(when, at: obj.path.key("when"), expected: "\"any\" or {equals|contains|matches}")
        guard m.pairs.count == 1, let (key, v) = m.pairs.first else {
            throw .invalid(m.path, "must hold exactly one of equals, contains, matches, any")
        }
        switch key {
        case "any": return .any
        case "equals", "contains", "matches":
            guard let s = v.stringValue else { throw m.fail(key, "must be a string") }
            if key == "equals" { return .equals(s) }
            if key == "contains" { return .contains(s) }
            do {
                return .matches(s, try Regex(s))
            } catch {
                throw m.fail(key, "'\(s)' is not a regular expression that compiles: \(error)")
            }
        default:
            throw JSONReadError(
                path: m.path.key(key), problem: .unknownField(expected: ["equals", "contains", "matches", "any"]))
        }
    }

    /// What a timeline knows while it is read: the labels of the children started
    /// so far (a wait or a follow-up can only name one of them), and whether it is
    /// a child's own timeline.
    struct Scope {
        var children: [String]
        var isChild = false
    }

    func readSteps(_ value: JSON, at path: JSONPath, scope: inout Scope) throws(JSONReadError) -> [Step] {
        guard let list = value.arrayValue else {
            throw JSONReadError(path: path, problem: .wrongType(expected: "a list of steps", got: value.typeName))
        }
        var steps: [Step] = []
        for (i, item) in list.enumerated() {
            let at = path.index(i)
            if let last = steps.last, last.ends {
                throw .invalid(at, "can never be reached: the step before it (\(last.name)) ends the timeline")
            }
            steps.append(try readStep(item, at: at, scope: &scope))
        }
        return steps
    }

    func readStep(_ value: JSON, at path: JSONPath, scope: inout Scope) throws(JSONReadError) -> Step {
        let obj = try JSONObjectReader(value, at: path, expected: "a step object")
        let kinds = obj.pairs.map(\.0).filter { Self.stepKinds.contains($0) }
        guard kinds.count == 1, let kind = kinds.first else {
            if kinds.isEmpty {
                let unknown = obj.pairs.map(\.0).first { !["after_ms", "preview", "allow", "deny"].contains($0) }
                throw .invalid(
                    unknown.map { path.key($0) } ?? path,
                    unknown == nil
                        ? "has no step kind; expected one of \(Self.stepKinds.joined(separator: ", "))"
                        : "is not a step kind; expected one of \(Self.stepKinds.joined(separator: ", "))")
            }
            throw .invalid(path, "holds two step kinds (\(kinds.joined(separator: ", "))); give one per step")
        }
        var known = ["after_ms", kind]
        if kind == "message" || kind == "thinking" { known.append("preview") }
        if kind == "confirm" { known += ["allow", "deny"] }
        try obj.rejectUnknown(known)
        let delay = Int64(try obj.int("after_ms", in: 0...86_400_000) ?? 0)
        let v = obj.raw(kind) ?? .null
        let vp = path.key(kind)
        func text(_ what: String) throws(JSONReadError) -> String {
            guard let s = v.stringValue else {
                throw JSONReadError(path: vp, problem: .wrongType(expected: what, got: v.typeName))
            }
            return s
        }
        let stepKind: Step.Kind
        switch kind {
        case "message":
            let message = try text("a string (the message's text)")
            var deltas = 0
            var over: Int64 = 0
            if let p = obj["preview"] {
                if p.boolValue == true {
                    deltas = 3
                    over = min(300, delay)
                } else if p.boolValue == false {
                    deltas = 0
                } else {
                    let po = try JSONObjectReader(p, at: path.key("preview"), expected: "true or {deltas, over_ms}")
                    try po.rejectUnknown(["deltas", "over_ms"])
                    deltas = try po.int("deltas", in: 1...1000) ?? 3
                    over = try po.int("over_ms", in: 0...86_400_000).map(Int64.init) ?? min(300, delay)
                }
                if over > delay {
                    throw .invalid(
                        path.key("preview"),
                        "spreads its deltas over \(over) ms, more than the step's after_ms (\(delay)): previews come before the message"
                    )
                }
            }
            stepKind = .message(message, deltas: deltas, previewMs: over)
        case "thinking":
            stepKind = .thinking(try text("a string"))
        case "tool":
            let t = try JSONObjectReader(v, at: vp, expected: "an object {name, input, result}")
            try t.rejectUnknown(["name", "input", "result", "is_error", "mcp_server"])
            stepKind = .tool(
                name: try t.requiredString("name"), input: t["input"] ?? .object([]), result: t["result"] ?? "",
                isError: try t.bool("is_error") ?? false, server: try t.string("mcp_server"))
        case "confirm":
            let t = try JSONObjectReader(v, at: vp, expected: "an object {name, input}")
            try t.rejectUnknown(["name", "input", "result"])
            var allowScope = scope
            var denyScope = scope
            let allow = try obj["allow"].map { a throws(JSONReadError) in
                try readSteps(a, at: path.key("allow"), scope: &allowScope)
            }
            let deny = try obj["deny"].map { d throws(JSONReadError) in
                try readSteps(d, at: path.key("deny"), scope: &denyScope)
            }
            // A child started in both branches is known after them.
            scope.children += allowScope.children.filter {
                denyScope.children.contains($0) && !scope.children.contains($0)
            }
            stepKind = .confirm(
                name: try t.requiredString("name"), input: t["input"] ?? .object([]), result: t["result"] ?? "",
                allow: allow ?? [], deny: deny ?? [])
        case "custom_tool":
            let t = try JSONObjectReader(v, at: vp, expected: "an object {name, input}")
            try t.rejectUnknown(["name", "input"])
            stepKind = .customTool(name: try t.requiredString("name"), input: t["input"] ?? .object([]))
        case "usage":
            let u = try JSONObjectReader(v, at: vp, expected: "an object of token counts")
            try u.rejectUnknown(Usage.fields)
            for key in Usage.fields { _ = try u.int(key, in: 0...Int(Int32.max)) }
            stepKind = .usage(v)
        case "error":
            let e = try JSONObjectReader(v, at: vp, expected: "an object {type, message}")
            _ = try e.requiredString("type")
            _ = try e.requiredString("message")
            stepKind = .error(v)
        case "end_turn":
            guard v == .bool(true) || v.objectValue?.isEmpty == true else {
                throw .invalid(vp, "must be true")
            }
            stepKind = .endTurn
        case "start":
            if scope.isChild { throw .invalid(vp, "is a coordinator's step: a child cannot start children here") }
            let s = try JSONObjectReader(v, at: vp, expected: "an object {agent, task}")
            try s.rejectUnknown(["agent", "as", "task", "steps"])
            let ref = try AgentReference(scriptValue: s.required("agent"), at: vp.key("agent"))
            guard knows(ref) else {
                throw .invalid(vp.key("agent"), "'\(ref.id)' is not an agent of the roster ($.agents)")
            }
            let label = try s.string("as") ?? ref.id
            var childScope = Scope(children: [], isChild: true)
            let steps = try s["steps"].map { st throws(JSONReadError) in
                try readSteps(st, at: vp.key("steps"), scope: &childScope)
            }
            scope.children.append(label)
            stepKind = .start(label: label, agent: ref, task: try s.requiredString("task"), steps: steps)
        case "wait":
            if scope.isChild { throw .invalid(vp, "is a coordinator's step: a child has no children to wait for") }
            let labels: [String]
            if let one = v.stringValue {
                labels = [one]
            } else if let many = v.arrayValue, !many.isEmpty, many.allSatisfy({ $0.stringValue != nil }) {
                labels = many.map { $0.stringValue! }
            } else {
                throw .invalid(vp, "must name a child started earlier, or a list of them")
            }
            for label in labels where !scope.children.contains(label) {
                throw .invalid(vp, "waits for '\(label)', which no earlier step of this timeline starts")
            }
            stepKind = .wait(labels)
        case "report":
            stepKind = .report(try text("a string (the report's text)"))
        case "send":
            if scope.isChild { throw .invalid(vp, "is a coordinator's step") }
            let s = try JSONObjectReader(v, at: vp, expected: "an object {to, message}")
            try s.rejectUnknown(["to", "message"])
            let label = try s.requiredString("to")
            guard scope.children.contains(label) else {
                throw .invalid(vp.key("to"), "'\(label)' is not a child an earlier step of this timeline starts")
            }
            stepKind = .send(label: label, text: try s.requiredString("message"))
        case "archive":
            if scope.isChild { throw .invalid(vp, "is a coordinator's step") }
            let label = try text("the label of a child")
            guard scope.children.contains(label) else {
                throw .invalid(vp, "'\(label)' is not a child an earlier step of this timeline starts")
            }
            stepKind = .archive(label)
        default:
            throw .invalid(vp, "is not a step kind")
        }
        return Step(delay: delay, kind: stepKind)
    }
}

extension AgentReference {
    /// In a script: an agent id, a roster name, or `{id, version?}`.
    init(scriptValue value: JSON, at path: JSONPath) throws(JSONReadError) {
        if let s = value.stringValue, !s.isEmpty {
            self.init(id: s)
            return
        }
        let obj = try JSONObjectReader(value, at: path, expected: "an agent id or name, or {id, version}")
        self.init(id: try obj.requiredString("id"), version: try obj.int("version", in: 1...Int(Int32.max)))
    }
}
