"""Scripted agents end to end, through the real binary (API.md section 13): the default
fixture's research and confirmation scripts, scripts replaced at run time, children started,
waited on, reporting, archived, interrupted and sent follow-ups, previews, determinism, and
every validation error of the script format.

Every test freezes the clock, so a turn moves only when the test advances it.
"""

from __future__ import annotations

import json
import subprocess

from support.mockserver import SEED_CHILD, SEED_COORDINATOR, SEED_SESSION, binary_path, wait_until, error_of
from support.sse import SSEClient, expected_frame

COORD_AGENT = "agent_019f000000000000000000000000001a"
RESEARCH_AGENT = "agent_019f000000000000000000000000002b"
FROZEN_AT = "2026-07-01T10:00:00.000Z"
REPORT = "Two competitors shipped multi-agent APIs this quarter; both price per session hour."

RESEARCH_TURN = [
    ("coord", "user.message"), ("coord", "session.thread_status_running"), ("coord", "session.status_running"),
    ("coord", "agent.thinking"), ("coord", "agent.tool_use"),
    ("child", "session.thread_created"), ("child", "agent.thread_message_sent"),
    ("child", "session.thread_status_running"), ("coord", "session.thread_status_blocked"),
    ("child", "agent.thinking"), ("child", "agent.tool_use"), ("child", "agent.tool_result"),
    ("child", "span.model_request_start"), ("child", "span.model_request_end"),
    ("child", "agent.thread_message_sent"), ("coord", "agent.thread_message_received"),
    ("child", "session.thread_status_idle"), ("coord", "agent.tool_result"),
    ("coord", "session.thread_status_running"), ("coord", "span.model_request_start"),
    ("coord", "span.model_request_end"), ("coord", "agent.message"), ("coord", "session.thread_status_idle"),
    ("coord", "session.status_idle"),
]


def freeze(mock) -> None:
    assert mock.control("POST", "/clock/freeze", {"at": FROZEN_AT}).status == 200


def advance(mock, ms: int) -> dict:
    r = mock.control("POST", "/clock/advance", {"ms": ms})
    assert r.status == 200, r.text
    return r.json()


def run_until_idle(mock) -> dict:
    r = mock.control("POST", "/clock/run-until-idle")
    assert r.status == 200, r.text
    return r.json()


def new_session(mock, agent: str = COORD_AGENT) -> str:
    r = mock.post("/v1/sessions", {"agent": agent, "environment_id": "env_local"})
    assert r.status == 200, r.text
    return r.json()["id"]


def say(mock, sid: str, text: str) -> dict:
    r = mock.post(f"/v1/sessions/{sid}/events", {"events": [{"type": "user.message", "content": text}]})
    assert r.status == 200, r.text
    return r.json()["data"][0]


def events(mock, sid: str, thread: str | None = None) -> list[dict]:
    path = f"/v1/sessions/{sid}/threads/{thread}/events" if thread else f"/v1/sessions/{sid}/events"
    out, page = [], None
    while True:
        r = mock.get(path + "?limit=100" + (f"&page={page}" if page else ""))
        assert r.status == 200, r.text
        body = r.json()
        out += body["data"]
        if not body["has_more"]:
            return out
        page = body["next_page"]


def threads(mock, sid: str) -> list[dict]:
    return mock.get(f"/v1/sessions/{sid}/threads").json()["data"]


def set_script(mock, agent: str, script) -> dict:
    r = mock.control("PUT", f"/agents/{agent}/script", {"script": script})
    assert r.status == 200, r.text
    return r.json()


def new_agent(mock, name: str, script=None) -> str:
    r = mock.post("/v1/agents", {"name": name, "model": "ultimate"})
    assert r.status == 200, r.text
    aid = r.json()["id"]
    if script is not None:
        set_script(mock, aid, script)
    return aid


def agenda(mock, sid: str) -> dict:
    r = mock.control("GET", f"/sessions/{sid}/agenda")
    assert r.status == 200, r.text
    return r.json()


# -- the default fixture's research script ------------------------------------------


