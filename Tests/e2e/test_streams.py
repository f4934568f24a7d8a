"""Live thread event streams (API.md section 7), end to end through real sockets.

Every wait has a deadline; no test sleeps for readiness; servers listen on port 0.
"""

from __future__ import annotations

import json
import resource
import socket
import struct
import threading
import time

import pytest

from support.mockserver import SEED_CHILD, SEED_COORDINATOR, SEED_EVENTS, SEED_SESSION, error_of, wait_until
from support.sse import SSEClient, StreamClosed, StreamGroup, expected_frame

PREFIXES = ["/v1", "/api/v1/cloud"]


def thread_path(sid: str, tid: str, prefix: str = "/v1") -> str:
    return f"{prefix}/sessions/{sid}/threads/{tid}"


def stream_path(sid: str, tid: str, prefix: str = "/v1", query: str = "") -> str:
    return f"{thread_path(sid, tid, prefix)}/stream" + (f"?{query}" if query else "")


def list_events(mock, sid: str, tid: str) -> list[dict]:
    """The thread's whole history through the JSON list endpoint, page by page."""
    out: list[dict] = []
    after = None
    for _ in range(10_000):
        q = "limit=100" + (f"&after_id={after}" if after else "")
        r = mock.get(f"{thread_path(sid, tid)}/events?{q}")
        assert r.status == 200, r.text
        page = r.json()
        out += page["data"]
        if not page["has_more"]:
            return out
        after = page["last_id"]
    raise AssertionError("event list never ended")


def new_child(mock, status: str = "running") -> tuple[str, str]:
    """A fresh session with one child thread; returns (session id, child id)."""
    r = mock.control("POST", "/sessions", {"children": [{"status": status}]})
    assert r.status == 201, r.text
    body = r.json()
    child = [t for t in body["threads"] if t["role"] == "child"][0]
    return body["id"], child["id"]


def append_many(mock, sid: str, tid: str, events: list[dict], batch: int = 500) -> list[dict]:
    out: list[dict] = []
    for i in range(0, len(events), batch):
        out += mock.append_events(sid, tid, events[i:i + batch])
    return out


def msg(i: int, kind: str = "agent.message", **extra) -> dict:
    return {"type": kind, "content": [{"type": "text", "text": f"message {i}"}], **extra}


def assert_error_envelope(status: int, headers: dict, body: bytes, code: int, error_type: str) -> dict:
    assert status == code, body
    assert "chunked" not in headers.get("transfer-encoding", "")
    assert headers.get("content-type", "").startswith("application/json")
    env = json.loads(body)
    assert env["type"] == "error"
    assert env["request_id"].startswith("req_")
    assert env["error"]["type"] == error_type
    assert env["error"]["message"]
    return env


def read_events(s: SSEClient, count: int, timeout: float = 10.0) -> list:
    """`count` event frames (comments skipped) within one overall deadline."""
    deadline = time.monotonic() + timeout
    out = []
    while len(out) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"only {len(out)} of {count} events within {timeout}s")
        f = s.next_frame(timeout=left)
        if not f.is_comment:
            out.append(f)
    return out


