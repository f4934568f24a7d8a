"""Client conformance: the official Qoder Python SDK (qca-sdk, pinned in Tests/requirements.txt)
against the real binary, through the SDK's public API only.

The control API (`mock.control`, `mock.append_events`, `mock.set_status`) builds the world and
drives live changes; every read and every assertion about the emulated API goes through `qca`.
Notes on the SDK 0.11.0 surface this relies on:
  * base_url must carry the API prefix (`/api/v1/cloud`); the SDK joins `sessions/...` onto it.
  * `threads.list` has no `statuses`/`order` kwargs and `events.list` no `type`/`types`: they go
    through `extra_query`, with the brackets spelled out (`{"statuses[]": [...]}`).
  * The thread stream has no `last_event_id` kwarg: the header goes through `extra_headers`.
  * Auto-pagination follows `next_page` only (it resends the query with `page=<cursor>` and drops
    `after_id`/`before_id`), so these tests also prove the cursor carries position and direction.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

qca = pytest.importorskip("qca", reason="qca-sdk is not installed; run scripts/setup.sh --python")

from support.mockserver import SEED_CHILD, SEED_COORDINATOR, SEED_EVENTS, SEED_SESSION  # noqa: E402

TOKEN = "sdk-token"
TIMEOUT = 15.0  # every SDK call has a deadline (the SDK's default read timeout is 600 s)
UNKNOWN_SESSION = "sess_0000000000000000000000000000dead"
UNKNOWN_THREAD = "sthr_0000000000000000000000000000dead"


def client(mock, token: str = TOKEN) -> "qca.Managed":
    return qca.Managed(access_token=token, base_url=f"{mock.base}/api/v1/cloud", max_retries=0, timeout=TIMEOUT)


def async_client(mock, token: str = TOKEN) -> "qca.AsyncManaged":
    return qca.AsyncManaged(access_token=token, base_url=f"{mock.base}/api/v1/cloud", max_retries=0, timeout=TIMEOUT)


def make_session(mock, children: list[dict]) -> dict:
    r = mock.control("POST", "/sessions", {"children": children})
    assert r.status == 201, r.text
    return r.json()


def ids(items) -> list[str]:
    return [x.id for x in items]


def assert_error_identity(exc: "qca.APIStatusError", status: int, error_type: str) -> None:
    """The SDK's view of the envelope: class by status, `.type` from error.type, request id from headers."""
    assert exc.status_code == status
    assert exc.type == error_type
    assert isinstance(exc.body, dict) and exc.body["type"] == "error"
    assert exc.request_id and exc.request_id.startswith("req_")
    # One request id everywhere: both headers and the body.
    assert exc.response.headers["x-request-id"] == exc.request_id
    assert exc.response.headers["request-id"] == exc.request_id
    assert exc.body["request_id"] == exc.request_id
    assert exc.message.startswith(f"Error code: {status} - ")
    assert exc.response.headers["content-type"].startswith("application/json")


# ---------------------------------------------------------------------------
# Listing threads
# ---------------------------------------------------------------------------


def test_list_seed_threads(mock):
    with client(mock) as c:
        page = c.sessions.threads.list(SEED_SESSION)
        assert ids(page.data) == [SEED_COORDINATOR, SEED_CHILD]
        assert page.has_more is False and page.next_page is None
        assert page.first_id == SEED_COORDINATOR and page.last_id == SEED_CHILD
        coord, child = page.data
        assert coord.type == "session_thread" and coord.session_id == SEED_SESSION
        assert coord.parent_thread_id is None and coord.role == "coordinator" and coord.name == ""
        assert coord.status == "idle"
        assert child.parent_thread_id == SEED_COORDINATOR and child.role == "child"
        assert child.name == "Research Agent" and child.status == "running" and child.stop_reason == {}
        assert child.agent.name == "Research Agent" and child.agent.version == 2
        assert child.created_by_tool_use_id == "toolu_bdrk_01T42NPLcKrBvLJfWgGt3QMt"
        assert isinstance(child.created_at, datetime) and child.created_at.tzinfo is not None


