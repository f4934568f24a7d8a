"""`cloud-agents-mock health`: the container health check, through the real binary."""

from __future__ import annotations

import contextlib
import http.server
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from support.mockserver import binary_path


def health(*args: str, env: dict | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    # Only what the test gives: neither the URL nor an admin token from the runner's environment.
    ours = ("CLOUD_AGENTS_MOCK_HEALTH_URL", "CLOUD_AGENTS_MOCK_ADMIN_TOKEN")
    full = {k: v for k, v in os.environ.items() if k not in ours}
    full.update(env or {})
    return subprocess.run([binary_path(), "health", *args], capture_output=True, text=True, timeout=timeout, env=full)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ready_server_exits_0(mock):
    out = health("--url", mock.base)
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"ready: {mock.base}/_mock/ready answered 200\n" and out.stderr == ""
    # The URL can come from the environment, as a container's health check gives it; a trailing
    # slash is the same root.
    out = health(env={"CLOUD_AGENTS_MOCK_HEALTH_URL": mock.base + "/"})
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"ready: {mock.base}/_mock/ready answered 200\n"
    # --url wins over the environment.
    out = health("--url", mock.base, env={"CLOUD_AGENTS_MOCK_HEALTH_URL": "http://127.0.0.1:1"})
    assert out.returncode == 0, out.stderr


def test_ready_also_behind_an_admin_token(start_server):
    guarded = start_server("--admin-token", "adm-secret")
    assert health("--url", guarded.base).returncode == 0  # readiness is open
    assert health("--url", guarded.base, env={"CLOUD_AGENTS_MOCK_ADMIN_TOKEN": "adm-secret"}).returncode == 0


def test_nothing_listening_exits_1():
    port = free_port()
    out = health("--url", f"http://127.0.0.1:{port}", "--timeout-ms", "2000")
    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr.startswith(f"not ready: http://127.0.0.1:{port}/_mock/ready: ")


def test_a_silent_server_exits_1_at_the_timeout():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # accepts connections (the kernel does) and never answers
        port = listener.getsockname()[1]
        started = time.monotonic()
        out = health("--url", f"http://127.0.0.1:{port}", "--timeout-ms", "300")
        elapsed = time.monotonic() - started
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr == f"not ready: http://127.0.0.1:{port}/_mock/ready: no answer within 300 ms\n"
    assert 0.25 < elapsed < 10, elapsed


@contextlib.contextmanager
def stub_server(status: int) -> Iterator[tuple[str, list[tuple[str, dict[str, str]]]]]:
    """A tiny HTTP server answering every GET with `status`; yields its URL and the requests seen."""
    seen: list[tuple[str, dict[str, str]]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((self.path, dict(self.headers.items())))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_a_server_that_is_not_ready_exits_1():
    with stub_server(503) as (url, seen):
        out = health("--url", url)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr == f"not ready: {url}/_mock/ready answered 503\n"
    assert [path for path, _ in seen] == ["/_mock/ready"]


def test_the_admin_token_is_sent_when_set():
    with stub_server(200) as (url, seen):
        assert health("--url", url).returncode == 0
        assert health("--url", url, env={"CLOUD_AGENTS_MOCK_ADMIN_TOKEN": "adm-secret"}).returncode == 0
    (first_path, first), (second_path, second) = seen
    assert first_path == second_path == "/_mock/ready"
    assert "X-Mock-Admin-Token" not in first and second["X-Mock-Admin-Token"] == "adm-secret"
    assert second["Host"] == url.removeprefix("http://")


@pytest.mark.parametrize(
    "url, message",
    [
        ("https://127.0.0.1:8787", "must start with http://"),
        ("http://127.0.0.1:8787/v1", "root URL"),
        ("http://127.0.0.1:99999", "port must be from 1 to 65535"),
        ("http://:8787", "no host"),
    ],
)
def test_a_bad_url_is_a_usage_error(url, message):
    out = health("--url", url)
    assert out.returncode == 64 and message in out.stderr, out.stderr


def test_a_bad_url_from_the_environment_names_the_variable():
    out = health(env={"CLOUD_AGENTS_MOCK_HEALTH_URL": "ftp://127.0.0.1:8787"})
    assert out.returncode == 64, out.stderr
    assert "CLOUD_AGENTS_MOCK_HEALTH_URL must start with http://" in out.stderr


def test_a_bad_timeout_is_a_usage_error():
    out = health("--url", "http://127.0.0.1:8787", "--timeout-ms", "0")
    assert out.returncode == 64 and "--timeout-ms must be from 1 to 600000, got 0" in out.stderr, out.stderr


def test_a_name_that_does_not_resolve_exits_1_within_the_timeout():
    # .invalid never resolves (RFC 6761). The name is resolved on the probe's own loop, so even a
    # resolver that does not answer is held to the deadline.
    started = time.monotonic()
    out = health("--url", "http://cloud-agents-mock.invalid:8787", "--timeout-ms", "2000")
    elapsed = time.monotonic() - started
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.startswith("not ready: http://cloud-agents-mock.invalid:8787/_mock/ready: ")
    # "cannot resolve" where a DNS server answers, "no answer within" where none does.
    assert "cannot resolve 'cloud-agents-mock.invalid'" in out.stderr or "no answer within 2000 ms" in out.stderr
    assert elapsed < 10, elapsed


def test_ipv6_loopback(start_server):
    try:
        server = start_server("--host", "::1")
    except RuntimeError as e:  # a machine without IPv6 on loopback
        pytest.skip(f"no IPv6 loopback here: {e}")
    out = health("--url", f"http://[::1]:{server.port}")
    assert out.returncode == 0, out.stderr


def test_the_server_still_starts_without_a_subcommand(start_server):
    server = start_server("--seed", "3")
    assert server.ready_line.startswith("cloud-agents-mock listening on http://127.0.0.1:")


def test_help_lists_the_subcommand():
    out = subprocess.run([binary_path(), "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0
    assert "SUBCOMMANDS:" in out.stdout and "\n  health " in out.stdout
    assert "--port" in out.stdout  # the server's own options are still the root's
    out = subprocess.run([binary_path(), "health", "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "--url" in out.stdout and "--timeout-ms" in out.stdout