def raise_nofile(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(hard, need)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        pytest.skip(f"RLIMIT_NOFILE {soft} below {need}")


# -- 1. framing, headers, routes ---------------------------------------------------------------


ROUTES = [
    ("stream", "text/event-stream"),
    ("stream", "application/json"),
    ("events", "text/event-stream"),
    ("events", "application/json, text/event-stream"),
]


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("route,accept", ROUTES)
def test_seed_stream_framing_headers_and_live_event(mock, prefix, route, accept):
    listed = list_events(mock, SEED_SESSION, SEED_CHILD)
    assert [e["id"] for e in listed] == SEED_EVENTS
    path = f"{thread_path(SEED_SESSION, SEED_CHILD, prefix)}/{route}"
    with SSEClient(mock.host, mock.port, path, headers={"Accept": accept}) as s:
        assert s.read_head() == 200, s.error_body
        assert s.headers["content-type"] == "text/event-stream"
        assert s.headers["cache-control"] == "no-cache"
        assert s.headers["transfer-encoding"].lower() == "chunked"
        assert "content-length" not in s.headers
        assert s.headers.get("x-request-id", "").startswith("req_")
        history = s.events(2)
        assert [f.raw for f in history] == [expected_frame(e) for e in listed]
        # The JSON carries id and type too, and equals the listed object.
        assert [f.data for f in history] == listed
        # Something beyond ASCII and characters JSON may escape, to pin the encoding.
        stored = mock.append_events(
            SEED_SESSION, SEED_CHILD,
            [{"type": "agent.message", "content": [{"type": "text", "text": 'caf\u00e9 \u2603 "q" / \\ \t'}]}])
        live = s.events(1)[0]
        assert live.raw == expected_frame(stored[0])
        assert live.raw == expected_frame(list_events(mock, SEED_SESSION, SEED_CHILD)[-1])


def test_stream_needs_auth_and_a_known_thread(mock):
    with SSEClient(mock.host, mock.port, stream_path(SEED_SESSION, SEED_CHILD), token=None) as s:
        assert_error_envelope(s.read_head(), s.headers, s.error_body, 401, "authentication_error")
    with SSEClient(mock.host, mock.port, stream_path(SEED_SESSION, "sthr_" + "0" * 32)) as s:
        assert_error_envelope(s.read_head(), s.headers, s.error_body, 404, "not_found_error")
    assert mock.stats()["open_streams"] == 0


# -- 2. Last-Event-ID ---------------------------------------------------------------------------


def test_last_event_id_resumes_from_every_position(mock):
    mock.append_events(SEED_SESSION, SEED_CHILD, [msg(i) for i in range(48)])
    ids = [e["id"] for e in list_events(mock, SEED_SESSION, SEED_CHILD)]
    assert len(ids) == 50
    clients = []
    try:
        for k, last in enumerate(ids):
            s = SSEClient(mock.host, mock.port, stream_path(SEED_SESSION, SEED_CHILD),
                          headers={"Last-Event-ID": last})
            clients.append(s)
            got = [f.id for f in s.events(len(ids) - k - 1)]
            assert got == ids[k + 1:], f"resume after position {k}"
        # Nothing extra was queued behind the history: the next frame of each is the new event.
        marker = mock.append_events(SEED_SESSION, SEED_CHILD, [msg(999)])[0]
        for k, s in enumerate(clients):
            assert s.events(1)[0].raw == expected_frame(marker), f"resume after position {k}"
    finally:
        for s in clients:
            s.close()


def test_last_event_id_on_a_finished_thread_replays_the_rest_and_ends(mock):
    sid, tid = new_child(mock)
    append_many(mock, sid, tid, [msg(i) for i in range(30)])
    mock.set_status(sid, tid, "terminated")
    ids = [e["id"] for e in list_events(mock, sid, tid)]
    for k, last in enumerate(ids):
        with SSEClient(mock.host, mock.port, stream_path(sid, tid), headers={"Last-Event-ID": f"  {last} "}) as s:
            got = [f.id for f in s.read_to_end()]
            assert got == ids[k + 1:]
            assert s.ended, "no terminating chunk"


def test_bad_last_event_id_is_400_before_streaming(mock):
    sid, tid = new_child(mock)
    other = mock.append_events(sid, tid, [msg(0)])[0]["id"]
    for bad in ["evt_ffffffffffffffffffffffffffffffff", other, "not-an-id"]:
        for prefix in PREFIXES:
            for route, accept in [("stream", "application/json"), ("events", "text/event-stream")]:
                path = f"{thread_path(SEED_SESSION, SEED_CHILD, prefix)}/{route}"
                with SSEClient(mock.host, mock.port, path, headers={"Last-Event-ID": bad, "Accept": accept}) as s:
                    env = assert_error_envelope(s.read_head(), s.headers, s.error_body, 400, "invalid_request_error")
                    assert bad in env["error"]["message"]
                    assert s.headers["x-request-id"] == env["request_id"]
    assert mock.stats()["open_streams"] == 0


# -- 3. filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "type=kind.a,kind.b",
        "types[]=kind.a&types[]=kind.b",
        "types%5B%5D=kind.a&types%5B%5D=kind.b",
        "type=kind.a&types[]=kind.b",
        "type=kind.a,%20kind.b&event_deltas[]=x&unknown=1",
    ],
)
def test_type_filters_apply_to_history_and_live_events(mock, query):
    sid, tid = new_child(mock)
    kinds = ["kind.a", "kind.b", "kind.c"]
    append_many(mock, sid, tid, [msg(i, kinds[i % 3]) for i in range(12)])
    history = [e for e in list_events(mock, sid, tid) if e["type"] in ("kind.a", "kind.b")]
    assert len(history) == 8
    with SSEClient(mock.host, mock.port, stream_path(sid, tid, query=query)) as s:
        assert s.read_head() == 200, s.error_body
        got = s.events(len(history))
        assert [f.raw for f in got] == [expected_frame(e) for e in history]
        live = mock.append_events(sid, tid, [msg(100, "kind.c"), msg(101, "kind.a"), msg(102, "kind.c"),
                                             msg(103, "kind.b"), msg(104, "kind.c")])
        wanted = [e for e in live if e["type"] != "kind.c"]
        assert [f.raw for f in s.events(2)] == [expected_frame(e) for e in wanted]
        # Nothing of the filtered-out type slipped in behind them.
        marker = mock.append_events(sid, tid, [msg(105, "kind.c"), msg(106, "kind.b")])[1]
        assert s.events(1)[0].raw == expected_frame(marker)


def test_events_route_without_sse_accept_stays_a_json_list(mock):
    r = mock.get(f"{thread_path(SEED_SESSION, SEED_CHILD)}/events?event_deltas[]=x", headers={"Accept": "application/json"})
    assert r.status == 200
    assert [e["id"] for e in r.json()["data"]] == SEED_EVENTS


# -- 4. final statuses end streams --------------------------------------------------------------