def test_list_threads_limit_statuses_order(mock):
    with client(mock) as c:
        first = c.sessions.threads.list(SEED_SESSION, limit=1)
        assert ids(first.data) == [SEED_COORDINATOR]
        assert first.has_more is True and first.next_page

        running = c.sessions.threads.list(SEED_SESSION, extra_query={"statuses[]": ["running"]})
        assert ids(running.data) == [SEED_CHILD]
        both = c.sessions.threads.list(SEED_SESSION, extra_query={"statuses[]": ["running", "idle"]})
        assert ids(both.data) == [SEED_COORDINATOR, SEED_CHILD]
        none = c.sessions.threads.list(SEED_SESSION, extra_query={"statuses[]": ["archived"]})
        assert none.data == [] and none.first_id is None and none.last_id is None and none.has_more is False

        desc = c.sessions.threads.list(SEED_SESSION, extra_query={"order": "desc"})
        assert ids(desc.data) == [SEED_CHILD, SEED_COORDINATOR]

        after = c.sessions.threads.list(SEED_SESSION, extra_query={"after_id": SEED_COORDINATOR})
        assert ids(after.data) == [SEED_CHILD] and after.has_more is False
        before = c.sessions.threads.list(SEED_SESSION, extra_query={"before_id": SEED_CHILD})
        assert ids(before.data) == [SEED_COORDINATOR]
        before_desc = c.sessions.threads.list(SEED_SESSION, extra_query={"before_id": SEED_COORDINATOR, "order": "desc"})
        assert ids(before_desc.data) == [SEED_CHILD]

        with pytest.raises(qca.BadRequestError) as bad:
            c.sessions.threads.list(SEED_SESSION, extra_query={"statuses[]": ["sleeping"]})
        assert_error_identity(bad.value, 400, "invalid_request_error")
        with pytest.raises(qca.BadRequestError) as bad_limit:
            c.sessions.threads.list(SEED_SESSION, limit=0)
        assert bad_limit.value.body["error"]["param"] == "limit"


def test_fresh_session_gets_one_coordinator(mock):
    with client(mock) as c:
        agent = "agent_019f000000000000000000000000001a"
        session = c.sessions.create(agent=agent, environment_id="env_sdk", title="from the sdk")
        assert session.id.startswith("sess_") and session.type == "session"
        assert session.environment_id == "env_sdk" and session.title == "from the sdk"
        assert c.sessions.retrieve(session.id).id == session.id

        first = c.sessions.threads.list(session.id)
        assert len(first.data) == 1
        coord = first.data[0]
        assert coord.role == "coordinator" and coord.status == "idle" and coord.stop_reason == {}
        assert coord.parent_thread_id is None and coord.agent.id == agent and coord.session_id == session.id
        # Asking again (also filtered and paged) never makes a second coordinator.
        again = c.sessions.threads.list(session.id, limit=5, extra_query={"statuses[]": ["idle"]})
        assert ids(again.data) == [coord.id]
        assert c.sessions.threads.retrieve(coord.id, session_id=session.id).id == coord.id
        assert ids(list(c.sessions.threads.list(session.id))) == [coord.id]


# ---------------------------------------------------------------------------
# Auto-pagination
# ---------------------------------------------------------------------------


