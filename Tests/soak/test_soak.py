"""A soak: the same mixed load again and again, with a reset between rounds, against one server.
Each round creates sessions and threads, sends messages whose turns play on a frozen clock,
appends events, opens and closes streams (some cut mid-history), long-polls the journal, arms
and spends faults, and exports and imports the state. After a warm-up, resident memory must
stay flat: a leak per request would show as a rising curve. The curve is printed."""

from __future__ import annotations

import os
import socket

import pytest

from support.mockserver import SEED_CHILD, SEED_SESSION
from support.progress import terminal_printer
from support.sse import SSEClient

# SOAK_ROUNDS=500 for a long run by hand; 80 rounds stayed at 19.6 MiB from the tenth on.
ROUNDS = int(os.environ.get("SOAK_ROUNDS", "30"))
WARM_UP = 10


def one_round(srv) -> None:
    srv.control("POST", "/clock/freeze", {})
    for _ in range(20):
        session = srv.control("POST", "/sessions", {"children": [{"status": "running"}]}).json()
        sid = session["id"]
        srv.post(f"/v1/sessions/{sid}/events", {"events": [{"type": "user.message", "content": "soak " * 50}]})
        srv.control("POST", "/clock/run-until-idle", {})
        srv.get(f"/v1/sessions/{sid}/events?limit=50")
        srv.get(f"/v1/sessions/{sid}/threads")
        child = session["threads"][1]["id"]
        srv.control("POST", f"/sessions/{sid}/threads/{child}/events",
                    {"events": [{"type": "agent.message", "content": [{"type": "text", "text": "x" * 500}]}] * 5})
    for i in range(10):
        with SSEClient(srv.host, srv.port, f"/v1/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/stream") as s:
            assert s.read_head() == 200
            if i % 2:
                s.events(1)
    for _ in range(5):  # clients that leave mid-request
        c = socket.create_connection((srv.host, srv.port), timeout=10)
        c.sendall(b"GET /_mock/journal/wait?path=/never&timeout_ms=60000 HTTP/1.1\r\nHost: m\r\n\r\n")
        c.close()
    fault = srv.control("POST", "/faults", {"path": "/v1/agents", "status": 503, "times": 3}).json()
    for _ in range(3):
        assert srv.get("/v1/agents").status == 503
    assert srv.control("DELETE", f"/faults/{fault['id']}").status == 404  # spent, so gone
    state = srv.control("GET", "/state")
    assert srv.control("PUT", "/state", raw_body=state.body, headers={"Content-Type": "application/json"}).status == 200
    srv.control("POST", "/reset")


@pytest.mark.measures_memory
def test_memory_stays_flat_under_a_repeated_mixed_load(start_server, capsys):
    say = terminal_printer(capsys)
    srv = start_server()
    curve = []
    for n in range(ROUNDS):
        one_round(srv)
        curve.append(srv.rss_kib() / 1024)
    say("\n  soak | resident MiB after each round: " + " ".join(f"{m:.1f}" for m in curve))
    settled = curve[WARM_UP - 1]
    assert max(curve[WARM_UP:]) < settled + 2, f"resident memory rose after the warm-up: {curve}"
    assert srv.stats()["journal_waiters"] == 0 and srv.stats()["open_streams"] == 0
