"""Scripted turns through the official Python SDK (qca-sdk 0.11.0): the default fixture's research
turn consumed from `sessions.events.stream(event_deltas=["agent.message"])` until the turn's
`session.status_idle`, and the confirmation flow answered with `sessions.events.send` of a
`user.tool_confirmation`. The clock runs in real time here, as in an application's own tests.
"""

from __future__ import annotations

import pytest

qca = pytest.importorskip("qca", reason="qca-sdk is not installed; run scripts/setup.sh --python")

from qca.managed.types.session_stream_event import SessionStreamEvent  # noqa: E402

COORD_AGENT = "agent_019f000000000000000000000000001a"
REPORT = "Two competitors shipped multi-agent APIs this quarter; both price per session hour."


def client(mock) -> "qca.Managed":
    return qca.Managed(access_token="sdk", base_url=f"{mock.base}/api/v1/cloud", max_retries=0, timeout=15.0)


def read_turn(stream, turn: str) -> list:
    got = []
    for event in stream:
        got.append(event)
        if event.type == "session.status_idle" and event.turn_id == turn:
            return got
    raise AssertionError("the stream ended before the turn did")


def test_research_turn_through_the_sdk_stream(mock):
    with client(mock) as c:
        session = c.sessions.create(agent=COORD_AGENT, environment_id="env_local")
        with c.sessions.events.stream(session.id, event_deltas=["agent.message"]) as stream:
            sent = c.sessions.events.send(session.id, events=[
                {"type": "user.message", "content": [{"type": "text", "text": "Research the market, please"}]}])
            got = read_turn(stream, sent.data[0].turn_id)
        for event in got:
            SessionStreamEvent.model_validate(event.to_dict())
        kinds = [e.type for e in got]
        assert kinds[:3] == ["user.message", "session.thread_status_running", "session.status_running"]
        created = next(e for e in got if e.type == "session.thread_created")
        child = created.session_thread_id
        assert created.parent_thread_id == got[0].session_thread_id
        use = next(e for e in got if e.type == "agent.tool_use" and e.name == "Agent")
        blocked = next(e for e in got if e.type == "session.thread_status_blocked")
        result = next(e for e in got if e.type == "agent.tool_result" and e.session_thread_id != child)
        assert use.tool_use_id == result.tool_use_id
        assert blocked.to_dict()["waiting_on"] == {"session_thread_id": child, "tool_use_id": use.tool_use_id}
        assert result.content[0].text == REPORT
        deltas = [e for e in got if e.type == "event_delta"]
        answer = next(e for e in got if e.type == "agent.message")
        assert "".join(d.delta.content.text for d in deltas) == answer.content[0].text
        assert answer.content[0].text == f"Here is what the Research Agent found: {REPORT}"
        assert kinds[-1] == "session.status_idle" and got[-1].stop_reason.type == "end_turn"
        threads = list(c.sessions.threads.list(session.id))
        assert [(t.role, t.status) for t in threads] == [("coordinator", "idle"), ("child", "idle")]
        assert c.sessions.retrieve(session.id).usage.input_tokens == 2000


@pytest.mark.parametrize("decision", ["allow", "deny"])
def test_confirmation_flow_through_the_sdk(mock, decision):
    with client(mock) as c:
        session = c.sessions.create(agent=COORD_AGENT, environment_id="env_local")
        with c.sessions.events.stream(session.id) as stream:
            sent = c.sessions.events.send(session.id, events=[{"type": "user.message", "content": "delete the old files"}])
            turn = sent.data[0].turn_id
            waiting = read_turn(stream, turn)
            idle = waiting[-1]
            assert idle.stop_reason.type == "requires_action"
            ask = next(e for e in waiting if e.type == "agent.tool_use")
            assert ask.evaluated_permission == "ask" and idle.stop_reason.event_ids == [ask.id]
            assert c.sessions.retrieve(session.id).status == "idle"
            answer = {"type": "user.tool_confirmation", "tool_use_id": ask.tool_use_id, "result": decision}
            if decision == "deny":
                answer["deny_message"] = "Keep them."
            c.sessions.events.send(session.id, events=[answer])
            rest = read_turn(stream, turn)
        kinds = [e.type for e in rest]
        assert kinds == ["user.tool_confirmation", "session.thread_status_running", "session.status_running",
                         "agent.tool_result", "agent.message", "session.thread_status_idle", "session.status_idle"]
        tool_result, message = rest[3], rest[4]
        assert tool_result.tool_use_id == ask.tool_use_id and tool_result.is_error is (decision == "deny")
        expected = "Done: ./build is gone." if decision == "allow" else "Understood, I left the files alone."
        assert message.content[0].text == expected
        assert rest[-1].stop_reason.type == "end_turn"
