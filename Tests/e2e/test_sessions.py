"""The session level end to end, through the real binary (API.md sections 11 and 12):
agents and their versions, sessions (create, update, list filters, archive, cancel, delete),
sending events and the turns they start, the session's event list and stream, previews,
resume cursors, and the control API that drives turns on a frozen clock.

Turns run on the mock's clock. Tests that look inside a turn freeze the clock first, so
nothing can race: the session stays `running` until the test advances the clock.
"""

from __future__ import annotations

from support.mockserver import SEED_CHILD, SEED_COORDINATOR, SEED_SESSION, wait_until, error_of
from support.sse import SSEClient, expected_frame

COORD_AGENT = "agent_019f000000000000000000000000001a"
BUSY = "Session is currently processing a turn. Cancel the current turn or wait for completion."
FROZEN_AT = "2026-07-01T10:00:00.000Z"


def freeze(mock) -> None:
    assert mock.control("POST", "/clock/freeze", {"at": FROZEN_AT}).status == 200


def advance(mock, ms: int) -> dict:
    r = mock.control("POST", "/clock/advance", {"ms": ms})
    assert r.status == 200, r.text
    return r.json()


def new_agent(mock, **fields) -> dict:
    body = {"name": "Helper", "model": "ultimate", **fields}
    r = mock.post("/v1/agents", body)
    assert r.status == 200, r.text
    return r.json()


def new_session(mock, agent_id: str | None = None, **fields) -> dict:
    r = mock.post("/v1/sessions", {"agent": agent_id or new_agent(mock)["id"], **fields})
    assert r.status == 200, r.text
    return r.json()


def send(mock, sid: str, *events: dict):
    return mock.post(f"/v1/sessions/{sid}/events", {"events": list(events)})


def say(mock, sid: str, text: str) -> dict:
    r = send(mock, sid, {"type": "user.message", "content": text})
    assert r.status == 200, r.text
    return r.json()["data"][0]


def session_events(mock, sid: str, query: str = "") -> list[dict]:
    out, page = [], None
    while True:
        q = "limit=100" + (f"&page={page}" if page else "") + (f"&{query}" if query else "")
        r = mock.get(f"/v1/sessions/{sid}/events?{q}")
        assert r.status == 200, r.text
        body = r.json()
        out += body["data"]
        if not body["has_more"]:
            return out
        page = body["next_page"]


def state(mock) -> bytes:
    return mock.control("GET", "/state").body


DEFAULT_TURN = [
    "user.message", "session.thread_status_running", "session.status_running",
    "agent.message", "session.thread_status_idle", "session.status_idle",
]


# -- a whole turn ----------------------------------------------------------------


