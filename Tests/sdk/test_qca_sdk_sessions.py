"""The session level through the official Python SDK (qca-sdk 0.11.0), sync and async, against
the real binary: agents (create, retrieve, update, list, versions, archive), sessions (create,
retrieve, update, list, archive, cancel, delete) and `sessions.events` (send, list, stream,
resumable_stream with last_event_id).

Responses are also validated (not merely constructed) against the SDK's own pydantic models,
with `model_validate`: a field of the wrong type or shape fails there, where the SDK's lenient
parsing would let it through.
"""

from __future__ import annotations

import asyncio

import pytest

qca = pytest.importorskip("qca", reason="qca-sdk is not installed; run scripts/setup.sh --python")

from qca.managed.types.agent import Agent  # noqa: E402
from qca.managed.types.session import Session  # noqa: E402
from qca.managed.types.session_event import SessionEvent  # noqa: E402
from qca.managed.types.session_stream_event import SessionStreamEvent  # noqa: E402

TOKEN = "sdk-token"
TIMEOUT = 15.0
BUSY = "Session is currently processing a turn. Cancel the current turn or wait for completion."
TURN = [
    "user.message", "session.thread_status_running", "session.status_running",
    "agent.message", "session.thread_status_idle", "session.status_idle",
]


def client(mock) -> "qca.Managed":
    return qca.Managed(access_token=TOKEN, base_url=f"{mock.base}/api/v1/cloud", max_retries=0, timeout=TIMEOUT)


def async_client(mock) -> "qca.AsyncManaged":
    return qca.AsyncManaged(access_token=TOKEN, base_url=f"{mock.base}/api/v1/cloud", max_retries=0, timeout=TIMEOUT)


def raw(mock, path: str) -> dict:
    r = mock.get("/api/v1/cloud" + path)
    assert r.status == 200, r.text
    return r.json()


def validate(model, data: dict):
    """Full validation against the SDK's model (types of every known field)."""
    return model.model_validate(data)


def freeze(mock) -> None:
    assert mock.control("POST", "/clock/freeze", {"at": "2026-07-01T10:00:00.000Z"}).status == 200


def finish_turns(mock) -> None:
    assert mock.control("POST", "/clock/run-until-idle").status == 200


def test_agents_through_the_sdk(mock):
    with client(mock) as c:
        agent = c.agents.create(name="Support", model="ultimate", description="first", metadata={"team": "a"},
                                tools=[{"type": "agent_toolset_20260401"}])
        assert agent.id.startswith("agent_") and agent.version == 1 and agent.type == "agent"
        validate(Agent, raw(mock, f"/agents/{agent.id}"))
        assert c.agents.retrieve(agent.id).name == "Support"
        v2 = c.agents.update(agent.id, version=1, system="Be brief.")
        assert v2.version == 2 and v2.system == "Be brief." and v2.description == "first"
        with pytest.raises(qca.ConflictError) as conflict:
            c.agents.update(agent.id, version=1, name="Late writer")
        assert conflict.value.status_code == 409 and conflict.value.type == "conflict_error"
        assert c.agents.retrieve(agent.id, version=1).system is None
        assert [a.version for a in c.agents.versions.list(agent.id)] == [2, 1]
        listed = [a.id for a in c.agents.list(limit=2)]
        assert listed[0] == agent.id and len(listed) >= 3  # auto-pagination over the roster
        archived = c.agents.archive(agent.id)
        assert archived.archived_at is not None
        assert agent.id not in [a.id for a in c.agents.list()]
        assert agent.id in [a.id for a in c.agents.list(include_archived=True)]
        with pytest.raises(qca.NotFoundError):
            c.agents.retrieve("agent_0000000000000000000000000000dead")


def test_a_conversation_through_the_sdk_stream(mock):
    with client(mock) as c:
        agent = c.agents.create(name="Echo", model="ultimate")
        session = c.sessions.create(agent=agent.id, environment_id="env_local", title="Chat", metadata={"k": "v"},
                                    vault_ids=["vlt_1"])
        assert session.status == "idle" and session.vault_ids == ["vlt_1"] and session.usage.input_tokens == 0
        validate(Session, raw(mock, f"/sessions/{session.id}"))
        with c.sessions.events.stream(session.id, event_deltas=["agent.message"]) as stream:
            sent = c.sessions.events.send(session.id, events=[{"type": "user.message", "content": [
                {"type": "text", "text": "Hi SDK"}]}])
            turn = sent.data[0].turn_id
            got = []
            for event in stream:
                got.append(event)
                if event.type == "session.status_idle" and event.turn_id == turn:
                    break
        kinds = [e.type for e in got]
        assert kinds == TURN[:3] + ["event_start", "event_delta", "event_delta", "event_delta"] + TURN[3:]
        deltas = "".join(e.delta.content.text for e in got if e.type == "event_delta")
        message = got[7]
        assert message.content[0].text == deltas == 'You said: "Hi SDK"'
        assert got[3].event.id == message.id
        assert all(e.turn_id == turn for e in got if not e.type.startswith("event_"))
        listed = list(c.sessions.events.list(session.id))
        assert [e.id for e in listed] == [e.id for e in got if not e.type.startswith("event_")]
        for e in raw(mock, f"/sessions/{session.id}/events?limit=100")["data"]:
            validate(SessionEvent, e)
        assert [e.type for e in c.sessions.events.list(session.id, types=["agent.message"])] == ["agent.message"]
        assert c.sessions.retrieve(session.id).status == "idle"


