"""`GET /_mock/state` is written as the client takes it (README: "Control API"): a reply with a
Content-Length whose body the server writes a part at a time whenever the connection's queue is
empty. The export is of the moment it was asked for; the server answers others meanwhile and holds
no copy of the export for a client that has not read it.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest

from support.mockserver import REPO, wait_until

FROZEN_AT = "2026-06-20T00:00:00.000Z"
AUTH = "Authorization: Bearer test\r\n"


@pytest.fixture(scope="module")
def big_fixture(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "gen.json"
    subprocess.run([sys.executable, str(REPO / "bench" / "gen_fixture.py"), "--sessions", "60", "--threads", "5",
                    "--events", "100", "--out", str(out)], check=True, capture_output=True, timeout=60)
    return out


class RawClient:
    """One keep-alive connection read only when the test says so, each read under a deadline."""

    def __init__(self, port: int, timeout: float = 30.0):
        self.deadline = time.monotonic() + timeout
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        # A small receive buffer: the kernel takes little that the client has not read.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        self.pending = b""

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode())

    def _more(self) -> None:
        left = self.deadline - time.monotonic()
        assert left > 0, "no complete answer before the deadline"
        self.sock.settimeout(left)
        data = self.sock.recv(1 << 20)
        assert data, "the server closed the connection early"
        self.pending += data

    def head(self) -> tuple[int, dict[str, str]]:
        while b"\r\n\r\n" not in self.pending:
            self._more()
        head, self.pending = self.pending.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        fields = dict((k.strip().lower(), v.strip()) for k, v in (x.split(":", 1) for x in lines[1:]))
        return int(lines[0].split()[1]), fields

    def body(self, length: int) -> bytes:
        parts, got = [self.pending[:length]], min(len(self.pending), length)
        self.pending = self.pending[length:]
        while got < length:
            self._more()
            take = self.pending[:length - got]
            self.pending = self.pending[len(take):]
            parts.append(take)
            got += len(take)
        return b"".join(parts)

    def close(self) -> None:
        self.sock.close()


def test_a_large_export_is_of_its_moment_while_the_server_answers_others(start_server, big_fixture):
    srv = start_server("--fixtures", str(big_fixture), "--frozen-clock", FROZEN_AT)
    before = srv.control("GET", "/state").body
    assert len(before) > 8 << 20
    session = json.loads(before)["sessions"][0]
    sid, tid = session["id"], session["threads"][0]["id"]

    client = RawClient(srv.port)
    try:
        client.send(f"GET /_mock/state HTTP/1.1\r\nHost: x\r\n{AUTH}\r\n")
        status, fields = client.head()
        assert status == 200
        assert fields["content-type"] == "application/json"
        assert int(fields["content-length"]) == len(before)
        assert "transfer-encoding" not in fields
        # The client reads nothing more for now; the server answers others, and the world changes.
        threads = srv.get(f"/v1/sessions/{sid}/threads")
        assert threads.status == 200, threads.text
        added = srv.control("POST", f"/sessions/{sid}/threads/{tid}/events",
                            {"id": "evt_late", "type": "agent.message", "content": []})
        assert added.status == 201, added.text
        assert b'"evt_late"' in srv.control("GET", "/state").body
        assert srv.control("POST", "/reset").status == 200
        body = client.body(len(before))
        assert body == before, "the export is of the moment it was asked for"
        # The connection stays open for the next request.
        client.send(f"GET /_mock/health HTTP/1.1\r\nHost: x\r\n{AUTH}\r\n")
        status, fields = client.head()
        assert status == 200 and json.loads(client.body(int(fields["content-length"]))) == {"status": "ok"}
    finally:
        client.close()


@pytest.mark.measures_memory
def test_the_server_holds_no_copy_of_an_export_its_client_has_not_read(start_server, big_fixture):
    srv = start_server("--fixtures", str(big_fixture), "--frozen-clock", FROZEN_AT)
    size = len(srv.control("GET", "/state").body)
    resident = srv.rss_kib()
    clients = [RawClient(srv.port) for _ in range(4)]
    try:
        for c in clients:
            c.send(f"GET /_mock/state HTTP/1.1\r\nHost: x\r\n{AUTH}\r\n")
            assert c.head()[0] == 200
        # Every export has begun once the server answers a later request.
        assert srv.control("GET", "/health").status == 200
        grown = (srv.rss_kib() - resident) * 1024
        assert grown < size, f"resident memory grew {grown >> 20} MiB for 4 unread exports of {size >> 20} MiB"
        for c in clients:
            assert len(c.body(size)) == size
    finally:
        for c in clients:
            c.close()



def test_a_shutdown_lets_an_export_being_read_reach_its_last_byte(start_server, big_fixture):
    import os
    import signal

    srv = start_server("--fixtures", str(big_fixture), "--frozen-clock", FROZEN_AT)
    before = srv.control("GET", "/state").body
    client = RawClient(srv.port)
    try:
        client.send(f"GET /_mock/state HTTP/1.1\r\nHost: x\r\n{AUTH}\r\n")
        status, fields = client.head()
        assert status == 200 and int(fields["content-length"]) == len(before)
        os.kill(srv.pid, signal.SIGTERM)

        def refusing() -> bool:
            try:
                socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()
                return False
            except OSError:
                return True

        # The shutdown has begun (the listener is closed) with most of the export unread.
        wait_until(refusing, timeout=10, message="listener closed after SIGTERM")
        body = client.body(len(before))
        assert body == before, "the export was cut short by the shutdown"
    finally:
        client.close()
    assert srv.stop() == 0


def test_a_shutdown_cuts_an_export_nobody_reads_and_exits_cleanly(start_server, big_fixture):
    import os
    import signal

    srv = start_server("--fixtures", str(big_fixture), "--frozen-clock", FROZEN_AT)
    client = RawClient(srv.port)
    try:
        client.send(f"GET /_mock/state HTTP/1.1\r\nHost: x\r\n{AUTH}\r\n")
        status, fields = client.head()
        assert status == 200
        os.kill(srv.pid, signal.SIGTERM)
        # The client never reads: the grace period ends, the export is cut and the server exits 0.
        assert srv.stop() == 0
        with pytest.raises(AssertionError, match="closed the connection early"):
            client.body(int(fields["content-length"]))
    finally:
        client.close()