def test_research_turn_in_full_on_the_session_stream_and_in_parts_on_thread_streams(mock):
    freeze(mock)
    sid = new_session(mock)
    with SSEClient(mock.host, mock.port, f"/v1/sessions/{sid}/events/stream") as whole:
        assert whole.read_head() == 200
        message = say(mock, sid, "Please research our competitors")
        coordinator = message["session_thread_id"]
        with SSEClient(mock.host, mock.port, f"/v1/sessions/{sid}/threads/{coordinator}/stream") as coord_stream:
            assert [f.event for f in coord_stream.events(3, timeout=5)] == [
                "user.message", "session.thread_status_running", "session.status_running"]
            run_until_idle(mock)
            frames = whole.events(len(RESEARCH_TURN), timeout=10)
            coord_part = coord_stream.events(sum(1 for who, _ in RESEARCH_TURN if who == "coord") - 3, timeout=10)
    child = next(f.data["session_thread_id"] for f in frames if f.event == "session.thread_created")
    who = {coordinator: "coord", child: "child"}
    assert [(who[f.data["session_thread_id"]], f.event) for f in frames] == RESEARCH_TURN
    turn = message["turn_id"]
    assert all(f.data["turn_id"] == turn for f in frames), "every event of the turn, on every thread"
    # The coordinator's stream shows only its part, in the same order; the child's thread has the rest.
    assert [f.id for f in coord_part] == [f.id for f in frames if f.data["session_thread_id"] == coordinator][3:]
    child_events = events(mock, sid, child)
    assert [e["id"] for e in child_events] == [f.id for f in frames if f.data["session_thread_id"] == child]
    assert [expected_frame(e) for e in events(mock, sid)] == [f.raw for f in frames]
    by_type = {f.event: f.data for f in frames if f.data["session_thread_id"] == coordinator}
    use = by_type["agent.tool_use"]
    assert use["name"] == "Agent" and use["tool_use_id"].startswith("toolu_")
    assert use["input"]["prompt"] == "Research this for the user: Please research our competitors"
    blocked = by_type["session.thread_status_blocked"]
    assert blocked["waiting_on"] == {"session_thread_id": child, "tool_use_id": use["tool_use_id"]}
    result = by_type["agent.tool_result"]
    assert result["tool_use_id"] == use["tool_use_id"] and result["content"] == [{"type": "text", "text": REPORT}]
    assert by_type["agent.message"]["content"][0]["text"] == f"Here is what the Research Agent found: {REPORT}"
    child_thread = next(t for t in threads(mock, sid) if t["id"] == child)
    assert child_thread["name"] == "Research Agent" and child_thread["created_by_tool_use_id"] == use["tool_use_id"]
    assert child_thread["status"] == "idle" and child_thread["agent_version"] == 2
    # Usage is the sum of both model requests; the mailboxes hold the task and the report.
    usage = mock.get(f"/v1/sessions/{sid}").json()["usage"]
    assert (usage["input_tokens"], usage["output_tokens"]) == (2000, 450)
    task = mock.control("GET", f"/sessions/{sid}/threads/{child}/mailbox").json()["data"]
    report = mock.control("GET", f"/sessions/{sid}/threads/{coordinator}/mailbox").json()["data"]
    assert [m["status"] for m in task] == ["delivered"] and [m["status"] for m in report] == ["delivered"]
    assert report[0]["from_thread_id"] == child
    # The control API says which rule played.
    turns = agenda(mock, sid)["turns"]
    assert turns == [{"turn_id": turn, "session_thread_id": coordinator, "rule": 0, "rule_name": "research",
                      "default": False}]


def test_stop_mid_turn_and_look_at_the_threads(mock):
    freeze(mock)
    sid = new_session(mock)
    say(mock, sid, "research please")
    advance(mock, 200)
    coord, child = threads(mock, sid)
    assert coord["status"] == "blocked" and child["status"] == "running"
    assert mock.get(f"/v1/sessions/{sid}").json()["status"] == "running"
    view = agenda(mock, sid)
    waiting = {t["session_thread_id"]: t for t in view["timelines"]}
    assert waiting[coord["id"]]["waiting"] == {"kind": "child", "session_thread_id": child["id"]}
    assert waiting[child["id"]]["next_step"] == "thinking"
    assert [s["step"] for s in view["data"] if s["kind"] == "step"] == ["thinking"]
    run_until_idle(mock)
    assert [t["status"] for t in threads(mock, sid)] == ["idle", "idle"]


def test_the_research_turn_is_byte_identical_with_the_same_seed_and_clock_steps(start_server):
    def run() -> tuple[bytes, bytes]:
        server = start_server("--seed", "7", "--frozen-clock", FROZEN_AT)
        sid = new_session(server)
        path = f"/v1/sessions/{sid}/events/stream?event_deltas[]=agent.message&event_deltas[]=agent.thinking"
        with SSEClient(server.host, server.port, path) as s:
            assert s.read_head() == 200
            wait_until(lambda: server.stats()["open_streams"] == 1, timeout=5, message="stream registered")
            say(server, sid, "research the market")
            for step in (150, 250, 1000):
                advance(server, step)
            run_until_idle(server)
            frames = s.events(len(RESEARCH_TURN) + 2 + 5, timeout=10)  # + 2 thinking starts, + start and 4 deltas
        return b"".join(f.raw for f in frames), server.control("GET", "/state").body

    first, second = run(), run()
    assert first[0] == second[0] and first[1] == second[1]
    assert b"event: event_delta" in first[0]