def test_archive_ends_open_streams_after_the_terminated_frame(mock):
    paths = [stream_path(SEED_SESSION, SEED_CHILD, p) for p in PREFIXES]
    paths.append(f"{thread_path(SEED_SESSION, SEED_CHILD)}/events")
    paths.append(stream_path(SEED_SESSION, SEED_CHILD, query="type=session.thread_status_terminated"))
    paths.append(stream_path(SEED_SESSION, SEED_CHILD, query="type=agent.message"))
    clients = [SSEClient(mock.host, mock.port, p) for p in paths]
    try:
        for s in clients[:3]:
            assert [f.id for f in s.events(2)] == SEED_EVENTS
        for s in clients[3:]:
            assert s.read_head() == 200
        wait_until(lambda: mock.stats()["open_streams"] == len(clients), timeout=5, message="streams registered")
        mock.set_status(SEED_SESSION, SEED_CHILD, "idle")
        r = mock.post(f"{thread_path(SEED_SESSION, SEED_CHILD)}/archive")
        assert r.status == 200, r.text
        listed = list_events(mock, SEED_SESSION, SEED_CHILD)
        assert listed[-1]["type"] == "session.thread_status_terminated"
        assert listed[-1]["status"] == "archived"
        tail = [expected_frame(e) for e in listed[2:]]
        for s in clients[:3]:
            rest = s.read_to_end(timeout=5)
            assert [f.raw for f in rest] == tail
            assert s.ended, "no terminating chunk after the terminated frame"
        only_final = clients[3].read_to_end(timeout=5)
        assert [f.raw for f in only_final] == [expected_frame(listed[-1])]
        assert clients[3].ended
        assert clients[4].read_to_end(timeout=5) == []
        assert clients[4].ended
        wait_until(lambda: mock.stats()["open_streams"] == 0, timeout=5, message="open_streams back to 0")
    finally:
        for s in clients:
            s.close()
    # A stream opened on the finished thread replays the whole history, then ends.
    for prefix in PREFIXES:
        with SSEClient(mock.host, mock.port, stream_path(SEED_SESSION, SEED_CHILD, prefix)) as s:
            assert [f.raw for f in s.read_to_end(timeout=5)] == [expected_frame(e) for e in listed]
            assert s.ended
    assert mock.stats()["open_streams"] == 0


def test_terminated_status_ends_streams(mock):
    sid, tid = new_child(mock)
    with SSEClient(mock.host, mock.port, stream_path(sid, tid)) as s:
        history = list_events(mock, sid, tid)
        assert [f.id for f in s.events(len(history))] == [e["id"] for e in history]
        wait_until(lambda: mock.stats()["open_streams"] == 1, timeout=5, message="stream registered")
        mock.set_status(sid, tid, "terminated")
        rest = s.read_to_end(timeout=5)
        assert [f.event for f in rest] == ["session.thread_status_terminated"]
        assert rest[0].data["status"] == "terminated"
        assert s.ended
    # Idle and blocked are not final: the stream stays.
    sid, tid = new_child(mock)
    with SSEClient(mock.host, mock.port, stream_path(sid, tid)) as s:
        s.events(len(list_events(mock, sid, tid)))
        mock.set_status(sid, tid, "idle")
        assert s.events(1)[0].event == "session.thread_status_idle"
        marker = mock.append_events(sid, tid, [msg(1)])[0]
        assert s.events(1)[0].raw == expected_frame(marker)
        assert not s.ended


def test_archive_during_a_paced_replay_still_delivers_everything_then_ends(mock):
    history = append_many(mock, SEED_SESSION, SEED_CHILD, [msg(i, text="r" * 3000) for i in range(700)], batch=100)
    with SSEClient(mock.host, mock.port, stream_path(SEED_SESSION, SEED_CHILD), recv_buffer=4096) as s:
        assert s.read_head() == 200
        wait_until(lambda: mock.stats()["open_streams"] == 1, timeout=5, message="stream registered")
        mock.set_status(SEED_SESSION, SEED_CHILD, "idle")
        assert mock.post(f"{thread_path(SEED_SESSION, SEED_CHILD)}/archive").status == 200
        listed = list_events(mock, SEED_SESSION, SEED_CHILD)
        assert len(listed) == len(history) + 4
        got = s.read_to_end(timeout=20)
        assert [f.id for f in got] == [e["id"] for e in listed]
        assert got[-1].event == "session.thread_status_terminated"
        assert s.ended
    wait_until(lambda: mock.stats()["open_streams"] == 0, timeout=5, message="open_streams back to 0")


def test_reset_ends_open_streams(mock):
    with SSEClient(mock.host, mock.port, stream_path(SEED_SESSION, SEED_CHILD)) as s:
        s.events(2)
        mock.reset()
        assert s.read_to_end(timeout=5) == []
        assert s.ended
    assert mock.stats()["open_streams"] == 0


# -- 5. appends racing the history --------------------------------------------------------------


def test_event_appended_while_history_is_being_written_appears_once_in_order(mock):
    sid, tid = new_child(mock)
    big = "x" * 200
    append_many(mock, sid, tid, [msg(i, text=big) for i in range(5000)], batch=1000)
    with SSEClient(mock.host, mock.port, stream_path(sid, tid)) as s:
        # The request is on the wire; append from another connection before reading anything.
        wait_until(lambda: mock.stats()["open_streams"] == 1, timeout=10, message="stream registered")
        extra = mock.append_events(sid, tid, [msg(-1), msg(-2)])
        expected = [e["id"] for e in list_events(mock, sid, tid)]
        assert expected[-2:] == [e["id"] for e in extra]
        got = [f.id for f in read_events(s, len(expected), timeout=30)]
        assert got == expected
        marker = mock.append_events(sid, tid, [msg(-3)])[0]
        assert s.events(1)[0].id == marker["id"]


