"""The typed control client against the real server, one route group at a time, through the
plugin's own `cloud_agents_mock` fixture (a server per test session, reset before each test)."""

from __future__ import annotations

import threading

import pytest

from cloud_agents_mock import ControlClient, MockAPIError, MockServer, RequestNotSeen

SESSION = "sess_019f00000000000000000000000000aa"
COORDINATOR = "sthr_019f00000000000000000000000001aa"
CHILD = "sthr_019f00000000000000000000000002bb"
COORDINATOR_AGENT = "agent_019f000000000000000000000000001a"
CHILD_AGENT = "agent_019f000000000000000000000000002b"


# Each control route and the client method that calls it.
METHOD_OF_ROUTE = {
    ("GET", "/_mock/health"): "health",
    ("GET", "/_mock/ready"): "ready",
    ("GET", "/_mock/version"): "version",
    ("GET", "/_mock/routes"): "routes",
    ("GET", "/_mock/openapi.json"): "openapi",
    ("GET", "/_mock/stats"): "stats",
    ("POST", "/_mock/reset"): "reset",
    ("GET", "/_mock/state"): "get_state",
    ("PUT", "/_mock/state"): "put_state",
    ("GET", "/_mock/clock"): "clock",
    ("POST", "/_mock/clock/freeze"): "freeze_clock",
    ("POST", "/_mock/clock/advance"): "advance_clock",
    ("POST", "/_mock/clock/resume"): "resume_clock",
    ("POST", "/_mock/clock/run-until-idle"): "run_until_idle",
    ("POST", "/_mock/sessions"): "create_session",
    ("GET", "/_mock/sessions/{session_id}/agenda"): "agenda",
    ("PUT", "/_mock/agents/{agent_id}/script"): "set_script",
    ("POST", "/_mock/sessions/{session_id}/threads"): "create_thread",
    ("POST", "/_mock/sessions/{session_id}/threads/{thread_id}/events"): "append_events",
    ("POST", "/_mock/sessions/{session_id}/threads/{thread_id}/status"): "set_status",
    ("GET", "/_mock/sessions/{session_id}/threads/{thread_id}/mailbox"): "mailbox",
    ("POST", "/_mock/sessions/{session_id}/threads/{thread_id}/mailbox"): "put_mailbox",
    ("GET", "/_mock/tokens"): "tokens",
    ("POST", "/_mock/tokens"): "add_token",
    ("DELETE", "/_mock/tokens/{token}"): "revoke_token",
    ("GET", "/_mock/journal"): "journal",
    ("DELETE", "/_mock/journal"): "clear_journal",
    ("GET", "/_mock/journal/wait"): "journal_wait",
    ("GET", "/_mock/faults"): "faults",
    ("POST", "/_mock/faults"): "add_fault",
    ("DELETE", "/_mock/faults"): "clear_faults",
    ("DELETE", "/_mock/faults/{fault_id}"): "remove_fault",
}


def test_every_control_route_the_server_lists_has_a_method(cloud_agents_mock: MockServer):
    served = {(r["method"], r["path"]) for r in cloud_agents_mock.control.routes() if r["path"].startswith("/_mock")}
    assert served == set(METHOD_OF_ROUTE), "the server's control routes and this client's differ"
    for name in METHOD_OF_ROUTE.values():
        assert callable(getattr(ControlClient, name)), name


def test_server_info(cloud_agents_mock: MockServer):
    c = cloud_agents_mock.control
    assert c.health() == {"status": "ok"}
    assert c.ready()["status"] == "ready"
    assert c.version()["name"] == "cloud-agents-mock"
    assert "/_mock/state" in c.openapi()["paths"]
    stats = c.stats()
    assert stats["sessions"] >= 1 and stats["open_streams"] == 0


def test_errors_carry_the_envelope(cloud_agents_mock: MockServer):
    with pytest.raises(MockAPIError) as info:
        cloud_agents_mock.control.append_events(SESSION, "sthr_0000000000000000000000000000dead", [{"type": "agent.message"}])
    e = info.value
    assert e.status == 404
    assert e.type == "not_found_error"
    assert e.request_id and e.request_id.startswith("req_")
    assert e.envelope["error"]["message"] == e.message and "sthr_0000000000000000000000000000dead" in e.message
    with pytest.raises(MockAPIError) as info:
        cloud_agents_mock.control.create_session(CHILD_AGENT, children=[{"status": "bogus"}])
    assert info.value.status == 400 and info.value.type == "invalid_request_error"
    assert "children[0].status" in str(info.value)


