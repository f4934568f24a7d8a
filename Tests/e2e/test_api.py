"""The thread endpoints through the real binary over loopback (issue 2)."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
from pathlib import Path

import pytest

from support.mockserver import (
    REPO,
    SEED_CHILD,
    SEED_COORDINATOR,
    SEED_EVENTS,
    SEED_SESSION,
    MockServer,
    binary_path,
)

# Copies of the public pages the seed examples come from (see seeds/README.md), kept in the
# repository so these tests need nothing beside it; the originals, when present, are checked against them.
SEEDS = Path(__file__).resolve().parent / "seeds"
ORIGINAL_SEEDS = REPO.parent / "shared" / "seeds"
LIST_THREADS = f"/api/v1/cloud/sessions/{SEED_SESSION}/threads"


def seed_examples(name: str) -> tuple[list[str], dict]:
    """The curl commands and the example response body of one seed page."""
    text = (SEEDS / name).read_text()
    curls = []
    for m in re.finditer(r"curl (?:.*\\\n)*.*", text):
        curls.append(m.group(0).replace("\\\n", " "))
    body = text.split("HTTP 200 OK", 1)[1]
    start = body.index("{")
    depth = 0
    for i, ch in enumerate(body[start:], start):
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0:
            return curls, json.loads(body[start:i + 1])
    raise AssertionError("no example response")


def run_curl(command: str, server: MockServer) -> tuple[int, dict]:
    """Runs a seed page's curl command as written, aimed at the mock."""
    args = shlex.split(command.replace("https://api.qoder.com", server.base))
    out = subprocess.run(
        args + ["-s", "-w", "\n%{http_code}"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "QODER_PAT": "pat-from-the-seed-example"},
    )
    body, status = out.stdout.rsplit("\n", 1)
    return int(status), json.loads(body)


@pytest.mark.skipif(not ORIGINAL_SEEDS.is_dir(), reason="no ../shared/seeds beside the repository to compare the copies with")
def test_the_seed_copies_match_the_originals():
    copies = sorted(p.name for p in SEEDS.glob("*.txt"))
    assert copies == ["000_29217dc01b924c08.txt", "003_5a87199bd7a6c43b.txt", "004_c015fa2428969940.txt"]
    for name in copies:
        assert (SEEDS / name).read_bytes() == (ORIGINAL_SEEDS / name).read_bytes(), f"{name} differs from ../shared/seeds"


def test_seed_list_threads_examples_return_the_documented_response(mock):
    curls, documented = seed_examples("000_29217dc01b924c08.txt")
    assert len(curls) == 2
    for command in curls:
        status, body = run_curl(command, mock)
        assert status == 200
        # The mock adds next_page (API.md section 4); everything else is the page's example.
        assert body.pop("next_page") is None
        assert body == documented


def test_seed_list_events_example(mock):
    (command,), documented = seed_examples("003_5a87199bd7a6c43b.txt")
    status, body = run_curl(command, mock)
    assert status == 200
    assert body["data"] == documented["data"]
    assert body["first_id"] == documented["first_id"] and body["last_id"] == documented["last_id"]
    # The page says has_more: true for 2 of 2 events at limit=10; the mock is exact instead.
    assert body["has_more"] is False and body["next_page"] is None


def test_seed_archive_example_once_the_child_is_idle(mock):
    (command,), documented = seed_examples("004_c015fa2428969940.txt")
    # As seeded the child is running, and the rules refuse to archive it.
    status, body = run_curl(command, mock)
    assert status == 409
    assert body["error"] == {
        "type": "invalid_request_error",
        "message": f"Thread '{SEED_CHILD}' is running; only idle threads can be archived.",
    }
    # Idle it at the page's archive instant; then the page's request gets the page's answer.
    assert mock.control("POST", "/clock/freeze", {"at": "2026-06-15T08:10:00.000Z"}).status == 200
    r = mock.control("POST", f"/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/status", {"status": "idle"})
    assert r.status == 200, r.text
    status, body = run_curl(command, mock)
    assert status == 200
    assert body == documented