def test_streams_opened_during_a_burst_of_appends_see_a_gapless_sequence(mock):
    sid, tid = new_child(mock)
    stop = threading.Event()
    errors: list[BaseException] = []

    appended = [0]

    def appender():
        try:
            i = 0
            while not stop.is_set():
                mock.append_events(sid, tid, [msg(i), msg(i + 1)])
                i += 2
                appended[0] = i
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    t = threading.Thread(target=appender, daemon=True)
    t.start()
    clients = []
    firsts = []
    try:
        for _ in range(15):
            clients.append(SSEClient(mock.host, mock.port, stream_path(sid, tid)))
            firsts.append([f.id for f in clients[-1].events(3)])
        start = appended[0]
        wait_until(lambda: appended[0] >= start + 20, timeout=10, message="appends after the last open")
        stop.set()
        t.join(timeout=10)
        assert not t.is_alive() and not errors, errors
        expected = [e["id"] for e in list_events(mock, sid, tid)]
        assert len(expected) > 20
        for s, first in zip(clients, firsts):
            got = first + [f.id for f in read_events(s, len(expected) - 3, timeout=10)]
            assert got == expected
    finally:
        stop.set()
        for s in clients:
            s.close()


# -- 6. many streams ----------------------------------------------------------------------------


def test_a_thousand_streams_receive_the_same_events_in_order(start_server):
    raise_nofile(4096)
    server = start_server()
    started = time.monotonic()
    with StreamGroup(server.host, server.port, stream_path(SEED_SESSION, SEED_CHILD), 1000, timeout=30) as group:
        group.wait_events(2, timeout=20)
        assert server.stats()["open_streams"] == 1000
        appended = []
        for i in range(20):
            appended += server.append_events(SEED_SESSION, SEED_CHILD, [msg(i * 5 + j) for j in range(5)])
        group.wait_events(102, timeout=30)
        want = [expected_frame(e) for e in list_events(server, SEED_SESSION, SEED_CHILD)]
        assert len(want) == 102
        for i in range(1000):
            assert [f.raw for f in group.event_frames(i)] == want, f"stream {i}"
    assert time.monotonic() - started < 60


# -- 7. leaks -----------------------------------------------------------------------------------


def test_a_thousand_killed_streams_leave_nothing_behind(start_server):
    raise_nofile(4096)
    server = start_server()
    # Taken before any connection: everything the server keeps open is open by its ready line.
    baseline = server.open_fds()
    for round_ in range(2):
        group = StreamGroup(server.host, server.port, stream_path(SEED_SESSION, SEED_CHILD), 500, timeout=30)
        try:
            group.wait_events(2, timeout=20)
            assert server.stats()["open_streams"] == 500
            assert server.open_fds() >= baseline + 500
        finally:
            for i, c in enumerate(group.clients):
                if i % 2:
                    # Half of them reset (RST) rather than close (FIN).
                    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            group.close()
        wait_until(lambda: server.stats()["open_streams"] == 0, timeout=10, message="open_streams back to 0")
        wait_until(lambda: server.open_fds() <= baseline, timeout=10,
                   message=f"fds back to {baseline} (now {server.open_fds()})")
    # The server is healthy afterwards and still streams.
    with SSEClient(server.host, server.port, stream_path(SEED_SESSION, SEED_CHILD)) as s:
        assert [f.id for f in s.events(2)] == SEED_EVENTS
    assert server.stop() == 0


def test_a_client_leaving_mid_history_is_forgotten(start_server):
    server = start_server()
    append_many(server, SEED_SESSION, SEED_CHILD, [msg(i, text="y" * 2000) for i in range(3000)], batch=500)
    baseline = server.open_fds()
    for _ in range(20):
        s = SSEClient(server.host, server.port, stream_path(SEED_SESSION, SEED_CHILD), recv_buffer=4096)
        s.events(3)
        s.close()
    wait_until(lambda: server.stats()["open_streams"] == 0, timeout=10, message="open_streams back to 0")
    wait_until(lambda: server.open_fds() <= baseline, timeout=10, message="fds back to baseline")
    assert server.stop() == 0


# -- 8. slow readers ----------------------------------------------------------------------------


@pytest.mark.measures_memory
def test_a_reader_that_stops_reading_is_bounded_ended_and_can_resume(start_server):
    bound = 256 * 1024
    server = start_server("--stream-buffer-bytes", str(bound))
    readers = []
    try:
        for _ in range(10):
            s = SSEClient(server.host, server.port, stream_path(SEED_SESSION, SEED_CHILD), recv_buffer=4096)
            assert s.read_head() == 200
            readers.append(s)
        wait_until(lambda: server.stats()["open_streams"] == 10, timeout=5, message="streams registered")
        rss_before = server.rss_kib()
        payload = "z" * 20_000
        total = 400  # 8 MB of events; 10 stuck readers would hold 80 MB unbounded
        for i in range(0, total, 20):
            server.append_events(SEED_SESSION, SEED_CHILD, [msg(i + j, text=payload) for j in range(20)])
        grown_mib = (server.rss_kib() - rss_before) / 1024
        # The store itself keeps the 8 MB (encoded bytes, plus the cached SSE frame once streamed); the streams add at most
        # their bound each, plus kernel buffers.
        assert grown_mib < 60, f"RSS grew {grown_mib:.0f} MiB with 10 stuck readers"
        assert server.stats()["open_streams"] == 0, "stuck streams were not ended at the bound"
        everything = [e["id"] for e in list_events(server, SEED_SESSION, SEED_CHILD)]
        assert len(everything) == total + 2
        for s in readers:
            got = [f.id for f in s.read_to_end(timeout=10)]
            assert s.ended, "stream cut without the terminating chunk"
            assert 2 <= len(got) < len(everything)
            assert got == everything[:len(got)]
            with SSEClient(server.host, server.port, stream_path(SEED_SESSION, SEED_CHILD),
                           headers={"Last-Event-ID": got[-1]}) as again:
                rest = [f.id for f in read_events(again, len(everything) - len(got), timeout=20)]
                assert got + rest == everything
                marker = server.append_events(SEED_SESSION, SEED_CHILD, [msg(-1)])[0]
                assert again.events(1)[0].id == marker["id"]
                everything.append(marker["id"])
    finally:
        for s in readers:
            s.close()