def test_auto_pagination_over_many_threads(mock):
    statuses = ["running", "idle", "blocked"]
    children = []
    for i in range(44):
        s = statuses[i % 3]
        children.append({"status": "idle" if s == "blocked" else s, "name": f"child-{i:02d}"})
    session = make_session(mock, children)
    sid = session["id"]
    all_ids = [t["id"] for t in session["threads"]]
    assert len(all_ids) == 45
    with client(mock) as c:
        seen = ids(c.sessions.threads.list(sid, limit=7))
        assert seen == all_ids  # every thread once, coordinator first, then by creation
        pages = list(c.sessions.threads.list(sid, limit=7).iter_pages())
        assert len(pages) == 7 and pages[-1].has_more is False and pages[-1].next_page is None
        assert all(p.next_page for p in pages[:-1])

        assert ids(c.sessions.threads.list(sid, limit=6, extra_query={"order": "desc"})) == all_ids[::-1]

        running = [t["id"] for t in session["threads"] if t["status"] == "running"]
        got = ids(c.sessions.threads.list(sid, limit=4, extra_query={"statuses[]": ["running"]}))
        assert got == running and len(got) == 15

        # Starting from after_id: later pages come from next_page alone (the SDK drops after_id).
        start = all_ids[10]
        assert ids(c.sessions.threads.list(sid, limit=4, extra_query={"after_id": start})) == all_ids[11:]
        # A before_id walk keeps its direction through the cursor: every earlier thread, exactly once.
        walked = ids(c.sessions.threads.list(sid, limit=4, extra_query={"before_id": all_ids[30]}))
        assert sorted(walked) == sorted(all_ids[:30]) and len(walked) == 30
        first_page = c.sessions.threads.list(sid, limit=4, extra_query={"before_id": all_ids[30]})
        assert ids(first_page.data) == all_ids[26:30]


def test_auto_pagination_over_many_events(mock):
    kinds = ["agent.thread_message_sent", "agent.tool_result", "custom.note"]
    added = mock.append_events(
        SEED_SESSION,
        SEED_CHILD,
        [{"type": kinds[i % 3], "content": f"event {i}", "n": i} for i in range(130)],
    )
    all_ids = SEED_EVENTS + [e["id"] for e in added]
    with client(mock) as c:
        events = c.sessions.threads.events
        got = list(events.list(SEED_CHILD, session_id=SEED_SESSION, limit=9))
        assert ids(got) == all_ids
        assert got[2].content == "event 0" and got[2].n == 0 and got[2].session_thread_id == SEED_CHILD

        assert ids(events.list(SEED_CHILD, session_id=SEED_SESSION, limit=100)) == all_ids  # 2 pages
        assert ids(events.list(SEED_CHILD, session_id=SEED_SESSION, extra_query={"order": "desc"})) == all_ids[::-1]

        tool_results = [e["id"] for e in added if e["type"] == "agent.tool_result"]
        filtered = ids(events.list(SEED_CHILD, session_id=SEED_SESSION, limit=8, extra_query={"types[]": ["agent.tool_result"]}))
        assert filtered == tool_results

        # after_id through the SDK's own kwarg, then cursors alone.
        assert ids(events.list(SEED_CHILD, session_id=SEED_SESSION, after_id=all_ids[50], limit=11)) == all_ids[51:]
        walked = ids(events.list(SEED_CHILD, session_id=SEED_SESSION, before_id=all_ids[100], limit=11))
        assert len(walked) == 100 and set(walked) == set(all_ids[:100])

        # Items appended while paging are reached, each once.
        iterator = iter(events.list(SEED_CHILD, session_id=SEED_SESSION, limit=50))
        head = [next(iterator).id for _ in range(60)]
        more = mock.append_events(SEED_SESSION, SEED_CHILD, [{"type": "custom.late", "n": i} for i in range(5)])
        rest = [e.id for e in iterator]
        assert head + rest == all_ids + [e["id"] for e in more]


# ---------------------------------------------------------------------------
# Retrieve, events list
# ---------------------------------------------------------------------------


def test_retrieve_thread(mock):
    with client(mock) as c:
        t = c.sessions.threads.retrieve(SEED_CHILD, session_id=SEED_SESSION)
        assert t.id == SEED_CHILD and t.type == "session_thread" and t.status == "running"
        assert t.agent_id == "agent_019f000000000000000000000000002b" and t.agent_version == 2
        assert t.archived_at is None
        assert t._request_id.startswith("req_")
        coord = c.sessions.threads.retrieve(SEED_COORDINATOR, session_id=SEED_SESSION)
        assert coord.role == "coordinator" and coord.created_by_tool_use_id is None