def test_previews_of_the_scripted_answer(mock):
    freeze(mock)
    sid = new_session(mock)
    path = f"/v1/sessions/{sid}/events/stream?event_deltas[]=agent.message"
    with SSEClient(mock.host, mock.port, path) as s:
        assert s.read_head() == 200
        wait_until(lambda: mock.stats()["open_streams"] == 1, timeout=5, message="stream registered")
        say(mock, sid, "research")
        run_until_idle(mock)
        frames = s.events(len(RESEARCH_TURN) + 5, timeout=10)
    names = [f.event for f in frames]
    start = names.index("event_start")
    assert names[start:start + 6] == ["event_start"] + ["event_delta"] * 4 + ["agent.message"]
    text = "".join(f.data["delta"]["content"]["text"] for f in frames[start + 1:start + 5])
    assert text == frames[start + 5].data["content"][0]["text"]
    assert "agent.thinking" not in [f.data.get("event", {}).get("type") for f in frames if f.event == "event_start"]


# -- the API's rules during a timeline ------------------------------------------------


def test_archiving_the_idle_child_a_coordinator_waits_on_cancels_the_wait_and_the_timeline_goes_on(mock):
    freeze(mock)
    sid = new_session(mock)
    say(mock, sid, "research")
    advance(mock, 200)
    coord, child = threads(mock, sid)
    mock.set_status(sid, child["id"], "idle")  # the child stops without a report
    assert threads(mock, sid)[0]["status"] == "blocked"
    r = mock.post(f"/v1/sessions/{sid}/threads/{child['id']}/archive")
    assert r.status == 200, r.text
    run_until_idle(mock)
    coord_events = events(mock, sid, coord["id"])
    result = next(e for e in coord_events if e["type"] == "agent.tool_result")
    assert result["content"] == "Agent cancelled." and result["is_error"] is True
    assert result["tool_use_id"] == child["created_by_tool_use_id"]
    # The timeline went on after the wait: its usage and answer (with no report to quote).
    after = [e["type"] for e in coord_events[coord_events.index(result):]]
    assert after == ["agent.tool_result", "session.thread_status_running", "span.model_request_start",
                     "span.model_request_end", "agent.message", "session.thread_status_idle", "session.status_idle"]
    assert [e["type"] for e in events(mock, sid, child["id"])][-1] == "session.thread_status_terminated"


def test_interrupting_only_the_child_gives_the_coordinator_agent_interrupted(mock):
    freeze(mock)
    sid = new_session(mock)
    say(mock, sid, "research")
    advance(mock, 200)
    coord, child = threads(mock, sid)
    r = mock.post(f"/v1/sessions/{sid}/events",
                  {"events": [{"type": "user.interrupt", "session_thread_id": child["id"]}]})
    assert r.status == 200, r.text
    assert [s["session_thread_id"] for s in agenda(mock, sid)["data"]] == [coord["id"]] * len(agenda(mock, sid)["data"])
    run_until_idle(mock)
    result = next(e for e in events(mock, sid, coord["id"]) if e["type"] == "agent.tool_result")
    assert (result["content"], result["is_error"]) == ("Agent interrupted.", True)
    assert [t["status"] for t in threads(mock, sid)] == ["idle", "idle"]
    child_types = [e["type"] for e in events(mock, sid, child["id"])]
    assert "agent.thread_message_sent" in child_types and child_types[-1] == "session.thread_status_idle"
    assert "agent.tool_use" not in child_types, "the interrupted child played no more steps"


def test_cancel_and_delete_mid_turn(mock):
    freeze(mock)
    sid = new_session(mock)
    say(mock, sid, "research")
    advance(mock, 500)
    r = mock.post(f"/v1/sessions/{sid}/cancel")
    assert r.status == 202
    assert agenda(mock, sid)["data"] == [] and agenda(mock, sid)["timelines"] == []
    assert [t["status"] for t in threads(mock, sid)] == ["idle", "idle"]
    assert run_until_idle(mock)["steps_played"] == 0
    # Delete mid-turn with open streams: every stream ends after session.deleted.
    sid = new_session(mock)
    say(mock, sid, "research")
    advance(mock, 200)
    coord, child = threads(mock, sid)
    with SSEClient(mock.host, mock.port, f"/v1/sessions/{sid}/events/stream") as whole, \
            SSEClient(mock.host, mock.port, f"/v1/sessions/{sid}/threads/{child['id']}/stream") as part:
        whole.events(9, timeout=5)
        part.events(3, timeout=5)
        assert mock.request("DELETE", f"/v1/sessions/{sid}").status == 200
        assert [f.event for f in whole.read_to_end(timeout=5)] == ["session.deleted"] and whole.ended
        assert part.read_to_end(timeout=5) == [] and part.ended
    assert run_until_idle(mock)["steps_played"] == 0