@pytest.mark.measures_memory
def test_stuck_readers_together_are_bounded_and_the_others_are_not_hurt(start_server):
    """Issue 12 finding 5: streams x unread bytes had no bound (2,000 unread streams and 2 MiB of
    events reached 4.98 GB). --stream-buffer-total-bytes bounds all streams together: a stream
    that is behind when the total is reached is cut (no terminating chunk) and resumes with
    Last-Event-ID; a reader that keeps up is untouched."""
    total_bound = 2 * 1024 * 1024
    server = start_server("--stream-buffer-total-bytes", str(total_bound))
    stuck = []
    keeping_up = SSEClient(server.host, server.port, stream_path(SEED_SESSION, SEED_CHILD))
    try:
        assert keeping_up.read_head() == 200
        for _ in range(20):
            s = SSEClient(server.host, server.port, stream_path(SEED_SESSION, SEED_CHILD), recv_buffer=4096)
            assert s.read_head() == 200
            stuck.append(s)
        wait_until(lambda: server.stats()["open_streams"] == 21, timeout=5, message="streams registered")
        rss_before = server.rss_kib()
        payload = "q" * 30_000
        total = 300  # 9 MB of events: unbounded, 20 stuck readers would hold up to 180 MB
        got = []
        for i in range(0, total, 10):
            server.append_events(SEED_SESSION, SEED_CHILD, [msg(i + j, text=payload) for j in range(10)])
            got += [f.id for f in read_events(keeping_up, 10 if i else 12, timeout=20)]
        grown_mib = (server.rss_kib() - rss_before) / 1024
        # The store keeps the 9 MB (and the SSE frames it caches); the streams add at most the total bound.
        assert grown_mib < 48, f"RSS grew {grown_mib:.0f} MiB with 20 stuck readers"
        assert server.stats()["open_streams"] < 21, "no stuck stream was cut"
        everything = [e["id"] for e in list_events(server, SEED_SESSION, SEED_CHILD)]
        assert got == everything, "the reader that keeps up missed events"
        cut = 0
        for s in stuck:
            frames = s.read_to_end(timeout=20)
            ids = [f.id for f in frames]
            assert ids == everything[:len(ids)], "a stuck reader got events out of order"
            cut += not s.ended
        assert cut > 0, "no stream was cut"
    finally:
        keeping_up.close()
        for s in stuck:
            s.close()
    assert "cutting a stream whose reader is" in server.stderr_text()


@pytest.mark.measures_memory
def test_readers_of_a_long_history_do_not_each_buffer_all_of_it(start_server):
    server = start_server()
    append_many(server, SEED_SESSION, SEED_CHILD, [msg(i, text="h" * 4000) for i in range(1000)], batch=100)
    rss_before = server.rss_kib()
    readers = []
    try:
        for _ in range(100):
            s = SSEClient(server.host, server.port, stream_path(SEED_SESSION, SEED_CHILD), recv_buffer=4096)
            assert s.read_head() == 200
            readers.append(s)
        wait_until(lambda: server.stats()["open_streams"] == 100, timeout=10, message="streams registered")
        grown_mib = (server.rss_kib() - rss_before) / 1024
        # 100 readers of a 4 MB history, none reading: replayed whole, that is 400 MB.
        assert grown_mib < 100, f"RSS grew {grown_mib:.0f} MiB"
        # And each still gets all of it, at its own pace.
        expected = [e["id"] for e in list_events(server, SEED_SESSION, SEED_CHILD)]
        for s in readers[:3]:
            assert [f.id for f in read_events(s, len(expected), timeout=20)] == expected
    finally:
        for s in readers:
            s.close()
    wait_until(lambda: server.stats()["open_streams"] == 0, timeout=10, message="open_streams back to 0")


@pytest.mark.parametrize("size", [1_000, 40_000, 60_000, 100_000, 300_000])
def test_history_frames_of_any_size_stream_whole(start_server, size):
    # Bound 128 KiB: frames below, around and above half of it, and above the bound itself.
    server = start_server("--stream-buffer-bytes", str(128 * 1024))
    appended = append_many(server, SEED_SESSION, SEED_CHILD, [msg(i, text="f" * size) for i in range(12)], batch=4)
    with SSEClient(server.host, server.port, stream_path(SEED_SESSION, SEED_CHILD)) as s:
        got = read_events(s, 14, timeout=20)
        assert [f.raw for f in got[2:]] == [expected_frame(e) for e in appended]
        assert server.stats()["open_streams"] == 1


def test_history_larger_than_the_bound_streams_in_one_connection(start_server):
    server = start_server("--stream-buffer-bytes", str(64 * 1024))
    appended = append_many(server, SEED_SESSION, SEED_CHILD, [msg(i, text="w" * 4000) for i in range(500)], batch=100)
    expected = SEED_EVENTS + [e["id"] for e in appended]
    with SSEClient(server.host, server.port, stream_path(SEED_SESSION, SEED_CHILD)) as s:
        assert [f.id for f in read_events(s, len(expected), timeout=20)] == expected
        marker = server.append_events(SEED_SESSION, SEED_CHILD, [msg(-1)])[0]
        assert s.events(1)[0].id == marker["id"]
    assert server.stop() == 0