def test_list_events_type_and_types(mock):
    with client(mock) as c:
        ev = c.sessions.threads.events
        page = ev.list(SEED_CHILD, session_id=SEED_SESSION)
        assert ids(page.data) == SEED_EVENTS
        sent = page.data[0]
        assert sent.type == "agent.thread_message_sent" and sent.schema_version == "1.0"
        assert sent.from_session_thread_id == SEED_COORDINATOR and sent.to_session_thread_id == SEED_CHILD
        assert sent.content == "请调研 Cloud Agents API 的最新竞品动态。"  # the seed's plain-string content
        assert isinstance(sent.processed_at, datetime)

        one = ev.list(SEED_CHILD, session_id=SEED_SESSION, extra_query={"type": "session.thread_status_running"})
        assert ids(one.data) == [SEED_EVENTS[1]]
        comma = ev.list(
            SEED_CHILD,
            session_id=SEED_SESSION,
            extra_query={"type": "agent.thread_message_sent,session.thread_status_running"},
        )
        assert ids(comma.data) == SEED_EVENTS
        arr = ev.list(SEED_CHILD, session_id=SEED_SESSION, extra_query={"types[]": ["agent.thread_message_sent"]})
        assert ids(arr.data) == [SEED_EVENTS[0]]
        union = ev.list(
            SEED_CHILD,
            session_id=SEED_SESSION,
            extra_query={"type": "session.thread_status_running", "types[]": ["agent.thread_message_sent"]},
        )
        assert ids(union.data) == SEED_EVENTS
        assert ev.list(SEED_CHILD, session_id=SEED_SESSION, extra_query={"types[]": ["nope"]}).data == []
        # The coordinator's events are its own only.
        assert all(e.session_thread_id == SEED_COORDINATOR for e in ev.list(SEED_COORDINATOR, session_id=SEED_SESSION))


# ---------------------------------------------------------------------------
# Streaming
# ---------------------------------------------------------------------------


def test_stream_finished_thread_to_its_end(mock):
    mock.set_status(SEED_SESSION, SEED_CHILD, "terminated")
    with client(mock) as c:
        with c.sessions.threads.events.stream(SEED_CHILD, session_id=SEED_SESSION) as stream:
            got = list(stream)  # ends because the server ends the response
        assert ids(got)[:2] == SEED_EVENTS and len(got) == 3
        last = got[-1]
        assert last.type == "session.thread_status_terminated" and last.status == "terminated"
        assert stream.last_event_id == last.id
        listed = ids(c.sessions.threads.events.list(SEED_CHILD, session_id=SEED_SESSION))
        assert ids(got) == listed


def test_stream_live_thread(mock):
    with client(mock) as c:
        got = []
        with c.sessions.threads.events.stream(SEED_CHILD, session_id=SEED_SESSION) as stream:
            for event in stream:
                got.append(event)
                if event.id == SEED_EVENTS[-1]:
                    # History is out; now the control API appends while the stream is open.
                    mock.append_events(SEED_SESSION, SEED_CHILD, [{"type": "agent.tool_result", "tool_use_id": "toolu_x", "content": [{"type": "text", "text": "live"}], "is_error": False}])
                elif event.type == "agent.tool_result":
                    mock.set_status(SEED_SESSION, SEED_CHILD, "idle")
                    mock.set_status(SEED_SESSION, SEED_CHILD, "terminated")
        types = [e.type for e in got]
        assert ids(got)[:2] == SEED_EVENTS
        assert types[2:] == [
            "agent.tool_result",
            "session.thread_status_idle",
            "session.thread_status_terminated",
        ]
        live = got[2]
        assert live.tool_use_id == "toolu_x" and live.is_error is False
        assert live.content[0].text == "live"  # list content parses into the SDK's block models
        assert ids(got) == ids(c.sessions.threads.events.list(SEED_CHILD, session_id=SEED_SESSION))