# -- confirmation -----------------------------------------------------------------------


def confirm_flow(mock, answer: dict) -> tuple[str, list[dict]]:
    freeze(mock)
    sid = new_session(mock)
    say(mock, sid, "Delete the build files")
    advance(mock, 200)
    session = mock.get(f"/v1/sessions/{sid}").json()
    assert session["status"] == "idle"
    evs = events(mock, sid)
    idle = evs[-1]
    use = next(e for e in evs if e["type"] == "agent.tool_use")
    assert use["evaluated_permission"] == "ask" and use["name"] == "bash"
    assert idle["type"] == "session.status_idle"
    assert idle["stop_reason"] == {"type": "requires_action", "event_ids": [use["id"]]}
    assert threads(mock, sid)[0]["stop_reason"] == {"type": "requires_action", "event_ids": [use["id"]]}
    assert agenda(mock, sid)["timelines"][0]["waiting"] == {"kind": "confirmation", "tool_use_id": use["tool_use_id"]}
    r = mock.post(f"/v1/sessions/{sid}/events",
                  {"events": [{"type": "user.tool_confirmation", "tool_use_id": answer.get("by_event") and use["id"]
                               or use["tool_use_id"], **{k: v for k, v in answer.items() if k != "by_event"}}]})
    assert r.status == 200, r.text
    assert r.json()["data"][0]["turn_id"] == idle["turn_id"], "the answer belongs to the same turn"
    run_until_idle(mock)
    return sid, events(mock, sid)[len(evs) + 1:]


def test_confirmation_allowed(mock):
    sid, after = confirm_flow(mock, {"result": "allow"})
    assert [e["type"] for e in after] == [
        "session.thread_status_running", "session.status_running", "agent.tool_result", "agent.message",
        "session.thread_status_idle", "session.status_idle"]
    assert after[2]["content"] == [{"type": "text", "text": "removed ./build"}] and after[2]["is_error"] is False
    assert after[3]["content"][0]["text"] == "Done: ./build is gone."
    assert after[-1]["stop_reason"] == {"type": "end_turn"}


def test_confirmation_denied_by_event_id(mock):
    sid, after = confirm_flow(mock, {"result": "deny", "deny_message": "Not today.", "by_event": True})
    assert after[2]["type"] == "agent.tool_result" and after[2]["is_error"] is True
    assert after[2]["content"] == [{"type": "text", "text": "Not today."}]
    assert after[3]["content"][0]["text"] == "Understood, I left the files alone."
    # Answered once: a second answer is refused.
    use = next(e for e in events(mock, sid) if e["type"] == "agent.tool_use")
    r = mock.post(f"/v1/sessions/{sid}/events", {"events": [
        {"type": "user.tool_confirmation", "tool_use_id": use["tool_use_id"], "result": "allow"}]})
    assert error_of(r, 400, "invalid_request_error")["param"] == "events[0].tool_use_id"


# -- scripts written by the test ----------------------------------------------------------


def test_two_children_waited_on_in_turn(mock):
    freeze(mock)
    worker = new_agent(mock, "Worker")
    boss = new_agent(mock, "Boss", [{"when": "any", "steps": [
        {"start": {"agent": "Worker", "as": "slow", "task": "slow job",
                   "steps": [{"report": "slow done", "after_ms": 500}]}},
        {"start": {"agent": worker, "as": "fast", "task": "fast job",
                   "steps": [{"report": "fast done", "after_ms": 100}]}},
        {"wait": ["slow", "fast"]},
        {"message": "{{report:slow}} / {{report:fast}}", "after_ms": 10},
    ]}])
    sid = new_session(mock, boss)
    say(mock, sid, "go")
    advance(mock, 200)  # the fast child has reported; the coordinator still waits on the slow one
    coord, slow, fast = threads(mock, sid)
    assert (coord["status"], slow["status"], fast["status"]) == ("blocked", "running", "idle")
    run_until_idle(mock)
    coord_events = events(mock, sid, coord["id"])
    kinds = [(e["type"], e.get("waiting_on", {}).get("session_thread_id")) for e in coord_events]
    assert ("session.thread_status_blocked", slow["id"]) in kinds
    assert ("session.thread_status_blocked", fast["id"]) not in kinds, "the fast report was already in"
    results = [e for e in coord_events if e["type"] == "agent.tool_result"]
    assert [r["tool_use_id"] for r in results] == [slow["created_by_tool_use_id"], fast["created_by_tool_use_id"]]
    received = [e["from_session_thread_id"] for e in coord_events if e["type"] == "agent.thread_message_received"]
    assert received == [fast["id"], slow["id"]], "reports arrive when sent; the wait takes them in its order"
    assert coord_events[-3]["content"][0]["text"] == "slow done / fast done"