# -- 9. heartbeats ------------------------------------------------------------------------------


def test_heartbeat_on_a_quiet_stream_only(start_server):
    # 800 ms against events every 20 ms: only a stall of most of a second on a loaded
    # machine could slip a heartbeat between two events.
    server = start_server("--heartbeat-ms", "800")
    with SSEClient(server.host, server.port, stream_path(SEED_SESSION, SEED_CHILD)) as s:
        assert [f.id for f in s.events(2)] == SEED_EVENTS
        beat = s.next_frame(timeout=3)
        assert beat.raw == b": heartbeat\n\n"
        assert beat.is_comment
        # Events every 20 ms for about 1.5 s: the stream is never quiet for 800 ms.
        sent = []
        for i in range(75):
            sent.append(server.append_events(SEED_SESSION, SEED_CHILD, [msg(i)])[0]["id"])
            time.sleep(0.02)  # pacing the traffic, not waiting for readiness
        frames = []
        while len([f for f in frames if not f.is_comment]) < len(sent):
            frames.append(s.next_frame(timeout=5))
        assert [f.id for f in frames if not f.is_comment] == sent
        assert [f.raw for f in frames if f.is_comment] == []
        # Quiet again: heartbeats resume, and keep coming.
        assert s.next_frame(timeout=3).raw == b": heartbeat\n\n"
        assert s.next_frame(timeout=3).raw == b": heartbeat\n\n"


def test_heartbeats_keep_a_stream_past_the_connection_timeout(start_server):
    server = start_server("--connection-timeout", "1", "--heartbeat-ms", "200")
    with SSEClient(server.host, server.port, stream_path(SEED_SESSION, SEED_CHILD)) as s:
        s.events(2)
        deadline = time.monotonic() + 2.5
        beats = 0
        while time.monotonic() < deadline:
            assert s.next_frame(timeout=2).is_comment
            beats += 1
        assert beats >= 8
        marker = server.append_events(SEED_SESSION, SEED_CHILD, [msg(0)])[0]
        assert s.events(1)[0].id == marker["id"]


# -- 10. shutdown -------------------------------------------------------------------------------


def test_sigterm_ends_every_open_stream_and_exits_zero(start_server):
    server = start_server()
    sid, tid = new_child(server)
    clients = [SSEClient(server.host, server.port, stream_path(SEED_SESSION, SEED_CHILD)) for _ in range(20)]
    clients += [SSEClient(server.host, server.port, stream_path(sid, tid, "/api/v1/cloud")) for _ in range(5)]
    try:
        for s in clients[:20]:
            s.events(2)
        for s in clients[20:]:
            assert s.read_head() == 200
        assert server.stats()["open_streams"] == 25
        assert server.stop() == 0
        for s in clients:
            s.read_to_end(timeout=5)
            assert s.ended, "no terminating chunk at shutdown"
    finally:
        for s in clients:
            s.close()


def test_sigterm_waits_for_a_slow_reader_to_get_its_terminating_chunk(start_server):
    server = start_server()
    appended = append_many(server, SEED_SESSION, SEED_CHILD, [msg(i, text="s" * 50_000) for i in range(40)], batch=10)
    with SSEClient(server.host, server.port, stream_path(SEED_SESSION, SEED_CHILD), recv_buffer=4096) as s:
        assert s.read_head() == 200
        wait_until(lambda: server.stats()["open_streams"] == 1, timeout=5, message="stream registered")
        import os
        import signal
        os.kill(server.pid, signal.SIGTERM)
        time.sleep(0.5)  # a reader that is busy elsewhere when the server stops, not a readiness wait
        got = s.read_to_end(timeout=10)
        assert s.ended, "shutdown dropped the terminating chunk of a slow reader"
        ids = [f.id for f in got]
        assert ids == (SEED_EVENTS + [e["id"] for e in appended])[:len(ids)]
    assert server.stop() == 0


def test_a_second_sigterm_during_shutdown_still_exits_zero(start_server):
    # A stuck reader keeps the shutdown waiting for its terminating chunk; a process manager
    # that repeats SIGTERM meanwhile used to kill the server by the signal's default action.
    server = start_server()
    append_many(server, SEED_SESSION, SEED_CHILD, [msg(i, text="s" * 50_000) for i in range(40)], batch=10)
    with SSEClient(server.host, server.port, stream_path(SEED_SESSION, SEED_CHILD), recv_buffer=4096) as s:
        assert s.read_head() == 200
        wait_until(lambda: server.stats()["open_streams"] == 1, timeout=5, message="stream registered")
        import os
        import signal
        import socket

        os.kill(server.pid, signal.SIGTERM)

        def refusing() -> bool:
            try:
                socket.create_connection((server.host, server.port), timeout=1).close()
                return False
            except OSError:
                return True

        # The shutdown has begun (the listener is closed) while the stuck stream holds it open.
        wait_until(refusing, timeout=5, message="listener closed")
        assert server.stop() == 0