def test_stream_resume_with_last_event_id(mock):
    mock.set_status(SEED_SESSION, SEED_CHILD, "terminated")
    with client(mock) as c:
        all_ids = ids(c.sessions.threads.events.list(SEED_CHILD, session_id=SEED_SESSION))
        with c.sessions.threads.events.stream(
            SEED_CHILD, session_id=SEED_SESSION, extra_headers={"Last-Event-ID": SEED_EVENTS[0]}
        ) as stream:
            resumed = ids(stream)
        assert resumed == all_ids[1:]
        with c.sessions.threads.events.stream(
            SEED_CHILD,
            session_id=SEED_SESSION,
            extra_headers={"Last-Event-ID": SEED_EVENTS[0]},
            extra_query={"types[]": ["session.thread_status_terminated"]},
        ) as stream:
            assert [e.type for e in stream] == ["session.thread_status_terminated"]
        with pytest.raises(qca.BadRequestError) as bad:
            c.sessions.threads.events.stream(
                SEED_CHILD, session_id=SEED_SESSION, extra_headers={"Last-Event-ID": "evt_notathing"}
            )
        assert_error_identity(bad.value, 400, "invalid_request_error")


# ---------------------------------------------------------------------------
# Archive
# ---------------------------------------------------------------------------


def test_archive_child_and_every_effect(mock):
    session = make_session(mock, [{"status": "idle", "name": "Worker"}, {"status": "running", "name": "Other"}])
    sid = session["id"]
    coord_id, child_id, other_id = (t["id"] for t in session["threads"])
    tool_use = session["threads"][1]["created_by_tool_use_id"]
    mock.set_status(sid, coord_id, "blocked", waiting_on={"thread_id": child_id, "tool_use_id": tool_use})
    r = mock.control("POST", f"/sessions/{sid}/threads/{child_id}/mailbox", {"content": "pending one"})
    assert r.status == 201, r.text
    r = mock.control("POST", f"/sessions/{sid}/threads/{child_id}/mailbox", {"content": "done", "status": "delivered"})
    assert r.status == 201, r.text

    with client(mock) as c:
        before_coord_events = ids(c.sessions.threads.events.list(coord_id, session_id=sid))
        assert c.sessions.threads.retrieve(coord_id, session_id=sid).status == "blocked"

        archived = c.sessions.threads.archive(child_id, session_id=sid)
        # 1. status, stop_reason, archived_at == updated_at
        assert archived.id == child_id and archived.status == "archived"
        assert archived.stop_reason == {"type": "archive"}
        assert archived.archived_at is not None and archived.archived_at == archived.updated_at
        assert archived._request_id.startswith("req_")
        again = c.sessions.threads.retrieve(child_id, session_id=sid)
        assert again.to_dict() == archived.to_dict()
        assert ids(c.sessions.threads.list(sid, extra_query={"statuses[]": ["archived"]})) == [child_id]

        # 3. the coordinator that waited on it gets the tool result and runs again
        coord = c.sessions.threads.retrieve(coord_id, session_id=sid)
        assert coord.status == "running" and coord.stop_reason == {}
        new = list(c.sessions.threads.events.list(coord_id, session_id=sid, after_id=before_coord_events[-1]))
        assert [e.type for e in new] == ["agent.tool_result", "session.thread_status_running"]
        assert new[0].tool_use_id == tool_use and new[0].content == "Agent cancelled." and new[0].is_error is True
        assert new[1].status == "running"

        # 4. the archived thread's final event, and its stream replays and ends
        child_events = list(c.sessions.threads.events.list(child_id, session_id=sid))
        final = child_events[-1]
        assert final.type == "session.thread_status_terminated" and final.status == "archived"
        assert final.stop_reason.type == "archive"
        with c.sessions.threads.events.stream(child_id, session_id=sid) as stream:
            assert ids(stream) == ids(child_events)

        # The other child is untouched; archiving twice is refused.
        assert c.sessions.threads.retrieve(other_id, session_id=sid).status == "running"
        with pytest.raises(qca.ConflictError) as twice:
            c.sessions.threads.archive(child_id, session_id=sid)
        assert_error_identity(twice.value, 409, "invalid_request_error")
        assert "archived" in twice.value.body["error"]["message"]

    # 2. pending mail is cancelled, delivered mail stays (the mailbox is only visible to the control API).
    mailbox = mock.control("GET", f"/sessions/{sid}/threads/{child_id}/mailbox").json()["data"]
    assert [(m["content"], m["status"]) for m in mailbox] == [("pending one", "cancelled"), ("done", "delivered")]