def test_a_follow_up_waits_in_the_childs_mailbox_until_its_turn_ends(mock):
    freeze(mock)
    new_agent(mock, "Helper", [
        {"when": {"contains": "second"}, "steps": [{"report": "second answer", "after_ms": 100}]},
        {"when": "any", "steps": [{"report": "first answer", "after_ms": 300}]},
    ])
    boss = new_agent(mock, "Lead", [{"steps": [
        {"start": {"agent": "Helper", "as": "h", "task": "first task"}},
        {"send": {"to": "h", "message": "a second question"}, "after_ms": 100},
        {"wait": "h"},
        {"message": "got {{report:h}}"},
    ]}])
    sid = new_session(mock, boss)
    say(mock, sid, "go")
    advance(mock, 100)
    coord, child = threads(mock, sid)
    box = mock.control("GET", f"/sessions/{sid}/threads/{child['id']}/mailbox").json()["data"]
    assert [(m["status"], m["content"][0]["text"]) for m in box] == [
        ("delivered", "first task"), ("pending", "a second question")]
    run_until_idle(mock)
    child_types = [e["type"] for e in events(mock, sid, child["id"])]
    assert child_types == [
        "session.thread_created", "agent.thread_message_sent", "session.thread_status_running",
        "agent.thread_message_sent", "session.thread_status_idle",
        "agent.thread_message_received", "session.thread_status_running",
        "agent.thread_message_sent", "session.thread_status_idle"]
    box = mock.control("GET", f"/sessions/{sid}/threads/{child['id']}/mailbox").json()["data"]
    assert [m["status"] for m in box] == ["delivered", "delivered"]
    reports = [e["content"][0]["text"] for e in events(mock, sid, coord["id"])
               if e["type"] == "agent.thread_message_received"]
    assert reports == ["first answer", "second answer"]
    answer = next(e for e in events(mock, sid, coord["id"]) if e["type"] == "agent.message")
    assert answer["content"][0]["text"] == "got first answer"
    # The coordinator's turn ended before the child's second answer; the session ran until it came.
    assert [e["type"] for e in events(mock, sid)][-3:] == [
        "agent.thread_message_received", "session.thread_status_idle", "session.status_idle"]


def test_tools_mcp_custom_tool_usage_and_error_steps(mock):
    freeze(mock)
    aid = new_agent(mock, "Toolbox", [{"steps": [
        {"tool": {"name": "read_file", "input": {"path": "a.txt"}, "result": "hello"}},
        {"tool": {"name": "search", "mcp_server": "docs", "input": {"q": "x"}, "result": "found", "is_error": True}},
        {"usage": {"input_tokens": 5, "output_tokens": 6, "cache_read_input_tokens": 7}},
        {"custom_tool": {"name": "lookup", "input": {"id": 1}}},
        {"error": {"type": "overloaded_error", "message": "Try again later."}},
        {"end_turn": True},
    ]}])
    sid = new_session(mock, aid)
    say(mock, sid, "tools")
    run_until_idle(mock)
    evs = events(mock, sid)
    use = next(e for e in evs if e["type"] == "agent.custom_tool_use")
    assert evs[-1]["stop_reason"] == {"type": "requires_action", "event_ids": [use["id"]]}
    r = mock.post(f"/v1/sessions/{sid}/events", {"events": [
        {"type": "user.custom_tool_result", "custom_tool_use_id": use["id"], "content": [{"type": "text", "text": "42"}]}]})
    assert r.status == 200, r.text
    run_until_idle(mock)
    types = [e["type"] for e in events(mock, sid)]
    assert types[3:] == [
        "agent.tool_use", "agent.tool_result", "agent.mcp_tool_use", "agent.mcp_tool_result",
        "span.model_request_start", "span.model_request_end", "agent.custom_tool_use",
        "session.thread_status_idle", "session.status_idle", "user.custom_tool_result",
        "session.thread_status_running", "session.status_running", "session.error",
        "session.thread_status_idle", "session.status_idle"]
    by = {e["type"]: e for e in events(mock, sid)}
    assert by["agent.mcp_tool_result"]["mcp_tool_use_id"] == by["agent.mcp_tool_use"]["id"]
    assert by["agent.mcp_tool_use"]["mcp_server_name"] == "docs" and by["agent.mcp_tool_result"]["is_error"] is True
    assert by["session.error"]["error"] == {"type": "overloaded_error", "message": "Try again later."}
    usage = mock.get(f"/v1/sessions/{sid}").json()["usage"]
    assert usage == {"input_tokens": 5, "output_tokens": 6, "cache_creation_input_tokens": 0,
                     "cache_read_input_tokens": 7}


