"""Start the real cloud-agents-mock binary on port 0 and talk to it over loopback.

Every wait has a deadline, every process is stopped by its pid, and nothing
here sleeps for readiness: the server's ready line says when it listens.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SEED_SESSION = "sess_019f00000000000000000000000000aa"
SEED_COORDINATOR = "sthr_019f00000000000000000000000001aa"
SEED_CHILD = "sthr_019f00000000000000000000000002bb"
SEED_EVENTS = ["evt_019f0000000000000000000000000101", "evt_019f0000000000000000000000000102"]
READY_PREFIX = "cloud-agents-mock listening on "


def binary_path() -> str:
    explicit = os.environ.get("CLOUD_AGENTS_MOCK_BIN")
    if explicit:
        return explicit
    return str(REPO / ".build" / "debug" / "cloud-agents-mock")


def read_ready_line(proc: subprocess.Popen, timeout: float) -> str:
    """The first line `proc` prints on its stdout pipe, within `timeout` seconds.

    TimeoutError at the deadline; EOFError if stdout closes first (the process exited).
    Shared with the benchmark scripts, which start servers the same way.
    """
    deadline = time.monotonic() + timeout
    buf = b""
    fd = proc.stdout.fileno()
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no ready line within {timeout}s")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise EOFError("stdout closed before the ready line")
            buf += chunk
    return buf.split(b"\n", 1)[0].decode()


class MockServer:
    """One running server process. Use as a context manager or call stop()."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, ready_timeout: float = 20.0):
        self.args = list(args)
        self.stderr_file = tempfile.NamedTemporaryFile(prefix="mock-stderr-", suffix=".log", delete=False)
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [binary_path(), "--port", "0", *self.args],
            stdout=subprocess.PIPE,
            stderr=self.stderr_file,
            env=full_env,
        )
        self.ready_line = self._read_ready_line(ready_timeout)
        self.base = self.ready_line[len(READY_PREFIX):].strip()
        hostport = self.base.split("://", 1)[1]
        host, port = hostport.rsplit(":", 1)
        self.host = host.strip("[]")
        self.port = int(port)

    def _read_ready_line(self, timeout: float) -> str:
        try:
            line = read_ready_line(self.proc, timeout)
        except TimeoutError:
            self.kill()
            raise TimeoutError(f"no ready line within {timeout}s; stderr: {self.stderr_text()}") from None
        except EOFError:
            code = self.proc.wait(timeout=5)
            raise RuntimeError(f"server exited with {code} before its ready line; stderr: {self.stderr_text()}") from None
        assert line.startswith(READY_PREFIX), line
        return line

    def stderr_text(self) -> str:
        try:
            return Path(self.stderr_file.name).read_text(errors="replace")
        except OSError:
            return ""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM by pid, then wait with a deadline; returns the exit code."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def __enter__(self) -> "MockServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self.stop()
        finally:
            self.kill()
            os.unlink(self.stderr_file.name)

    # -- HTTP ---------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = "test-token",
        headers: dict[str, str] | None = None,
        body: Any = None,
        raw_body: bytes | None = None,
        timeout: float = 10.0,
    ) -> "Response":
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            hdrs = dict(headers or {})
            if token is not None and "Authorization" not in hdrs:
                hdrs["Authorization"] = f"Bearer {token}"
            data = raw_body
            if body is not None:
                data = json.dumps(body).encode()
                hdrs.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            return Response(resp.status, resp.getheaders(), resp.read())
        finally:
            conn.close()

    def get(self, path: str, **kw: Any) -> "Response":
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> "Response":
        return self.request("POST", path, body=body, **kw)

    def control(self, method: str, path: str, body: Any = None, **kw: Any) -> "Response":
        """A call to the control API (no bearer token by default)."""
        kw.setdefault("token", None)
        return self.request(method, "/_mock" + path, body=body, **kw)

    def reset(self) -> None:
        r = self.control("POST", "/reset")
        assert r.status == 200, r.text

    def stats(self) -> dict:
        return self.control("GET", "/stats").json()

    def append_events(self, session: str, thread: str, events: list[dict]) -> list[dict]:
        r = self.control("POST", f"/sessions/{session}/threads/{thread}/events", {"events": events})
        assert r.status == 201, r.text
        return r.json()["data"]

    def set_status(self, session: str, thread: str, status: str, **extra: Any) -> dict:
        r = self.control("POST", f"/sessions/{session}/threads/{thread}/status", {"status": status, **extra})
        assert r.status == 200, r.text
        return r.json()

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")


class Response:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes):
        self.status = status
        self.header_list = headers
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.text[:200]!r}>"


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.01, message: str = "condition"):
    """Polls predicate until it is truthy or the deadline passes (for server-side state, not readiness)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{message} not met within {timeout}s")
        time.sleep(interval)


def error_of(r: "Response", status: int, etype: str) -> dict:
    """Asserts the API's error envelope (API.md section 3) and returns its `error` object."""
    assert r.status == status, r.text
    body = r.json()
    assert body["type"] == "error", body
    assert body["request_id"] == r.headers["x-request-id"] == r.headers["request-id"]
    assert body["error"]["type"] == etype, body
    assert r.headers["content-type"] == "application/json"
    assert "x-mock-version" in r.headers
    return body["error"]