def test_archive_conflicts(mock):
    with client(mock) as c:
        with pytest.raises(qca.ConflictError) as coord:
            c.sessions.threads.archive(SEED_COORDINATOR, session_id=SEED_SESSION)
        assert_error_identity(coord.value, 409, "invalid_request_error")
        assert "coordinator" in coord.value.body["error"]["message"]
        with pytest.raises(qca.ConflictError) as running:
            c.sessions.threads.archive(SEED_CHILD, session_id=SEED_SESSION, extra_headers={"X-Request-Id": "req_mine"})
        assert_error_identity(running.value, 409, "invalid_request_error")
        assert "running" in running.value.body["error"]["message"]
        assert running.value.request_id == "req_mine"  # a client-sent request id is echoed
        # Nothing changed.
        assert c.sessions.threads.retrieve(SEED_CHILD, session_id=SEED_SESSION).status == "running"


def test_not_found(mock):
    other = make_session(mock, [{"status": "idle"}])
    foreign_child = other["threads"][1]["id"]
    with client(mock) as c:
        calls = [
            lambda: c.sessions.threads.list(UNKNOWN_SESSION),
            lambda: c.sessions.retrieve(UNKNOWN_SESSION),
            lambda: c.sessions.threads.retrieve(UNKNOWN_THREAD, session_id=SEED_SESSION),
            lambda: c.sessions.threads.retrieve(SEED_CHILD, session_id=UNKNOWN_SESSION),
            lambda: c.sessions.threads.retrieve(foreign_child, session_id=SEED_SESSION),  # never leaked
            lambda: c.sessions.threads.events.list(UNKNOWN_THREAD, session_id=SEED_SESSION),
            lambda: c.sessions.threads.events.stream(UNKNOWN_THREAD, session_id=SEED_SESSION),
            lambda: c.sessions.threads.archive(UNKNOWN_THREAD, session_id=SEED_SESSION),
            lambda: c.sessions.threads.archive(foreign_child, session_id=SEED_SESSION),
        ]
        for call in calls:
            with pytest.raises(qca.NotFoundError) as nf:
                call()
            assert_error_identity(nf.value, 404, "not_found_error")
        with pytest.raises(qca.NotFoundError) as nf:
            c.sessions.threads.retrieve(UNKNOWN_THREAD, session_id=SEED_SESSION)
        assert nf.value.body["error"]["message"] == f"Session thread '{UNKNOWN_THREAD}' was not found."
        with pytest.raises(qca.NotFoundError) as nf:
            c.sessions.threads.list(UNKNOWN_SESSION)
        assert nf.value.body["error"]["message"] == f"Session '{UNKNOWN_SESSION}' was not found."
        assert c.sessions.threads.retrieve(foreign_child, session_id=other["id"]).id == foreign_child


def test_authentication_error(start_server):
    server = start_server("--token", "good-token")
    with client(server, token="wrong-token") as c:
        for call in (
            lambda: c.sessions.threads.list(SEED_SESSION),
            lambda: c.sessions.threads.retrieve(SEED_CHILD, session_id=SEED_SESSION),
            lambda: c.sessions.threads.events.stream(SEED_CHILD, session_id=SEED_SESSION),
            lambda: c.sessions.threads.archive(SEED_CHILD, session_id=SEED_SESSION),
        ):
            with pytest.raises(qca.AuthenticationError) as auth:
                call()
            assert_error_identity(auth.value, 401, "authentication_error")
    with client(server, token="good-token") as c:
        assert ids(c.sessions.threads.list(SEED_SESSION).data) == [SEED_COORDINATOR, SEED_CHILD]