def test_a_script_replaced_at_run_time_applies_from_the_next_turn_and_null_removes_it(mock):
    freeze(mock)
    aid = new_agent(mock, "Changeable")
    sid = new_session(mock, aid)
    say(mock, sid, "hello")
    run_until_idle(mock)
    assert events(mock, sid)[3]["content"][0]["text"] == 'You said: "hello"'
    out = set_script(mock, aid, [{"when": {"equals": "ping"}, "steps": [{"message": "pong"}]}])
    assert out["script"][0]["when"] == {"equals": "ping"}
    say(mock, sid, "ping")
    run_until_idle(mock)
    assert [e for e in events(mock, sid) if e["type"] == "agent.message"][-1]["content"][0]["text"] == "pong"
    say(mock, sid, "not ping")  # no rule matches: the default turn
    run_until_idle(mock)
    assert agenda(mock, sid)["turns"][-1]["default"] is True
    state = mock.control("GET", "/state").json()
    assert next(a for a in state["agents"] if a["id"] == aid)["script"][0]["steps"] == [{"message": "pong"}]
    set_script(mock, aid, None)
    assert "script" not in next(a for a in mock.control("GET", "/state").json()["agents"] if a["id"] == aid)


# -- validation ------------------------------------------------------------------------------


BAD_SCRIPTS = [
    ([{"steps": [{"dance": True}]}], "script[0].steps[0].dance", "is not a step kind"),
    ([{"steps": [{"start": {"agent": "Nobody", "task": "x"}}]}], "script[0].steps[0].start.agent",
     "is not an agent of the roster"),
    ([{"steps": [{"wait": "ghost"}]}], "script[0].steps[0].wait", "no earlier step of this timeline starts"),
    ([{"steps": [{"start": {"agent": "Research Agent", "task": "x", "as": "r"}}, {"wait": "r"},
                 {"report": "from the coordinator"}]}], "script[0].steps",
     "a report comes from a child, never from a coordinator"),
    ([{"when": {"matches": "(unclosed"}, "steps": []}], "script[0].when.matches", "is not a regular expression that compiles"),
    ([{"when": "any", "steps": []}, {"when": {"equals": "x"}, "steps": []}], "script[1]", "can never be reached"),
    ([{"steps": [{"end_turn": True}, {"message": "never"}]}], "script[0].steps[1]", "can never be reached"),
    ([{"steps": [{"message": "x", "after_ms": 100, "preview": {"deltas": 2, "over_ms": 500}}]}],
     "script[0].steps[0].preview", "before the message"),
    ([{"steps": [{"message": "a", "thinking": "b"}]}], "script[0].steps[0]", "two step kinds"),
    ({"steps": []}, "script", "must be a list of rules"),
]


def test_every_script_error_is_400_with_its_path_and_changes_nothing(mock):
    before = mock.control("GET", "/state").body
    for script, param, words in BAD_SCRIPTS:
        r = mock.control("PUT", f"/agents/{COORD_AGENT}/script", {"script": script})
        err = error_of(r, 400, "invalid_request_error")
        assert err["param"] == param, (script, err)
        assert words in err["message"], (script, err)
    assert mock.control("GET", "/state").body == before
    error_of(mock.control("PUT", "/agents/agent_nope/script", {"script": []}), 404, "not_found_error")


def test_a_fixture_with_a_bad_script_stops_the_server_with_its_path(tmp_path):
    fixture = json.loads((__import__("pathlib").Path(__file__).parents[2] / "fixtures" / "default.json").read_text())
    fixture["agents"][0]["script"][0]["steps"][1]["start"]["agent"] = "Ghost Agent"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(fixture))
    out = subprocess.run([binary_path(), "--port", "0", "--fixtures", str(path)], capture_output=True, text=True,
                         timeout=20)
    assert out.returncode == 2
    assert f"{path}: $.agents[0].script[0].steps[1].start.agent: 'Ghost Agent' is not an agent of the roster" in out.stderr


def test_seed_threads_are_untouched_by_scripts(mock):
    # The seed session's running child has no timeline: nothing plays on it until a test says so.
    freeze(mock)
    assert run_until_idle(mock)["steps_played"] == 0
    assert [t["status"] for t in threads(mock, SEED_SESSION)] == ["idle", "running"]
    assert agenda(mock, SEED_SESSION)["timelines"] == []
    assert SEED_CHILD and SEED_COORDINATOR