def test_building_a_world(cloud_agents_mock: MockServer):
    c = cloud_agents_mock.control
    session = c.create_session(COORDINATOR_AGENT, title="built by a test", children=[{"agent": CHILD_AGENT, "status": "running"}])
    assert session["title"] == "built by a test"
    sid = session["id"]
    coordinator = session["threads"][0]["id"]
    child = c.create_thread(sid, agent=CHILD_AGENT, name="Writer", status="idle")
    assert child["status"] == "idle" and child["parent_thread_id"] == coordinator
    stored = c.append_events(sid, child["id"], [{"type": "agent.message", "content": [{"type": "text", "text": "hi"}]}])
    assert stored[0]["id"].startswith("evt_") and stored[0]["session_thread_id"] == child["id"]
    seen = cloud_agents_mock.get(f"/v1/sessions/{sid}/threads/{child['id']}/events").json()["data"]
    assert seen[-1]["id"] == stored[0]["id"]
    thread = c.set_status(sid, child["id"], "running")
    assert thread["status"] == "running"
    message = c.put_mailbox(sid, child["id"], "one more thing", from_thread_id=coordinator, status="pending")
    assert message["status"] == "pending"
    assert [m["id"] for m in c.mailbox(sid, child["id"])] == [message["id"]]
    assert set(c.agenda(sid)) == {"data", "timelines", "turns"}


def test_state_round_trip(cloud_agents_mock: MockServer):
    c = cloud_agents_mock.control
    state = c.get_state()
    c.create_session(COORDINATOR_AGENT)
    assert c.stats()["sessions"] == len(state["sessions"]) + 1
    assert c.put_state(state) == {"status": "replaced", "sessions": len(state["sessions"])}
    assert c.get_state() == state
    with pytest.raises(MockAPIError) as info:
        c.put_state({"sessions": [{"id": "nope"}]})
    assert info.value.status == 400 and info.value.param == "$.sessions[0].id"
    assert "'nope' is not a valid id" in info.value.message
    assert c.get_state() == state  # a refused document changes nothing


def test_tokens(cloud_agents_mock: MockServer):
    c = cloud_agents_mock.control
    assert c.tokens() == {"tokens": [], "required": False}
    assert c.add_token("ci-token") == {"tokens": ["ci-token"], "required": True}
    assert cloud_agents_mock.get(f"/v1/sessions/{SESSION}/threads", token="other").status == 401
    assert cloud_agents_mock.get(f"/v1/sessions/{SESSION}/threads", token="ci-token").status == 200
    assert c.revoke_token("ci-token")["tokens"] == []
    with pytest.raises(MockAPIError) as info:
        c.revoke_token("never/added")  # quoted into one path segment
    assert info.value.status == 404


def test_journal_and_waits(cloud_agents_mock: MockServer):
    c = cloud_agents_mock.control
    assert c.journal() == {"data": [], "last_seq": 0}
    cloud_agents_mock.get(f"/api/v1/cloud/sessions/{SESSION}/threads")
    entries = c.journal(method="GET", path="/v1/sessions/*/threads")["data"]
    assert [(e["method"], e["status"]) for e in entries] == [("GET", 200)]
    assert c.wait_for_request("GET", "/v1/sessions/*/threads")["seq"] == 1
    # A request made while the wait is pending ends it.
    later = threading.Timer(0.05, lambda: cloud_agents_mock.post(f"/v1/sessions/{SESSION}/threads/{CHILD}/archive"))
    later.start()
    try:
        entry = cloud_agents_mock.wait_for_request("POST", "/v1/sessions/*/threads/*/archive", since=1, timeout=10)
    finally:
        later.join(10)
    assert entry["status"] == 409 and entry["seq"] == 2
    with pytest.raises(RequestNotSeen) as info:
        cloud_agents_mock.wait_for_request("DELETE", "/v1/agents/*", timeout=0.05)
    assert "#1 GET /api/v1/cloud/sessions/" in str(info.value) and "-> 200" in str(info.value)
    assert c.clear_journal()["last_seq"] == 2
    assert c.journal()["data"] == []