def test_resumable_stream_with_last_event_id(mock):
    freeze(mock)
    with client(mock) as c:
        agent = c.agents.create(name="Echo", model="ultimate")
        sid = c.sessions.create(agent=agent.id, environment_id="env_local").id
        c.sessions.events.send(sid, events=[{"type": "user.message", "content": "resume me"}])
        first = list(c.sessions.events.list(sid))
        assert [e.type for e in first] == TURN[:3]
        finish_turns(mock)
        got = []
        with c.sessions.events.resumable_stream(sid, last_event_id=first[0].id) as stream:
            for event in stream:
                got.append(event)
                if event.type == "session.status_idle":
                    break
        assert [e.type for e in got] == TURN[1:]
        for frame in got:
            validate(SessionStreamEvent, frame.to_dict())
        with pytest.raises(qca.BadRequestError) as bad:
            with c.sessions.events.stream(sid, last_event_id="evt_notathing") as s:
                next(iter(s))
        assert bad.value.type == "invalid_request_error"


def test_sessions_update_list_archive_cancel_delete(mock):
    freeze(mock)
    with client(mock) as c:
        agent = c.agents.create(name="Ops", model="ultimate")
        s1 = c.sessions.create(agent=agent.id, environment_id="env_local", metadata={"a": "1", "b": "2"})
        s2 = c.sessions.create(agent=agent.id, environment_id="env_local")
        updated = c.sessions.update(s1.id, title="Renamed", metadata={"b": None, "c": "3"})
        assert updated.title == "Renamed" and updated.metadata == {"a": "1", "c": "3"}
        assert [e.type for e in c.sessions.events.list(s1.id)] == ["session.updated"]
        c.sessions.events.send(s1.id, events=[{"type": "user.message", "content": "busy"}])
        with pytest.raises(qca.ConflictError) as busy:
            c.sessions.events.send(s1.id, events=[{"type": "user.message", "content": "again"}])
        assert busy.value.type == "conflict_error" and BUSY in busy.value.message
        assert [s.id for s in c.sessions.list(agent_id=agent.id, statuses=["running"])] == [s1.id]
        assert [s.id for s in c.sessions.list(agent_id=agent.id)] == [s2.id, s1.id]
        cancelled = c.sessions.cancel(s1.id)
        assert (cancelled.id, cancelled.type, cancelled.status) == (s1.id, "session", "canceling")
        assert c.sessions.retrieve(s1.id).status == "idle"
        archived = c.sessions.archive(s2.id)
        assert archived.archived_at is not None
        assert [s.id for s in c.sessions.list(agent_id=agent.id)] == [s1.id]
        assert [s.id for s in c.sessions.list(agent_id=agent.id, include_archived=True)] == [s2.id, s1.id]
        with pytest.raises(qca.ConflictError):
            c.sessions.events.send(s2.id, events=[{"type": "user.message", "content": "archived"}])
        deleted = c.sessions.delete(s1.id)
        assert (deleted.id, deleted.type) == (s1.id, "session_deleted")
        with pytest.raises(qca.NotFoundError):
            c.sessions.retrieve(s1.id)


def test_interrupt_through_the_sdk(mock):
    freeze(mock)
    with client(mock) as c:
        agent = c.agents.create(name="Echo", model="ultimate")
        sid = c.sessions.create(agent=agent.id, environment_id="env_local").id
        c.sessions.events.send(sid, events=[{"type": "user.message", "content": "long"}])
        c.sessions.events.send(sid, events=[{"type": "user.interrupt"}])
        assert [e.type for e in c.sessions.events.list(sid)][-3:] == [
            "user.interrupt", "session.thread_status_idle", "session.status_idle"]
        assert c.sessions.retrieve(sid).status == "idle"


def test_async_session_level(mock):
    async def main() -> None:
        async with async_client(mock) as c:
            agent = await c.agents.create(name="Async", model="ultimate")
            assert [a.version async for a in c.agents.versions.list(agent.id)] == [1]
            session = await c.sessions.create(agent=agent.id, environment_id="env_local")
            stream = await c.sessions.events.stream(session.id)
            async with stream:
                sent = await c.sessions.events.send(session.id, events=[{"type": "user.message", "content": "async"}])
                got = []
                async for event in stream:
                    got.append(event)
                    if event.type == "session.status_idle":
                        break
            assert [e.type for e in got] == TURN and got[0].id == sent.data[0].id
            listed = [e.id async for e in c.sessions.events.list(session.id, limit=2)]
            assert listed == [e.id for e in got]
            resumed = []
            async with c.sessions.events.resumable_stream(session.id, last_event_id=got[2].id) as again:
                async for event in again:
                    resumed.append(event.id)
                    if event.type == "session.status_idle":
                        break
            assert resumed == [e.id for e in got[3:]]
            updated = await c.sessions.update(session.id, title="Async title")
            assert updated.title == "Async title"
            assert (await c.sessions.cancel(session.id)).status == "canceling"
            await c.sessions.archive(session.id)
            assert (await c.sessions.delete(session.id)).type == "session_deleted"
            with pytest.raises(qca.NotFoundError):
                await c.sessions.retrieve(session.id)

    asyncio.run(asyncio.wait_for(main(), timeout=60))
