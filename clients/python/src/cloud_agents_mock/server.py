"""Starting the cloud-agents-mock binary (or finding one already running) and talking HTTP to it.

A started server listens on a port the kernel picks (`--port 0`); the one line it prints on
stdout says where, so nothing here guesses a port or sleeps for readiness. Every wait has a
deadline, and a started process is stopped by its pid (SIGTERM, then SIGKILL at the deadline).
"""

from __future__ import annotations

import http.client
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping
from urllib.parse import urlsplit

from .control import ControlClient, MockAPIError
from .types import ClockSteps, Event, JournalEntry, Stats, Thread

READY_PREFIX = "cloud-agents-mock listening on "
API_PREFIX = "/api/v1/cloud"
DEFAULT_TOKEN = "test-token"
BIN_ENV = "CLOUD_AGENTS_MOCK_BIN"
ADMIN_TOKEN_ENV = "CLOUD_AGENTS_MOCK_ADMIN_TOKEN"


class BinaryNotFound(RuntimeError):
    """No cloud-agents-mock binary was given and none is on PATH."""


def find_binary(explicit: str | os.PathLike[str] | None = None) -> str:
    """The server binary: `explicit`, else $CLOUD_AGENTS_MOCK_BIN, else `cloud-agents-mock` on PATH."""
    for candidate, origin in ((explicit, "the binary given"), (os.environ.get(BIN_ENV), f"${BIN_ENV}")):
        if candidate:
            path = Path(candidate)
            if not (path.is_file() and os.access(path, os.X_OK)):
                raise BinaryNotFound(f"{origin} ({path}) is not an executable file")
            return str(path)
    found = shutil.which("cloud-agents-mock")
    if found:
        return found
    raise BinaryNotFound(
        "no cloud-agents-mock binary: pass --cloud-agents-mock-bin, set $CLOUD_AGENTS_MOCK_BIN, put it on PATH, "
        "or give the URL of a running server with --cloud-agents-mock-url / $CLOUD_AGENTS_MOCK_URL"
    )


def read_ready_line(proc: "subprocess.Popen[bytes]", timeout: float) -> str:
    """The first line `proc` prints on its stdout pipe, within `timeout` seconds.

    TimeoutError at the deadline; EOFError if stdout closes first (the process exited).
    """
    deadline = time.monotonic() + timeout
    buf = b""
    assert proc.stdout is not None
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


class Response:
    """One HTTP answer: status, headers (by lower-case name, and as sent), body bytes."""

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