def test_faults(cloud_agents_mock: MockServer):
    c = cloud_agents_mock.control
    fault = c.add_fault("/v1/sessions/*/threads", method="GET", status=503, retry_after=1, times=2)
    assert fault["remaining"] == 2 and fault["id"] in [f["id"] for f in c.faults()]
    r = cloud_agents_mock.get(f"/v1/sessions/{SESSION}/threads")
    assert r.status == 503 and r.headers["retry-after"] == "1"
    forever = c.add_fault("/v1/agents", times=None, delay_ms=1)
    assert forever["remaining"] is None
    assert [f["id"] for f in c.remove_fault(fault["id"])] == [forever["id"]]
    assert c.clear_faults() == []
    torture = c.add_fault(
        "/v1/sessions/*/events/stream", split_frames="random", heartbeat_between_frames=True, drop_in_frame=3,
        frame_delay_ms=5)
    assert (torture["split_frames"], torture["heartbeat_between_frames"], torture["drop_in_frame"],
            torture["frame_delay_ms"], torture["drop_after_frames"]) == ("random", True, 3, 5, None)
    assert c.add_fault("/v1/x", split_frames=512)["split_frames"] == 512


def test_clock_and_turns(cloud_agents_mock: MockServer):
    c = cloud_agents_mock.control
    frozen = c.freeze_clock("2026-06-15T08:10:00.000Z")
    assert frozen == {"now": "2026-06-15T08:10:00.000Z", "mode": "frozen", "offset_ms": frozen["offset_ms"]}
    session = c.create_session(COORDINATOR_AGENT, initial_events=[{"type": "user.message", "content": "hi"}])
    moved = c.advance_clock("1ms")
    assert moved["now"] == "2026-06-15T08:10:00.001Z"
    idle = cloud_agents_mock.run_until_idle()
    assert idle["steps_pending"] == 0 and idle["steps_played"] > 0
    events = cloud_agents_mock.get(f"/v1/sessions/{session['id']}/events").json()["data"]
    assert events[-1]["type"] == "session.status_idle"
    assert c.advance_clock(ms=1000)["now"] > idle["now"]
    with pytest.raises(ValueError):
        c.advance_clock()
    assert c.resume_clock()["mode"] == "real"
    assert c.clock()["mode"] == "real"


def test_scripts(cloud_agents_mock: MockServer):
    c = cloud_agents_mock.control
    agent = c.set_script(CHILD_AGENT, [{"when": {"equals": "ping"}, "steps": [{"message": "pong"}]}])
    assert agent["script"][0]["steps"] == [{"message": "pong"}]
    assert "script" not in c.set_script(CHILD_AGENT, None)
    with pytest.raises(MockAPIError) as info:
        c.set_script(CHILD_AGENT, [{"when": {"bogus": 1}}])
    assert info.value.status == 400 and info.value.param == "script[0].when.bogus"


def test_reset_between_tests_part_one(cloud_agents_mock: MockServer):
    cloud_agents_mock.control.add_token("left-behind")
    cloud_agents_mock.control.create_session(COORDINATOR_AGENT)


def test_reset_between_tests_part_two(cloud_agents_mock: MockServer):
    """Runs after part one (file order): the fixture reset what part one left."""
    assert cloud_agents_mock.control.tokens()["tokens"] == []
    assert cloud_agents_mock.control.journal()["data"] == []
    assert cloud_agents_mock.control.stats()["sessions"] == len(cloud_agents_mock.control.get_state()["sessions"])
    assert all(s.get("title") != "built by a test" for s in cloud_agents_mock.control.get_state()["sessions"])


def test_managed_client_of_the_sdk(cloud_agents_mock_managed, cloud_agents_mock: MockServer):
    threads = list(cloud_agents_mock_managed.sessions.threads.list(SESSION))
    assert [t.id for t in threads] == [COORDINATOR, CHILD]
    assert cloud_agents_mock.wait_for_request("GET", "/api/v1/cloud/sessions/*/threads")["status"] == 200