def test_a_whole_turn_on_the_session_stream_then_in_the_lists(mock):
    session = new_session(mock)
    sid = session["id"]
    assert session["status"] == "idle" and session["resources"] == [] and session["vault_ids"] == []
    assert session["usage"] == {"input_tokens": 0, "output_tokens": 0,
                                "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    with SSEClient(mock.host, mock.port, f"/v1/sessions/{sid}/events/stream") as s:
        # The head comes at once, before any event exists (a client waits for it, then sends).
        assert s.read_head(timeout=5) == 200
        assert s.headers["content-type"] == "text/event-stream"
        message = say(mock, sid, "Hello there")
        frames = s.events(6, timeout=10)
    assert [f.event for f in frames] == DEFAULT_TURN
    turn = message["turn_id"]
    assert turn.startswith("turn_") and len(turn) == 37
    assert all(f.data["turn_id"] == turn for f in frames), "every event of the turn carries its turn_id"
    assert frames[0].id == message["id"] and frames[0].data["content"] == "Hello there"
    assert frames[3].data["content"] == [{"type": "text", "text": 'You said: "Hello there"'}]
    assert frames[5].data["stop_reason"] == {"type": "end_turn"}
    coordinator = frames[0].data["session_thread_id"]
    assert all(f.data["session_thread_id"] == coordinator for f in frames)
    # The same turn, byte for byte, from the session's list and the coordinator's thread routes.
    listed = session_events(mock, sid)
    assert [expected_frame(e) for e in listed] == [f.raw for f in frames]
    threads = mock.get(f"/v1/sessions/{sid}/threads").json()["data"]
    assert [t["id"] for t in threads] == [coordinator] and threads[0]["role"] == "coordinator"
    on_thread = mock.get(f"/v1/sessions/{sid}/threads/{coordinator}/events?limit=100").json()["data"]
    assert on_thread == listed
    after = mock.get(f"/v1/sessions/{sid}").json()
    assert after["status"] == "idle" and after["updated_at"] >= session["updated_at"]
    # A second turn is a new turn with its own id.
    second = say(mock, sid, "Again")
    assert second["turn_id"] != turn
    mock.control("POST", "/clock/run-until-idle")
    assert mock.get(f"/v1/sessions/{sid}").json()["status"] == "idle"


def test_a_frozen_clock_holds_the_turn_and_a_second_message_is_409(mock):
    freeze(mock)
    sid = new_session(mock)["id"]
    say(mock, sid, "first")
    assert mock.get(f"/v1/sessions/{sid}").json()["status"] == "running"
    before = state(mock)
    err = error_of(send(mock, sid, {"type": "user.message", "content": "second"}), 409, "conflict_error")
    assert err["message"] == BUSY
    assert state(mock) == before, "a refused message writes nothing"
    # The turn's pending steps are visible to a test that wants to know where it is.
    agenda = mock.control("GET", f"/sessions/{sid}/agenda").json()["data"]
    assert [s["kind"] for s in agenda] == ["preview_start", "preview_delta", "preview_delta", "preview_delta", "step"]
    assert agenda[-1]["step"] == "message"
    assert agenda[0]["due_at"] == "2026-07-01T10:00:00.100Z" and agenda[-1]["due_at"] == "2026-07-01T10:00:00.400Z"
    # Part of the way: still running, the message not written yet.
    clock = advance(mock, 399)
    assert clock["steps_played"] == 4 and clock["steps_pending"] == 1
    assert mock.get(f"/v1/sessions/{sid}").json()["status"] == "running"
    assert "agent.message" not in [e["type"] for e in session_events(mock, sid)]
    clock = advance(mock, 1)
    assert clock["steps_played"] == 1 and clock["steps_pending"] == 0
    events = session_events(mock, sid)
    assert [e["type"] for e in events] == DEFAULT_TURN
    # On a frozen clock, each step carries exactly its due time.
    assert events[3]["created_at"] == "2026-07-01T10:00:00.400Z"
    assert mock.get(f"/v1/sessions/{sid}").json()["status"] == "idle"
    assert say(mock, sid, "third")["type"] == "user.message"


def test_two_messages_in_one_request_are_409_and_nothing_is_written(mock):
    sid = new_session(mock)["id"]
    before = state(mock)
    r = send(mock, sid, {"type": "user.message", "content": "a"}, {"type": "user.message", "content": "b"})
    assert error_of(r, 409, "conflict_error")["message"] == BUSY
    assert state(mock) == before


def test_run_until_idle_finishes_every_turn_in_one_call(mock):
    freeze(mock)
    sids = [new_session(mock)["id"] for _ in range(3)]
    for sid in sids:
        say(mock, sid, "go")
    r = mock.control("POST", "/clock/run-until-idle")
    assert r.status == 200 and r.json()["steps_played"] == 15 and r.json()["steps_pending"] == 0
    assert r.json()["now"] == "2026-07-01T10:00:00.400Z"
    for sid in sids:
        assert mock.get(f"/v1/sessions/{sid}").json()["status"] == "idle"
        assert [e["type"] for e in session_events(mock, sid)] == DEFAULT_TURN


# -- previews and resume -----------------------------------------------------------


def test_previews_go_only_to_the_stream_that_asked(mock):
    freeze(mock)
    sid = new_session(mock)["id"]
    base = f"/v1/sessions/{sid}/events/stream"
    with SSEClient(mock.host, mock.port, base + "?event_deltas[]=agent.message") as with_deltas, \
            SSEClient(mock.host, mock.port, base) as plain:
        assert with_deltas.read_head() == 200 and plain.read_head() == 200
        wait_until(lambda: mock.stats()["open_streams"] == 2, timeout=5, message="both streams registered")
        say(mock, sid, "Preview me please")
        mock.control("POST", "/clock/run-until-idle")
        asked = with_deltas.events(10, timeout=10)
        got = plain.events(6, timeout=10)
    assert [f.event for f in got] == DEFAULT_TURN
    names = [f.event for f in asked]
    assert names == DEFAULT_TURN[:3] + ["event_start", "event_delta", "event_delta", "event_delta"] + DEFAULT_TURN[3:]
    message = asked[7]
    start = asked[3]
    assert start.data == {"type": "event_start", "event": {"id": message.id, "type": "agent.message"}}
    deltas = asked[4:7]
    assert all(f.id == message.id for f in [start, *deltas]), "a preview frame's SSE id is the previewed event's"
    assert [d.data["delta"]["index"] for d in deltas] == [0, 1, 2]
    text = "".join(d.data["delta"]["content"]["text"] for d in deltas)
    assert text == message.data["content"][0]["text"] == 'You said: "Preview me please"'
    # Previews are never stored, listed or replayed.
    assert [e["type"] for e in session_events(mock, sid)] == DEFAULT_TURN
    with SSEClient(mock.host, mock.port, base + "?event_deltas[]=agent.message") as replay:
        assert [f.event for f in replay.events(6, timeout=10)] == DEFAULT_TURN


def test_resume_in_the_middle_of_a_turn_by_header_by_after_id_and_by_a_previewed_id(mock):
    freeze(mock)
    sid = new_session(mock)["id"]
    base = f"/v1/sessions/{sid}/events/stream"
    say(mock, sid, "resume")
    advance(mock, 200)  # event_start and two deltas have gone out
    written = session_events(mock, sid)
    assert [e["type"] for e in written] == DEFAULT_TURN[:3]
    with SSEClient(mock.host, mock.port, base, headers={"Last-Event-ID": written[0]["id"]}) as by_header, \
            SSEClient(mock.host, mock.port, base + f"?after_id={written[1]['id']}") as by_query:
        assert [f.id for f in by_header.events(2, timeout=5)] == [e["id"] for e in written[1:]]
        assert [f.id for f in by_query.events(1, timeout=5)] == [written[2]["id"]]
        pending = mock.control("GET", f"/sessions/{sid}/agenda").json()["data"]
        previewed = next(s["event_id"] for s in pending if s["kind"] == "preview_delta")
        # A client that saw a delta and lost the connection resumes from the previewed id.
        with SSEClient(mock.host, mock.port, base, headers={"Last-Event-ID": previewed}) as by_preview:
            assert by_preview.read_head() == 200
            wait_until(lambda: mock.stats()["open_streams"] == 3, timeout=5, message="streams registered")
            mock.control("POST", "/clock/run-until-idle")
            rest = [f.event for f in by_preview.events(3, timeout=5)]
            assert rest == DEFAULT_TURN[3:]
        assert [f.event for f in by_header.events(3, timeout=5)] == DEFAULT_TURN[3:]
    # Both cursors at once must agree; a cursor from elsewhere is 400 before streaming.
    r = mock.get(base + f"?after_id={written[1]['id']}", headers={"Last-Event-ID": written[0]["id"]})
    assert error_of(r, 400, "invalid_request_error")["param"] == "after_id"
    seed_event = "evt_019f0000000000000000000000000101"
    err = error_of(mock.get(base, headers={"Last-Event-ID": seed_event}), 400, "invalid_request_error")
    assert err["param"] == "Last-Event-ID" and sid in err["message"]
    err = error_of(mock.get(base + "?after_id=evt_nope"), 400, "invalid_request_error")
    assert err["param"] == "after_id"


def test_thread_streams_take_after_id_and_previews_too(mock):
    freeze(mock)
    sid = new_session(mock)["id"]
    say(mock, sid, "thread level")
    coordinator = session_events(mock, sid)[0]["session_thread_id"]
    path = f"/v1/sessions/{sid}/threads/{coordinator}/stream"
    first = session_events(mock, sid)[0]["id"]
    with SSEClient(mock.host, mock.port, path + f"?after_id={first}&event_deltas[]=agent.message") as s:
        assert [f.event for f in s.events(2, timeout=5)] == DEFAULT_TURN[1:3]
        mock.control("POST", "/clock/run-until-idle")
        names = [f.event for f in s.events(7, timeout=5)]
    assert names == ["event_start", "event_delta", "event_delta", "event_delta"] + DEFAULT_TURN[3:]
    # The seed thread's stream resumes by after_id like by Last-Event-ID.
    seed = f"/v1/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/stream"
    with SSEClient(mock.host, mock.port, seed + "?after_id=evt_019f0000000000000000000000000101") as s:
        assert [f.id for f in s.events(1, timeout=5)] == ["evt_019f0000000000000000000000000102"]


# -- interrupt, cancel, archive, delete --------------------------------------------


def test_interrupt_mid_turn_ends_it_and_drops_its_steps(mock):
    freeze(mock)
    sid = new_session(mock)["id"]
    say(mock, sid, "stop me")
    advance(mock, 150)
    r = send(mock, sid, {"type": "user.interrupt"})
    assert r.status == 200, r.text
    interrupt = r.json()["data"][0]
    events = session_events(mock, sid)
    assert [e["type"] for e in events] == DEFAULT_TURN[:3] + [
        "user.interrupt", "session.thread_status_idle", "session.status_idle"]
    assert interrupt["turn_id"] == events[0]["turn_id"] == events[-1]["turn_id"]
    assert mock.control("GET", f"/sessions/{sid}/agenda").json()["data"] == []
    assert mock.control("POST", "/clock/run-until-idle").json()["steps_played"] == 0
    assert mock.get(f"/v1/sessions/{sid}").json()["status"] == "idle"
    # One thread by id: an unknown thread is refused by name.
    r = send(mock, sid, {"type": "user.interrupt", "session_thread_id": "sthr_nope"})
    assert error_of(r, 400, "invalid_request_error")["param"] == "events[0].session_thread_id"


def test_interrupting_a_child_the_coordinator_waits_on_gives_it_agent_interrupted(mock):
    tool_use = mock.control("GET", "/state").json()["sessions"][0]["threads"][1]["created_by_tool_use_id"]
    mock.set_status(SEED_SESSION, SEED_COORDINATOR, "blocked",
                    waiting_on={"thread_id": SEED_CHILD, "tool_use_id": tool_use})
    r = send(mock, SEED_SESSION, {"type": "user.interrupt", "session_thread_id": SEED_CHILD})
    assert r.status == 200, r.text
    assert r.json()["data"][0]["session_thread_id"] == SEED_CHILD
    coord = mock.get(f"/v1/sessions/{SEED_SESSION}/threads/{SEED_COORDINATOR}/events?limit=100").json()["data"]
    result = next(e for e in coord if e["type"] == "agent.tool_result")
    assert (result["tool_use_id"], result["content"], result["is_error"]) == (tool_use, "Agent interrupted.", True)
    assert coord[-1]["type"] == "session.thread_status_running"
    threads = {t["id"]: t for t in mock.get(f"/v1/sessions/{SEED_SESSION}/threads").json()["data"]}
    assert threads[SEED_CHILD]["status"] == "idle" and threads[SEED_COORDINATOR]["status"] == "running"


def test_cancel_answers_202_mid_turn_and_200_when_idle(mock):
    freeze(mock)
    sid = new_session(mock)["id"]
    say(mock, sid, "cancel me")
    r = mock.post(f"/v1/sessions/{sid}/cancel")
    assert r.status == 202 and r.json() == {"id": sid, "type": "session", "status": "canceling"}
    assert [e["type"] for e in session_events(mock, sid)] == DEFAULT_TURN[:3] + [
        "session.thread_status_idle", "session.status_idle"]
    assert mock.control("GET", f"/sessions/{sid}/agenda").json()["data"] == []
    r = mock.post(f"/v1/sessions/{sid}/cancel", {})
    assert r.status == 200 and r.json()["status"] == "canceling"
    # Cancel cancels pending mailbox messages of the session's threads.
    mock.control("POST", f"/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/mailbox", {"content": "later"})
    assert mock.post(f"/v1/sessions/{SEED_SESSION}/cancel").status == 202
    box = mock.control("GET", f"/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/mailbox").json()["data"]
    assert [m["status"] for m in box] == ["delivered", "cancelled"]
    assert mock.get(f"/v1/sessions/{SEED_SESSION}").json()["status"] == "idle"


def test_archive_then_message_is_409_and_archive_twice_is_409(mock):
    sid = new_session(mock)["id"]
    r = mock.post(f"/v1/sessions/{sid}/archive")
    assert r.status == 200 and r.json()["archived_at"] is not None and r.json()["status"] == "idle"
    err = error_of(send(mock, sid, {"type": "user.message", "content": "hi"}), 409, "conflict_error")
    assert "archived" in err["message"]
    error_of(mock.post(f"/v1/sessions/{sid}/archive"), 409, "conflict_error")
    error_of(mock.post(f"/v1/sessions/{sid}/cancel"), 409, "conflict_error")
    # Still readable; hidden from the list unless asked for.
    assert mock.get(f"/v1/sessions/{sid}").status == 200
    listed = [s["id"] for s in mock.get("/v1/sessions?limit=100").json()["data"]]
    assert sid not in listed
    listed = [s["id"] for s in mock.get("/v1/sessions?limit=100&include_archived=true").json()["data"]]
    assert sid in listed


def test_delete_ends_open_session_and_thread_streams_then_404_everywhere(mock):
    sid = new_session(mock)["id"]
    say(mock, sid, "soon gone")
    mock.control("POST", "/clock/run-until-idle")
    coordinator = session_events(mock, sid)[0]["session_thread_id"]
    with SSEClient(mock.host, mock.port, f"/v1/sessions/{sid}/events/stream") as whole, \
            SSEClient(mock.host, mock.port, f"/v1/sessions/{sid}/threads/{coordinator}/stream") as one:
        assert len(whole.events(6, timeout=5)) == 6 and len(one.events(6, timeout=5)) == 6
        r = mock.request("DELETE", f"/v1/sessions/{sid}")
        assert r.status == 200 and r.json() == {"id": sid, "type": "session_deleted"}
        rest = whole.read_to_end(timeout=5)
        assert [f.event for f in rest] == ["session.deleted"] and whole.ended
        assert [f.event for f in one.read_to_end(timeout=5)] == ["session.deleted"] and one.ended
    assert mock.stats()["open_streams"] == 0
    for method, path in [("GET", f"/v1/sessions/{sid}"), ("GET", f"/v1/sessions/{sid}/events"),
                         ("GET", f"/v1/sessions/{sid}/threads"), ("POST", f"/v1/sessions/{sid}/events"),
                         ("DELETE", f"/v1/sessions/{sid}"), ("POST", f"/v1/sessions/{sid}/cancel"),
                         ("GET", f"/v1/sessions/{sid}/threads/{coordinator}/events")]:
        err = error_of(mock.request(method, path, body={"events": [{"type": "user.message", "content": "x"}]}
                                    if method == "POST" else None), 404, "not_found_error")
        assert err["message"] == f"Session '{sid}' was not found."


def test_delete_mid_turn_drops_the_turn(mock):
    freeze(mock)
    sid = new_session(mock)["id"]
    say(mock, sid, "x")
    assert mock.request("DELETE", f"/v1/sessions/{sid}").status == 200
    assert mock.control("POST", "/clock/run-until-idle").json()["steps_played"] == 0


# -- sessions: create, update, list ------------------------------------------------


def test_update_merges_metadata_and_writes_session_updated(mock):
    agent = new_agent(mock)
    session = new_session(mock, agent["id"], title="Before", metadata={"a": "1", "b": "2"})
    sid = session["id"]
    r = mock.post(f"/v1/sessions/{sid}", {"title": "After", "metadata": {"b": None, "c": "3"}})
    assert r.status == 200, r.text
    assert r.json()["title"] == "After" and r.json()["metadata"] == {"a": "1", "c": "3"}
    updated = session_events(mock, sid)
    assert [e["type"] for e in updated] == ["session.updated"]
    assert updated[0]["title"] == "After" and updated[0]["metadata"] == {"a": "1", "c": "3"}
    # A later version of the same agent, used from the next turn.
    v2 = mock.post(f"/v1/agents/{agent['id']}", {"name": "Helper 2"}).json()
    r = mock.post(f"/v1/sessions/{sid}", {"agent": {"type": "agent", "id": agent["id"], "version": 2}})
    assert r.json()["agent"] == {"id": agent["id"], "type": "agent", "name": "Helper 2", "model": "ultimate",
                                 "version": v2["version"]}
    say(mock, sid, "hi")
    coordinator = mock.get(f"/v1/sessions/{sid}/threads").json()["data"][0]
    assert coordinator["agent_version"] == 2
    # Nothing changed: no event. A bad body: 400 naming the field, nothing changed.
    count = len(session_events(mock, sid))
    assert mock.post(f"/v1/sessions/{sid}", {"title": "After"}).status == 200
    assert len(session_events(mock, sid)) == count
    before = state(mock)
    for body, param in [({"title": 5}, "title"), ({"metadata": {"k": 1}}, "metadata"),
                        ({"metadata": []}, "metadata"), ({"agent": COORD_AGENT}, "agent")]:
        assert error_of(mock.post(f"/v1/sessions/{sid}", body), 400, "invalid_request_error")["param"] == param
    assert state(mock) == before


def test_list_sessions_filters_by_agent_status_and_archived(mock):
    agent = new_agent(mock)
    a = new_session(mock, agent["id"])["id"]
    b = new_session(mock, agent["id"])["id"]
    mock.post(f"/v1/sessions/{b}/archive")
    freeze(mock)
    say(mock, a, "busy")
    ids = lambda q: [s["id"] for s in mock.get(f"/v1/sessions?{q}").json()["data"]]  # noqa: E731
    assert ids(f"agent_id={agent['id']}") == [a]
    assert ids(f"agent_id={agent['id']}&include_archived=true") == [b, a]
    assert ids("statuses[]=running") == [a, SEED_SESSION]
    assert a not in ids("statuses[]=idle")
    for q, param in [("statuses[]=busy", "statuses[]"), ("include_archived=maybe", "include_archived")]:
        assert error_of(mock.get(f"/v1/sessions?{q}"), 400, "invalid_request_error")["param"] == param


def test_initial_events_are_sent_right_after_creation(mock):
    freeze(mock)
    r = mock.post("/v1/sessions", {"agent": COORD_AGENT,
                                   "initial_events": [{"type": "user.message", "content": [{"type": "text", "text": "kick off"}]}]})
    assert r.status == 200, r.text
    sid = r.json()["id"]
    assert mock.get(f"/v1/sessions/{sid}").json()["status"] == "running"
    mock.control("POST", "/clock/run-until-idle")
    events = session_events(mock, sid)
    assert [e["type"] for e in events] == DEFAULT_TURN
    assert events[3]["content"][0]["text"] == 'You said: "kick off"'
    # A bad initial event creates nothing.
    count = len(mock.get("/v1/sessions?limit=100&include_archived=true").json()["data"])
    r = mock.post("/v1/sessions", {"agent": COORD_AGENT, "initial_events": [{"type": "user.message"}]})
    assert error_of(r, 400, "invalid_request_error")["param"] == "initial_events[0].content"
    assert len(mock.get("/v1/sessions?limit=100&include_archived=true").json()["data"]) == count


def test_session_events_list_filters_and_usage(mock):
    sid = new_session(mock)["id"]
    say(mock, sid, "one")
    mock.control("POST", "/clock/run-until-idle")
    coordinator = session_events(mock, sid)[0]["session_thread_id"]
    mock.append_events(sid, coordinator, [
        {"type": "span.model_request_end", "created_at": "2030-01-01T00:00:00.000Z",
         "model_usage": {"input_tokens": 10, "output_tokens": 5, "cache_creation_input_tokens": 1,
                         "cache_read_input_tokens": 2}},
        {"type": "span.model_request_end", "created_at": "2030-01-02T00:00:00.000Z",
         "model_usage": {"input_tokens": 3, "output_tokens": 4}},
    ])
    usage = mock.get(f"/v1/sessions/{sid}").json()["usage"]
    assert usage == {"input_tokens": 13, "output_tokens": 9, "cache_creation_input_tokens": 1,
                     "cache_read_input_tokens": 2}
    assert [e["type"] for e in session_events(mock, sid, "type=agent.message,user.message")] == [
        "user.message", "agent.message"]
    assert [e["type"] for e in session_events(mock, sid, "types[]=session.status_idle")] == ["session.status_idle"]
    late = session_events(mock, sid, "created_at[gte]=2030-01-01T00:00:00.000Z")
    assert [e["created_at"] for e in late] == ["2030-01-01T00:00:00.000Z", "2030-01-02T00:00:00.000Z"]
    assert len(session_events(mock, sid, "created_at[gt]=2030-01-01T00:00:00.000Z")) == 1
    assert len(session_events(mock, sid, "created_at[lt]=2030-01-01T00:00:00.000Z")) == 6
    err = error_of(mock.get(f"/v1/sessions/{sid}/events?created_at[gt]=yesterday"), 400, "invalid_request_error")
    assert err["param"] == "created_at[gt]"
    # Pagination walks the session order, in both directions.
    all_ids = [e["id"] for e in session_events(mock, sid)]
    page = mock.get(f"/v1/sessions/{sid}/events?limit=3&order=desc").json()
    assert [e["id"] for e in page["data"]] == all_ids[::-1][:3] and page["has_more"] is True


def test_session_order_spans_threads_and_survives_export_import(mock):
    # The seed session: the child's two events, then what the control API adds anywhere.
    mock.append_events(SEED_SESSION, SEED_COORDINATOR, [{"type": "note.coordinator"}])
    mock.append_events(SEED_SESSION, SEED_CHILD, [{"type": "note.child"}])
    order = [e["type"] for e in session_events(mock, SEED_SESSION)]
    assert order == ["agent.thread_message_sent", "session.thread_status_running", "note.coordinator", "note.child"]
    exported = state(mock)
    assert mock.control("PUT", "/state", raw_body=exported,
                        headers={"Content-Type": "application/json"}).status == 200
    assert state(mock) == exported
    assert [e["type"] for e in session_events(mock, SEED_SESSION)] == order


# -- sending: every type, all or nothing ---------------------------------------------


def test_every_sendable_type_and_every_refusal_names_the_event(mock):
    sid = new_session(mock)["id"]
    say(mock, sid, "setup")
    mock.control("POST", "/clock/run-until-idle")
    coordinator = session_events(mock, sid)[0]["session_thread_id"]
    mock.append_events(sid, coordinator, [
        {"type": "agent.tool_use", "tool_use_id": "toolu_ask1", "name": "Bash", "input": {"command": "rm x"},
         "evaluated_permission": "ask"},
        {"id": "evt_customuse1", "type": "agent.custom_tool_use", "name": "lookup", "input": {}},
    ])
    before = state(mock)
    bad = [
        ({"type": "user.message"}, "events[0].content"),
        ({"type": "user.message", "content": ""}, "events[0].content"),
        ({"type": "user.message", "content": []}, "events[0].content"),
        ({"type": "user.message", "content": [{"type": "text"}]}, "events[0].content[0].text"),
        ({"type": "agent.message", "content": "x"}, "events[0].type"),
        ({"content": "x"}, "events[0].type"),
        ({"type": "user.tool_confirmation", "tool_use_id": "toolu_none", "result": "allow"}, "events[0].tool_use_id"),
        ({"type": "user.tool_confirmation", "tool_use_id": "toolu_ask1", "result": "maybe"}, "events[0].result"),
        ({"type": "user.custom_tool_result", "custom_tool_use_id": "evt_other"}, "events[0].custom_tool_use_id"),
        ({"type": "user.tool_result", "tool_use_id": "toolu_none"}, "events[0].tool_use_id"),
    ]
    for event, param in bad:
        r = send(mock, sid, {"type": "system.message", "content": "fine"}, event)
        assert error_of(r, 400, "invalid_request_error")["param"] == param.replace("events[0]", "events[1]"), event
    for body, param in [({}, "events"), ({"events": []}, "events"), ({"events": {}}, "events"),
                        ({"events": [{"type": "system.message"}] * 101}, "events")]:
        r = mock.post(f"/v1/sessions/{sid}/events", body)
        assert error_of(r, 400, "invalid_request_error")["param"] == param, body
    assert state(mock) == before, "refused requests write nothing"
    r = send(mock, sid,
             {"type": "user.tool_confirmation", "tool_use_id": "toolu_ask1", "result": "deny", "deny_message": "no"},
             {"type": "user.custom_tool_result", "custom_tool_use_id": "evt_customuse1", "content": "42"},
             {"type": "user.define_outcome", "description": "done when green"},
             {"type": "system.message", "content": "note"})
    assert r.status == 200, r.text
    stored = r.json()["data"]
    assert [e["type"] for e in stored] == [
        "user.tool_confirmation", "user.custom_tool_result", "user.define_outcome", "system.message"]
    assert stored[0]["result"] == "deny" and stored[0]["deny_message"] == "no"
    assert all(e["session_id"] == sid and e["id"].startswith("evt_") for e in stored)
    # An answered request answers no more.
    r = send(mock, sid, {"type": "user.tool_confirmation", "tool_use_id": "toolu_ask1", "result": "allow"})
    assert error_of(r, 400, "invalid_request_error")["param"] == "events[0].tool_use_id"
    error_of(send(mock, "sess_nope", {"type": "user.message", "content": "x"}), 404, "not_found_error")


# -- agents ------------------------------------------------------------------------


def test_agents_versions_and_the_stale_version_409(mock):
    agent = new_agent(mock, description="first", metadata={"team": "a"})
    aid = agent["id"]
    assert aid.startswith("agent_") and agent["version"] == 1 and agent["type"] == "agent"
    assert (agent["tools"], agent["mcp_servers"], agent["skills"], agent["multiagent"], agent["system"]) == (
        [], [], [], None, None)
    v2 = mock.post(f"/v1/agents/{aid}", {"version": 1, "system": "Be brief."}).json()
    assert v2["version"] == 2 and v2["system"] == "Be brief." and v2["description"] == "first"
    # No change, no new version.
    assert mock.post(f"/v1/agents/{aid}", {"system": "Be brief."}).json()["version"] == 2
    err = error_of(mock.post(f"/v1/agents/{aid}", {"version": 1, "name": "Late writer"}), 409, "conflict_error")
    assert "version 2" in err["message"]
    assert mock.get(f"/v1/agents/{aid}").json()["version"] == 2
    assert mock.get(f"/v1/agents/{aid}?version=1").json()["system"] is None
    error_of(mock.get(f"/v1/agents/{aid}?version=9"), 404, "not_found_error")
    error_of(mock.get(f"/v1/agents/{aid}?version=zero"), 400, "invalid_request_error")
    versions = mock.get(f"/v1/agents/{aid}/versions").json()
    assert [a["version"] for a in versions["data"]] == [2, 1] and versions["has_more"] is False
    # A session pins the version it was created with.
    sid = new_session(mock, aid)["id"]
    mock.post(f"/v1/agents/{aid}", {"name": "Renamed"})
    assert mock.get(f"/v1/sessions/{sid}").json()["agent"]["version"] == 2
    # Archived: hidden from the list, new sessions refused, running ones go on.
    archived = mock.post(f"/v1/agents/{aid}/archive").json()
    assert archived["archived_at"] is not None and archived["version"] == 3
    listed = [a["id"] for a in mock.get("/v1/agents").json()["data"]]
    assert aid not in listed and aid in [a["id"] for a in mock.get("/v1/agents?include_archived=true").json()["data"]]
    error_of(mock.post("/v1/sessions", {"agent": aid}), 409, "conflict_error")
    error_of(mock.post(f"/v1/agents/{aid}/archive"), 409, "conflict_error")
    assert say(mock, sid, "still works")["type"] == "user.message"


def test_agents_list_is_newest_first_and_includes_the_fixture_roster(mock):
    a = new_agent(mock, name="A")["id"]
    b = new_agent(mock, name="B")["id"]
    listed = [x["id"] for x in mock.get("/v1/agents?limit=100").json()["data"]]
    assert listed[:2] == [b, a] and COORD_AGENT in listed
    seed = mock.get(f"/v1/agents/{COORD_AGENT}").json()
    assert seed["name"] == "task-coordinator" and seed["version"] == 1


def test_agent_bad_input_is_400_by_field_and_creates_nothing(mock):
    before = state(mock)
    for body, param in [({}, "name"), ({"name": "x"}, "model"), ({"name": "", "model": "m"}, "name"),
                        ({"name": "x", "model": 5}, "model"), ({"name": "x", "model": "m", "tools": {}}, "tools"),
                        ({"name": "x", "model": "m", "metadata": {"k": 1}}, "metadata"),
                        ({"name": "x", "model": "m", "nmae": "y"}, "nmae"),
                        ({"name": "x", "model": "m", "multiagent": []}, "multiagent")]:
        assert error_of(mock.post("/v1/agents", body), 400, "invalid_request_error")["param"] == param, body
    assert error_of(mock.post(f"/v1/agents/{COORD_AGENT}", {"version": 0}), 400,
                    "invalid_request_error")["param"] == "version"
    error_of(mock.get("/v1/agents/agent_nope"), 404, "not_found_error")
    error_of(mock.post("/v1/agents/agent_nope", {"name": "x"}), 404, "not_found_error")
    assert state(mock) == before


# -- the control API and the fixture format ---------------------------------------


def test_control_builds_a_session_caught_mid_turn(mock):
    freeze(mock)
    r = mock.control("POST", "/sessions", {"initial_events": [{"type": "user.message", "content": "mid"}]})
    assert r.status == 201, r.text
    sid = r.json()["id"]
    assert mock.get(f"/v1/sessions/{sid}").json()["status"] == "running"
    assert len(mock.control("GET", f"/sessions/{sid}/agenda").json()["data"]) == 5
    error_of(mock.control("GET", "/sessions/sess_nope/agenda"), 404, "not_found_error")


def test_agents_and_session_fields_round_trip_through_the_state(mock):
    agent = new_agent(mock, tools=[{"type": "bash"}], multiagent={"agents": [COORD_AGENT]}, metadata={"k": "v"})
    mock.post(f"/v1/agents/{agent['id']}", {"description": "v2"})
    sid = new_session(mock, agent["id"], title="kept")["id"]
    say(mock, sid, "round trip")
    mock.control("POST", "/clock/run-until-idle")
    exported = state(mock)
    assert mock.control("PUT", "/state", raw_body=exported, headers={"Content-Type": "application/json"}).status == 200
    assert state(mock) == exported
    doc = mock.control("GET", "/state").json()
    versions = [a for a in doc["agents"] if a["id"] == agent["id"]]
    assert [a["version"] for a in versions] == [1, 2] and versions[0]["tools"] == [{"type": "bash"}]
    assert mock.get(f"/v1/agents/{agent['id']}").json()["description"] == "v2"
    assert [e["type"] for e in session_events(mock, sid)] == DEFAULT_TURN


def test_status_changes_through_the_control_api_announce_the_session_status(mock):
    sid = new_session(mock)["id"]
    coordinator = mock.get(f"/v1/sessions/{sid}/threads").json()["data"][0]["id"]
    mock.set_status(sid, coordinator, "running")
    mock.set_status(sid, coordinator, "idle")
    assert [e["type"] for e in session_events(mock, sid)] == [
        "session.thread_status_running", "session.status_running",
        "session.thread_status_idle", "session.status_idle"]
    assert all("turn_id" not in e for e in session_events(mock, sid)), "no turn, no turn_id"


def test_closed_stream_reader_before_delete_leaves_nothing_behind(mock):
    sid = new_session(mock)["id"]
    s = SSEClient(mock.host, mock.port, f"/v1/sessions/{sid}/events/stream")
    assert s.read_head() == 200
    wait_until(lambda: mock.stats()["open_streams"] == 1, timeout=5, message="stream registered")
    s.close()
    wait_until(lambda: mock.stats()["open_streams"] == 0, timeout=5, message="stream forgotten")
    with SSEClient(mock.host, mock.port, "/v1/sessions/sess_missing/events/stream") as missing:
        assert missing.read_head() == 404 and b"sess_missing" in missing.error_body


def test_one_toolu_id_links_the_tool_use_the_child_the_wait_and_the_result(mock):
    sid = new_session(mock)["id"]
    child = mock.control("POST", f"/sessions/{sid}/threads", {"name": "Worker", "status": "idle"}).json()
    coordinator = child["parent_thread_id"]
    use = session_events(mock, sid, "types[]=agent.tool_use")[0]
    toolu = use["tool_use_id"]
    assert toolu.startswith("toolu_") and toolu != use["id"] and use["session_thread_id"] == coordinator
    assert child["created_by_tool_use_id"] == toolu
    blocked = mock.set_status(sid, coordinator, "blocked", waiting_on={"thread_id": child["id"]})
    assert blocked["status"] == "blocked"
    waiting = session_events(mock, sid, "types[]=session.thread_status_blocked")[0]
    assert waiting["waiting_on"] == {"session_thread_id": child["id"], "tool_use_id": toolu}
    assert mock.post(f"/v1/sessions/{sid}/threads/{child['id']}/archive").status == 200
    result = session_events(mock, sid, "types[]=agent.tool_result")[0]
    assert (result["tool_use_id"], result["content"], result["is_error"]) == (toolu, "Agent cancelled.", True)


# -- the session stream keeps every guarantee of the thread streams ------------------


SESSION_STREAM = f"/v1/sessions/{SEED_SESSION}/events/stream"


def seed_session_ids(server) -> list[str]:
    return [e["id"] for e in session_events(server, SEED_SESSION)]


def read_n(s, n: int, timeout: float = 20) -> list:
    return s.events(n, timeout=timeout)


def test_session_stream_interleaves_threads_live_in_write_order(mock):
    with SSEClient(mock.host, mock.port, SESSION_STREAM) as s:
        assert len(read_n(s, 2)) == 2
        written = []
        for i in range(30):
            thread = SEED_CHILD if i % 3 else SEED_COORDINATOR
            written += mock.append_events(SEED_SESSION, thread, [{"type": "note", "n": i}])
        got = read_n(s, 30)
    assert [f.raw for f in got] == [expected_frame(e) for e in written]
    assert {f.data["session_thread_id"] for f in got} == {SEED_CHILD, SEED_COORDINATOR}


def test_session_stream_long_history_at_the_readers_pace_and_a_stuck_reader_is_bounded(start_server):
    bound = 256 * 1024
    server = start_server("--stream-buffer-bytes", str(bound))
    payload = "s" * 4000
    for batch in range(10):
        for thread in (SEED_COORDINATOR, SEED_CHILD):
            server.append_events(SEED_SESSION, thread, [{"type": "bulk", "text": payload} for _ in range(25)])
    expected = seed_session_ids(server)
    assert len(expected) == 502
    # A slow reader of a 2 MB history gets all of it, in session order, then live events.
    with SSEClient(server.host, server.port, SESSION_STREAM, recv_buffer=4096) as slow:
        assert [f.id for f in read_n(slow, len(expected))] == expected
        marker = server.append_events(SEED_SESSION, SEED_CHILD, [{"type": "marker"}])[0]
        assert read_n(slow, 1)[0].id == marker["id"]
        expected.append(marker["id"])
    # A reader that stops reading while live events pour in is ended at the bound, and resumes.
    stuck = SSEClient(server.host, server.port, SESSION_STREAM + f"?after_id={expected[-1]}", recv_buffer=4096)
    try:
        assert stuck.read_head() == 200
        wait_until(lambda: server.stats()["open_streams"] == 1, timeout=5, message="stream registered")
        for _ in range(20):  # 8 MB: far past the bound and what the kernel's buffers hold
            server.append_events(SEED_SESSION, SEED_COORDINATOR, [{"type": "flood", "text": "f" * 20_000}] * 20)
        assert server.stats()["open_streams"] == 0, "the stuck session stream was not ended at its bound"
        got = [f.id for f in stuck.read_to_end(timeout=10)]
        everything = seed_session_ids(server)
        start = everything.index(expected[-1]) + 1
        assert got == everything[start:start + len(got)] and stuck.ended
        with SSEClient(server.host, server.port, SESSION_STREAM, headers={"Last-Event-ID": got[-1]}) as again:
            rest = [f.id for f in read_n(again, len(everything) - start - len(got))]
            assert got + rest == everything[start:]
    finally:
        stuck.close()


def test_session_stream_heartbeats_and_fault_cuts(start_server):
    server = start_server("--heartbeat-ms", "300")
    with SSEClient(server.host, server.port, SESSION_STREAM) as s:
        assert len(read_n(s, 2)) == 2
        assert s.next_frame(timeout=5).raw == b": heartbeat\n\n"
    r = server.control("POST", "/faults", {"path": "/v1/sessions/*/events/stream", "drop_after_frames": 1})
    assert r.status == 201, r.text
    with SSEClient(server.host, server.port, SESSION_STREAM) as s:
        got = s.read_to_end(timeout=5)
        assert len(got) == 1 and s.eof and not s.ended, "cut after one frame, without the terminating chunk"


def test_session_stream_json_form_and_filters(mock):
    r = mock.get(f"/v1/sessions/{SEED_SESSION}/events")
    assert r.status == 200 and r.headers["content-type"] == "application/json"
    path = f"/v1/sessions/{SEED_SESSION}/events?types[]=session.thread_status_running"
    with SSEClient(mock.host, mock.port, path) as s:  # Accept: text/event-stream turns the list into a stream
        assert [f.event for f in read_n(s, 1)] == ["session.thread_status_running"]
        mock.append_events(SEED_SESSION, SEED_COORDINATOR, [{"type": "ignored"}])
        mock.set_status(SEED_SESSION, SEED_COORDINATOR, "running")
        frame = read_n(s, 1)[0]
        assert frame.event == "session.thread_status_running" and frame.data["session_thread_id"] == SEED_COORDINATOR


def test_reset_forgets_agents_and_sessions_made_through_the_api(mock):
    aid = new_agent(mock)["id"]
    sid = new_session(mock, aid)["id"]
    mock.reset()
    error_of(mock.get(f"/v1/agents/{aid}"), 404, "not_found_error")
    error_of(mock.get(f"/v1/sessions/{sid}"), 404, "not_found_error")


def test_same_seed_and_clock_steps_give_byte_identical_streams_and_state(start_server):
    def run() -> tuple[bytes, bytes]:
        server = start_server("--seed", "99", "--frozen-clock", FROZEN_AT)
        aid = new_agent(server)["id"]
        sid = new_session(server, aid)["id"]
        with SSEClient(server.host, server.port, f"/v1/sessions/{sid}/events/stream?event_deltas[]=agent.message") as s:
            assert s.read_head() == 200
            wait_until(lambda: server.stats()["open_streams"] == 1, timeout=5, message="stream registered")
            say(server, sid, "determinism")
            advance(server, 250)
            server.control("POST", "/clock/run-until-idle")
            frames = b"".join(f.raw for f in read_n(s, 10))
        return frames, state(server)

    first, second = run(), run()
    assert first == second


def test_routes_without_a_body_take_none_empty_or_an_object_and_refuse_broken_json(mock):
    sid = new_session(mock)["id"]
    before = state(mock)
    for method, path in [("POST", f"/v1/sessions/{sid}/archive"), ("POST", f"/v1/sessions/{sid}/cancel"),
                         ("DELETE", f"/v1/sessions/{sid}"), ("POST", f"/v1/agents/{COORD_AGENT}/archive")]:
        for raw in (b"[1]", b"{", b'"x"'):
            r = mock.request(method, path, raw_body=raw, headers={"Content-Type": "application/json"})
            error_of(r, 400, "invalid_request_error")
        assert state(mock) == before
    assert mock.request("POST", f"/v1/sessions/{sid}/cancel", raw_body=b"").status == 200
    assert mock.request("POST", f"/v1/sessions/{sid}/cancel", raw_body=b"{}",
                        headers={"Content-Type": "application/json"}).status == 200
    assert mock.request("DELETE", f"/v1/sessions/{sid}").status == 200
    # Methods a path does not take are 405 with Allow.
    r = mock.request("PUT", f"/v1/agents/{COORD_AGENT}")
    assert error_of(r, 405, "invalid_request_error") and r.headers["allow"] == "GET, POST"


def test_review_regressions_interrupt_echo_list_filters_final_coordinator_fixture_agents(mock):
    # user.interrupt: the stored event has one session_thread_id, the server's.
    r = send(mock, SEED_SESSION, {"type": "user.interrupt", "session_thread_id": SEED_CHILD})
    assert r.status == 200 and r.text.count('"session_thread_id"') == 1
    r = send(mock, SEED_SESSION, {"type": "user.interrupt", "session_thread_id": None})
    assert r.status == 200 and r.text.count('"session_thread_id"') == 1
    assert r.json()["data"][0]["session_thread_id"] == SEED_COORDINATOR
    # agent_version and created_at filter the session list.
    ids = lambda q: [s["id"] for s in mock.get(f"/v1/sessions?{q}").json()["data"]]  # noqa: E731
    assert ids("agent_version=99") == []
    assert ids("agent_version=1") == [SEED_SESSION]
    assert ids("created_at[gt]=2099-01-01T00:00:00.000Z") == []
    assert ids("created_at[lte]=2026-06-15T08:00:00.000Z") == [SEED_SESSION]
    error_of(mock.get("/v1/sessions?agent_version=x"), 400, "invalid_request_error")
    # A terminated coordinator takes no more turns, and nothing is written.
    mock.set_status(SEED_SESSION, SEED_COORDINATOR, "terminated")
    before = state(mock)
    r = send(mock, SEED_SESSION, {"type": "user.message", "content": "hi"})
    assert "terminated" in error_of(r, 409, "conflict_error")["message"]
    assert state(mock) == before
    # Fixtures refuse what POST /agents refuses.
    for agent, param in [({"id": "agent_0", "name": "", "model": "m"}, "name"),
                         ({"id": "agent_0", "name": "x", "model": ""}, "model")]:
        r = mock.control("PUT", "/state", {"agents": [agent], "sessions": []})
        err = error_of(r, 400, "invalid_request_error")
        assert err["param"] == f"$.agents[0].{param}", err