def test_the_script_example_of_the_fixture_readme_plays_as_described(tmp_path):
    import re
    from support.mockserver import REPO, MockServer

    text = (REPO / "fixtures" / "README.md").read_text()
    example = re.findall(r"```json\n(.*?)```", text, flags=re.S)[1]
    path = tmp_path / "scripted.json"
    path.write_text(example)
    with MockServer("--fixtures", str(path), "--frozen-clock", FROZEN_AT) as s:
        say(s, "sess_scripted", "please research agent APIs")
        run_until_idle(s)
        evs = events(s, "sess_scripted")
        answer = [e for e in evs if e["type"] == "agent.message"][-1]["content"][0]["text"]
        # {{report:web}} is web's latest report: its answer to the follow-up came in before the message.
        assert answer == ("Web: Pricing: per session hour everywhere. "
                          "Papers: Three papers matter; the 2025 survey covers the rest.")
        coord, web, papers = threads(s, "sess_scripted")
        reports = [e["content"][0]["text"] for e in events(s, "sess_scripted", coord["id"])
                   if e["type"] == "agent.thread_message_received"]
        assert sorted(reports) == sorted([
            "Two competitors launched this quarter.", "Three papers matter; the 2025 survey covers the rest.",
            "Pricing: per session hour everywhere."])
        assert s.get("/v1/sessions/sess_scripted").json()["status"] == "idle"
        say(s, "sess_scripted", "please delete the temp dir")
        advance(s, 100)
        ask = next(e for e in events(s, "sess_scripted") if e.get("evaluated_permission") == "ask")
        s.post("/v1/sessions/sess_scripted/events", {"events": [
            {"type": "user.tool_confirmation", "tool_use_id": ask["tool_use_id"], "result": "allow"}]})
        run_until_idle(s)
        assert [e for e in events(s, "sess_scripted") if e["type"] == "agent.message"][-1]["content"][0]["text"] == \
            "Deleted ./tmp."
        say(s, "sess_scripted", "fail")
        run_until_idle(s)
        assert events(s, "sess_scripted")[-3]["type"] == "session.error"


def test_archiving_a_child_cancels_its_pending_follow_up_and_it_plays_no_more(mock):
    freeze(mock)
    new_agent(mock, "Slowpoke", [{"steps": [{"report": "eventually", "after_ms": 1000}]}])
    lead = new_agent(mock, "Sender", [{"steps": [
        {"start": {"agent": "Slowpoke", "as": "s", "task": "long job"}},
        {"send": {"to": "s", "message": "and one more thing"}, "after_ms": 10},
        {"message": "queued", "after_ms": 10},
    ]}])
    sid = new_session(mock, lead)
    say(mock, sid, "go")
    advance(mock, 50)
    coord, child = threads(mock, sid)
    mock.set_status(sid, child["id"], "idle")  # stopped by the test, the follow-up still pending
    box = mock.control("GET", f"/sessions/{sid}/threads/{child['id']}/mailbox").json()["data"]
    assert [m["status"] for m in box] == ["delivered", "pending"]
    assert mock.post(f"/v1/sessions/{sid}/threads/{child['id']}/archive").status == 200
    box = mock.control("GET", f"/sessions/{sid}/threads/{child['id']}/mailbox").json()["data"]
    assert [m["status"] for m in box] == ["delivered", "cancelled"]
    before = len(events(mock, sid, child["id"]))
    run_until_idle(mock)
    assert len(events(mock, sid, child["id"])) == before, "an archived child plays no more steps"
    assert mock.get(f"/v1/sessions/{sid}").json()["status"] == "idle"


# -- regressions found in review ---------------------------------------------------------


def test_huge_usage_counts_saturate_instead_of_stopping_the_server(mock):
    huge = {"type": "span.model_request_end", "model_usage": {"input_tokens": 9223372036854775807}}
    mock.append_events(SEED_SESSION, SEED_COORDINATOR, [huge, huge])
    assert mock.get(f"/v1/sessions/{SEED_SESSION}").json()["usage"]["input_tokens"] == 9223372036854775807
    exported = mock.control("GET", "/state").body
    assert mock.control("PUT", "/state", raw_body=exported, headers={"Content-Type": "application/json"}).status == 200


def test_a_script_that_starts_its_own_agent_does_not_loop(mock):
    freeze(mock)
    aid = new_agent(mock, "Ouroboros")
    set_script(mock, aid, [{"steps": [{"start": {"agent": aid, "as": "me", "task": "again"}}, {"wait": "me"},
                                      {"message": "done"}]}])
    sid = new_session(mock, aid)
    say(mock, sid, "go")
    played = run_until_idle(mock)["steps_played"]
    assert played < 20
    coord, child = threads(mock, sid)
    assert (coord["status"], child["status"]) == ("idle", "idle")
    assert [t["role"] for t in threads(mock, sid)] == ["coordinator", "child"], "the child started no child"
    assert mock.get("/_mock/health", token=None).status == 200