def test_connection_is_reusable_after_a_stream_ends(mock):
    sid, tid = new_child(mock)
    s = SSEClient(mock.host, mock.port, stream_path(sid, tid))
    try:
        s.events(len(list_events(mock, sid, tid)))
        mock.set_status(sid, tid, "terminated")
        s.read_to_end(timeout=5)
        assert s.ended
        # Keep-alive: a second stream on the same connection, then the client leaves.
        again = SSEClient(mock.host, mock.port, stream_path(SEED_SESSION, SEED_CHILD), connect=False)
        again.sock = s.sock
        again.sock.sendall(
            f"GET {stream_path(SEED_SESSION, SEED_CHILD)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n".encode())
        assert [f.id for f in again.events(2)] == SEED_EVENTS
        wait_until(lambda: mock.stats()["open_streams"] == 1, timeout=5, message="second stream registered")
    finally:
        s.close()
    wait_until(lambda: mock.stats()["open_streams"] == 0, timeout=5, message="second stream forgotten")
    assert mock.get(thread_path(SEED_SESSION, SEED_CHILD)).status == 200


# -- 11. disconnects and the drop fault -------------------------------------------------------


def test_drop_after_frames_fault_cuts_without_terminating_chunk(mock):
    mock.append_events(SEED_SESSION, SEED_CHILD, [msg(i) for i in range(3)])
    r = mock.control("POST", "/faults", {"path": "/v1/sessions/*/stream", "drop_after_frames": 2, "times": 1})
    assert r.status in (200, 201), r.text
    try:
        with SSEClient(mock.host, mock.port, stream_path(SEED_SESSION, SEED_CHILD)) as s:
            assert s.read_head() == 200
            got = s.read_to_end(timeout=5)
            assert [f.id for f in got] == SEED_EVENTS
            assert s.eof and not s.ended, "the fault must cut the connection, not end the response"
        # Only once: the next stream is whole.
        with SSEClient(mock.host, mock.port, stream_path(SEED_SESSION, SEED_CHILD)) as s:
            assert len(s.events(5)) == 5
        wait_until(lambda: mock.stats()["open_streams"] == 1 or mock.stats()["open_streams"] == 0, timeout=5)
    finally:
        mock.control("DELETE", "/faults")


def test_drop_after_frames_delivers_the_frames_before_the_cut(mock):
    # Big frames: the N frames are still queued in user space when the fault fires.
    sid, tid = new_child(mock)
    history = append_many(mock, sid, tid, [msg(i, text="d" * 60_000) for i in range(20)], batch=10)
    r = mock.control("POST", "/faults", {"path": "/v1/sessions/*/stream", "drop_after_frames": 12, "times": 1})
    assert r.status in (200, 201), r.text
    try:
        with SSEClient(mock.host, mock.port, stream_path(sid, tid, query="type=agent.message")) as s:
            got = s.read_to_end(timeout=10)
            assert [f.raw for f in got] == [expected_frame(e) for e in history[:12]]
            assert s.eof and not s.ended
        wait_until(lambda: mock.stats()["open_streams"] == 0, timeout=5, message="dropped stream forgotten")
    finally:
        mock.control("DELETE", "/faults")


def test_drop_after_frames_on_live_events(mock):
    r = mock.control("POST", "/faults", {"path": "/v1/sessions/*/stream", "drop_after_frames": 4, "times": 1})
    assert r.status in (200, 201), r.text
    try:
        with SSEClient(mock.host, mock.port, stream_path(SEED_SESSION, SEED_CHILD)) as s:
            assert [f.id for f in s.events(2)] == SEED_EVENTS
            live = mock.append_events(SEED_SESSION, SEED_CHILD, [msg(i) for i in range(5)])
            got = s.read_to_end(timeout=5)
            assert [f.id for f in got] == [e["id"] for e in live[:2]]
            assert s.eof and not s.ended
        wait_until(lambda: mock.stats()["open_streams"] == 0, timeout=5, message="dropped stream forgotten")
    finally:
        mock.control("DELETE", "/faults")


def test_clients_leaving_mid_stream_do_not_hurt_the_others(mock):
    keeper = SSEClient(mock.host, mock.port, stream_path(SEED_SESSION, SEED_CHILD))
    try:
        keeper.events(2)
        for i in range(50):
            s = SSEClient(mock.host, mock.port, stream_path(SEED_SESSION, SEED_CHILD))
            s.events(2)
            if i % 2:
                s.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            mock.append_events(SEED_SESSION, SEED_CHILD, [msg(i)])
        assert len(keeper.events(50)) == 50
        wait_until(lambda: mock.stats()["open_streams"] == 1, timeout=5, message="only the keeper left")
    finally:
        keeper.close()


# -- 12. stream torture faults (for client authors' SSE parsers) --------------------------------


def torture(mock, **fields) -> dict:
    r = mock.control("POST", "/faults", {"path": "/v1/sessions/*/threads/*/stream", "times": 1, **fields})
    assert r.status == 201, r.text
    return r.json()


def history_child(mock, count: int = 4, text: str = "") -> tuple[str, str, list[dict]]:
    """A new child thread whose history is `count` appended messages after its creation event."""
    sid, tid = new_child(mock)
    append_many(mock, sid, tid, [msg(i, text=text) if text else msg(i) for i in range(count)])
    history = list_events(mock, sid, tid)
    assert len(history) == count + 1
    return sid, tid, history


def test_split_frames_sends_every_byte_as_its_own_chunk(mock):
    sid, tid, history = history_child(mock)
    fault = torture(mock, split_frames=1)
    assert fault["split_frames"] == 1 and fault["heartbeat_between_frames"] is False
    with SSEClient(mock.host, mock.port, stream_path(sid, tid)) as s:
        got = s.events(len(history))
        assert [f.raw for f in got] == [expected_frame(e) for e in history]
        assert set(s.chunk_sizes) == {1}
        assert len(s.chunk_sizes) == sum(len(expected_frame(e)) for e in history)
        # Live events are split too, after the history.
        live = mock.append_events(sid, tid, [msg(99)])
        assert [f.raw for f in s.events(1)] == [expected_frame(live[0])]
        assert set(s.chunk_sizes) == {1}
    # The fault was for one stream: the next is whole, one chunk a frame.
    with SSEClient(mock.host, mock.port, stream_path(sid, tid)) as s:
        s.events(len(history) + 1)
        assert len(s.chunk_sizes) == len(history) + 1


