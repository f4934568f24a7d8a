"""The control API (/_mock/...) end to end, through the real binary (API.md section 9).

Every capability a test author relies on is driven here over HTTP/SSE: health and
version, reset, state export/import, world building, tokens, the journal and its
long-poll, faults, the clock, reproducible runs, and admin-token protection.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from support.mockserver import (
    error_of,
    SEED_CHILD,
    SEED_COORDINATOR,
    SEED_EVENTS,
    SEED_SESSION,
    MockServer,
    binary_path,
    wait_until,
)
from support.sse import SSEClient, StreamClosed

CHILD_PATH = f"/v1/sessions/{SEED_SESSION}/threads/{SEED_CHILD}"
COORD_AGENT = "agent_019f000000000000000000000000001a"
FROZEN_AT = "2026-06-15T09:00:00.000Z"
FROZEN_MS = 1781514000000  # FROZEN_AT in Unix milliseconds


def id_millis(ident: str) -> int:
    """The 48-bit time field of a UUIDv7-layout id (`prefix_` + 32 hex)."""
    return int(ident.split("_", 1)[1][:12], 16)


def thread_events(mock, session: str, thread: str) -> list[dict]:
    r = mock.get(f"/v1/sessions/{session}/threads/{thread}/events?limit=100")
    assert r.status == 200, r.text
    return r.json()["data"]


# -- health, readiness, version --------------------------------------------------


def test_health_ready_version_and_version_header_everywhere(mock):
    version = mock.control("GET", "/version")
    assert version.status == 200
    v = version.json()
    assert v["name"] == "cloud-agents-mock" and v["version"]
    assert mock.control("GET", "/health").json() == {"status": "ok"}
    ready = mock.control("GET", "/ready")
    assert ready.status == 200 and ready.json()["status"] == "ready"

    responses = [
        version,
        mock.control("GET", "/health"),
        ready,
        mock.control("GET", "/no-such-route"),
        mock.get(f"/v1/sessions/{SEED_SESSION}/threads"),
        mock.get("/api/v1/cloud/sessions/sess_missing"),
        mock.get("/v1/sessions", token=None),
    ]
    for r in responses:
        assert r.headers.get("x-mock-version") == v["version"], r
    with SSEClient(mock.host, mock.port, CHILD_PATH + "/stream") as s:
        assert s.read_head() == 200
        assert s.headers.get("x-mock-version") == v["version"]


def test_control_errors_use_the_api_envelope(mock):
    assert "No control route" in error_of(mock.control("GET", "/nope"), 404, "not_found_error")["message"]
    r = mock.control("DELETE", "/health")
    error_of(r, 405, "invalid_request_error")
    assert r.headers["allow"] == "GET"
    r = mock.control("POST", "/faults", raw_body=b"{not json", headers={"Content-Type": "application/json"})
    assert "not valid JSON" in error_of(r, 400, "invalid_request_error")["message"]
    r = mock.control("POST", "/clock/advance", [1, 2])
    assert "must be a JSON object" in error_of(r, 400, "invalid_request_error")["message"]


def test_unknown_ids_are_404_with_the_api_messages(mock):
    cases = [
        ("POST", "/sessions/sess_nope/threads", {}, "Session 'sess_nope' was not found."),
        ("GET", f"/sessions/sess_nope/threads/{SEED_CHILD}/mailbox", None, "Session 'sess_nope' was not found."),
        ("GET", f"/sessions/{SEED_SESSION}/threads/sthr_nope/mailbox", None,
         "Session thread 'sthr_nope' was not found."),
        ("POST", f"/sessions/{SEED_SESSION}/threads/sthr_nope/events", {"type": "x"},
         "Session thread 'sthr_nope' was not found."),
        ("POST", f"/sessions/{SEED_SESSION}/threads/sthr_nope/status", {"status": "idle"},
         "Session thread 'sthr_nope' was not found."),
        ("DELETE", "/faults/fault_nope", None, "Fault 'fault_nope' was not found."),
        ("DELETE", "/tokens/never-added", None, "Token 'never-added' is not configured."),
    ]
    for method, path, body, message in cases:
        assert error_of(mock.control(method, path, body), 404, "not_found_error")["message"] == message, path


# -- reset ---------------------------------------------------------------------


def test_reset_restores_fixtures_tokens_faults_journal_and_clock(mock):
    before = mock.control("GET", "/state").body
    clock_before = mock.control("GET", "/clock").json()
    assert clock_before["mode"] == "real"

    created = mock.control("POST", "/sessions", {"title": "scratch", "children": [{"status": "idle"}]})
    assert created.status == 201
    mock.append_events(SEED_SESSION, SEED_CHILD, [{"type": "agent.note", "text": "x"}])
    mock.set_status(SEED_SESSION, SEED_CHILD, "idle")
    assert mock.post(CHILD_PATH + "/archive").status == 200
    assert mock.control("POST", "/tokens", {"token": "tok-extra"}).status == 201
    assert mock.control("POST", "/faults", {"path": "/v1/nothing", "status": 500, "times": None}).status == 201
    assert mock.control("POST", "/clock/freeze", {"at": FROZEN_AT}).status == 200
    assert mock.control("GET", "/state").body != before

    r = mock.control("POST", "/reset")
    assert r.status == 200 and r.json() == {"status": "reset", "sessions": 1}
    assert mock.control("GET", "/state").body == before
    assert mock.control("GET", "/tokens").json() == {"tokens": [], "required": False}
    assert mock.control("GET", "/faults").json() == {"data": []}
    assert mock.control("GET", "/journal").json() == {"data": [], "last_seq": 0}
    assert mock.control("GET", "/clock").json()["mode"] == "real"
    child = mock.get(CHILD_PATH).json()
    assert child["status"] == "running" and child["archived_at"] is None


def test_reset_closes_open_streams(mock):
    with SSEClient(mock.host, mock.port, CHILD_PATH + "/stream") as a, \
            SSEClient(mock.host, mock.port, f"/v1/sessions/{SEED_SESSION}/threads/{SEED_COORDINATOR}/events") as b:
        assert [f.id for f in a.events(2)] == SEED_EVENTS
        assert b.read_head() == 200
        wait_until(lambda: mock.stats()["open_streams"] == 2, timeout=5, message="two open streams")
        mock.reset()
        # Both responses end properly (terminating chunk), with nothing more written.
        assert a.read_to_end(timeout=5) == [] and a.ended
        assert b.read_to_end(timeout=5) == [] and b.ended
    assert mock.stats()["open_streams"] == 0


def test_reset_returns_to_the_frozen_clock_of_the_command_line(start_server):
    srv = start_server("--frozen-clock", FROZEN_AT)
    assert srv.control("GET", "/clock").json() == {"now": FROZEN_AT, "mode": "frozen", "offset_ms": 0}
    srv.control("POST", "/clock/advance", {"by": "1h"})
    srv.control("POST", "/clock/resume")
    assert srv.control("GET", "/clock").json()["mode"] == "real"
    srv.reset()
    assert srv.control("GET", "/clock").json() == {"now": FROZEN_AT, "mode": "frozen", "offset_ms": 0}


def test_reset_answers_pending_waits_unmatched(mock):
    out = {}

    def waiter():
        out["r"] = mock.control("GET", "/journal/wait?path=/v1/never&timeout_ms=20000", timeout=30)

    t = threading.Thread(target=waiter)
    t.start()
    wait_until(lambda: mock.stats()["journal_waiters"] == 1, timeout=5, message="wait registered")
    started = time.monotonic()
    mock.reset()
    t.join(timeout=10)
    assert not t.is_alive()
    assert time.monotonic() - started < 5
    assert out["r"].json() == {"matched": False, "entry": None}


# -- state export / import -------------------------------------------------------


def build_rich_world(mock) -> str:
    """A world with every kind of thing the fixture format holds; returns the new session id."""
    s = mock.control("POST", "/sessions", {
        "agent": COORD_AGENT, "title": "rich", "environment_id": "env_x", "metadata": {"k": ["v", 1, None]},
        "children": [{"name": "Worker", "status": "idle"}, {"status": "running", "created_by_tool_use_id": "toolu_w2"}],
    })
    assert s.status == 201, s.text
    sess = s.json()
    sid = sess["id"]
    coord, w1, w2 = (t["id"] for t in sess["threads"])
    mock.append_events(sid, w2, [
        {"type": "agent.thread_message_sent", "content": [{"type": "text", "text": "héllo ✓"}], "extra": {"n": 1.5}},
        {"type": "custom.unknown", "weird": [True, False, None]},
    ])
    mock.set_status(sid, coord, "blocked", waiting_on={"thread_id": w2})
    r = mock.control("POST", f"/sessions/{sid}/threads/{w1}/mailbox", {"content": "pending one"})
    assert r.status == 201
    r = mock.control("POST", f"/sessions/{sid}/threads/{w2}/mailbox", {"content": "done", "status": "delivered"})
    assert r.status == 201
    assert mock.post(f"/v1/sessions/{sid}/threads/{w1}/archive").status == 200
    mock.set_status(SEED_SESSION, SEED_CHILD, "terminated")
    assert mock.control("POST", "/tokens", {"token": "tok-a"}).status == 201
    return sid


def test_export_import_export_is_byte_identical(mock, start_server):
    build_rich_world(mock)
    first = mock.control("GET", "/state")
    assert first.status == 200 and first.headers["content-type"] == "application/json"
    doc = first.json()
    kinds = {t["status"] for s in doc["sessions"] for t in s["threads"]}
    assert {"idle", "running", "blocked", "archived", "terminated"} <= kinds

    put = mock.control("PUT", "/state", raw_body=first.body, headers={"Content-Type": "application/json"})
    assert put.status == 200, put.text
    assert put.json() == {"status": "replaced", "sessions": 2}
    assert mock.control("GET", "/state").body == first.body

    # Into a fresh server too (the exported state is a fixture for the next run).
    other = start_server()
    assert other.control("PUT", "/state", raw_body=first.body).status == 200
    assert other.control("GET", "/state").body == first.body
    # And as a --fixtures file.
    path = Path(other.stderr_file.name).with_suffix(".state.json")
    path.write_bytes(first.body)
    try:
        third = start_server("--fixtures", str(path))
        assert third.control("GET", "/state").body == first.body
    finally:
        path.unlink()
    # The pretty form is the same document.
    assert json.loads(mock.control("GET", "/state?pretty=1").body) == doc


def test_put_state_ends_open_streams_and_serves_the_new_world(mock):
    doc = mock.control("GET", "/state").json()
    doc["sessions"][0]["title"] = "replaced"
    with SSEClient(mock.host, mock.port, CHILD_PATH + "/stream") as s:
        assert len(s.events(2)) == 2
        assert mock.control("PUT", "/state", doc).status == 200
        assert s.read_to_end(timeout=5) == [] and s.ended
    assert mock.get(f"/v1/sessions/{SEED_SESSION}").json()["title"] == "replaced"


def _seed_doc(mock) -> dict:
    return mock.control("GET", "/state").json()


INVALID_STATES = [
    # (mutation on the default fixture's state, JSON path, message fragment)
    (lambda d: d["sessions"][0]["threads"][1].update(role="coordinator", parent_thread_id=None),
     "$.sessions[0].threads[1].role", "a session has at most one coordinator"),
    (lambda d: d["sessions"][0]["threads"][1].__setitem__("role", "coordinator"),
     "$.sessions[0].threads[1].parent_thread_id", "a coordinator has no parent"),
    (lambda d: d["sessions"][0]["threads"][1].__setitem__("status", "sleeping"),
     "$.sessions[0].threads[1].status", "unknown status 'sleeping'"),
    (lambda d: d["sessions"][0]["threads"][1].__setitem__("parent_thread_id", "sthr_ghost"),
     "$.sessions[0].threads[1].parent_thread_id", "'sthr_ghost' is not a thread of session"),
    (lambda d: d["sessions"][0]["threads"][1]["events"][0].__setitem__("id", "event_1"),
     "$.sessions[0].threads[1].events[0].id", "is not a valid id: expected 'evt_'"),
    (lambda d: d["sessions"][0]["threads"][1]["events"][1].__setitem__("id", SEED_EVENTS[0]),
     "$.sessions[0].threads[1].events[1].id", "duplicate id"),
    (lambda d: d["sessions"][0].__setitem__("agent", "agent_ghost"),
     "$.sessions[0].agent", "unknown agent 'agent_ghost'"),
    (lambda d: d["sessions"][0]["threads"][0].__setitem__("status", "blocked"),
     "$.sessions[0].threads[0].waiting_on", "a blocked thread needs"),
    (lambda d: d["sessions"][0]["threads"][1]["events"][0].__setitem__("created_at", "yesterday"),
     "$.sessions[0].threads[1].events[0].created_at", "is not an RFC 3339 timestamp"),
    (lambda d: d.__setitem__("sesions", []), "$.sesions", "unknown field"),
    (lambda d: d.__setitem__("sessions", {}), "$.sessions", "expected an array, got object"),
]


@pytest.mark.parametrize("mutate,path,fragment", INVALID_STATES, ids=[c[1] + ":" + c[2] for c in INVALID_STATES])
def test_invalid_state_is_refused_with_its_json_path_and_changes_nothing(mock, mutate, path, fragment):
    mock.control("POST", "/sessions", {"title": "kept"})  # the world differs from the fixture
    before = mock.control("GET", "/state").body
    doc = json.loads(before)
    mutate(doc)
    r = mock.control("PUT", "/state", doc)
    err = error_of(r, 400, "invalid_request_error")
    assert err["param"] == path
    assert err["message"].startswith(f"Invalid state: {path}: ")
    assert fragment in err["message"]
    assert mock.control("GET", "/state").body == before


def test_invalid_state_message_is_the_fixture_loading_message(mock, tmp_path):
    doc = _seed_doc(mock)
    doc["sessions"][0]["threads"][1].update(role="coordinator", parent_thread_id=None)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    proc = subprocess.run([binary_path(), "--port", "0", "--fixtures", str(bad)],
                          capture_output=True, timeout=30, text=True)
    assert proc.returncode == 2
    assert proc.stdout == ""
    err = error_of(mock.control("PUT", "/state", doc), 400, "invalid_request_error")
    detail = err["message"].removeprefix("Invalid state: ")
    assert f"{bad}: {detail}" in proc.stderr


def test_a_state_that_is_not_json_names_the_line_and_column(mock, tmp_path):
    # The same position as loading that text with --fixtures: line and column (characters, so the
    # two-byte "é" counts once), and the byte offset.
    text = '{\n  "agents": [\n    {"id": "agent_a", "name": "é"\n  ]\n}\n'
    before = mock.control("GET", "/state").body
    r = mock.control("PUT", "/state", raw_body=text.encode(), headers={"Content-Type": "application/json"})
    err = error_of(r, 400, "invalid_request_error")
    where = "expected ',' or '}' at line 4, column 3 (byte 53)"
    assert err["message"] == f"Request body is not valid JSON: {where}."
    assert mock.control("GET", "/state").body == before
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    proc = subprocess.run([binary_path(), "--port", "0", "--fixtures", str(bad)],
                          capture_output=True, timeout=30, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert f"{bad}: $: not valid JSON: {where}" in proc.stderr


def test_put_state_needs_a_document(mock):
    err = error_of(mock.control("PUT", "/state"), 400, "invalid_request_error")
    assert "fixture document" in err["message"]
    err = error_of(mock.control("PUT", "/state", [1]), 400, "invalid_request_error")
    assert err["param"] == "$"


# -- world building --------------------------------------------------------------


def test_create_session_without_threads_then_the_api_makes_the_coordinator(mock):
    r = mock.control("POST", "/sessions", {"coordinator": False, "title": "bare"})
    assert r.status == 201, r.text
    s = r.json()
    assert s["threads"] == [] and s["title"] == "bare" and s["type"] == "session"
    assert s["agent"]["id"] == COORD_AGENT  # the fixture's first agent by default
    listed = mock.get(f"/v1/sessions/{s['id']}/threads").json()["data"]
    assert [t["role"] for t in listed] == ["coordinator"]


def test_create_session_with_children_writes_thread_created_first_on_each_child(mock):
    r = mock.control("POST", "/sessions", {
        "agent": {"type": "agent", "id": COORD_AGENT},
        "children": [{"agent": "agent_019f000000000000000000000000002b", "created_by_tool_use_id": "toolu_1"},
                     {"name": "Second", "status": "idle"}],
    })
    assert r.status == 201, r.text
    s = r.json()
    coord, c1, c2 = s["threads"]
    assert coord["role"] == "coordinator" and coord["parent_thread_id"] is None
    assert (c1["name"], c1["status"], c1["stop_reason"]) == ("Research Agent", "running", {})
    assert (c2["name"], c2["status"], c2["stop_reason"]) == ("Second", "idle", {"type": "end_turn"})
    # API.md section 5: session.thread_created belongs to the new thread, first in its history.
    for child in (c1, c2):
        events = thread_events(mock, s["id"], child["id"])
        created = events[0]
        assert created["type"] == "session.thread_created" and created["session_thread_id"] == child["id"]
        assert created["parent_thread_id"] == coord["id"] and created["role"] == "child"
        assert created["created_by_tool_use_id"] == child["created_by_tool_use_id"]
        assert "session_thread_id_created" not in created
    assert thread_events(mock, s["id"], c1["id"])[0]["created_by_tool_use_id"] == "toolu_1"
    assert thread_events(mock, s["id"], c1["id"])[0]["agent_name"] == "Research Agent"
    # Each child was started by the coordinator's call of the Agent tool, whose own toolu_ id the
    # child's created_by_tool_use_id names; a running child makes the session run, and the
    # coordinator announces it.
    coord_events = thread_events(mock, s["id"], coord["id"])
    assert [e["type"] for e in coord_events] == ["agent.tool_use", "agent.tool_use", "session.status_running"]
    for use, child in zip(coord_events, (c1, c2)):
        assert use["name"] == "Agent" and use["tool_use_id"] == child["created_by_tool_use_id"]
        assert use["tool_use_id"].startswith("toolu_") and use["id"].startswith("evt_")
        assert use["input"]["name"] == child["name"]
    assert mock.get(f"/v1/sessions/{s['id']}").json()["status"] == "running"


def test_create_session_refuses_bad_fields_by_name_and_creates_nothing(mock):
    before = mock.control("GET", "/state").body
    cases = [
        ({"title": 5}, "title", "title must be a string, got number."),
        ({"metadata": []}, "metadata", "metadata must be an object, got array."),
        ({"coordinator": "no"}, "coordinator", "coordinator must be true or false."),
        ({"children": {}}, "children", "children must be an array of thread objects."),
        ({"children": [{}, {"status": "archived"}]}, "children[1].status",
         "children[1].status 'archived' is not a starting status (expected idle, running or blocked)."),
        ({"children": [{}, 7]}, "children[1]", "children[1] must be a thread object, got number."),
        ({"children": [{"nmae": "x"}]}, "children[0].nmae", None),
        ({"titel": "x"}, "titel", None),
        ({"coordinator": False, "children": [{}]}, "coordinator", None),
    ]
    for body, param, message in cases:
        err = error_of(mock.control("POST", "/sessions", body), 400, "invalid_request_error")
        assert err["param"] == param, (body, err)
        if message:
            assert err["message"] == message
    err = error_of(mock.control("POST", "/sessions", {"children": [{"agent": "agent_ghost"}]}), 404, "not_found_error")
    assert "agent_ghost" in err["message"]
    assert mock.control("GET", "/state").body == before


def test_create_child_thread_and_its_event_reach_an_open_session_stream(mock):
    path = f"/v1/sessions/{SEED_SESSION}/events/stream"
    with SSEClient(mock.host, mock.port, path) as s:
        assert s.read_head() == 200
        s.events(2, timeout=5)  # the seed child's two events
        r = mock.control("POST", f"/sessions/{SEED_SESSION}/threads", {"name": "Live child"})
        assert r.status == 201, r.text
        child = r.json()
        assert child["parent_thread_id"] == SEED_COORDINATOR and child["name"] == "Live child"
        use, frame = s.events(2, timeout=5)
        assert use.event == "agent.tool_use" and use.data["session_thread_id"] == SEED_COORDINATOR
        assert use.data["tool_use_id"] == child["created_by_tool_use_id"]
        # The reader of the session stream learns the new thread's id from the event's own thread.
        assert frame.event == "session.thread_created"
        assert frame.data["session_thread_id"] == child["id"]
        assert frame.data["parent_thread_id"] == SEED_COORDINATOR
        assert frame.data["created_by_tool_use_id"] == child["created_by_tool_use_id"]
    assert thread_events(mock, SEED_SESSION, child["id"])[0]["id"] == frame.id
    # Under another child, by parent_thread_id.
    r = mock.control("POST", f"/sessions/{SEED_SESSION}/threads", {"parent_thread_id": SEED_CHILD})
    assert r.status == 201 and r.json()["parent_thread_id"] == SEED_CHILD
    grandchild = thread_events(mock, SEED_SESSION, r.json()["id"])
    assert [e["type"] for e in grandchild] == ["session.thread_created"]
    assert grandchild[0]["parent_thread_id"] == SEED_CHILD
    err = error_of(mock.control("POST", f"/sessions/{SEED_SESSION}/threads", {"parent_thread_id": "sthr_x"}),
                   400, "invalid_request_error")
    assert err["param"] == "parent_thread_id"


def test_append_events_are_stored_and_streamed_at_once(mock):
    with SSEClient(mock.host, mock.port, CHILD_PATH + "/stream") as s:
        s.events(2)
        stored = mock.append_events(SEED_SESSION, SEED_CHILD, [
            {"type": "agent.message", "content": "one"},
            {"id": "evt_custom0001", "type": "agent.message", "content": [{"type": "text", "text": "two"}]},
        ])
        assert stored[1]["id"] == "evt_custom0001"
        for e in stored:
            assert e["session_id"] == SEED_SESSION and e["session_thread_id"] == SEED_CHILD
            assert e["schema_version"] == "1.0" and e["created_at"] == e["processed_at"]
        assert [f.id for f in s.events(2, timeout=5)] == [e["id"] for e in stored]
    # One object, or a bare array, work too; a bad batch writes nothing.
    r = mock.control("POST", f"/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/events", {"type": "single"})
    assert r.status == 201 and len(r.json()["data"]) == 1
    count = len(thread_events(mock, SEED_SESSION, SEED_CHILD))
    r = mock.control("POST", f"/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/events", [{"type": "ok"}, {"type": ""}])
    assert error_of(r, 400, "invalid_request_error")["param"] == "events[1].type"
    assert len(thread_events(mock, SEED_SESSION, SEED_CHILD)) == count


def test_set_status_writes_the_matching_events(mock):
    idle = mock.set_status(SEED_SESSION, SEED_CHILD, "idle")
    assert idle["status"] == "idle" and idle["stop_reason"] == {"type": "end_turn"}
    blocked = mock.set_status(SEED_SESSION, SEED_COORDINATOR, "blocked",
                              waiting_on={"thread_id": SEED_CHILD, "tool_use_id": "toolu_wait"})
    assert blocked["status"] == "blocked"
    assert mock.get(f"/v1/sessions/{SEED_SESSION}").json()["status"] == "running"
    last = thread_events(mock, SEED_SESSION, SEED_CHILD)[-1]
    assert (last["type"], last["status"], last["stop_reason"]) == (
        "session.thread_status_idle", "idle", {"type": "end_turn"})
    # The session's derived status followed: idle when the child stopped, running when the
    # coordinator started to wait; each change is announced on the coordinator.
    coord = thread_events(mock, SEED_SESSION, SEED_COORDINATOR)
    assert [e["type"] for e in coord] == [
        "session.status_idle", "session.thread_status_blocked", "session.status_running"]
    assert coord[0]["stop_reason"] == {"type": "end_turn"}
    assert coord[1]["waiting_on"] == {"session_thread_id": SEED_CHILD, "tool_use_id": "toolu_wait"}
    # Archiving the child unblocks the coordinator with the cancelled tool result.
    assert mock.post(CHILD_PATH + "/archive").status == 200
    types = [e["type"] for e in thread_events(mock, SEED_SESSION, SEED_COORDINATOR)[-2:]]
    assert types == ["agent.tool_result", "session.thread_status_running"]


def test_set_status_validation_names_the_field(mock):
    base = f"/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/status"
    cases = [
        ({"status": "sleeping"}, 400, "status"),
        ({}, 400, "status"),
        ({"status": "archived"}, 400, "status"),
        ({"status": "blocked"}, 400, "waiting_on"),
        ({"status": "blocked", "waiting_on": {"thread_id": "sthr_nope"}}, 400, "waiting_on.thread_id"),
        ({"status": "blocked", "waiting_on": {"thread_id": SEED_CHILD}}, 400, "waiting_on.thread_id"),
        ({"status": "idle", "waiting_on": {"thread_id": SEED_COORDINATOR}}, 400, "waiting_on"),
        ({"status": "idle", "stop_reason": "done"}, 400, "stop_reason"),
    ]
    for body, status, param in cases:
        err = error_of(mock.control("POST", base, body), status, "invalid_request_error")
        assert err["param"] == param, (body, err)
    assert "sleeping" in error_of(mock.control("POST", base, {"status": "sleeping"}), 400,
                                  "invalid_request_error")["message"]
    mock.set_status(SEED_SESSION, SEED_CHILD, "terminated")
    err = error_of(mock.control("POST", base, {"status": "running"}), 409, "invalid_request_error")
    assert "final" in err["message"]


def test_mailbox_put_read_and_archive_cancels_pending(mock):
    base = f"/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/mailbox"
    r = mock.control("POST", base, {"content": [{"type": "text", "text": "next task"}]})
    assert r.status == 201, r.text
    msg = r.json()
    assert msg["from_thread_id"] == SEED_COORDINATOR and msg["to_thread_id"] == SEED_CHILD
    assert msg["status"] == "pending" and msg["id"].startswith("msg_")
    box = mock.control("GET", base).json()["data"]
    assert [m["status"] for m in box] == ["delivered", "pending"]
    assert error_of(mock.control("POST", base, {}), 400, "invalid_request_error")["param"] == "content"
    assert error_of(mock.control("POST", base, {"content": "x", "status": "lost"}), 400,
                    "invalid_request_error")["param"] == "status"
    assert error_of(mock.control("POST", base, {"content": "x", "from_thread_id": "sthr_zz"}), 400,
                    "invalid_request_error")["param"] == "from_thread_id"
    mock.set_status(SEED_SESSION, SEED_CHILD, "idle")
    assert mock.post(CHILD_PATH + "/archive").status == 200
    assert [m["status"] for m in mock.control("GET", base).json()["data"]] == ["delivered", "cancelled"]


# -- tokens ------------------------------------------------------------------------


def test_tokens_added_and_revoked_at_run_time(start_server):
    srv = start_server("--token", "tok-a")
    assert srv.control("GET", "/tokens").json() == {"tokens": ["tok-a"], "required": True}
    assert srv.get("/v1/sessions", token="tok-a").status == 200
    error_of(srv.get("/v1/sessions", token="tok-b"), 401, "authentication_error")

    r = srv.control("POST", "/tokens", {"token": "tok-b"})
    assert r.status == 201 and r.json()["tokens"] == ["tok-a", "tok-b"]
    assert srv.get("/v1/sessions", token="tok-b").status == 200

    assert srv.control("DELETE", "/tokens/tok-a").status == 200
    err = error_of(srv.get("/api/v1/cloud/sessions", token="tok-a"), 401, "authentication_error")
    assert "revoked" in err["message"]
    assert srv.get("/v1/sessions", token="tok-b").status == 200

    # Revoking the last token locks the API; it does not open it to everyone.
    assert srv.control("DELETE", "/tokens/tok-b").status == 200
    assert srv.control("GET", "/tokens").json() == {"tokens": [], "required": True}
    error_of(srv.get("/v1/sessions", token="tok-b"), 401, "authentication_error")
    error_of(srv.get("/v1/sessions", token="anything"), 401, "authentication_error")
    assert error_of(srv.control("POST", "/tokens", {"token": " "}), 400, "invalid_request_error")["param"] == "token"
    # Reset brings back the command line's token.
    srv.reset()
    assert srv.get("/v1/sessions", token="tok-a").status == 200


def test_a_revoked_token_gets_401_on_a_stream_too(mock):
    mock.control("POST", "/tokens", {"token": "tok-s"})
    with SSEClient(mock.host, mock.port, CHILD_PATH + "/stream", token="tok-s") as s:
        assert s.read_head() == 200
    mock.control("DELETE", "/tokens/tok-s")
    with SSEClient(mock.host, mock.port, CHILD_PATH + "/stream", token="tok-s") as s:
        assert s.read_head() == 401
        assert json.loads(s.error_body)["error"]["type"] == "authentication_error"


# -- journal -----------------------------------------------------------------------


def test_journal_records_requests_with_their_details(mock):
    r = mock.request("POST", "/api/v1/cloud/sessions?x=1&tag%5B%5D=a", body={"agent": COORD_AGENT},
                     headers={"X-Request-Id": "req_mine", "X-Custom": "yes"})
    assert r.status == 200
    mock.get("/v1/sessions/sess_missing")
    mock.control("GET", "/health")  # control calls are not journaled

    j = mock.control("GET", "/journal").json()
    assert j["last_seq"] == 2
    first, second = j["data"]
    assert first["seq"] == 1 and first["request_id"] == "req_mine"
    assert first["method"] == "POST" and first["path"] == "/api/v1/cloud/sessions"
    assert first["query_string"] == "x=1&tag%5B%5D=a"
    assert first["query"] == [["x", "1"], ["tag[]", "a"]]
    headers = {k.lower(): v for k, v in first["headers"]}
    # Credentials are not kept: the scheme, and the last four characters of a long secret.
    assert headers["x-custom"] == "yes" and headers["authorization"] == "Bearer [redacted]"
    assert first["body"] == {"agent": COORD_AGENT}
    assert first["status"] == 200
    assert second["status"] == 404 and second["request_id"].startswith("req_")
    assert second["request_id"] != first["request_id"]


def test_journal_filters_by_method_path_glob_since_and_limit(mock):
    mock.get("/v1/sessions")
    mock.get(f"/api/v1/cloud/sessions/{SEED_SESSION}/threads")
    mock.post(CHILD_PATH + "/archive")
    mock.get(f"/v1/sessions/{SEED_SESSION}/threads/")

    def paths(query: str) -> list[str]:
        r = mock.control("GET", "/journal" + query)
        assert r.status == 200, r.text
        return [e["path"] for e in r.json()["data"]]

    assert len(paths("")) == 4
    assert paths("?method=post") == [CHILD_PATH + "/archive"]
    # A /v1 pattern matches both prefixes and a trailing slash.
    assert paths("?path=/v1/sessions/*/threads") == [
        f"/api/v1/cloud/sessions/{SEED_SESSION}/threads", f"/v1/sessions/{SEED_SESSION}/threads/"]
    assert paths("?path=/api/v1/cloud/sessions/*/threads") == paths("?path=/v1/sessions/*/threads")
    assert paths("?path=/v1/sessions") == ["/v1/sessions"]
    assert paths("?since=2") == [CHILD_PATH + "/archive", f"/v1/sessions/{SEED_SESSION}/threads/"]
    assert paths("?limit=1") == [f"/v1/sessions/{SEED_SESSION}/threads/"]
    assert paths("?method=GET&since=1&limit=5") == [
        f"/api/v1/cloud/sessions/{SEED_SESSION}/threads", f"/v1/sessions/{SEED_SESSION}/threads/"]
    for bad, param in [("?limit=0", "limit"), ("?limit=x", "limit"), ("?since=-1", "since"), ("?since=5", "since")]:
        assert error_of(mock.control("GET", "/journal" + bad), 400, "invalid_request_error")["param"] == param

    r = mock.control("DELETE", "/journal")
    assert r.status == 200 and r.json()["last_seq"] == 4
    assert paths("") == []
    mock.get("/v1/sessions")
    assert [e["seq"] for e in mock.control("GET", "/journal").json()["data"]] == [5]


def test_journal_is_bounded_by_journal_limit(start_server):
    srv = start_server("--journal-limit", "3")
    for i in range(7):
        srv.get(f"/v1/sessions?limit={i + 1}")
    j = srv.control("GET", "/journal").json()
    assert [e["seq"] for e in j["data"]] == [5, 6, 7] and j["last_seq"] == 7
    assert srv.stats()["journal_entries"] == 3


def test_journal_bodies_are_cut_and_the_journal_is_bounded_in_bytes(start_server):
    srv = start_server("--journal-body-bytes", "1024", "--journal-max-bytes", "20000", "--max-body-bytes", "4096")
    session = srv.control("POST", "/sessions", {}).json()["id"]
    long_text = "x" * 2950
    r = srv.post(f"/v1/sessions/{session}/events", {"events": [{"type": "user.message", "content": long_text}]})
    assert r.status == 200, r.text
    small = srv.post("/v1/agents", {"name": "small", "model": "m"})
    refused = srv.request("POST", "/v1/agents", raw_body=b'{"name": "' + b"y" * 6000 + b'"}',
                          headers={"Content-Type": "application/json"})
    assert refused.status == 413
    entries = srv.control("GET", "/journal").json()["data"]
    cut, whole, too_big = entries
    sent = json.dumps({"events": [{"type": "user.message", "content": long_text}]})
    assert cut["body_truncated"] is True and cut["body_bytes"] == len(sent)
    assert cut["body"] == sent[:1024]
    assert whole["body_truncated"] is False and whole["body"] == {"name": "small", "model": "m"}
    assert whole["body_bytes"] == len(json.dumps({"name": "small", "model": "m"})) and whole["status"] == small.status
    assert too_big["status"] == 413 and too_big["body_truncated"] is True and too_big["body_bytes"] == 6012
    assert too_big["body"] == '{"name": "' + "y" * 1014
    # Past the byte budget the oldest entries go; the newest stay, in order, and the counter agrees.
    for i in range(40):
        srv.post(f"/v1/sessions/{session}/events?i={i}", {"events": [{"type": "user.message", "content": long_text}]})
    journal = srv.control("GET", "/journal").json()
    seqs = [e["seq"] for e in journal["data"]]
    assert journal["last_seq"] == 43 and seqs == list(range(seqs[0], 44)) and 5 <= len(seqs) < 20, seqs
    stats = srv.stats()
    assert stats["journal_entries"] == len(seqs) and 0 < stats["journal_bytes"] <= 20000


@pytest.mark.measures_memory
def test_refused_large_bodies_do_not_pile_up_in_memory(start_server):
    """Issue 12 finding 6: the journal kept whole bodies, also of 413s (1,000 of 7.9 MB reached
    7.56 GB). With the defaults (bodies cut at 64 KiB, 16 MiB in all) 200 bodies of 2 MiB keep
    their first 64 KiB each."""
    srv = start_server()
    before = srv.rss_kib()
    body = b'{"name": "' + b"z" * (2 << 20) + b'"}'
    for _ in range(200):
        r = srv.request("POST", "/v1/agents", raw_body=body, headers={"Content-Type": "application/json"})
        assert r.status == 413
    grown_mib = (srv.rss_kib() - before) / 1024
    assert grown_mib < 96, f"resident memory grew by {grown_mib:.0f} MiB for 400 MiB of refused bodies"
    stats = srv.stats()
    assert stats["journal_entries"] == 200 and 200 * (64 << 10) < stats["journal_bytes"] <= 16 << 20


def test_abandoned_long_polls_free_their_connection_and_waiter(start_server):
    """Issue 12 finding 4: 5,000 long-polls whose clients had gone kept 5,008 descriptors and
    their waiters until the timeout. A hang-up now frees both at once."""
    import socket

    srv = start_server()
    baseline = srv.open_fds()
    request = (
        b"GET /_mock/journal/wait?path=/never&timeout_ms=600000 HTTP/1.1\r\n"
        b"Host: mock\r\n\r\n"
    )
    clients = []
    for _ in range(300):
        c = socket.create_connection((srv.host, srv.port), timeout=10)
        c.sendall(request)
        clients.append(c)
    wait_until(lambda: srv.stats()["journal_waiters"] == 300, timeout=20, message="300 waits registered")
    assert srv.open_fds() >= baseline + 300
    for c in clients[:200]:
        c.close()
    wait_until(lambda: srv.stats()["journal_waiters"] == 100, timeout=20, message="the closed waits let go")
    wait_until(lambda: srv.open_fds() <= baseline + 100 + 2, timeout=20, message="their descriptors closed")
    # The others still wait and are answered as usual.
    srv.get("/never")
    for c in clients[200:]:
        head = c.recv(65536)
        assert head.startswith(b"HTTP/1.1 200"), head[:200]
        c.close()
    wait_until(lambda: srv.stats()["journal_waiters"] == 0, timeout=20, message="all answered")


def test_a_delay_fault_whose_client_leaves_is_dropped(start_server):
    import socket

    srv = start_server()
    srv.control("POST", "/faults", {"path": "/v1/agents", "delay_ms": 600000})
    c = socket.create_connection((srv.host, srv.port), timeout=10)
    c.sendall(b"GET /v1/agents HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer t\r\n\r\n")
    wait_until(lambda: srv.stats()["journal_entries"] == 1, timeout=10, message="request received")
    baseline = srv.open_fds()
    c.close()
    # The journal says the client left before the answer, as nginx does: 499 (an entry shows
    # once it has a status; without the hang-up it would have none for ten minutes).
    entries = wait_until(lambda: srv.control("GET", "/journal").json()["data"], timeout=10, message="the entry ends")
    assert entries[0]["path"] == "/v1/agents" and entries[0]["status"] == 499
    wait_until(lambda: srv.open_fds() <= baseline - 1, timeout=10, message="the delayed request's connection closed")


def test_wait_returns_at_once_when_another_thread_makes_the_request(mock):
    since = mock.control("GET", "/journal").json()["last_seq"]

    def client():
        wait_until(lambda: mock.stats()["journal_waiters"] == 1, timeout=5, message="wait registered")
        mock.get(f"/api/v1/cloud/sessions/{SEED_SESSION}/threads?limit=5")

    t = threading.Thread(target=client)
    started = time.monotonic()
    t.start()
    r = mock.control("GET", f"/journal/wait?method=GET&path=/v1/sessions/*/threads&since={since}&timeout_ms=15000",
                     timeout=30)
    elapsed = time.monotonic() - started
    t.join(timeout=10)
    assert r.status == 200, r.text
    body = r.json()
    assert body["matched"] is True
    assert body["entry"]["path"] == f"/api/v1/cloud/sessions/{SEED_SESSION}/threads"
    assert body["entry"]["status"] == 200 and body["entry"]["seq"] > since
    assert elapsed < 5, elapsed  # not the 15 s timeout
    assert mock.stats()["journal_waiters"] == 0


def test_wait_not_satisfied_returns_at_its_timeout(mock):
    mock.get("/v1/sessions")  # does not match
    started = time.monotonic()
    r = mock.control("GET", "/journal/wait?path=/v1/sessions/*/threads&timeout_ms=400", timeout=10)
    elapsed = time.monotonic() - started
    assert r.status == 200 and r.json() == {"matched": False, "entry": None}
    assert 0.39 <= elapsed < 3, elapsed
    assert mock.stats()["journal_waiters"] == 0


def test_wait_sees_a_request_that_already_arrived_unless_since_excludes_it(mock):
    mock.post(CHILD_PATH + "/archive")
    last = mock.control("GET", "/journal").json()["last_seq"]
    started = time.monotonic()
    r = mock.control("GET", "/journal/wait?method=POST&path=/v1/sessions/*/archive&timeout_ms=10000")
    assert time.monotonic() - started < 3
    assert r.json()["matched"] is True and r.json()["entry"]["status"] == 409
    r = mock.control("GET", f"/journal/wait?method=POST&path=/v1/sessions/*/archive&since={last}&timeout_ms=200")
    assert r.json()["matched"] is False
    err = error_of(mock.control("GET", "/journal/wait?timeout_ms=soon"), 400, "invalid_request_error")
    assert err["param"] == "timeout_ms"


# -- faults ------------------------------------------------------------------------


def add_fault(mock, **fault) -> dict:
    r = mock.control("POST", "/faults", fault)
    assert r.status == 201, r.text
    return r.json()


def test_status_fault_is_seen_exactly_n_times_with_envelope_and_retry_after(mock):
    fault = add_fault(mock, method="GET", path="/v1/sessions/*/threads", times=3, status=429, retry_after=7,
                      message="Slow down.")
    assert fault["remaining"] == 3 and fault["error_type"] is None
    paths = [f"/v1/sessions/{SEED_SESSION}/threads", f"/api/v1/cloud/sessions/{SEED_SESSION}/threads",
             f"/v1/sessions/{SEED_SESSION}/threads/", f"/v1/sessions/{SEED_SESSION}/threads"]
    # Other methods and paths do not use it up.
    assert mock.get(f"/v1/sessions/{SEED_SESSION}").status == 200
    assert mock.post(f"/v1/sessions/{SEED_SESSION}/threads").status == 405
    results = [mock.get(p) for p in paths]
    for r in results[:3]:
        err = error_of(r, 429, "rate_limit_error")
        assert err["message"] == "Slow down."
        assert r.headers["retry-after"] == "7" and r.headers["retry-after-ms"] == "7000"
    assert results[3].status == 200 and "retry-after" not in results[3].headers
    assert mock.control("GET", "/faults").json() == {"data": []}
    # The journal records what the client saw.
    statuses = [e["status"] for e in mock.control("GET", "/journal?method=GET&path=/v1/sessions/*/threads").json()["data"]]
    assert statuses == [429, 429, 429, 200]


def test_status_fault_error_type_and_default_message(mock):
    add_fault(mock, path="/v1/sessions", status=529, error_type="overloaded_error")
    err = error_of(mock.get("/v1/sessions"), 529, "overloaded_error")
    assert err["message"].startswith("Injected fault")
    add_fault(mock, path="/v1/sessions", status=503)
    r = mock.get("/v1/sessions")
    error_of(r, 503, "api_error")
    assert "retry-after" not in r.headers


def test_delay_fault_is_seen_exactly_n_times(mock):
    # Wide margins: the delayed calls take at least 1.2 s, the undelayed one far less
    # even on a loaded machine.
    add_fault(mock, path="/v1/sessions/*", times=2, delay_ms=1200)
    timings = []
    for _ in range(3):
        started = time.monotonic()
        r = mock.get(f"/v1/sessions/{SEED_SESSION}")
        timings.append(time.monotonic() - started)
        assert r.status == 200 and r.json()["id"] == SEED_SESSION
    assert timings[0] >= 1.19 and timings[1] >= 1.19, timings
    assert timings[2] < 1.0, timings


def test_delay_with_status_and_a_slow_request_does_not_block_others(mock):
    add_fault(mock, path="/v1/sessions", delay_ms=2000, status=500)
    out = {}

    def slow():
        out["r"] = mock.get("/v1/sessions")

    t = threading.Thread(target=slow)
    started = time.monotonic()
    t.start()
    wait_until(lambda: mock.control("GET", "/faults").json()["data"] == [], timeout=5, message="fault taken")
    fast = mock.get(f"/v1/sessions/{SEED_SESSION}")
    assert fast.status == 200 and time.monotonic() - started < 1.5
    t.join(timeout=10)
    error_of(out["r"], 500, "api_error")
    assert time.monotonic() - started >= 1.99


def test_drop_after_frames_fault_cuts_exactly_n_streams(mock):
    add_fault(mock, path="/v1/sessions/*/threads/*/*", times=2, drop_after_frames=1)
    # A plain JSON list on a matching path cannot stream, so it does not use the fault up.
    assert mock.get(CHILD_PATH + "/events").status == 200
    assert mock.control("GET", "/faults").json()["data"][0]["remaining"] == 2
    for path, headers in [(CHILD_PATH + "/stream", {}),
                          (f"/api/v1/cloud/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/events", {})]:
        with SSEClient(mock.host, mock.port, path, headers=headers) as s:
            assert s.read_head() == 200
            frames = s.read_to_end(timeout=5)
            assert [f.id for f in frames] == SEED_EVENTS[:1]
            assert s.eof and not s.ended  # cut, not ended with the terminating chunk
    assert mock.control("GET", "/faults").json() == {"data": []}
    # The next stream is whole and stays open for live events.
    with SSEClient(mock.host, mock.port, CHILD_PATH + "/stream") as s:
        assert [f.id for f in s.events(2)] == SEED_EVENTS
        stored = mock.append_events(SEED_SESSION, SEED_CHILD, [{"type": "agent.message"}])
        assert s.events(1, timeout=5)[0].id == stored[0]["id"]


def test_drop_counts_live_frames_too(mock):
    add_fault(mock, path="/v1/sessions/*/threads/*/stream", drop_after_frames=3)
    with SSEClient(mock.host, mock.port, CHILD_PATH + "/stream") as s:
        assert [f.id for f in s.events(2)] == SEED_EVENTS
        stored = mock.append_events(SEED_SESSION, SEED_CHILD, [{"type": "a"}, {"type": "b"}])
        frames = s.read_to_end(timeout=5)
        assert [f.id for f in frames] == [stored[0]["id"]]
        assert s.eof and not s.ended


def test_fault_until_removed_list_delete_and_clear(mock):
    f1 = add_fault(mock, path="/v1/sessions", status=500, times=None)
    f2 = add_fault(mock, method="post", path="/v1/sessions", status=400)
    assert f2["method"] == "POST"
    for _ in range(3):
        error_of(mock.get("/v1/sessions"), 500, "api_error")
    listed = {f["id"]: f for f in mock.control("GET", "/faults").json()["data"]}
    assert listed[f1["id"]]["hits"] == 3 and listed[f1["id"]]["remaining"] is None
    assert listed[f2["id"]]["hits"] == 0
    r = mock.control("DELETE", f"/faults/{f1['id']}")
    assert r.status == 200 and [f["id"] for f in r.json()["data"]] == [f2["id"]]
    assert mock.get("/v1/sessions").status == 200
    add_fault(mock, path="/v1/*", status=503, times=None)
    assert mock.control("DELETE", "/faults").json() == {"data": []}
    assert mock.get("/v1/sessions").status == 200
    assert mock.post("/v1/sessions", {"agent": COORD_AGENT}).status == 200


def test_fault_validation_names_the_field(mock):
    cases = [
        ({"status": 500}, "path"),
        ({"path": "v1/sessions", "status": 500}, "path"),
        ({"path": "/v1/x"}, "status"),
        ({"path": "/v1/x", "status": 200}, "status"),
        ({"path": "/v1/x", "status": 500, "times": 0}, "times"),
        ({"path": "/v1/x", "status": 500, "times": "twice"}, "times"),
        ({"path": "/v1/x", "delay_ms": -1}, "delay_ms"),
        ({"path": "/v1/x", "drop_after_frames": 0}, "drop_after_frames"),
        ({"path": "/v1/x", "status": 500, "drop_after_frames": 2}, "drop_after_frames"),
        ({"path": "/v1/x", "delay_ms": 5, "retry_after": 3}, "retry_after"),
        ({"path": "/v1/x", "status": 500, "retry_after": "soon"}, "retry_after"),
        ({"path": "/v1/x", "status": 500, "method": 5}, "method"),
        ({"path": "/v1/x", "status": 500, "time": 3}, "time"),
    ]
    for body, param in cases:
        err = error_of(mock.control("POST", "/faults", body), 400, "invalid_request_error")
        assert err["param"] == param, (body, err)
    assert mock.control("GET", "/faults").json() == {"data": []}


# -- clock ---------------------------------------------------------------------------


def test_clock_freeze_advance_resume_drive_times_and_id_bits(mock):
    r = mock.control("POST", "/clock/freeze", {"at": FROZEN_AT})
    assert r.json() == {"now": FROZEN_AT, "mode": "frozen", "offset_ms": 0}
    s1 = mock.post("/v1/sessions", {"agent": COORD_AGENT}).json()
    assert s1["created_at"] == s1["updated_at"] == FROZEN_AT
    assert id_millis(s1["id"]) == FROZEN_MS

    assert mock.control("POST", "/clock/advance", {"by": "30s"}).json()["now"] == "2026-06-15T09:00:30.000Z"
    threads = mock.get(f"/v1/sessions/{s1['id']}/threads").json()["data"]
    assert threads[0]["created_at"] == "2026-06-15T09:00:30.000Z"
    assert id_millis(threads[0]["id"]) == FROZEN_MS + 30_000

    assert mock.control("POST", "/clock/advance", {"ms": 1500}).json()["now"] == "2026-06-15T09:00:31.500Z"
    ev = mock.append_events(SEED_SESSION, SEED_CHILD, [{"type": "tick"}])[0]
    assert ev["created_at"] == ev["processed_at"] == "2026-06-15T09:00:31.500Z"
    assert id_millis(ev["id"]) == FROZEN_MS + 31_500
    mock.set_status(SEED_SESSION, SEED_CHILD, "idle")
    mock.control("POST", "/clock/advance", {"by": "2m"})
    archived = mock.post(CHILD_PATH + "/archive").json()
    assert archived["archived_at"] == archived["updated_at"] == "2026-06-15T09:02:31.500Z"

    resumed = mock.control("POST", "/clock/resume").json()
    assert resumed["mode"] == "real"
    # A running clock advanced keeps running, ahead.
    ahead = mock.control("POST", "/clock/advance", {"by": "1d"}).json()
    assert ahead["mode"] == "offset" and ahead["offset_ms"] == 86_400_000


def test_clock_validation(mock):
    for path, body, param in [
        ("/clock/freeze", {"at": "tomorrow"}, "at"),
        ("/clock/advance", {}, "ms"),
        ("/clock/advance", {"ms": -5}, "ms"),
        ("/clock/advance", {"by": "30 seconds"}, "by"),
    ]:
        assert error_of(mock.control("POST", path, body), 400, "invalid_request_error")["param"] == param


# -- reproducible runs ---------------------------------------------------------------


def scripted_run(srv) -> list[tuple[int, str, bytes]]:
    """A fixed sequence of API and control calls; returns (status, request id, raw body) of each.

    Ids in later calls come from earlier answers, so the script follows the run's
    own ids. The Host header is fixed because the journal records it.
    """
    out = []

    def call(method, path, body=None, control=False, **kw):
        headers = {"Host": "mock.test"}
        if control:
            r = srv.control(method, path, body, headers=headers, **kw)
        else:
            r = srv.request(method, path, body=body, headers=headers, **kw)
        out.append((r.status, r.headers["x-request-id"], r.body))
        return r

    sess = call("POST", "/v1/sessions", {"agent": COORD_AGENT, "title": "repro", "metadata": {"n": "1"}}).json()
    sid = sess["id"]
    coord = call("GET", f"/v1/sessions/{sid}/threads").json()["data"][0]["id"]
    child = call("POST", f"/sessions/{sid}/threads", {"name": "Worker", "status": "running"}, control=True).json()["id"]
    call("POST", f"/sessions/{sid}/threads/{child}/events",
         {"events": [{"type": "agent.thread_message_sent", "content": "go"}, {"type": "agent.message"}]}, control=True)
    call("POST", f"/sessions/{sid}/threads/{coord}/status", {"status": "blocked", "waiting_on": {"thread_id": child}},
         control=True)
    call("POST", f"/sessions/{sid}/threads/{child}/mailbox", {"content": "queued"}, control=True)
    call("POST", "/clock/advance", {"by": "90s"}, control=True)
    call("POST", f"/v1/sessions/{sid}/threads/{child}/archive")  # 409: still running
    call("POST", f"/sessions/{sid}/threads/{child}/status", {"status": "idle"}, control=True)
    call("POST", f"/api/v1/cloud/sessions/{sid}/threads/{child}/archive", {})
    call("GET", f"/v1/sessions/{sid}/threads/{coord}/events")
    call("GET", f"/v1/sessions/{sid}/threads/{child}/events?order=desc&limit=2")
    call("GET", f"/v1/sessions/{sid}/threads?statuses[]=archived")
    call("GET", "/v1/sessions")
    call("GET", f"/v1/sessions/{sid}")
    call("GET", "/v1/sessions/sess_missing")
    call("POST", "/faults", {"path": "/v1/sessions", "status": 503, "retry_after": 1}, control=True)
    call("GET", "/v1/sessions")
    call("GET", "/journal", control=True)
    call("GET", "/state", control=True)
    return out


def test_frozen_clock_and_seed_give_byte_identical_runs(start_server):
    flags = ("--seed", "42", "--frozen-clock", FROZEN_AT)
    first = scripted_run(start_server(*flags))
    second_server = start_server(*flags)
    second = scripted_run(second_server)
    assert len(first) == len(second)
    for i, (a, b) in enumerate(zip(first, second)):
        assert a == b, f"call {i} differs:\n{a}\n{b}"
    # The run really made things (not a trivially equal sequence of errors).
    assert [s for s, _, _ in first[:3]] == [200, 200, 201]
    assert first[9][0] == 200 and first[7][0] == 409
    # After a reset the same script gives the same bytes again.
    second_server.reset()
    assert scripted_run(second_server) == first
    # Another seed gives other ids.
    third = scripted_run(start_server("--seed", "43", "--frozen-clock", FROZEN_AT))
    assert third[0][2] != first[0][2]


# -- admin token ---------------------------------------------------------------------


@pytest.mark.parametrize("how", ["flag", "env"])
def test_admin_token_protects_the_control_api(start_server, how):
    if how == "flag":
        srv = start_server("--admin-token", "adm-secret", "--token", "api-token")
    else:
        srv = start_server("--token", "api-token", env={"CLOUD_AGENTS_MOCK_ADMIN_TOKEN": "adm-secret"})
    for headers in [{}, {"X-Mock-Admin-Token": "wrong"}, {"Authorization": "Bearer api-token"},
                    {"Authorization": "Basic adm-secret"}]:
        for method, path in [("GET", "/version"), ("POST", "/reset"), ("GET", "/state"), ("GET", "/nope"),
                             ("POST", "/health")]:
            err = error_of(srv.control(method, path, headers=headers), 401, "authentication_error")
            assert "admin token" in err["message"]
        # Probes stay open, so a container health check needs no secret.
        assert srv.control("GET", "/health", headers=headers).status == 200
        assert srv.control("GET", "/ready", headers=headers).status == 200
    assert srv.control("GET", "/version", headers={"X-Mock-Admin-Token": "adm-secret"}).status == 200
    assert srv.control("GET", "/state", headers={"Authorization": "Bearer adm-secret"}).status == 200
    assert srv.control("POST", "/reset", headers={"authorization": "bearer adm-secret"}).status == 200
    # The API keeps its own tokens; the admin token is not one of them.
    assert srv.get("/v1/sessions", token="api-token").status == 200
    error_of(srv.get("/v1/sessions", token="adm-secret"), 401, "authentication_error")


def test_no_admin_token_means_an_open_control_api(mock):
    assert mock.control("GET", "/health").status == 200
    assert mock.control("GET", "/health", headers={"Authorization": "Bearer whatever"}).status == 200


# -- hostile input ---------------------------------------------------------------------


@pytest.mark.parametrize("bad_type", ["x\nid: evt_forged\nevent: session.thread_status_terminated", "a\rb", "has space", "", "t" * 129])
def test_an_event_type_that_could_forge_stream_frames_is_refused(mock, bad_type):
    # A type lands on an SSE `event:` line; with a line break in it, one appended event used
    # to reach readers as two, the second never written.
    with SSEClient(mock.host, mock.port, CHILD_PATH + "/stream") as s:
        s.events(len(SEED_EVENTS))
        r = mock.control("POST", f"/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/events",
                         {"events": [{"type": bad_type}]})
        err = error_of(r, 400, "invalid_request_error")
        assert "type" in err["message"], err
        marker = mock.append_events(SEED_SESSION, SEED_CHILD, [{"type": "agent.message"}])[0]
        frame = s.events(1)[0]
        assert (frame.id, frame.event) == (marker["id"], "agent.message")
    assert [e["id"] for e in thread_events(mock, SEED_SESSION, SEED_CHILD)] == SEED_EVENTS + [marker["id"]]


def test_a_fixture_event_type_with_a_line_break_is_refused_at_start(tmp_path):
    doc = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "default.json").read_text())
    doc["sessions"][0]["threads"][1]["events"][0]["type"] = "agent.message\nid: evt_forged"
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(doc))
    done = subprocess.run([binary_path(), "--port", "0", "--fixtures", str(path)], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 2
    assert "$.sessions[0].threads[1].events[0].type" in done.stderr, done.stderr


@pytest.mark.parametrize("final", ["archive", "terminated"])
def test_a_final_thread_takes_no_appended_events_or_mailbox_messages(mock, final):
    # Its log is closed and its streams have ended; an append used to land after the end.
    r = mock.control("POST", "/sessions", {"children": [{"status": "idle"}]})
    assert r.status == 201, r.text
    sid = r.json()["id"]
    tid = [t for t in r.json()["threads"] if t["role"] == "child"][0]["id"]
    if final == "archive":
        assert mock.post(f"/v1/sessions/{sid}/threads/{tid}/archive").status == 200
    else:
        mock.set_status(sid, tid, "terminated")
    before = thread_events(mock, sid, tid)
    status = "archived" if final == "archive" else "terminated"
    r = mock.control("POST", f"/sessions/{sid}/threads/{tid}/events", {"events": [{"type": "agent.message"}]})
    assert error_of(r, 409, "invalid_request_error")["message"] == (
        f"Thread '{tid}' is {status}; a final thread takes no more events.")
    r = mock.control("POST", f"/sessions/{sid}/threads/{tid}/mailbox", {"content": "late"})
    assert error_of(r, 409, "invalid_request_error")["message"] == (
        f"Thread '{tid}' is {status}; a final thread takes no more messages.")
    assert thread_events(mock, sid, tid) == before
    assert mock.control("GET", f"/sessions/{sid}/threads/{tid}/mailbox").json()["data"] == []



def test_the_journal_keeps_no_credentials(start_server):
    srv = start_server("--token", "tok_0123456789abcdef", "--admin-token", "adm-0123456789xyz")
    r = srv.request("GET", "/v1/sessions", token="tok_0123456789abcdef",
                    headers={"Cookie": "session=abcdefghijklmnop", "X-Mock-Admin-Token": "adm-0123456789xyz"})
    assert r.status == 200, r.text
    j = srv.control("GET", "/journal", headers={"X-Mock-Admin-Token": "adm-0123456789xyz"}).json()
    headers = {k.lower(): v for k, v in j["data"][0]["headers"]}
    assert headers["authorization"] == "Bearer …cdef"
    assert headers["cookie"] == "…mnop"
    assert headers["x-mock-admin-token"] == "…9xyz"
    assert "0123456789" not in json.dumps(j)


def test_listening_beyond_loopback_without_an_admin_token_warns(start_server):
    open_srv = start_server("--host", "0.0.0.0")
    guarded = start_server("--host", "0.0.0.0", "--admin-token", "adm")
    local = start_server()
    for srv in (open_srv, guarded, local):
        assert srv.get("/v1/sessions").status == 200  # serving, the warning line written before
    assert "without --admin-token" in open_srv.stderr_text()
    assert "without --admin-token" not in guarded.stderr_text()
    assert "without --admin-token" not in local.stderr_text()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_connections_past_the_budget_are_refused_without_spinning(start_server):
    """Issue 12 finding 2: out of descriptors, the server spun at 100% CPU failing accept and
    wrote megabytes of warnings a second. Past --max-connections (kept as the descriptor limit,
    the same state) a new connection is now closed at once; the others are served, and new
    ones again once some close."""
    import socket

    srv = start_server("--max-connections", "40")
    started_cpu, started = cpu_seconds(srv.pid), time.monotonic()
    held = [socket.create_connection((srv.host, srv.port), timeout=10) for _ in range(40)]
    # Every held connection is served (the server has accepted them all).
    for c in held[:5]:
        c.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: mock\r\n\r\n")
        assert c.recv(4096).startswith(b"HTTP/1.1 200")
    # Past the budget: connected by the kernel, then closed by the server without an answer.
    for _ in range(30):
        extra = socket.create_connection((srv.host, srv.port), timeout=10)
        try:
            extra.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: mock\r\n\r\n")
            assert extra.recv(4096) == b""
        except ConnectionResetError:
            pass
        finally:
            extra.close()
    # Closing some makes room for new ones, once the server has seen them close: a connection
    # that comes before that is still past the budget and refused.
    for c in held[:10]:
        c.close()

    def served() -> bool:
        try:
            return srv.get("/_mock/health", token=None, timeout=2).status == 200
        except ConnectionError:
            return False

    wait_until(served, timeout=10, message="a new connection is served")
    held[20].sendall(b"GET /_mock/health HTTP/1.1\r\nHost: mock\r\n\r\n")
    assert held[20].recv(4096).startswith(b"HTTP/1.1 200")
    busy = cpu_seconds(srv.pid) - started_cpu
    elapsed = time.monotonic() - started
    for c in held[10:]:
        c.close()
    # No spin: a spinning loop burns the whole time on its core.
    assert busy < 0.5 * elapsed + 0.2, f"{busy:.2f} s of CPU in {elapsed:.2f} s"
    log = srv.stderr_text()
    assert "connection budget reached" in log and len(log) < 20_000, log[-2000:]


def assert_state_round_trips(srv) -> dict:
    exported = srv.control("GET", "/state")
    assert exported.status == 200
    r = srv.control("PUT", "/state", raw_body=exported.body, headers={"Content-Type": "application/json"})
    assert r.status == 200, r.text
    again = srv.control("GET", "/state")
    assert again.json() == exported.json()
    return exported.json()


def test_what_the_control_api_builds_exports_and_loads_again(start_server):
    """Issue 12 finding 8: GET /_mock/state could write what PUT /_mock/state then refused."""
    srv = start_server()
    events = f"/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/events"
    # An event id already used in another thread is refused where it enters, as a fixture refuses it.
    r = srv.control("POST", events, {"events": [{"id": "evt_mine-1", "type": "agent.message", "content": []}]})
    assert r.status == 201, r.text
    r = srv.control("POST", f"/sessions/{SEED_SESSION}/threads/{SEED_COORDINATOR}/events",
                    {"events": [{"id": "evt_mine-1", "type": "agent.message", "content": []}]})
    error = error_of(r, 409, "invalid_request_error")
    assert error["message"] == f"Event 'evt_mine-1' already exists in thread '{SEED_CHILD}'."
    # Ids with characters the fixture format refuses are refused here too.
    r = srv.control("POST", events, {"events": [{"id": "evt_a b", "type": "agent.message", "content": []}]})
    assert r.status == 400
    # Content as deep as a request body allows (it nests deeper inside the exported document).
    deep: object = "bottom"
    for _ in range(252):
        deep = [deep]
    r = srv.control("POST", events, {"events": [{"type": "agent.message", "content": deep}]})
    assert r.status == 201, r.text
    state = assert_state_round_trips(srv)
    assert any(e.get("content") == deep for s in state["sessions"] for t in s["threads"] for e in t["events"])


def test_a_state_export_larger_than_the_old_body_cap_loads_again(start_server):
    """libevent refused bodies over 8 MiB before the router, so an export of that size (about
    60,000 events) could not be loaded back; the soak found it. The cap is now the control API's
    limit (64 x --max-body-bytes)."""
    srv = start_server()
    events = f"/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/events"
    for _ in range(10):
        r = srv.control("POST", events, {"events": [{"type": "agent.message", "content": "s" * 1_000_000}]})
        assert r.status == 201, r.text
    state = assert_state_round_trips(srv)
    assert len(json.dumps(state)) > 10_000_000


def test_a_clock_moved_to_the_end_of_time_stops_there(start_server):
    srv = start_server()
    # Moved ahead while running, to 20 ms before the last instant RFC 3339 can write.
    now = srv.control("GET", "/clock").json()["now"]
    from datetime import datetime, timezone

    current = datetime.fromisoformat(now.replace("Z", "+00:00"))
    last = datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc)
    r = srv.control("POST", "/clock/advance", {"ms": int((last - current).total_seconds() * 1000) - 20})
    assert r.status == 200, r.text
    wait_until(lambda: srv.control("GET", "/clock").json()["now"] == "9999-12-31T23:59:59.999Z", timeout=10,
               message="the clock reaches the end of time")
    assert srv.control("POST", "/sessions", {}).json()["created_at"] == "9999-12-31T23:59:59.999Z"
    assert_state_round_trips(srv)


def test_a_slow_sender_is_cut_at_the_request_deadline_and_streams_are_not(start_server):
    """Issue 12 finding 13 (slowloris): the idle timeout counts only silence, so a client sending
    a byte every 20 s kept its connection forever. --request-timeout bounds the time to send a
    whole request; an open stream (the server is answering) is not cut."""
    import select
    import socket

    from support.sse import SSEClient

    srv = start_server("--request-timeout", "1", "--heartbeat-ms", "200")
    stream = SSEClient(srv.host, srv.port, f"/v1/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/stream")
    assert stream.read_head() == 200
    slow = socket.create_connection((srv.host, srv.port), timeout=10)
    slow.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: mock\r\n")
    started = time.monotonic()
    closed_after = None
    while time.monotonic() - started < 10:
        readable, _, _ = select.select([slow], [], [], 0.1)  # paces the drip of header bytes
        if readable:
            try:
                data = slow.recv(4096)
            except ConnectionResetError:
                data = b""
            assert data == b"", data[:200]
            closed_after = time.monotonic() - started
            break
        try:
            slow.sendall(b"X")  # one more byte of a header that never ends
        except (BrokenPipeError, ConnectionResetError):
            closed_after = time.monotonic() - started
            break
    slow.close()
    assert closed_after is not None, "the slow sender was never cut"
    assert 0.9 <= closed_after < 5, closed_after
    # The stream outlived the deadline and still delivers.
    marker = srv.append_events(SEED_SESSION, SEED_CHILD, [{"type": "agent.message", "content": []}])[0]
    frames = stream.events(3)  # two of history, then the new one
    assert frames[-1].id == marker["id"]
    stream.close()
    # A connection that sends its requests in time is served, one after another.
    with socket.create_connection((srv.host, srv.port), timeout=10) as quick:
        for _ in range(3):
            quick.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: mock\r\n\r\n")
            assert quick.recv(4096).startswith(b"HTTP/1.1 200")
    assert "sent no whole request within 1000 ms" in srv.stderr_text()


def budget_refusal(r, what: str, option: str) -> None:
    error = error_of(r, 429, "rate_limit_error")
    assert what in error["message"] and option in error["message"], error["message"]


def test_stream_budgets_overall_and_per_session(start_server):
    from support.sse import SSEClient

    srv = start_server("--max-streams", "2", "--max-streams-per-session", "1")
    own = srv.control("POST", "/sessions", {}).json()
    first = SSEClient(srv.host, srv.port, f"/v1/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/stream")
    assert first.read_head() == 200
    # The same session again (its own stream this time): over the per-session budget.
    r = srv.get(f"/v1/sessions/{SEED_SESSION}/events/stream", headers={"Accept": "text/event-stream"})
    budget_refusal(r, f"1 open streams on session '{SEED_SESSION}'", "--max-streams-per-session")
    second = SSEClient(srv.host, srv.port, f"/v1/sessions/{own['id']}/events/stream")
    assert second.read_head() == 200
    # Two open in all: a third session's stream is over the overall budget.
    third = srv.control("POST", "/sessions", {}).json()
    r = srv.get(f"/v1/sessions/{third['id']}/events?limit=5", headers={"Accept": "text/event-stream"})
    budget_refusal(r, "2 open streams", "--max-streams")
    assert srv.get(f"/v1/sessions/{third['id']}/events?limit=5").status == 200  # a JSON list needs no stream
    assert srv.stats()["open_streams"] == 2
    first.close()
    wait_until(lambda: srv.stats()["open_streams"] == 1, timeout=10, message="the closed stream is gone")
    again = SSEClient(srv.host, srv.port, f"/v1/sessions/{third['id']}/events/stream")
    assert again.read_head() == 200
    second.close()
    again.close()


def test_fault_and_wait_budgets(start_server):
    import socket

    srv = start_server("--max-faults", "1", "--max-waits", "1")
    fault = srv.control("POST", "/faults", {"path": "/v1/agents", "status": 503, "times": None})
    assert fault.status == 201
    budget_refusal(srv.control("POST", "/faults", {"path": "/v1/sessions", "status": 503}), "1 fault rules", "--max-faults")
    assert len(srv.control("GET", "/faults").json()["data"]) == 1
    srv.control("DELETE", f"/faults/{fault.json()['id']}")
    assert srv.control("POST", "/faults", {"path": "/v1/sessions", "status": 503}).status == 201

    waiting = socket.create_connection((srv.host, srv.port), timeout=10)
    waiting.sendall(b"GET /_mock/journal/wait?path=/never&timeout_ms=60000 HTTP/1.1\r\nHost: mock\r\n\r\n")
    wait_until(lambda: srv.stats()["journal_waiters"] == 1, timeout=10, message="the wait registered")
    budget_refusal(srv.control("GET", "/journal/wait?path=/other&timeout_ms=10"), "1 pending journal waits", "--max-waits")
    waiting.close()
    wait_until(lambda: srv.stats()["journal_waiters"] == 0, timeout=10, message="the hung-up wait let go")
    assert srv.control("GET", "/journal/wait?path=/other&timeout_ms=10").json()["matched"] is False


def test_run_time_budgets_refuse_and_change_nothing(start_server):
    srv = start_server("--max-run-time-sessions", "2", "--max-run-time-threads", "2", "--max-run-time-events", "6")
    a = srv.control("POST", "/sessions", {}).json()  # 1 session, 1 thread
    # 2 sessions (its coordinator comes with the first thread list, so still 1 thread)
    assert srv.post("/v1/sessions", {"agent": "agent_019f000000000000000000000000001a"}).status == 200
    r = srv.control("POST", f"/sessions/{a['id']}/threads", {"status": "running"})  # 2 threads, 2 events
    assert r.status == 201, r.text
    before = srv.control("GET", "/state").json()
    budget_refusal(srv.control("POST", "/sessions", {}), "2 sessions made at run time", "--max-run-time-sessions")
    budget_refusal(srv.control("POST", f"/sessions/{a['id']}/threads", {}), "2 threads made at run time",
                   "--max-run-time-threads")
    events = f"/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/events"
    assert srv.control("POST", events, {"events": [{"type": "agent.message", "content": []}] * 5}).status == 201
    budget_refusal(srv.control("POST", events, {"events": [{"type": "agent.message", "content": []}]}),
                   "6 events made at run time", "--max-run-time-events")
    after = srv.control("GET", "/state").json()
    assert len(after["sessions"]) == len(before["sessions"])
    # A reset gives the budgets back.
    srv.control("POST", "/reset")
    assert srv.control("POST", "/sessions", {}).status == 201
    assert srv.control("POST", events, {"events": [{"type": "agent.message", "content": []}]}).status == 201


def test_scheduled_step_budget(start_server):
    srv = start_server("--frozen-clock", "2026-06-15T08:10:00.000Z", "--max-pending-steps", "1")
    one = srv.control("POST", "/sessions", {}).json()
    two = srv.control("POST", "/sessions", {}).json()
    r = srv.post(f"/v1/sessions/{one['id']}/events", {"events": [{"type": "user.message", "content": "hi"}]})
    assert r.status == 200, r.text
    pending = srv.control("GET", f"/sessions/{one['id']}/agenda").json()["data"]
    assert len(pending) >= 1
    r = srv.post(f"/v1/sessions/{two['id']}/events", {"events": [{"type": "user.message", "content": "hi"}]})
    budget_refusal(r, "1 scheduled turn steps", "--max-pending-steps")
    srv.control("POST", "/clock/run-until-idle", {})
    r = srv.post(f"/v1/sessions/{two['id']}/events", {"events": [{"type": "user.message", "content": "hi"}]})
    assert r.status == 200, r.text