def test_resuming_from_a_previewed_id_loses_nothing_written_meanwhile(mock):
    freeze(mock)
    lead = new_agent(mock, "Previewer", [{"steps": [
        {"start": {"agent": "Research Agent", "as": "r", "task": "t",
                   "steps": [{"tool": {"name": "probe", "input": {}, "result": "ok"}, "after_ms": 150},
                             {"report": "r", "after_ms": 1000}]}},
        {"message": "a long answer being typed", "after_ms": 400, "preview": {"deltas": 3, "over_ms": 300}},
    ]}])
    sid = new_session(mock, lead)
    path = f"/v1/sessions/{sid}/events/stream?event_deltas[]=agent.message"
    with SSEClient(mock.host, mock.port, path) as s:
        assert s.read_head() == 200
        wait_until(lambda: mock.stats()["open_streams"] == 1, timeout=5, message="stream registered")
        say(mock, sid, "go")
        advance(mock, 100)  # the preview has started: event_start and the first delta
        seen = s.events(9, timeout=5)
        assert [f.event for f in seen][-2:] == ["event_start", "event_delta"]
    previewed = seen[-1].id
    advance(mock, 150)  # the child's tool use and result are written while the reader is away
    with SSEClient(mock.host, mock.port, f"/v1/sessions/{sid}/events/stream?after_id={previewed}") as again:
        got = [f.event for f in again.events(2, timeout=5)]
    assert got == ["agent.tool_use", "agent.tool_result"]


def test_a_cancelled_wait_for_the_client_ends_the_turn_and_refuses_a_late_answer(mock):
    freeze(mock)
    for cut in ("cancel", "interrupt", "message"):
        sid = new_session(mock)
        say(mock, sid, "delete the files")
        advance(mock, 200)
        use = next(e for e in events(mock, sid) if e["type"] == "agent.tool_use")
        if cut == "cancel":
            assert mock.post(f"/v1/sessions/{sid}/cancel").status == 200
        elif cut == "interrupt":
            assert mock.post(f"/v1/sessions/{sid}/events", {"events": [{"type": "user.interrupt"}]}).status == 200
        else:
            say(mock, sid, "never mind")
            run_until_idle(mock)
        idle = [e for e in events(mock, sid) if e["type"] == "session.status_idle"][-1]
        assert idle["stop_reason"] == {"type": "end_turn"}, cut
        r = mock.post(f"/v1/sessions/{sid}/events", {"events": [
            {"type": "user.tool_confirmation", "tool_use_id": use["tool_use_id"], "result": "allow"}]})
        assert error_of(r, 400, "invalid_request_error")["param"] == "events[0].tool_use_id", cut
        assert agenda(mock, sid)["timelines"] == []


def test_terminating_a_waited_on_child_ends_the_wait(mock):
    freeze(mock)
    sid = new_session(mock)
    say(mock, sid, "research")
    advance(mock, 500)
    coord, child = threads(mock, sid)
    mock.set_status(sid, child["id"], "terminated")
    run_until_idle(mock)
    result = next(e for e in events(mock, sid, coord["id"]) if e["type"] == "agent.tool_result")
    assert (result["content"], result["is_error"]) == ("Agent terminated.", True)
    assert mock.get(f"/v1/sessions/{sid}").json()["status"] == "idle"


def test_turns_stop_at_the_last_writable_instant(mock):
    assert mock.control("POST", "/clock/freeze", {"at": "9999-12-31T23:59:59.900Z"}).status == 200
    sid = new_session(mock)
    say(mock, sid, "late")
    run_until_idle(mock)
    assert all(e["created_at"] <= "9999-12-31T23:59:59.999Z" for e in events(mock, sid))
    exported = mock.control("GET", "/state").body
    assert mock.control("PUT", "/state", raw_body=exported, headers={"Content-Type": "application/json"}).status == 200


def test_placeholders_are_expanded_once_from_left_to_right(mock):
    freeze(mock)
    lead = new_agent(mock, "Quoter", [{"steps": [
        {"start": {"agent": "Research Agent", "as": "a", "task": "a", "steps": [{"report": "x {{report:b}}"}]}},
        {"start": {"agent": "Research Agent", "as": "b", "task": "b", "steps": [{"report": "B"}]}},
        {"wait": ["a", "b"]},
        {"message": "{{report:a}}|{{report:b}}|{{unknown}}"},
    ]}])
    sid = new_session(mock, lead)
    say(mock, sid, "go")
    run_until_idle(mock)
    answer = [e for e in events(mock, sid) if e["type"] == "agent.message"][-1]["content"][0]["text"]
    assert answer == "x {{report:b}}|B|{{unknown}}"