def test_random_splits_are_small_varied_and_repeat_with_the_same_seed(start_server):
    def sizes() -> list[int]:
        # Fault ids come from the id generator: with --seed and a frozen clock a run repeats them.
        srv = start_server("--seed", "1234", "--frozen-clock", "2026-06-15T09:00:00.000Z")
        sid, tid, history = history_child(srv, text="r" * 300)
        fault = torture(srv, split_frames="random")
        assert fault["split_frames"] == "random"
        with SSEClient(srv.host, srv.port, stream_path(sid, tid)) as s:
            assert [f.raw for f in s.events(len(history))] == [expected_frame(e) for e in history]
            return s.chunk_sizes

    first = sizes()
    assert set(first) <= set(range(1, 9)) and len(set(first)) >= 4, first
    assert sizes() == first, "a random split is seeded by the fault's id"


def test_split_frames_paces_a_large_history_without_losing_a_byte(mock):
    sid, tid, history = history_child(mock, count=20, text="p" * 60_000)
    torture(mock, split_frames=4096)
    with SSEClient(mock.host, mock.port, stream_path(sid, tid)) as s:
        got = s.events(len(history), timeout=30)
        assert [f.raw for f in got] == [expected_frame(e) for e in history]
        assert max(s.chunk_sizes) == 4096


def test_heartbeat_between_frames_puts_a_comment_before_every_frame(mock):
    sid, tid, history = history_child(mock, count=3)
    torture(mock, heartbeat_between_frames=True)
    with SSEClient(mock.host, mock.port, stream_path(sid, tid)) as s:
        got = [s.next_frame() for _ in range(2 * len(history))]
        assert [f.raw for f in got[0::2]] == [b": heartbeat\n\n"] * len(history)
        assert [f.raw for f in got[1::2]] == [expected_frame(e) for e in history]


def test_frame_delay_holds_back_every_frame_in_order(mock):
    sid, tid, history = history_child(mock, count=3)
    torture(mock, frame_delay_ms=150, split_frames=7)
    started = time.monotonic()  # before the request: the first delay starts when the head goes out
    with SSEClient(mock.host, mock.port, stream_path(sid, tid)) as s:
        assert s.read_head() == 200
        arrivals = []
        for _ in history:
            arrivals.append((s.events(1)[0], time.monotonic() - started))
        assert [f.raw for f, _ in arrivals] == [expected_frame(e) for e in history]
        # Each frame waits its own delay after the one before it.
        assert arrivals[-1][1] >= 3 * 0.150, arrivals
        assert max(s.chunk_sizes) == 7


def test_drop_in_frame_cuts_the_connection_inside_that_frame(mock):
    sid, tid, history = history_child(mock, count=3)
    torture(mock, drop_in_frame=2)
    with SSEClient(mock.host, mock.port, stream_path(sid, tid)) as s:
        got = s.read_to_end(timeout=5)
        assert [f.raw for f in got] == [expected_frame(history[0])]
        second = expected_frame(history[1])
        assert s.partial == second[: len(second) // 2]
        assert s.eof and not s.ended, "a cut, not the end of the response"
    wait_until(lambda: mock.stats()["open_streams"] == 0, timeout=5, message="cut stream forgotten")


def test_drop_in_frame_on_a_live_event_with_splits(mock):
    sid, tid, history = history_child(mock, count=0)
    torture(mock, drop_in_frame=2, split_frames=3, heartbeat_between_frames=True)
    with SSEClient(mock.host, mock.port, stream_path(sid, tid)) as s:
        assert [f.raw for f in s.events(1)] == [expected_frame(history[0])]
        live = mock.append_events(sid, tid, [msg(1)])
        assert s.read_to_end(timeout=5) == []  # only heartbeat comments come before the cut
        frame = expected_frame(live[0])
        assert s.partial == frame[: len(frame) // 2]
        assert s.eof and not s.ended
        assert set(s.chunk_sizes) <= {1, 2, 3}


@pytest.mark.parametrize(
    "fields, param",
    [
        ({"split_frames": 0}, "split_frames"),
        ({"split_frames": "sometimes"}, "split_frames"),
        ({"split_frames": 65_537}, "split_frames"),
        ({"frame_delay_ms": 0}, "frame_delay_ms"),
        ({"drop_in_frame": 0}, "drop_in_frame"),
        ({"heartbeat_between_frames": "yes"}, "heartbeat_between_frames"),
        ({"drop_in_frame": 2, "drop_after_frames": 3}, "drop_in_frame"),
        ({"status": 500, "split_frames": 1}, "split_frames"),
        ({"status": 500, "heartbeat_between_frames": True}, "heartbeat_between_frames"),
    ],
)
def test_stream_fault_fields_are_checked(mock, fields, param):
    err = error_of(mock.control("POST", "/faults", {"path": "/v1/x", **fields}), 400, "invalid_request_error")
    assert err["param"] == param, err
    assert mock.control("GET", "/faults").json() == {"data": []}