# ---------------------------------------------------------------------------
# The async client, same main path
# ---------------------------------------------------------------------------


def test_async_client_main_path(mock):
    session = make_session(mock, [{"status": "idle", "name": f"a-{i}"} for i in range(12)])
    sid = session["id"]
    thread_ids = [t["id"] for t in session["threads"]]
    victim = thread_ids[1]
    added = mock.append_events(sid, victim, [{"type": "custom.n", "n": i} for i in range(25)])

    async def main() -> None:
        async with async_client(mock) as c:
            first = await c.sessions.threads.list(sid, limit=5, extra_query={"statuses[]": ["idle"]})
            assert ids(first.data) == thread_ids[:5] and first.has_more is True
            assert [t.id async for t in c.sessions.threads.list(sid, limit=5)] == thread_ids
            desc = [t.id async for t in c.sessions.threads.list(sid, limit=4, extra_query={"order": "desc"})]
            assert desc == thread_ids[::-1]

            t = await c.sessions.threads.retrieve(victim, session_id=sid)
            assert t.status == "idle" and t.role == "child"

            events = [e async for e in c.sessions.threads.events.list(victim, session_id=sid, limit=7)]
            # The child's history starts with its own session.thread_created.
            assert events[0].type == "session.thread_created"
            assert ids(events[1:]) == [e["id"] for e in added]
            typed = await c.sessions.threads.events.list(victim, session_id=sid, extra_query={"types[]": ["custom.n"], "limit": 3})
            assert ids(typed.data) == [e["id"] for e in added[:3]]

            archived = await c.sessions.threads.archive(victim, session_id=sid)
            assert archived.status == "archived" and archived.stop_reason == {"type": "archive"}

            stream = await c.sessions.threads.events.stream(
                victim, session_id=sid, extra_headers={"Last-Event-ID": added[-1]["id"]}
            )
            async with stream:
                tail = [e async for e in stream]
            assert [e.type for e in tail] == ["session.thread_status_terminated"]

            with pytest.raises(qca.ConflictError) as conflict:
                await c.sessions.threads.archive(thread_ids[0], session_id=sid)
            assert_error_identity(conflict.value, 409, "invalid_request_error")
            with pytest.raises(qca.NotFoundError) as nf:
                await c.sessions.threads.retrieve(UNKNOWN_THREAD, session_id=sid)
            assert_error_identity(nf.value, 404, "not_found_error")

    asyncio.run(asyncio.wait_for(main(), timeout=60))


def test_async_stream_live(mock):
    async def main() -> list:
        async with async_client(mock) as c:
            got = []
            stream = await c.sessions.threads.events.stream(SEED_CHILD, session_id=SEED_SESSION)
            async with stream:
                async for event in stream:
                    got.append(event)
                    if event.id == SEED_EVENTS[-1]:
                        mock.append_events(SEED_SESSION, SEED_CHILD, [{"type": "custom.live"}])
                    elif event.type == "custom.live":
                        mock.set_status(SEED_SESSION, SEED_CHILD, "terminated")
            return got

    got = asyncio.run(asyncio.wait_for(main(), timeout=30))
    assert [e.type for e in got][2:] == ["custom.live", "session.thread_status_terminated"]


def test_async_authentication_error(start_server):
    server = start_server("--token", "good-token")

    async def main() -> None:
        async with async_client(server, token="bad") as c:
            with pytest.raises(qca.AuthenticationError) as auth:
                await c.sessions.threads.list(SEED_SESSION)
            assert_error_identity(auth.value, 401, "authentication_error")

    asyncio.run(asyncio.wait_for(main(), timeout=30))