def test_both_prefixes_serve_the_same_answers(mock):
    for suffix in ["", f"/{SEED_CHILD}", f"/{SEED_CHILD}/events?limit=1"]:
        a = mock.get(f"/api/v1/cloud/sessions/{SEED_SESSION}/threads{suffix}")
        b = mock.get(f"/v1/sessions/{SEED_SESSION}/threads{suffix}")
        assert a.status == b.status == 200
        assert a.body == b.body


def test_every_response_has_request_id_headers_and_json_type(mock):
    for r in [
        mock.get(LIST_THREADS),
        mock.get("/v1/sessions/sess_missing/threads"),
        mock.get(LIST_THREADS, token=None),
        mock.get("/no/such/route"),
        mock.request("PUT", LIST_THREADS),
    ]:
        assert r.headers["content-type"] == "application/json"
        assert r.headers["x-request-id"] == r.headers["request-id"]
        assert r.headers["x-request-id"].startswith("req_")
        if r.status >= 400:
            assert r.json()["request_id"] == r.headers["x-request-id"]
    r = mock.get("/v1/sessions/sess_missing", headers={"X-Request-Id": "req_mine_123"})
    assert r.headers["x-request-id"] == "req_mine_123" and r.json()["request_id"] == "req_mine_123"


def _raw_exchange(server, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """One request on a fresh socket, read until the server closes it (each request asks it to)."""
    import socket
    import time

    deadline = time.monotonic() + 10
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while True:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    head, body = answer.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    return lines[0], {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:])}, body