class MockServer:
    """A cloud-agents-mock server, started here or already running.

    `MockServer(*args)` starts the binary with `--port 0` and the given arguments and returns once
    it listens; `MockServer.connect(url)` talks to a server someone else started (a Docker service
    container, say) once its `/_mock/ready` answers 200. Either way:

    * `base` is its root URL, `api_url` the base URL for the SDK (`.../api/v1/cloud`);
    * `control` is the typed client of the control API (`server.control.reset()`), and is also
      callable for a raw control request (`server.control("POST", "/reset")`);
    * `request`, `get` and `post` send raw API requests with a bearer token and return `Response`.

    Use it as a context manager, or call `stop()`; a connected server is never stopped from here.
    """

    def __init__(
        self,
        *args: str,
        binary: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        ready_timeout: float = 20.0,
        token: str = DEFAULT_TOKEN,
        admin_token: str | None = None,
    ):
        self.args = list(args)
        self.token = token
        self.admin_token = admin_token if admin_token is not None else os.environ.get(ADMIN_TOKEN_ENV)
        self.binary: str | None = find_binary(binary)
        self.stderr_file: Any = tempfile.NamedTemporaryFile(prefix="cloud-agents-mock-", suffix=".log", delete=False)
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc: "subprocess.Popen[bytes] | None" = subprocess.Popen(
            [self.binary, "--port", "0", *self.args],
            stdout=subprocess.PIPE,
            stderr=self.stderr_file,
            env=full_env,
        )
        try:
            self.ready_line = self._read_ready_line(ready_timeout)
        except BaseException:
            self._forget_log()
            raise
        self._set_base(self.ready_line[len(READY_PREFIX):].strip())

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        token: str = DEFAULT_TOKEN,
        admin_token: str | None = None,
        ready_timeout: float = 20.0,
    ) -> "MockServer":
        """A server already running at `url`, once its `/_mock/ready` answers 200 (or TimeoutError)."""
        server = cls.__new__(cls)
        server.args = []
        server.token = token
        server.admin_token = admin_token if admin_token is not None else os.environ.get(ADMIN_TOKEN_ENV)
        server.binary = None
        server.stderr_file = None
        server.proc = None
        server.ready_line = ""
        server._set_base(url.rstrip("/"))
        server.wait_ready(ready_timeout)
        return server

    def _set_base(self, base: str) -> None:
        parts = urlsplit(base)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"expected a URL like http://127.0.0.1:8787, got {base!r}")
        if parts.path not in ("", "/"):
            raise ValueError(f"give the server's root URL (no path), got {base!r}")
        self.base = f"http://{parts.netloc}"
        self.host = parts.hostname
        self.port = parts.port or 80
        self.api_url = self.base + API_PREFIX
        self.control = ControlClient(self)

    def _read_ready_line(self, timeout: float) -> str:
        assert self.proc is not None
        try:
            line = read_ready_line(self.proc, timeout)
        except TimeoutError:
            self.kill()
            raise TimeoutError(f"no ready line within {timeout}s; stderr: {self.stderr_text()}") from None
        except EOFError:
            code = self.proc.wait(timeout=5)
            raise RuntimeError(
                f"cloud-agents-mock exited with {code} before its ready line; stderr: {self.stderr_text()}"
            ) from None
        if not line.startswith(READY_PREFIX):
            self.kill()
            raise RuntimeError(f"unexpected first line from cloud-agents-mock: {line!r}")
        return line

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Returns once `/_mock/ready` answers 200; TimeoutError with the last answer at the deadline."""
        deadline = time.monotonic() + timeout
        last: str = "no answer"
        while True:
            try:
                r = self.control("GET", "/ready", timeout=max(0.1, min(2.0, deadline - time.monotonic())))
                if r.status == 200:
                    return
                last = f"HTTP {r.status}: {r.text[:200]}"
            except OSError as e:
                last = f"{type(e).__name__}: {e}"
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{self.base}/_mock/ready did not answer 200 within {timeout}s ({last})")
            time.sleep(0.05)  # a poll interval towards a deadline, not a readiness guess

    # -- the process ----------------------------------------------------------

    @property
    def started_here(self) -> bool:
        return self.proc is not None

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError("this server was not started here; it has no pid to report")
        return self.proc.pid

    def stderr_text(self) -> str:
        """What the started process wrote to stderr (its log); empty for a connected server."""
        if self.stderr_file is None:
            return ""
        try:
            return Path(self.stderr_file.name).read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM by pid, then wait with a deadline; the exit code (None for a connected server)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def close(self) -> None:
        """Stops a started server and removes its log file."""
        try:
            self.stop()
        finally:
            self.kill()
            self._forget_log()

    def _forget_log(self) -> None:
        if self.stderr_file is not None:
            self.stderr_file.close()
            try:
                os.unlink(self.stderr_file.name)
            except OSError:
                pass

    def __enter__(self) -> "MockServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        how = f"pid {self.proc.pid}" if self.proc is not None else "connected"
        return f"<MockServer {self.base} ({how})>"

    # -- HTTP -----------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        token: Any = ...,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        raw_body: bytes | None = None,
        timeout: float = 10.0,
    ) -> Response:
        """One request on a new connection. `token` is the bearer token (by default the server's
        `token`; None sends no Authorization header); `body` is sent as JSON, `raw_body` as given."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            hdrs = dict(headers or {})
            if token is ...:
                token = self.token
            if token is not None and not any(k.lower() == "authorization" for k in hdrs):
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

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.request("POST", path, body=body, **kw)

    # -- shortcuts for the common control calls --------------------------------

    def reset(self) -> None:
        self.control.reset()

    def stats(self) -> Stats:
        return self.control.stats()

    def append_events(self, session: str, thread: str, events: List[Dict[str, Any]]) -> List[Event]:
        return self.control.append_events(session, thread, events)

    def set_status(self, session: str, thread: str, status: str, **extra: Any) -> Thread:
        return self.control.set_status(session, thread, status, **extra)

    def wait_for_request(
        self, method: str | None, path: str, *, since: int | None = None, timeout: float = 5.0
    ) -> JournalEntry:
        """The journal entry of the first API request matching `method` and `path` (`*` wildcards)
        after `since`; raises `RequestNotSeen` (an AssertionError) at the deadline."""
        return self.control.wait_for_request(method, path, since=since, timeout=timeout)

    def run_until_idle(self) -> ClockSteps:
        """Plays every pending turn step on the (frozen) clock; the clock and step counts after."""
        return self.control.run_until_idle()

    # -- the official SDK --------------------------------------------------------

    def managed(self, **kw: Any) -> Any:
        """A `qca.Managed` client of the official SDK aimed at this server (retries off, 30 s timeout)."""
        import qca  # the optional `sdk` extra

        return qca.Managed(**self._sdk_arguments(kw))

    def async_managed(self, **kw: Any) -> Any:
        """A `qca.AsyncManaged` client aimed at this server, like `managed()`."""
        import qca

        return qca.AsyncManaged(**self._sdk_arguments(kw))

    def _sdk_arguments(self, given: Dict[str, Any]) -> Dict[str, Any]:
        """This server's token and base URL, no retries (a fault is seen once), a 30 s timeout."""
        return {"access_token": self.token, "base_url": self.api_url, "max_retries": 0, "timeout": 30.0, **given}

    # -- Linux process figures (for tests of the server itself) -------------------

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")


__all__ = [
    "API_PREFIX",
    "BinaryNotFound",
    "DEFAULT_TOKEN",
    "MockAPIError",
    "MockServer",
    "READY_PREFIX",
    "Response",
    "find_binary",
    "read_ready_line",
]