@pytest.mark.parametrize("version", ["HTTP/1.1", "HTTP/1.0"])
def test_whole_replies_carry_their_length_and_the_date(mock, version):
    """The server writes Date (the real time, made once a second) and Content-Length itself."""
    import email.utils
    import time

    before = time.time()
    status, fields, body = _raw_exchange(
        mock, f"GET {LIST_THREADS} {version}\r\nHost: x\r\nAuthorization: Bearer k\r\nConnection: close\r\n\r\n".encode())
    assert status == f"{version} 200 OK"
    assert int(fields["content-length"]) == len(body) and json.loads(body)["data"]
    assert re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                        r"\d\d:\d\d:\d\d GMT", fields["date"]), fields["date"]
    sent = email.utils.parsedate_to_datetime(fields["date"]).timestamp()
    assert int(before) <= sent <= time.time() + 1
    # A streamed reply of known length (the state export) is dated too, in both versions.
    status, fields, body = _raw_exchange(
        mock, f"GET /_mock/state {version}\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert status == f"{version} 200 OK" and int(fields["content-length"]) == len(body)
    assert int(before) <= email.utils.parsedate_to_datetime(fields["date"]).timestamp() <= time.time() + 1
    # An answer without a body (HEAD) has no length, as before.
    status, fields, body = _raw_exchange(mock, f"HEAD {LIST_THREADS} {version}\r\nHost: x\r\nAuthorization: Bearer k\r\nConnection: close\r\n\r\n".encode())
    assert status == f"{version} 405 Method Not Allowed" and body == b""
    assert "content-length" not in fields and "date" in fields


def test_keep_alive_serves_many_requests_on_one_connection(mock):
    import http.client

    conn = http.client.HTTPConnection(mock.host, mock.port, timeout=10)
    try:
        for _ in range(50):
            conn.request("GET", LIST_THREADS, headers={"Authorization": "Bearer k"})
            r = conn.getresponse()
            assert r.status == 200
            r.read()
        # The same socket was reused throughout.
        assert conn.sock is not None
    finally:
        conn.close()


def test_archive_flow_with_a_blocked_coordinator(mock):
    # A fresh session through the real API, children and a blocked coordinator through the control API.
    s = mock.post("/api/v1/cloud/sessions", {"agent": "agent_019f000000000000000000000000001a", "environment_id": "env_x"})
    assert s.status == 200, s.text
    sid = s.json()["id"]
    threads = mock.get(f"/v1/sessions/{sid}/threads").json()["data"]
    assert [t["role"] for t in threads] == ["coordinator"]
    coordinator = threads[0]["id"]
    child = mock.control("POST", f"/sessions/{sid}/threads", {"agent": "agent_019f000000000000000000000000002b", "status": "running"})
    assert child.status == 201, child.text
    child = child.json()
    mock.set_status(sid, coordinator, "blocked", waiting_on={"thread_id": child["id"], "tool_use_id": child["created_by_tool_use_id"]})
    for content, status in [("first", "pending"), ("second", "delivered"), ("third", "pending")]:
        r = mock.control("POST", f"/sessions/{sid}/threads/{child['id']}/mailbox", {"content": content, "status": status})
        assert r.status == 201, r.text

    # Running: refused, nothing changes.
    refused = mock.post(f"/v1/sessions/{sid}/threads/{child['id']}/archive")
    assert refused.status == 409
    assert refused.json()["error"]["type"] == "invalid_request_error"
    assert "running" in refused.json()["error"]["message"]
    coord_refused = mock.post(f"/v1/sessions/{sid}/threads/{coordinator}/archive", {})
    assert coord_refused.status == 409 and "coordinator" in coord_refused.json()["error"]["message"]

    mock.set_status(sid, child["id"], "idle")
    done = mock.post(f"/v1/sessions/{sid}/threads/{child['id']}/archive", {})
    assert done.status == 200, done.text
    archived = done.json()
    assert archived["status"] == "archived" and archived["stop_reason"] == {"type": "archive"}
    assert archived["archived_at"] == archived["updated_at"] is not None

    mailbox = mock.control("GET", f"/sessions/{sid}/threads/{child['id']}/mailbox").json()["data"]
    assert [m["status"] for m in mailbox] == ["cancelled", "delivered", "cancelled"]
    c = mock.get(f"/v1/sessions/{sid}/threads/{coordinator}").json()
    assert c["status"] == "running" and c["stop_reason"] == {}
    c_events = mock.get(f"/v1/sessions/{sid}/threads/{coordinator}/events?limit=100").json()["data"]
    assert [e["type"] for e in c_events][-2:] == ["agent.tool_result", "session.thread_status_running"]
    assert c_events[-2]["tool_use_id"] == child["created_by_tool_use_id"]
    assert c_events[-2]["content"] == "Agent cancelled." and c_events[-2]["is_error"] is True
    last = mock.get(f"/v1/sessions/{sid}/threads/{child['id']}/events?order=desc&limit=1").json()["data"][0]
    assert last["type"] == "session.thread_status_terminated"
    assert last["status"] == "archived" and last["stop_reason"] == {"type": "archive"}
    # The session is running again because its coordinator is.
    assert mock.get(f"/v1/sessions/{sid}").json()["status"] == "running"
    assert mock.get(f"/v1/sessions/{sid}/threads?statuses[]=archived").json()["data"][0]["id"] == child["id"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer "}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"x-api-key": "k"}, {"Authorization": "Token abc"}],
)
def test_missing_or_wrong_credentials_are_401(mock, headers):
    r = mock.get(LIST_THREADS, token=None, headers=headers)
    assert r.status == 401
    assert r.json()["error"]["type"] == "authentication_error"
    assert r.json()["type"] == "error"


def test_configured_tokens_from_flag_and_environment(start_server):
    s = start_server("--token", "alpha", env={"CLOUD_AGENTS_MOCK_TOKENS": "beta, gamma"})
    for token in ["alpha", "beta", "gamma"]:
        assert s.get(LIST_THREADS, token=token).status == 200
    r = s.get(LIST_THREADS, token="delta")
    assert r.status == 401 and r.json()["error"]["type"] == "authentication_error"


def snapshot(server: MockServer) -> bytes:
    r = server.control("GET", "/state")
    assert r.status == 200
    return r.body


BAD_REQUESTS = [
    ("GET", f"{LIST_THREADS}?limit=abc", None, 400, "limit"),
    ("GET", f"{LIST_THREADS}?limit=0", None, 400, "limit"),
    ("GET", f"{LIST_THREADS}?limit=-1", None, 400, "limit"),
    ("GET", f"{LIST_THREADS}?limit=1e3", None, 400, "limit"),
    ("GET", f"{LIST_THREADS}?order=sideways", None, 400, "order"),
    ("GET", f"{LIST_THREADS}?statuses[]=bogus", None, 400, "statuses[]"),
    ("GET", f"{LIST_THREADS}?after_id={SEED_COORDINATOR}&before_id={SEED_CHILD}", None, 400, "before_id"),
    ("GET", f"{LIST_THREADS}?after_id=sthr_not_here", None, 400, "after_id"),
    ("GET", f"{LIST_THREADS}?statuses%5B%5=running", None, 400, None),
    ("GET", "/api/v1/cloud/sessions/%ZZ/threads", None, 400, None),
    ("GET", "/api/v1/cloud/nope", None, 404, None),
    ("DELETE", LIST_THREADS, None, 405, None),
    ("POST", "/api/v1/cloud/sessions", b"{not json", 400, None),
    ("POST", "/api/v1/cloud/sessions", b"[]", 400, None),
    ("POST", "/api/v1/cloud/sessions", b'{"agent": "agent_unknown"}', 404, None),
]


@pytest.mark.parametrize("method,path,body,status,param", BAD_REQUESTS)
def test_bad_input_is_refused_in_the_envelope_and_changes_nothing(mock, method, path, body, status, param):
    before = snapshot(mock)
    r = mock.request(method, path, raw_body=body, headers={"Content-Type": "application/json"} if body else None)
    assert r.status == status, r.text
    envelope = r.json()
    assert envelope["type"] == "error" and envelope["request_id"] == r.headers["x-request-id"]
    assert envelope["error"]["type"] == {400: "invalid_request_error", 404: "not_found_error", 405: "invalid_request_error"}[status]
    assert envelope["error"]["message"]
    if param:
        assert envelope["error"]["param"] == param
    if status == 405:
        assert r.headers["allow"] == "GET"
    assert snapshot(mock) == before
    assert mock.get(LIST_THREADS).status == 200, "the server is still healthy"


def test_limit_above_100_is_capped(mock):
    sid = mock.control("POST", "/sessions", {"children": [{"status": "idle"}] * 120}).json()["id"]
    r = mock.get(f"/v1/sessions/{sid}/threads?limit=101")
    assert r.status == 200 and len(r.json()["data"]) == 100 and r.json()["has_more"] is True


def test_oversized_body_is_413_in_the_envelope(start_server):
    s = start_server("--max-body-bytes", "1024")
    before = snapshot(s)
    big = json.dumps({"agent": "agent_019f000000000000000000000000001a", "title": "x" * 5000}).encode()
    r = s.request("POST", "/api/v1/cloud/sessions", raw_body=big, headers={"Content-Type": "application/json"})
    assert r.status == 413
    assert r.json()["error"]["type"] == "invalid_request_error"
    assert snapshot(s) == before
    assert s.get(LIST_THREADS).status == 200


def send_whole_body(server, size: int) -> bytes:
    """POSTs a body of `size` spaces as a client that sends it all before reading would, and
    returns everything the server answers until it closes or the answer's JSON ends."""
    import socket

    with socket.create_connection((server.host, server.port), timeout=30) as c:
        c.sendall(f"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"
                  f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n".encode())
        piece = b" " * (1 << 20)
        for _ in range(size >> 20):
            c.sendall(piece)  # raises if the server hung up on the sender
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith((b"}", b"</HTML>")):
            data = c.recv(65536)
            if not data:
                break
            answer += data
    return answer


def test_a_client_that_sends_a_20_mib_body_whole_reads_the_413_envelope(mock):
    """Issue 12: a client sending a large body had its connection closed under it (libevent's cap
    was 8 MiB), so it never read the 413 the mock meant. Up to the control API's limit (64 MiB)
    the body is taken whole and the answer is the envelope."""
    head, body = send_whole_body(mock, 20 << 20).split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 413 "), head
    envelope = json.loads(body)
    assert envelope["type"] == "error" and envelope["error"]["type"] == "invalid_request_error", envelope
    assert "20971520 bytes" in envelope["error"]["message"]
    assert mock.get(LIST_THREADS).status == 200


@pytest.mark.measures_memory
def test_a_body_past_libevents_cap_is_read_and_dropped_then_the_413_and_a_close(start_server):
    """Lingering close (issue 12): past the cap, libevent answered at once and closed while the
    client was still sending, so the client's writes failed and it never read the 413. Now the rest
    of the body is read and thrown away (not kept: memory stays flat), then the 413, then the close."""
    srv = start_server("--max-body-bytes", "65536")  # libevent's cap: 64 x 65536 = 4 MiB
    before = srv.rss_kib()
    answer = send_whole_body(srv, 40 << 20)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"Connection: close" in answer
    grown_mib = (srv.rss_kib() - before) / 1024
    assert grown_mib < 16, f"resident memory grew {grown_mib:.0f} MiB for a 40 MiB refused body"
    assert srv.get(LIST_THREADS).status == 200


def test_pagination_walk_through_the_binary(mock):
    sid = mock.control("POST", "/sessions", {"children": [{"status": "running"}] * 30}).json()["id"]
    expected = [t["id"] for t in mock.get(f"/v1/sessions/{sid}/threads?limit=100").json()["data"]]
    assert len(expected) == 31
    seen, page = [], None
    for _ in range(20):
        q = "limit=4" + (f"&page={page}" if page else "")
        body = mock.get(f"/v1/sessions/{sid}/threads?{q}").json()
        seen += [t["id"] for t in body["data"]]
        if not body["has_more"]:
            assert body["next_page"] is None
            break
        page = body["next_page"]
    assert seen == expected


# -- The command line ------------------------------------------------------------


def run_cli(*args: str, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run([binary_path(), *args], capture_output=True, text=True, timeout=timeout)


def test_ready_line_is_the_only_stdout_and_sigterm_exits_zero():
    with MockServer() as s:
        assert re.fullmatch(r"cloud-agents-mock listening on http://127\.0\.0\.1:\d+", s.ready_line)
        assert s.port > 0
        assert s.get(LIST_THREADS).status == 200
        os.kill(s.pid, signal.SIGTERM)
        assert s.proc.wait(timeout=10) == 0
        assert s.proc.stdout.read() == b"", "nothing but the ready line on stdout"


def test_sigint_also_exits_zero():
    s = MockServer()
    try:
        os.kill(s.pid, signal.SIGINT)
        assert s.proc.wait(timeout=10) == 0
    finally:
        s.__exit__(None, None, None)


@pytest.mark.parametrize("args", [["--bogus"], ["--port", "notaport"], ["--port", "70000"], ["--log-level", "loud"], ["--heartbeat-ms", "90000", "--connection-timeout", "60"],
                                  ["--max-body-bytes", "9223372036854775807"]])
def test_bad_flags_are_a_usage_message_and_nonzero_exit(args):
    out = run_cli(*args)
    assert out.returncode != 0
    assert out.stdout == ""
    assert "Usage" in out.stderr or "Error" in out.stderr


def test_help_lists_the_options():
    out = run_cli("--help")
    assert out.returncode == 0
    for flag in ["--host", "--port", "--fixtures", "--token", "--seed", "--log-level"]:
        assert flag in out.stdout


def write(tmp_path: Path, name: str, content: str) -> Path:
    p = tmp_path / name
    p.write_text(content)
    return p


def test_broken_fixture_names_file_and_path_and_exits_2(tmp_path):
    bad = write(
        tmp_path,
        "broken.json",
        json.dumps({"agents": [{"id": "agent_a", "name": "A"}], "sessions": [{"id": "sess_1", "agent": "agent_a", "threads": [{"id": "sthr_1", "status": "sleeping"}]}]}),
    )
    out = run_cli("--port", "0", "--fixtures", str(bad))
    assert out.returncode == 2
    assert out.stdout == ""
    assert str(bad) in out.stderr
    assert "$.sessions[0].threads[0].status" in out.stderr and "sleeping" in out.stderr

    not_json = write(tmp_path, "notjson.json", "{oops")
    out = run_cli("--port", "0", "--fixtures", str(not_json))
    assert out.returncode == 2 and str(not_json) in out.stderr and "not valid JSON" in out.stderr

    # A syntax error deep in a pretty-printed file: the line and column (in characters) say where.
    trailing_comma = write(tmp_path, "comma.json", '{\n  "agents": [\n    {"id": "agent_a", "name": "Ä",},\n  ]\n}\n')
    out = run_cli("--port", "0", "--fixtures", str(trailing_comma))
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip().endswith(
        f"{trailing_comma}: $: not valid JSON: expected a string key at line 3, column 35 (byte 51)"
    ), out.stderr

    out = run_cli("--port", "0", "--fixtures", str(tmp_path / "missing.json"))
    assert out.returncode == 2 and "missing.json" in out.stderr


def test_fixture_folder_is_merged(tmp_path, start_server):
    write(tmp_path, "a.json", json.dumps({"agents": [{"id": "agent_a", "name": "A", "model": "m", "version": 1}]}))
    write(tmp_path, "b.json", json.dumps({"sessions": [{"id": "sess_b", "agent": "agent_a"}], "tokens": ["tok"]}))
    s = start_server("--fixtures", str(tmp_path))
    r = s.get("/v1/sessions/sess_b/threads", token="tok")
    assert r.status == 200 and r.json()["data"][0]["role"] == "coordinator"
    assert s.get("/v1/sessions/sess_b/threads", token="other").status == 401


def test_seeded_runs_answer_identical_bodies(start_server):
    bodies = []
    for _ in range(2):
        s = start_server("--seed", "1234", "--frozen-clock", "2026-06-15T09:00:00.000Z")
        made = s.post("/v1/sessions", {"agent": "agent_019f000000000000000000000000001a"})
        sid = made.json()["id"]
        bodies.append([made.body, s.get(f"/v1/sessions/{sid}/threads").body, s.get(f"/v1/sessions/{sid}").body])
    assert bodies[0] == bodies[1]


def raw_exchange(server: MockServer, payload: bytes) -> bytes:
    import socket

    with socket.create_connection((server.host, server.port), timeout=10) as s:
        s.sendall(payload)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk


@pytest.mark.parametrize(
    "payload,status",
    [
        (b"GET /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n", 400),
        # Past libevent's cap (64 x 1024 bytes here) the body is read and dropped, then the 413.
        (b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Length: 100000\r\n\r\n"
         + b"x" * 100_000, 413),
        (b"THIS IS NOT HTTP\r\n\r\n", 400),
    ],
)
def test_what_evhttp_refuses_itself_closes_the_connection_and_the_server_stays_healthy(start_server, payload, status):
    # libevent 2.1 answers these before the router sees them, with its own page (README: departures).
    s = start_server("--max-header-bytes", "2048", "--max-body-bytes", "1024")
    before = snapshot(s)
    answer = raw_exchange(s, payload)
    assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer[:200]
    assert b"Connection: close" in answer
    assert snapshot(s) == before
    assert s.get(LIST_THREADS).status == 200
